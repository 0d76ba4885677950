package org.wharf.transport.tck;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;


import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.wharf.transport.api.Connected;
import org.wharf.transport.api.DatagramOptions;
import org.wharf.transport.api.DatagramProtocol;
import org.wharf.transport.api.DatagramTransport;
import org.wharf.transport.api.DatagramTransportProvider;
import org.wharf.transport.api.ExtraInfo;

/**
 * The contract of datagram transports, written once for every provider to pass. Loopback
 * only; every wait has a deadline.
 */
public abstract class DatagramTransportContract {

    /** The longest any single wait may take. */
    protected static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final List<DatagramTransport> opened = new CopyOnWriteArrayList<>();

    /**
     * The provider under test.
     *
     * @return the provider
     */
    protected abstract DatagramTransportProvider provider();

    @AfterEach
    void closeEverything() {
        opened.forEach(DatagramTransport::abort);
    }

    @Test
    void datagramsKeepTheirBoundariesAndSenders() throws Exception {
        DatagramEchoProtocol server = bind(DatagramEchoProtocol::new, DatagramOptions.DEFAULT);
        InetSocketAddress serverAddress = address(server);
        RecordingDatagramProtocol a = connect(serverAddress, RecordingDatagramProtocol::new);
        RecordingDatagramProtocol b = connect(serverAddress, RecordingDatagramProtocol::new);
        int[] sizes = {1, 100, 1000, 8000, 60000, 3};
        for (int i = 0; i < sizes.length; i++) {
            for (RecordingDatagramProtocol client : List.of(a, b)) {
                byte[] data = StreamTransportContract.pattern(sizes[i], i + (client == a ? 0 : 100));
                client.transport().send(ByteBuffer.wrap(data));
                RecordingDatagramProtocol.Datagram back = take(client, "echo of datagram " + i + " (" + sizes[i] + " bytes)");
                assertArrayEquals(data, back.data(), "datagram " + i + " of size " + sizes[i]);
                assertEquals(serverAddress, back.sender());
                RecordingDatagramProtocol.Datagram seen = take(server);
                assertEquals(client.transport().extraInfo(ExtraInfo.LOCAL_ADDRESS).orElseThrow(), seen.sender(),
                        "the server sees the client's address");
            }
        }
        assertTrue(a.errors().isEmpty() && b.errors().isEmpty() && server.errors().isEmpty());
    }

    @Test
    void anEmptyDatagramIsADatagramAndAConnectedTransportThatCannotSendOneSaysSo() throws Exception {
        DatagramEchoProtocol server = bind(DatagramEchoProtocol::new, DatagramOptions.DEFAULT);
        RecordingDatagramProtocol bound = bind(RecordingDatagramProtocol::new, DatagramOptions.DEFAULT);
        bound.transport().sendTo(ByteBuffer.allocate(0), address(server));
        RecordingDatagramProtocol.Datagram back = take(bound, "the echo of an empty datagram");
        assertEquals(0, back.data().length);
        assertEquals(0, take(server).data().length);

        RecordingDatagramProtocol connected = connect(address(server), RecordingDatagramProtocol::new);
        connected.transport().send(ByteBuffer.allocate(0));
        connected.transport().send(ByteBuffer.wrap(new byte[] {9}));
        RecordingDatagramProtocol.Datagram nine = take(connected, "the datagram after the empty one");
        assertArrayEquals(new byte[] {9}, nine.data());
        Exception error = connected.errors().poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        if (error != null) {
            assertTrue(error.getMessage().contains("empty datagram"), error.getMessage());
        } else {
            assertEquals(0, take(connected, "an empty echo").data().length, "sent after all");
        }
        assertFalse(connected.transport().isClosing());
    }

    @Test
    void tenThousandDatagramsWithSixtyFourOutstandingAllComeBack() throws Exception {
        DatagramEchoProtocol server = bind(DatagramEchoProtocol::new, DatagramOptions.DEFAULT);
        int total = 10_000;
        AtomicInteger sent = new AtomicInteger();
        AtomicInteger received = new AtomicInteger();
        RecordingDatagramProtocol client = connect(address(server), () -> new RecordingDatagramProtocol() {
            @Override
            protected void onDatagram(byte[] data, SocketAddress sender) {
                received.incrementAndGet();
                datagrams().clear();
                if (sent.get() < total) {
                    sent.incrementAndGet();
                    transport().send(ByteBuffer.wrap(data));
                }
            }
        });
        for (int i = 0; i < 64; i++) {
            sent.incrementAndGet();
            client.transport().send(ByteBuffer.wrap(StreamTransportContract.pattern(64, i)));
        }
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (received.get() < total && System.nanoTime() < deadline) {
            Exception e = client.errors().poll(10, TimeUnit.MILLISECONDS);
            assertNull(e, "no error on loopback");
        }
        assertEquals(total, received.get(), "every datagram came back (none lost)");
    }

    /**
     * sendCopyTo leaves the buffer to the caller: an echo answers from the buffer it is lent
     * and scribbles over it once the call returns, and a sender on another thread reuses one
     * buffer while the loop that sends is held; every answer arrives as it was sent.
     */
    @Test
    void sendCopyToLeavesTheBufferToTheCallerOnTheLoopAndFromAnotherThread() throws Exception {
        CopyingEcho server = bind(CopyingEcho::new, DatagramOptions.DEFAULT);
        RecordingDatagramProtocol client = connect(address(server), RecordingDatagramProtocol::new);
        for (int size : new int[] {1, 64, 1500, 60000}) {
            byte[] data = StreamTransportContract.pattern(size, size);
            client.transport().send(ByteBuffer.wrap(data));
            assertArrayEquals(data, take(client, "the echo of " + size + " bytes").data());
        }
        java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        client.transport().loop().execute(() -> {
            held.countDown();
            try {
                release.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        List<byte[]> sent = new java.util.ArrayList<>();
        try {
            assertTrue(held.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS), "the client's loop is held");
            ByteBuffer reused = ByteBuffer.allocateDirect(100);
            for (int i = 0; i < 3; i++) {
                byte[] data = StreamTransportContract.pattern(100, 50 + i);
                reused.clear();
                reused.put(data).flip();
                client.transport().sendCopyTo(reused, null);
                assertFalse(reused.hasRemaining(), "sendCopyTo leaves the buffer at its limit");
                sent.add(data);
            }
            reused.clear();
            while (reused.hasRemaining()) {
                reused.put((byte) 0x55);
            }
        } finally {
            release.countDown();
        }
        for (byte[] data : sent) {
            assertArrayEquals(data, take(client, "an answer to a datagram sent from another thread").data());
        }
        assertEquals(List.of(), server.violations);
        assertTrue(client.errors().isEmpty() && server.errors().isEmpty());
    }

    /** Echoes from the buffer it is lent, with sendCopyTo, then scribbles over that buffer. */
    static final class CopyingEcho extends RecordingDatagramProtocol {
        final List<String> violations = new CopyOnWriteArrayList<>();

        @Override
        public void datagramReceived(ByteBuffer data, SocketAddress sender) {
            int start = data.position();
            super.datagramReceived(data.duplicate(), sender);
            transport().sendCopyTo(data, sender);
            if (data.hasRemaining()) {
                violations.add("sendCopyTo left " + data.remaining() + " bytes in the buffer");
            }
            for (int i = start; i < data.limit(); i++) {
                data.put(i, (byte) 0x55);
            }
        }
    }

    @Test
    void aDatagramLargerThanTheMaximumIsReportedNotTruncated() throws Exception {
        RecordingDatagramProtocol server = bind(RecordingDatagramProtocol::new,
                DatagramOptions.DEFAULT.withMaxDatagramSize(100));
        RecordingDatagramProtocol client = connect(address(server), RecordingDatagramProtocol::new);
        client.transport().send(ByteBuffer.wrap(new byte[200]));
        client.transport().send(ByteBuffer.wrap(StreamTransportContract.pattern(100, 1)));
        Exception error = server.errors().poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        assertNotNull(error, "the oversized datagram is reported");
        assertTrue(error.getMessage().contains("100"), error.getMessage());
        RecordingDatagramProtocol.Datagram next = take(server);
        assertArrayEquals(StreamTransportContract.pattern(100, 1), next.data(), "the next datagram arrives whole");
        assertFalse(server.transport().isClosing());
    }

    @Test
    void anUnreachablePortIsAnErrorAndTheTransportStaysOpen() throws Exception {
        InetSocketAddress nobody;
        try (DatagramChannel probe = DatagramChannel.open()) {
            probe.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            nobody = (InetSocketAddress) probe.getLocalAddress();
        }
        RecordingDatagramProtocol client = connect(nobody, RecordingDatagramProtocol::new);
        Exception error = null;
        for (int i = 0; i < 50 && error == null; i++) {
            client.transport().send(ByteBuffer.wrap(new byte[] {1}));
            error = client.errors().poll(100, TimeUnit.MILLISECONDS);
        }
        assertNotNull(error, "ICMP port unreachable reaches errorReceived");
        assertFalse(client.transport().isClosing(), "the transport stays open");
        client.transport().send(ByteBuffer.wrap(new byte[] {2}));
    }

    @Test
    void targetsAreCheckedAgainstTheConnection() throws Exception {
        RecordingDatagramProtocol server = bind(RecordingDatagramProtocol::new, DatagramOptions.DEFAULT);
        RecordingDatagramProtocol client = connect(address(server), RecordingDatagramProtocol::new);
        InetSocketAddress elsewhere = new InetSocketAddress(InetAddress.getLoopbackAddress(), 9);
        assertThrows(IllegalArgumentException.class, () -> client.transport().sendTo(ByteBuffer.allocate(1), elsewhere));
        assertThrows(IllegalArgumentException.class, () -> server.transport().send(ByteBuffer.allocate(1)));
        client.transport().sendTo(ByteBuffer.wrap(new byte[] {7}), address(server));
        assertArrayEquals(new byte[] {7}, take(server).data(), "the connected peer's own address is fine");
    }

    @Test
    void closeEndsTheTransportOnceAndFurtherSendsFail() throws Exception {
        RecordingDatagramProtocol server = bind(RecordingDatagramProtocol::new, DatagramOptions.DEFAULT);
        DatagramTransport t = server.transport();
        t.close();
        assertNull(server.lost().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
        t.close();
        t.abort();
        assertThrows(org.wharf.transport.api.TransportClosedError.class,
                () -> t.sendTo(ByteBuffer.allocate(1), address(server)));
        assertEquals(1, server.lostCalls());
    }

    @Test
    void closeAndAbortFromAnotherThreadRacingTheLoopsOwnAbortLoseEachTransportOnce() throws Exception {
        // A datagram socket has no peer to reset it; its loop ends it instead (as on a receive
        // error a protocol gives up on), while a racer thread closes or aborts it: whichever
        // wins, connectionLost comes exactly once. 50,000 sockets, 64 open at a time.
        java.util.concurrent.ExecutorService racer = java.util.concurrent.Executors.newFixedThreadPool(2);
        java.util.List<String> problems = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.Semaphore open = new java.util.concurrent.Semaphore(64);
        java.util.concurrent.atomic.AtomicInteger lost = new java.util.concurrent.atomic.AtomicInteger();
        int n = 50_000;
        try {
            for (int i = 0; i < n; i++) {
                boolean abort = i % 2 == 1;
                if (!open.tryAcquire(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    throw new AssertionError("sockets stopped closing after " + i + ": " + problems);
                }
                provider().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), DatagramOptions.DEFAULT,
                        () -> new DatagramProtocol() {
                            final java.util.concurrent.atomic.AtomicBoolean gone =
                                    new java.util.concurrent.atomic.AtomicBoolean();

                            @Override
                            public void connectionMade(DatagramTransport t) {
                                racer.execute(abort ? t::abort : t::close);
                                t.loop().execute(() -> t.abort(new IllegalStateException("the loop's own abort")));
                            }

                            @Override
                            public void datagramReceived(ByteBuffer data, java.net.SocketAddress sender) {
                            }

                            @Override
                            public void errorReceived(Exception error) {
                            }

                            @Override
                            public void connectionLost(Throwable cause) {
                                if (gone.getAndSet(true)) {
                                    problems.add("connectionLost twice on one socket");
                                }
                                lost.incrementAndGet();
                                open.release();
                            }
                        }).whenComplete((c, e) -> {
                            if (e != null) {
                                problems.add("bind failed: " + e);
                                open.release();
                            }
                        });
            }
            assertTrue(open.tryAcquire(64, TIMEOUT.toMillis(), TimeUnit.MILLISECONDS), "every socket closed");
            assertEquals(java.util.List.of(), problems.stream().distinct().toList());
            assertEquals(n, lost.get());
        } finally {
            racer.shutdownNow();
        }
    }

    // ---- helpers ----

    /**
     * Binds a protocol to an ephemeral loopback port.
     *
     * @param <P> the protocol type
     * @param factory makes the protocol
     * @param options the options
     * @return the protocol, bound
     */
    protected <P extends RecordingDatagramProtocol> P bind(Supplier<P> factory, DatagramOptions options) {
        Connected<DatagramTransport, P> c = await(provider().bind(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), options, factory));
        opened.add(c.transport());
        return c.protocol();
    }

    /**
     * Connects a protocol to a peer.
     *
     * @param <P> the protocol type
     * @param peer the peer
     * @param factory makes the protocol
     * @return the protocol, connected
     */
    protected <P extends DatagramProtocol> P connect(InetSocketAddress peer, Supplier<P> factory) {
        Connected<DatagramTransport, P> c = await(provider().connect(peer, DatagramOptions.DEFAULT, factory));
        opened.add(c.transport());
        return c.protocol();
    }

    private static InetSocketAddress address(RecordingDatagramProtocol p) {
        return (InetSocketAddress) p.transport().extraInfo(ExtraInfo.LOCAL_ADDRESS).orElseThrow();
    }

    private static RecordingDatagramProtocol.Datagram take(RecordingDatagramProtocol p) throws InterruptedException {
        return take(p, "a datagram");
    }

    private static RecordingDatagramProtocol.Datagram take(RecordingDatagramProtocol p, String what)
            throws InterruptedException {
        RecordingDatagramProtocol.Datagram d = p.datagrams().poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        assertNotNull(d, what + " arrives within " + TIMEOUT);
        return d;
    }

    private static <T> T await(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError("failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException | InterruptedException e) {
            throw new AssertionError(e);
        }
    }

}
