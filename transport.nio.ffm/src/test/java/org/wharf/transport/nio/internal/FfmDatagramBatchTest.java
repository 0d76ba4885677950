package org.wharf.transport.nio.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.wharf.transport.api.DatagramOptions;
import org.wharf.transport.api.DatagramTransport;
import org.wharf.transport.tck.DatagramEchoProtocol;
import org.wharf.transport.tck.RecordingDatagramProtocol;

/**
 * What the batch path adds to the datagram contract: many datagrams per call each way, a
 * pause in the middle of a batch, datagrams too large among others, IPv6 and IPv4-mapped
 * senders. One loop, so the loop's counters see every call.
 */
class FfmDatagramBatchTest {

    private static final long TIMEOUT = 30;

    private NioEventLoopGroup group;
    private Resolver resolver;
    private NioUdpProvider provider;
    private final List<DatagramTransport> opened = new ArrayList<>();
    private final List<DatagramChannel> clients = new ArrayList<>();

    @BeforeEach
    void start() {
        group = new NioEventLoopGroup(new NioSettings(1, 64 * 1024, NioSettings.DEFAULT.writeBufferLimits(), 16));
        resolver = new Resolver();
        provider = new NioUdpProvider(group, resolver);
    }

    @AfterEach
    void stop() throws Exception {
        opened.forEach(DatagramTransport::abort);
        for (DatagramChannel client : clients) {
            client.close();
        }
        group.shutdown().get();
        resolver.shutdown();
    }

    @Test
    void aBurstIsReceivedAndEchoedManyDatagramsPerCall() throws Exception {
        PausedEcho server = bind(PausedEcho::new, DatagramOptions.DEFAULT, InetAddress.getLoopbackAddress());
        DatagramChannel client = client(StandardProtocolFamily.INET, server.address());
        int count = 40;
        sendQueued(client, server.address(), count, i -> "datagram " + i);
        long[] before = counters(server);
        server.transport().resumeReading(); // all 40 wait in the socket: 16 + 16 + 8
        for (int i = 0; i < count; i++) {
            assertEquals("datagram " + i, receive(client), "echo " + i + ", in order");
        }
        long[] after = counters(server);
        assertEquals(count, after[1] - before[1], "every datagram came through recvmmsg");
        assertTrue(after[0] - before[0] <= 4, "40 datagrams in at most 4 receive calls (16 per call), took "
                + (after[0] - before[0]));
        assertEquals(count, after[3] - before[3], "every echo went through sendmmsg");
        assertTrue(after[2] - before[2] <= 4, "40 echoes in at most 4 send calls, took " + (after[2] - before[2]));
        assertTrue(server.errors().isEmpty(), () -> "no errors: " + server.errors());
    }

    @Test
    void aPauseInTheMiddleOfABatchHoldsTheRestInOrderUntilResumed() throws Exception {
        PauseAfter server = bind(() -> new PauseAfter(3), DatagramOptions.DEFAULT, InetAddress.getLoopbackAddress());
        DatagramChannel client = client(StandardProtocolFamily.INET, server.address());
        int count = 20;
        sendQueued(client, server.address(), count, i -> "d" + (i < 10 ? "0" : "") + i);
        server.transport().resumeReading();
        for (int i = 0; i < 3; i++) {
            assertEquals("d0" + i, take(server));
        }
        onLoop(server, () -> null); // a whole turn of the loop after the pause: nothing more came
        assertEquals(0, server.datagrams().size(), "nothing is delivered while paused");
        assertEquals(1, counters(server)[0], "one receive call took the first 16; 13 of them are held");

        server.transport().resumeReading();
        for (int i = 3; i < count; i++) {
            assertEquals("d" + (i < 10 ? "0" : "") + i, take(server), "held ones first, then the socket's, in order");
        }
        assertTrue(server.errors().isEmpty(), () -> "no errors: " + server.errors());
    }

    @Test
    void aDatagramTooLargeIsReportedAndTheRestOfItsBatchStillArrives() throws Exception {
        PausedEcho server = bind(PausedEcho::new, DatagramOptions.DEFAULT.withMaxDatagramSize(100),
                InetAddress.getLoopbackAddress());
        DatagramChannel client = client(StandardProtocolFamily.INET, server.address());
        client.write(ByteBuffer.wrap("small".getBytes(StandardCharsets.US_ASCII)));
        client.write(ByteBuffer.allocate(101));
        client.write(ByteBuffer.wrap("after".getBytes(StandardCharsets.US_ASCII)));
        server.transport().resumeReading();
        assertEquals("small", receive(client));
        assertEquals("after", receive(client));
        Exception error = server.errors().poll(TIMEOUT, TimeUnit.SECONDS);
        assertNotNull(error, "the datagram of 101 bytes is reported");
        assertTrue(error.getMessage().contains("larger than the maximum of 100 bytes"), error.getMessage());
        assertEquals(2, server.datagrams().size(), "only the two that fit were delivered");
    }

    @Test
    void anIpv6SocketServesIpv6AndIpv4MappedPeers() throws Exception {
        InetAddress any6;
        try (DatagramChannel probe = DatagramChannel.open(StandardProtocolFamily.INET6)) {
            probe.bind(new InetSocketAddress("::1", 0));
            any6 = InetAddress.getByName("::");
        } catch (IOException | UnsupportedOperationException e) {
            assumeTrue(false, "no IPv6 here: " + e);
            return;
        }
        PausedEcho server = bind(PausedEcho::new, DatagramOptions.DEFAULT, any6);
        server.transport().resumeReading();
        int port = server.address().getPort();

        DatagramChannel six = client(StandardProtocolFamily.INET6, new InetSocketAddress("::1", port));
        six.write(ByteBuffer.wrap("over ipv6".getBytes(StandardCharsets.US_ASCII)));
        assertEquals("over ipv6", receive(six));
        SocketAddress seen6 = server.datagrams().poll(TIMEOUT, TimeUnit.SECONDS).sender();
        assertInstanceOf(Inet6Address.class, ((InetSocketAddress) seen6).getAddress());
        assertEquals(six.getLocalAddress(), seen6);

        DatagramChannel four = client(StandardProtocolFamily.INET, new InetSocketAddress("127.0.0.1", port));
        four.write(ByteBuffer.wrap("over ipv4".getBytes(StandardCharsets.US_ASCII)));
        assertEquals("over ipv4", receive(four), "the echo goes back through an IPv4-mapped address");
        SocketAddress seen4 = server.datagrams().poll(TIMEOUT, TimeUnit.SECONDS).sender();
        assertInstanceOf(Inet4Address.class, ((InetSocketAddress) seen4).getAddress(), "as the JDK reports it");
        assertEquals(four.getLocalAddress(), seen4);
        assertTrue(server.errors().isEmpty(), () -> "no errors: " + server.errors());
    }

    @Test
    void repeatedSendersAreTheSameAddressObjects() throws Exception {
        PausedEcho server = bind(PausedEcho::new, DatagramOptions.DEFAULT, InetAddress.getLoopbackAddress());
        server.transport().resumeReading();
        DatagramChannel client = client(StandardProtocolFamily.INET, server.address());
        byte[] data = new byte[32];
        for (int i = 0; i < 3; i++) {
            client.write(ByteBuffer.wrap(data));
            receive(client);
        }
        SocketAddress first = server.datagrams().poll(TIMEOUT, TimeUnit.SECONDS).sender();
        assertEquals(client.getLocalAddress(), first);
        for (int i = 1; i < 3; i++) {
            assertTrue(first == server.datagrams().poll(TIMEOUT, TimeUnit.SECONDS).sender(),
                    "a peer seen before costs no new address");
        }
    }

    @Test
    void aCloseInsideABatchSendsWhatWasSentBeforeItAndNothingAfter() throws Exception {
        for (int round = 0; round < 200; round++) {
            boolean abort = round % 2 == 1;
            PausedEcho server = bind(() -> new CloseAfterEcho(abort), DatagramOptions.DEFAULT,
                    InetAddress.getLoopbackAddress());
            DatagramChannel client = client(StandardProtocolFamily.INET, server.address());
            int r = round;
            // All three in the server's socket before it reads: one receive takes them, so the
            // close comes in the middle of a batch every round.
            sendQueued(client, server.address(), 3, i -> "r" + r + " d" + i);
            server.transport().resumeReading();
            server.lost().get(TIMEOUT, TimeUnit.SECONDS);
            assertEquals("r" + round + " d0", receive(client), (abort ? "an abort" : "a close")
                    + " sends the echo made before it, as NIO's call would have: it was handed over");
            client.configureBlocking(false);
            assertEquals(null, client.receive(ByteBuffer.allocate(64)),
                    "nothing after the close: the rest of the batch is not delivered (round " + round + ")");
            assertEquals(1, server.datagrams().size(), "one datagram delivered before the close");
            assertTrue(server.errors().isEmpty(), () -> "no errors: " + server.errors());
            client.close();
            clients.remove(client);
        }
    }

    @Test
    void manyPeersThroughBatchesAndPausesGetEveryDatagramBackIntactAndInOrder() throws Exception {
        int clients = 32;
        int perClient = 1000;
        int window = 4; // 128 in flight: well inside the socket's default receive buffer, so none is lost
        PausingEcho server = bind(PausingEcho::new, DatagramOptions.DEFAULT, InetAddress.getLoopbackAddress());
        server.transport().resumeReading();
        List<CompletableFuture<Void>> done = new ArrayList<>();
        java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(clients);
        for (int c = 0; c < clients; c++) {
            DatagramChannel client = client(StandardProtocolFamily.INET, server.address());
            int id = c;
            done.add(CompletableFuture.runAsync(() -> {
                try {
                    java.net.DatagramPacket in = new java.net.DatagramPacket(new byte[128], 128);
                    for (int sent = 0, received = 0; received < perClient;) {
                        while (sent < perClient && sent - received < window) {
                            client.write(datagram(id, sent++));
                        }
                        try {
                            client.socket().receive(in); // the socket's timeout bounds it (a channel read has none)
                        } catch (java.net.SocketTimeoutException e) {
                            throw new AssertionError("client " + id + ": datagram " + received + " was not echoed within "
                                    + TIMEOUT + " s", e);
                        }
                        assertEquals(datagram(id, received), ByteBuffer.wrap(in.getData(), 0, in.getLength()),
                                "client " + id + ", datagram " + received);
                        received++;
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, threads));
        }
        try {
            CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(TIMEOUT * 2, TimeUnit.SECONDS);
        } finally {
            threads.shutdownNow();
        }
        long[] counters = counters(server);
        assertTrue(counters[1] >= (long) clients * perClient, "every datagram came through recvmmsg: " + counters[1]);
        assertTrue(server.pauses > 0, "the server paused in the middle of batches");
        assertTrue(server.errors().isEmpty(), () -> "no errors: " + server.errors());
    }

    @Test
    void aReplyToPortZeroIsRefusedAsNioRefusesItAndTheRestGoOut() throws Exception {
        ToPortZeroToo server = bind(ToPortZeroToo::new, DatagramOptions.DEFAULT, InetAddress.getLoopbackAddress());
        server.transport().resumeReading();
        DatagramChannel client = client(StandardProtocolFamily.INET, server.address());
        client.write(ByteBuffer.wrap("ping".getBytes(StandardCharsets.US_ASCII)));
        assertEquals("ping", receive(client), "the echo goes out");
        Exception error = server.errors().poll(TIMEOUT, TimeUnit.SECONDS);
        assertNotNull(error, "the send to port 0 is reported");
        assertTrue(error.getMessage().contains("port 0"), "in NIO's words: " + error.getMessage());
        assertTrue(server.transport().isReading(), "the transport stays open");
    }

    /** 64 bytes: the client, the sequence number, and a pattern from both. */
    private static ByteBuffer datagram(int client, int sequence) {
        ByteBuffer data = ByteBuffer.allocate(64).putInt(client).putInt(sequence);
        while (data.hasRemaining()) {
            data.put((byte) (client * 31 + sequence + data.position()));
        }
        return data.flip();
    }

    // ---- protocols ----

    /** An echo that starts paused, so datagrams gather in the socket until the test resumes it. */
    static class PausedEcho extends DatagramEchoProtocol {
        @Override
        public void connectionMade(DatagramTransport transport) {
            transport.pauseReading();
            super.connectionMade(transport);
        }

        InetSocketAddress address() {
            return (InetSocketAddress) transport().extraInfo(org.wharf.transport.api.ExtraInfo.LOCAL_ADDRESS)
                    .orElseThrow();
        }
    }

    /**
     * Echoes with {@code sendCopyTo} (the slot itself) and pauses after every 97th datagram,
     * resuming on a later turn of the loop: holds happen under load. Records nothing.
     */
    static final class PausingEcho extends PausedEcho {
        private int count;
        volatile int pauses;

        @Override
        public void datagramReceived(ByteBuffer data, SocketAddress sender) {
            transport().sendCopyTo(data, sender);
            if (++count % 97 == 0) {
                pauses++;
                transport().pauseReading();
                ((NioDatagramTransport) transport()).loop().execute(transport()::resumeReading);
            }
        }
    }

    /** Echoes, and sends a copy to port 0 of the sender's address first. */
    static final class ToPortZeroToo extends PausedEcho {
        @Override
        protected void onDatagram(byte[] data, SocketAddress sender) {
            transport().sendTo(ByteBuffer.wrap(data), new InetSocketAddress(((InetSocketAddress) sender).getAddress(), 0));
            super.onDatagram(data, sender);
        }
    }

    /** Records; starts paused; pauses again after a number of datagrams. */
    static final class PauseAfter extends PausedEcho {
        private int left;

        PauseAfter(int count) {
            left = count;
        }

        @Override
        protected void onDatagram(byte[] data, SocketAddress sender) {
            if (--left == 0) {
                transport().pauseReading();
            }
        }
    }

    /** Echoes its first datagram, then closes (or aborts) inside the same callback. */
    static final class CloseAfterEcho extends PausedEcho {
        private final boolean abort;

        CloseAfterEcho(boolean abort) {
            this.abort = abort;
        }

        @Override
        protected void onDatagram(byte[] data, SocketAddress sender) {
            super.onDatagram(data, sender);
            if (abort) {
                transport().abort();
            } else {
                transport().close();
            }
        }
    }

    // ---- helpers ----

    private <P extends PausedEcho> P bind(Supplier<P> factory, DatagramOptions options, InetAddress address)
            throws Exception {
        org.wharf.transport.api.Connected<DatagramTransport, P> bound = provider.bind(new InetSocketAddress(address, 0),
                options, factory).toCompletableFuture().get(TIMEOUT, TimeUnit.SECONDS);
        opened.add(bound.transport());
        assertTrue(((NioDatagramTransport) bound.transport()).batched(), "the batch path is in use");
        return bound.protocol();
    }

    private DatagramChannel client(StandardProtocolFamily family, InetSocketAddress server) throws IOException {
        DatagramChannel client = DatagramChannel.open(family);
        clients.add(client);
        client.bind(new InetSocketAddress(family == StandardProtocolFamily.INET6 ? "::1" : "127.0.0.1", 0));
        client.connect(server);
        client.socket().setSoTimeout((int) TimeUnit.SECONDS.toMillis(TIMEOUT));
        return client;
    }

    /**
     * Sends datagrams of one size and waits until the server's socket holds them all, so that
     * one receive call can take a whole batch: loopback delivery may finish after {@code write}
     * returns (in the kernel's softirq thread under load). The socket's queue is read from
     * /proc/net/udp, in bytes: one datagram's first, then all of them.
     */
    private static void sendQueued(DatagramChannel client, InetSocketAddress server, int count,
            java.util.function.IntFunction<String> text) throws Exception {
        client.write(ByteBuffer.wrap(text.apply(0).getBytes(StandardCharsets.US_ASCII)));
        long one = awaitQueue(server, q -> q > 0);
        for (int i = 1; i < count; i++) {
            client.write(ByteBuffer.wrap(text.apply(i).getBytes(StandardCharsets.US_ASCII)));
        }
        awaitQueue(server, q -> q >= one * count);
    }

    /** Waits (the test kit's poll, with its deadline) until a loopback IPv4 UDP socket's receive queue satisfies a condition. */
    private static long awaitQueue(InetSocketAddress socket, java.util.function.LongPredicate condition) {
        java.util.concurrent.atomic.AtomicLong seen = new java.util.concurrent.atomic.AtomicLong();
        org.wharf.transport.tck.Await.awaitTrue(() -> {
            seen.set(receiveQueue(socket));
            return condition.test(seen.get());
        }, "the server's socket (" + socket + ") holds the datagrams sent");
        return seen.get();
    }

    /** The bytes queued at a loopback IPv4 UDP socket, from /proc/net/udp; 0 if it is not listed. */
    private static long receiveQueue(InetSocketAddress socket) {
        String local = String.format("0100007F:%04X", socket.getPort());
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/net/udp"))) {
                String[] fields = line.trim().split("\\s+");
                if (fields.length > 4 && fields[1].equals(local)) {
                    return Long.parseLong(fields[4].substring(fields[4].indexOf(':') + 1), 16);
                }
            }
            return 0;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A datagram on a blocking client, with the socket's timeout. */
    private static String receive(DatagramChannel client) throws IOException {
        byte[] buffer = new byte[2048];
        java.net.DatagramPacket packet = new java.net.DatagramPacket(buffer, buffer.length);
        client.socket().receive(packet);
        return new String(buffer, 0, packet.getLength(), StandardCharsets.US_ASCII);
    }

    private static String take(RecordingDatagramProtocol protocol) throws InterruptedException {
        RecordingDatagramProtocol.Datagram datagram = protocol.datagrams().poll(TIMEOUT, TimeUnit.SECONDS);
        assertNotNull(datagram, "a datagram within " + TIMEOUT + " s");
        return new String(datagram.data(), StandardCharsets.US_ASCII);
    }

    /** The loop's counters: receive calls, datagrams received, send calls, datagrams sent. */
    private static long[] counters(PausedEcho server) throws Exception {
        return onLoop(server, () -> {
            FfmDatagramBatch batch = (FfmDatagramBatch) ((NioDatagramTransport) server.transport()).loop()
                    .datagramBatch().orElseThrow();
            return new long[] {batch.receiveCalls, batch.datagramsReceived, batch.sendCalls, batch.datagramsSent};
        });
    }

    private static <T> T onLoop(PausedEcho server, Supplier<T> work) throws Exception {
        CompletableFuture<T> result = new CompletableFuture<>();
        ((NioDatagramTransport) server.transport()).loop().execute(() -> result.complete(work.get()));
        return result.get(TIMEOUT, TimeUnit.SECONDS);
    }
}
