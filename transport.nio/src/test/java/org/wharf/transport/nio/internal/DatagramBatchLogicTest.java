package org.wharf.transport.nio.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.wharf.transport.api.Connected;
import org.wharf.transport.api.DatagramOptions;
import org.wharf.transport.api.DatagramProtocol;
import org.wharf.transport.api.DatagramTransport;
import org.wharf.transport.api.WriteBufferLimits;
import org.wharf.transport.tck.Await;

/**
 * The datagram transport's batch logic on a batch made of NIO's own calls
 * ({@link NioBackedBatch}), so it runs on every JVM the build runs on: what the kernel has no
 * room for moves to the queue under write flow control, and a pause in the middle of a batch
 * holds the rest in order. (transport.nio.ffm runs the same logic on recvmmsg and sendmmsg.)
 */
class DatagramBatchLogicTest {

    private static final long TIMEOUT = 30;

    private NioEventLoopGroup group;
    private Resolver resolver;
    private NioUdpProvider provider;
    private NioBackedBatch batch;
    private DatagramTransport server;
    private DatagramChannel client;

    @BeforeEach
    void start() throws Exception {
        group = new NioEventLoopGroup(new NioSettings(1, 64 * 1024, WriteBufferLimits.DEFAULT, 16));
        resolver = new Resolver();
        provider = new NioUdpProvider(group, resolver);
        batch = new NioBackedBatch(16);
        NioEventLoop loop = group.next();
        CompletableFuture<Void> installed = new CompletableFuture<>();
        loop.execute(() -> {
            loop.datagramBatch(batch);
            installed.complete(null);
        });
        installed.get(TIMEOUT, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.abort();
        }
        if (client != null) {
            client.close();
        }
        group.shutdown().get();
        resolver.shutdown();
    }

    @Test
    void whatTheKernelHasNoRoomForWaitsInTheQueueUnderFlowControlAndGoesOutInOrder() throws Exception {
        Echo echo = bind(DatagramOptions.DEFAULT.withWriteBufferLimits(new WriteBufferLimits(100, 50)));
        batch.room = 2; // the kernel takes two, then has no room: eight wait (512 bytes, over 100)
        for (int i = 0; i < 10; i++) {
            client.write(datagram(i));
        }
        server.resumeReading();
        for (int i = 0; i < 10; i++) {
            assertEquals(datagram(i), receive(), "echo " + i + ", in order");
        }
        assertTrue(batch.fullCalls >= 1, "the kernel was full once");
        assertEquals(1, echo.pauses.get(), "paused writing once, when eight replies waited");
        Await.awaitTrue(() -> echo.resumes.get() == 1, "resumed writing once the queue drained");
        assertEquals(0, server.writeBufferSize());
        assertTrue(echo.errors.isEmpty(), () -> "no errors: " + echo.errors);
    }

    @Test
    void aPauseInTheMiddleOfABatchHoldsTheRestInOrder() throws Exception {
        Echo echo = bind(DatagramOptions.DEFAULT);
        echo.pauseAfter = 3;
        for (int i = 0; i < 12; i++) {
            client.write(datagram(i));
        }
        server.resumeReading();
        for (int i = 0; i < 3; i++) {
            assertEquals(datagram(i), receive());
        }
        CompletableFuture<Integer> seen = new CompletableFuture<>();
        group.next().execute(() -> seen.complete(echo.received.get())); // a whole turn after the pause
        assertEquals(3, seen.get(TIMEOUT, TimeUnit.SECONDS), "nothing is delivered while paused");
        server.resumeReading();
        for (int i = 3; i < 12; i++) {
            assertEquals(datagram(i), receive(), "held ones first, in order");
        }
    }

    @Test
    void aProtocolThatAbortsOnASendErrorHearsOfNoFurtherErrorOfTheSameBatch() throws Exception {
        Echo echo = bind(DatagramOptions.DEFAULT);
        echo.abortOnError = true;
        batch.failures = 2; // the first two replies of the batch fail, one call each
        for (int i = 0; i < 4; i++) {
            client.write(datagram(i));
        }
        server.resumeReading();
        echo.lost.get(TIMEOUT, TimeUnit.SECONDS);
        CompletableFuture<Integer> errors = new CompletableFuture<>();
        group.next().execute(() -> errors.complete(echo.errors.size())); // after the turn that aborted
        assertEquals(1, errors.get(TIMEOUT, TimeUnit.SECONDS),
                "the protocol aborted at the first error: no errorReceived after that, as NIO's calls would stop");
    }

    // ---- helpers ----

    /** Echoes with sendCopyTo; starts paused; counts writing pauses; may pause reading after some. */
    static final class Echo implements DatagramProtocol {
        DatagramTransport transport;
        final AtomicInteger pauses = new AtomicInteger();
        final AtomicInteger resumes = new AtomicInteger();
        final AtomicInteger received = new AtomicInteger();
        final BlockingQueue<Exception> errors = new LinkedBlockingQueue<>();
        volatile int pauseAfter = -1;
        volatile boolean abortOnError;
        final CompletableFuture<Throwable> lost = new CompletableFuture<>();

        @Override
        public void connectionMade(DatagramTransport t) {
            transport = t;
            t.pauseReading();
        }

        @Override
        public void datagramReceived(ByteBuffer data, SocketAddress sender) {
            transport.sendCopyTo(data, sender);
            if (received.incrementAndGet() == pauseAfter) {
                transport.pauseReading();
            }
        }

        @Override
        public void errorReceived(Exception error) {
            errors.add(error);
            if (abortOnError) {
                transport.abort();
            }
        }

        @Override
        public void connectionLost(Throwable cause) {
            lost.complete(cause);
        }

        @Override
        public void pauseWriting() {
            pauses.incrementAndGet();
        }

        @Override
        public void resumeWriting() {
            resumes.incrementAndGet();
        }
    }

    private Echo bind(DatagramOptions options) throws Exception {
        Connected<DatagramTransport, Echo> bound = provider.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                options, Echo::new).toCompletableFuture().get(TIMEOUT, TimeUnit.SECONDS);
        server = bound.transport();
        assertTrue(((NioDatagramTransport) server).batched(), "the test's batch is in use");
        client = DatagramChannel.open();
        client.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        client.connect(server.extraInfo(org.wharf.transport.api.ExtraInfo.LOCAL_ADDRESS).orElseThrow());
        client.socket().setSoTimeout((int) TimeUnit.SECONDS.toMillis(TIMEOUT));
        return bound.protocol();
    }

    private static ByteBuffer datagram(int i) {
        return ByteBuffer.wrap(String.format("datagram %055d", i).getBytes(StandardCharsets.US_ASCII));
    }

    private ByteBuffer receive() throws Exception {
        byte[] buffer = new byte[256];
        java.net.DatagramPacket packet = new java.net.DatagramPacket(buffer, buffer.length);
        client.socket().receive(packet);
        return ByteBuffer.wrap(buffer, 0, packet.getLength());
    }
}
