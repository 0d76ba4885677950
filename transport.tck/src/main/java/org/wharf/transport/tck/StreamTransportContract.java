package org.wharf.transport.tck;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.wharf.transport.api.ConnectOptions;
import org.wharf.transport.api.Connected;
import org.wharf.transport.api.ConnectionRefusedError;
import org.wharf.transport.api.ExtraInfo;
import org.wharf.transport.api.ListenOptions;
import org.wharf.transport.api.Listener;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.StreamTransportProvider;
import org.wharf.transport.api.Transport;
import org.wharf.transport.api.TransportClosedError;
import org.wharf.transport.api.TransportTimeoutError;
import org.wharf.transport.api.WriteBufferLimits;

/**
 * The contract of stream transports, written once: a transport module subclasses this with
 * its provider and passes every test (the model is Netty's transport testsuite). Everything
 * runs over loopback on ephemeral ports and waits on futures or polls with a deadline.
 */
public abstract class StreamTransportContract {

    /** The longest any single wait may take. */
    protected static final Duration TIMEOUT = Duration.ofSeconds(60);

    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final List<Transport> clients = new CopyOnWriteArrayList<>();

    /**
     * The provider under test.
     *
     * @return the provider
     */
    protected abstract StreamTransportProvider provider();

    /**
     * Options the tests listen with; a TLS provider adds its TLS settings here.
     *
     * @return the options
     */
    protected ListenOptions listenOptions() {
        return ListenOptions.DEFAULT;
    }

    /**
     * Options the tests connect with; a TLS provider adds its TLS settings here.
     *
     * @return the options
     */
    protected ConnectOptions connectOptions() {
        return ConnectOptions.DEFAULT;
    }

    /**
     * Whether the transport can half-close ({@code false} for TLS).
     *
     * @return {@code true} by default
     */
    protected boolean canHalfClose() {
        return true;
    }

    /** The close timeout of {@link #closeTimeoutProvider()}. */
    protected static final Duration CLOSE_TIMEOUT = Duration.ofMillis(500);

    /**
     * The same transport with a close timeout of {@link #CLOSE_TIMEOUT}, for the tests of a
     * graceful close whose peer stops reading; {@code null} skips them.
     *
     * @return the provider, or {@code null}
     */
    protected StreamTransportProvider closeTimeoutProvider() {
        return null;
    }

    /** A listening server and the protocols of the connections it accepted. */
    protected record Server<P extends Protocol>(InetSocketAddress address, BlockingQueue<P> accepted, Listener listener) {
        /**
         * The protocol of the next accepted connection.
         *
         * @return the protocol
         */
        public P next() {
            try {
                P p = accepted.poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                if (p == null) {
                    fail("no connection was accepted within " + TIMEOUT);
                }
                return p;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    @AfterEach
    void closeEverything() {
        clients.forEach(Transport::abort);
        listeners.forEach(l -> await(l.close()));
    }

    // ---- the contract ----

    @ParameterizedTest(name = "echo with writeCopy: {0}")
    @ValueSource(booleans = {false, true})
    void echoOfAThousandMessagesKeepsContentAndCallbackOrder(boolean copying) {
        Server<EchoProtocol> server = serve(() -> new EchoProtocol().copying(copying), listenOptions());
        RecordingProtocol client = connect(server, new RecordingProtocol(), connectOptions());
        byte[] all = pattern(1000 * 1024, 7);
        for (int i = 0; i < 1000; i++) {
            client.transport().write(ByteBuffer.wrap(all, i * 1024, 1024).slice());
        }
        awaitTrue(() -> client.receivedCount() == all.length, "all 1,000 messages echoed");
        assertEquals((long) all.length, client.transport().extraInfo(ExtraInfo.BYTES_SENT).orElseThrow());
        assertEquals((long) all.length, client.transport().extraInfo(ExtraInfo.BYTES_RECEIVED).orElseThrow());
        client.transport().close();
        EchoProtocol echo = server.next();
        await(echo.lost());
        await(client.lost());

        assertArrayEquals(all, client.received());
        assertArrayEquals(all, echo.received());
        // The test thread writes a MiB without looking at flow control: counted as it writes,
        // that crosses the mark, so the client may see pause/resume pairs between its events.
        List<String> withoutFlowControl = new ArrayList<>();
        for (String e : client.events()) {
            if (!e.endsWith("Writing") && !(e.equals("dataReceived") && withoutFlowControl.contains(e))) {
                withoutFlowControl.add(e);
            }
        }
        assertEquals(List.of("connectionMade", "dataReceived", "connectionLost"), withoutFlowControl);
        assertEquals(client.writingPauses(), client.writingResumes());
        assertEquals(List.of("connectionMade", "dataReceived", "eofReceived", "connectionLost"), echo.events());
        assertNull(await(client.lost()));
        assertNull(await(echo.lost()));
        assertEquals(List.of(), client.violations());
        assertEquals(List.of(), echo.violations());
    }

    @ParameterizedTest(name = "writeCopy: {0}")
    @ValueSource(booleans = {false, true})
    void sixtyFourMebibytesArriveByteExact(boolean copying) {
        Server<EchoProtocol> server = serve(() -> ((EchoProtocol) new EchoProtocol().keepBytes(false))
                .copying(copying), listenOptions());
        StreamSender sender = new StreamSender(64L << 20, 64 * 1024, 64).halfCloseWhenSent();
        if (copying) {
            sender.copying();
        }
        connect(server, sender, connectOptions());
        String received = await(sender.receivedHash());
        assertEquals(sender.sentHash(), received, "SHA-256 of what was sent and what came back");
        await(sender.lost());
        assertEquals(List.of(), server.next().violations());
    }

    @ParameterizedTest(name = "writeCopy: {0}")
    @ValueSource(booleans = {false, true})
    void smallWriteLimitsPauseAndResumeManyTimesWithNothingLost(boolean copying) {
        WriteBufferLimits small = new WriteBufferLimits(4096, 1024);
        Server<EchoProtocol> server = serve(() -> ((EchoProtocol) new EchoProtocol().keepBytes(false))
                .copying(copying), smallBuffers(listenOptions()).withWriteBufferLimits(small));
        // Each 64 KiB write is more than the small send buffer takes at once, so most of it
        // queues above the 4 KiB mark: the sender pauses on nearly every write.
        StreamSender sender = new StreamSender(8L << 20, 64 * 1024, 8);
        if (copying) {
            sender.copying();
        }
        connect(server, sender, smallBuffers(connectOptions()).withWriteBufferLimits(small));
        String received = await(sender.receivedHash()); // first: sentHash() is final once all is sent
        assertEquals(sender.sentHash(), received);
        await(sender.lost());
        assertTrue(sender.pauses() >= 32, "paused " + sender.pauses() + " times in 128 writes");
        assertEquals(sender.pauses(), sender.resumes(), "every pause was followed by a resume");
        EchoProtocol echo = server.next();
        await(echo.lost());
        assertEquals(List.of(), echo.violations());
    }

    @Test
    void aStalledConnectionDoesNotSpinItsLoop() throws Exception {
        // The client reads nothing, so the server's write queue cannot drain and the client
        // cannot read: neither loop has work. A loop that spins on a ready key would burn the
        // whole measuring window; an idle one burns next to nothing.
        Server<RecordingProtocol> server = serve(() -> new RecordingProtocol() {
            @Override
            protected void onConnectionMade(Transport t) {
                writeInChunks(t, 16 << 20);
            }
        }, smallBuffers(listenOptions()));
        RecordingProtocol client = connect(server, new RecordingProtocol() {
            @Override
            protected void onConnectionMade(Transport t) {
                t.pauseReading();
            }
        }, connectOptions());
        Transport serverSide = await(server.next().made());
        awaitTrue(() -> serverSide.writeBufferSize() > 0, "the server's queue is stalled");
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        Assumptions.assumeTrue(threads.isCurrentThreadCpuTimeSupported(), "no thread CPU time on this JVM");
        long[] ids = {loopThreadId(serverSide), loopThreadId(client.transport())};
        long before = threads.getThreadCpuTime(ids[0]) + (ids[1] == ids[0] ? 0 : threads.getThreadCpuTime(ids[1]));
        long window = TimeUnit.MILLISECONDS.toNanos(500);
        java.util.concurrent.locks.LockSupport.parkNanos(window); // a measuring window, not a wait for an event
        long used = threads.getThreadCpuTime(ids[0]) + (ids[1] == ids[0] ? 0 : threads.getThreadCpuTime(ids[1])) - before;
        assertTrue(used < window / 5, "the loops used " + TimeUnit.NANOSECONDS.toMillis(used) + " ms of CPU in a "
                + TimeUnit.NANOSECONDS.toMillis(window) + " ms window with nothing to do");
        assertEquals(0, client.receivedCount());
    }

    private static long loopThreadId(Transport t) {
        CompletableFuture<Long> id = new CompletableFuture<>();
        t.loop().execute(() -> id.complete(Thread.currentThread().getId()));
        return await(id);
    }

    @Test
    void pausedReadingHoldsDataBackAndResumeDeliversAllOfIt() throws InterruptedException {
        byte[] payload = pattern(256 * 1024, 3);
        Server<RecordingProtocol> server = serve(() -> new RecordingProtocol() {
            @Override
            protected void onConnectionMade(Transport t) {
                t.write(ByteBuffer.wrap(payload));
            }
        }, listenOptions());
        RecordingProtocol client = connect(server, new RecordingProtocol() {
            @Override
            protected void onConnectionMade(Transport t) {
                t.pauseReading();
            }
        }, connectOptions());
        Transport serverSide = await(server.next().made());
        awaitTrue(() -> serverSide.writeBufferSize() == 0, "the server handed everything to the kernel");
        // One more turn of the client's loop: had reading not been paused, the data that
        // waits in the socket would have been delivered before this task runs.
        CountDownLatch turn = new CountDownLatch(1);
        client.transport().loop().execute(turn::countDown);
        assertTrue(turn.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
        assertEquals(0, client.receivedCount(), "nothing is delivered while reading is paused");
        assertTrue(!client.transport().isReading());

        client.transport().resumeReading();
        awaitTrue(() -> client.receivedCount() == payload.length, "everything arrives after resume");
        assertArrayEquals(payload, client.received());
    }

    @Test
    void halfCloseFromTheClientLetsTheServerAnswerAfterEndOfInput() {
        Assumptions.assumeTrue(canHalfClose(), "this transport cannot half-close");
        Server<RecordingProtocol> server = serve(() -> new RecordingProtocol() {
            @Override
            public boolean eofReceived() {
                super.eofReceived();
                Transport t = transport();
                t.write(ByteBuffer.wrap(("reply to " + new String(received(), StandardCharsets.UTF_8))
                        .getBytes(StandardCharsets.UTF_8)));
                t.close();
                return true;
            }
        }, listenOptions());
        RecordingProtocol client = connect(server, new RecordingProtocol(), connectOptions());
        client.transport().write(ByteBuffer.wrap("request".getBytes(StandardCharsets.UTF_8)));
        client.transport().writeEof();
        assertThrows(TransportClosedError.class, () -> client.transport().write(ByteBuffer.allocate(1)));
        await(client.lost());
        assertEquals("reply to request", new String(client.received(), StandardCharsets.UTF_8));
        assertEquals(List.of("connectionMade", "dataReceived", "eofReceived", "connectionLost"), client.events());
        RecordingProtocol answering = server.next();
        await(answering.lost());
        assertEquals(List.of("connectionMade", "dataReceived", "eofReceived", "connectionLost"), answering.events());
    }

    @Test
    void halfCloseFromTheServerLetsTheClientAnswerAfterEndOfInput() {
        Assumptions.assumeTrue(canHalfClose(), "this transport cannot half-close");
        Server<RecordingProtocol> server = serve(() -> new RecordingProtocol() {
            @Override
            protected void onConnectionMade(Transport t) {
                t.write(ByteBuffer.wrap("hello".getBytes(StandardCharsets.UTF_8)));
                t.writeEof();
            }
        }, listenOptions());
        RecordingProtocol client = connect(server, new RecordingProtocol() {
            @Override
            public boolean eofReceived() {
                super.eofReceived();
                transport().write(ByteBuffer.wrap("bye".getBytes(StandardCharsets.UTF_8)));
                transport().close();
                return true;
            }
        }, connectOptions());
        RecordingProtocol greeter = server.next();
        await(greeter.lost());
        await(client.lost());
        assertEquals("hello", new String(client.received(), StandardCharsets.UTF_8));
        assertEquals("bye", new String(greeter.received(), StandardCharsets.UTF_8));
        assertEquals(List.of("connectionMade", "dataReceived", "eofReceived", "connectionLost"), greeter.events());
    }

    @Test
    void closeFlushesWhatIsQueued() {
        int total = 8 << 20;
        Server<RecordingProtocol> server = serve(() -> new RecordingProtocol() {
            @Override
            protected void onConnectionMade(Transport t) {
                writeInChunks(t, total);
                t.close();
            }
        }, listenOptions());
        RecordingProtocol client = connect(server, new RecordingProtocol().keepBytes(false), connectOptions());
        assertNull(await(client.lost()));
        assertEquals(total, client.receivedCount(), "close lets every queued byte go out first");
        assertNull(await(server.next().lost()));
    }

    @Test
    void abortDropsWhatIsQueued() {
        int total = 32 << 20;
        Server<RecordingProtocol> server = serve(() -> new RecordingProtocol() {
            @Override
            protected void onConnectionMade(Transport t) {
                writeInChunks(t, total);
                t.abort();
            }
        }, listenOptions());
        RecordingProtocol client = connect(server, new RecordingProtocol() {
            @Override
            protected void onConnectionMade(Transport t) {
                t.pauseReading();
            }
        }.keepBytes(false), connectOptions());
        assertNull(await(server.next().lost()), "abort closes at once, with no error");
        client.transport().resumeReading();
        await(client.lost());
        assertTrue(client.receivedCount() < total, "abort dropped the queue, yet " + client.receivedCount()
                + " of " + total + " bytes arrived");
    }

    @Test
    void resetIsAnAbortThePeerSeesAsAResetNotAnEnd() {
        // The server resets only once the client has spoken: a reset before the client's connect
        // completes on its side would fail that connect instead (the kernel reports ECONNRESET).
        Server<RecordingProtocol> server = serve(() -> new RecordingProtocol() {
            private boolean done;

            @Override
            protected void onDataReceived(ByteBuffer data) {
                if (!done) {
                    done = true;
                    Transport t = transport();
                    writeInChunks(t, 1 << 20); // queued, then dropped
                    t.reset();
                    t.reset(); // harmless twice
                }
            }
        }, listenOptions());
        RecordingProtocol client = connect(server, new RecordingProtocol() {
            @Override
            protected void onConnectionMade(Transport t) {
                t.write(ByteBuffer.wrap(new byte[] {1}));
            }
        }.keepBytes(false), connectOptions());
        RecordingProtocol reset = server.next();
        assertNull(await(reset.lost()), "on this side a reset is an abort: connectionLost(null)");
        assertNotNull(await(client.lost()), "the peer's connection is lost with an error, not ended cleanly: "
                + client.events());
        assertFalse(client.events().contains("eofReceived"), "no end of input before the reset: " + client.events());
        assertEquals(List.of(), reset.violations());
        assertEquals(List.of(), client.violations());
    }

    @Test
    void writeToAClosingOrClosedTransportFailsAndSaysWhich() {
        Server<EchoProtocol> server = serve(EchoProtocol::new, listenOptions());
        RecordingProtocol client = connect(server, new RecordingProtocol(), connectOptions());
        Transport t = client.transport();
        t.close();
        assertTrue(t.isClosing());
        TransportClosedError closing = assertThrows(TransportClosedError.class, () -> t.write(ByteBuffer.allocate(1)));
        assertTrue(closing.getMessage().contains("clos"), closing.getMessage());
        await(client.lost());
        TransportClosedError closed = assertThrows(TransportClosedError.class, () -> t.write(ByteBuffer.allocate(1)));
        assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
        t.close();
        t.abort(); // both harmless once closed
        assertEquals(1, client.events().stream().filter("connectionLost"::equals).count());
    }

    @Test
    void aConnectThatPrefersAnotherConnectionsLoopRunsOnIt() {
        Server<EchoProtocol> server = serve(EchoProtocol::new, listenOptions());
        connect(server, new RecordingProtocol(), connectOptions());
        org.wharf.transport.api.EventLoop loop = await(server.next().made()).loop();
        // Four in a row: round robin over several loops would not land on it by chance.
        for (int i = 0; i < 4; i++) {
            RecordingProtocol client = connect(server, new RecordingProtocol(), connectOptions().withEventLoop(loop));
            assertSame(loop, client.transport().loop(), "the connection runs on the loop it asked for");
        }
    }

    /** Writes {@code total} bytes on connection and closes at once; notes when it closed. */
    /** A slow reader: after each 64 KiB it waits 20 ms before reading on, far within the close timeout. */
    private static class SlowReader extends RecordingProtocol {
        private long sincePause;

        SlowReader() {
            keepBytes(false);
        }

        @Override
        protected void onDataReceived(ByteBuffer data) {
            sincePause += data.remaining();
            if (sincePause >= 64 * 1024) {
                sincePause = 0;
                Transport t = transport();
                t.pauseReading();
                t.loop().schedule(t::resumeReading, 20, TimeUnit.MILLISECONDS);
            }
        }
    }

    /** Connects a client that takes nothing once connected. */
    private RecordingProtocol takingNothing(StreamTransportProvider provider, Server<?> server) {
        return connectTo(provider, server, new RecordingProtocol() {
            @Override
            protected void onConnectionMade(Transport t) {
                t.pauseReading();
            }
        }.keepBytes(false));
    }

    /** The connection was aborted by its close timeout, not before it ran out since {@code began}. */
    private static void assertAbortedByTheCloseTimeout(RecordingProtocol p, java.util.function.LongSupplier began,
            String what) {
        Throwable cause = await(p.lost());
        assertInstanceOf(org.wharf.transport.api.TransportError.class, cause, "aborted, not closed: " + cause);
        assertTrue(cause.getMessage().contains(what) && cause.getMessage().contains("without the peer taking any"),
                cause.getMessage());
        assertTrue(System.nanoTime() - began.getAsLong() >= CLOSE_TIMEOUT.toNanos(), "not before the timeout");
    }

    private static final class WriteThenClose extends RecordingProtocol {
        private final int total;
        volatile long closedAt;

        WriteThenClose(int total) {
            keepBytes(false);
            this.total = total;
        }

        @Override
        protected void onConnectionMade(Transport t) {
            writeInChunks(t, total);
            closedAt = System.nanoTime();
            t.close();
        }
    }

    private <P extends Protocol> P connectTo(StreamTransportProvider provider, Server<?> server, P protocol) {
        Connected<Transport, P> c = await(provider.connect(server.address(), connectOptions(), () -> protocol));
        clients.add(c.transport());
        return c.protocol();
    }

    private <P extends Protocol> Server<P> serveOn(StreamTransportProvider provider, Supplier<P> factory) {
        BlockingQueue<P> accepted = new LinkedBlockingQueue<>();
        Listener listener = await(provider.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                smallBuffers(listenOptions()), () -> {
                    P p = factory.get();
                    accepted.add(p);
                    return p;
                }));
        listeners.add(listener);
        return new Server<>(listener.localAddress(), accepted, listener);
    }

    @Test
    void aCloseWhosePeerTakesNothingIsAbortedAfterTheCloseTimeout() {
        StreamTransportProvider provider = closeTimeoutProvider();
        Assumptions.assumeTrue(provider != null, "no provider with a close timeout");
        Server<WriteThenClose> server = serveOn(provider, () -> new WriteThenClose(16 << 20));
        // A client that takes nothing once connected: the server's 16 MiB cannot all leave.
        RecordingProtocol client = takingNothing(provider, server);
        WriteThenClose closing = server.next();
        assertAbortedByTheCloseTimeout(closing, () -> closing.closedAt, "close took");
        client.transport().abort();
        assertEquals(List.of(), closing.violations());
    }

    @Test
    void aCloseWhosePeerKeepsTakingBytesSlowlyIsNotCutOff() {
        StreamTransportProvider provider = closeTimeoutProvider();
        Assumptions.assumeTrue(provider != null, "no provider with a close timeout");
        int total = 8 << 20;
        Server<WriteThenClose> server = serveOn(provider, () -> new WriteThenClose(total));
        // A slow reader: after each 64 KiB it waits 20 ms before reading on, far within the
        // timeout, so the whole takes many times the timeout.
        RecordingProtocol client = connectTo(provider, server, new SlowReader());
        WriteThenClose closing = server.next();
        assertNull(await(closing.lost()), "closed cleanly");
        long took = System.nanoTime() - closing.closedAt;
        await(client.lost());
        assertEquals(total, client.receivedCount());
        assertTrue(took > 2 * CLOSE_TIMEOUT.toNanos(), "the close outlasted the timeout twice over (it took "
                + TimeUnit.NANOSECONDS.toMillis(took) + " ms), so progress kept it going");
        assertEquals(List.of(), closing.violations());
    }

    /** Writes {@code total} bytes on connection, then half-closes; notes when. */
    private static final class WriteThenEof extends RecordingProtocol {
        private final int total;
        volatile long eofAt;

        WriteThenEof(int total) {
            this.total = total;
        }

        @Override
        protected void onConnectionMade(Transport t) {
            writeInChunks(t, total);
            eofAt = System.nanoTime();
            t.writeEof();
        }
    }

    @Test
    void aWriteFromAnotherThreadGoesOutBeforeAWriteEofTheLoopMakesAfterIt() throws Exception {
        Assumptions.assumeTrue(canHalfClose(), "no half-close");
        byte[] payload = pattern(64 * 1024, 5);
        for (int round = 0; round < 20; round++) {
            Server<RecordingProtocol> server = serve(RecordingProtocol::new, listenOptions());
            RecordingProtocol client = connect(server, new RecordingProtocol().keepOpenOnEof(true), connectOptions());
            RecordingProtocol serverProtocol = server.next();
            Transport serverSide = await(serverProtocol.made());
            CompletableFuture<Void> done = new CompletableFuture<>();
            serverSide.loop().execute(() -> {
                // Another thread writes, and returns, while the loop is busy here: its write waits
                // for the loop. Then the loop half-closes: the write happened before, so it goes first.
                Thread writer = new Thread(() -> serverSide.write(ByteBuffer.wrap(payload)), "writer");
                writer.start();
                try {
                    writer.join(TimeUnit.SECONDS.toMillis(10));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                serverSide.writeEof();
                done.complete(null);
            });
            await(done);
            await(client.eof());
            assertArrayEquals(payload, client.received(), "round " + round + ": the bytes, then the EOF");
            client.transport().close();
            assertNull(await(serverProtocol.lost()), "round " + round + ": closed cleanly");
        }
    }

    @Test
    void aWriteEofWhosePeerTakesNothingIsAbortedAfterTheCloseTimeout() {
        StreamTransportProvider provider = closeTimeoutProvider();
        Assumptions.assumeTrue(provider != null && canHalfClose(), "no provider with a close timeout and half-close");
        Server<WriteThenEof> server = serveOn(provider, () -> new WriteThenEof(16 << 20));
        // A client that takes nothing (and sends nothing) once connected: the server's 16 MiB
        // and its EOF cannot all leave, and no idle watch is there to notice.
        RecordingProtocol client = takingNothing(provider, server);
        WriteThenEof halfClosing = server.next();
        assertAbortedByTheCloseTimeout(halfClosing, () -> halfClosing.eofAt, "writeEof took");
        client.transport().abort();
        assertEquals(List.of(), halfClosing.violations());
    }

    @Test
    void aWriteEofWhosePeerKeepsTakingBytesSlowlyIsNotCutOffNorIsTheHalfClosedConnectionAfterwards() {
        StreamTransportProvider provider = closeTimeoutProvider();
        Assumptions.assumeTrue(provider != null && canHalfClose(), "no provider with a close timeout and half-close");
        int total = 8 << 20;
        Server<WriteThenEof> server = serveOn(provider, () -> new WriteThenEof(total));
        CompletableFuture<Long> eofSeenAt = new CompletableFuture<>();
        // A slow reader, as for close: 20 ms after each 64 KiB, so the EOF's flush takes many
        // times the timeout. Once the EOF is in, it answers only after three timeouts more: the
        // half-closed server, with nothing left to write, waits for it.
        RecordingProtocol client = connectTo(provider, server, new SlowReader() {
            @Override
            public boolean eofReceived() {
                super.eofReceived();
                eofSeenAt.complete(System.nanoTime());
                Transport t = transport();
                t.loop().schedule(() -> {
                    t.write(ByteBuffer.wrap("late answer".getBytes(StandardCharsets.UTF_8)));
                    t.close();
                }, 3 * CLOSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                return true;
            }
        });
        WriteThenEof halfClosing = server.next();
        assertNull(await(halfClosing.lost()), "closed cleanly once the peer answered and ended");
        assertNull(await(client.lost()));
        assertEquals(total, client.receivedCount());
        assertEquals("late answer", new String(halfClosing.received(), StandardCharsets.UTF_8));
        long flushTook = await(eofSeenAt) - halfClosing.eofAt;
        assertTrue(flushTook > 2 * CLOSE_TIMEOUT.toNanos(), "the EOF's flush outlasted the timeout twice over (it took "
                + TimeUnit.NANOSECONDS.toMillis(flushTook) + " ms), so progress kept it going");
        assertEquals(List.of(), halfClosing.violations());
    }

    @Test
    void connectionRefusedIsAConnectionRefusedError() throws IOException {
        InetSocketAddress nobody;
        try (ServerSocketChannel probe = ServerSocketChannel.open()) {
            probe.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            nobody = (InetSocketAddress) probe.getLocalAddress();
        }
        Throwable error = awaitFailure(provider().connect(nobody, connectOptions(), RecordingProtocol::new));
        assertInstanceOf(ConnectionRefusedError.class, error);
        assertTrue(error.getMessage().contains(String.valueOf(nobody.getPort())), error.getMessage());
    }

    @Test
    void connectTimeoutIsATransportTimeoutError() throws IOException {
        // A listener that never accepts, its backlog full: further SYNs are dropped, so a
        // connect can only time out.
        List<SocketChannel> fillers = new ArrayList<>();
        try (ServerSocketChannel full = ServerSocketChannel.open()) {
            full.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1);
            InetSocketAddress address = (InetSocketAddress) full.getLocalAddress();
            for (int i = 0; i < 8; i++) {
                SocketChannel filler = SocketChannel.open();
                filler.configureBlocking(false);
                filler.connect(address);
                fillers.add(filler);
            }
            long start = System.nanoTime();
            Throwable error = awaitFailure(provider().connect(address,
                    connectOptions().withTimeout(Duration.ofMillis(300)), RecordingProtocol::new));
            assertInstanceOf(TransportTimeoutError.class, error);
            assertTrue(error.getMessage().contains("300"), error.getMessage());
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(20), "the timeout was enforced");
        } finally {
            for (SocketChannel filler : fillers) {
                filler.close();
            }
        }
    }

    @ParameterizedTest(name = "throwing in {0}")
    @ValueSource(strings = {"connectionMade", "dataReceived", "eofReceived", "pauseWriting", "resumeWriting",
        "connectionLost"})
    void aProtocolThatThrowsAbortsOnlyItsOwnConnection(String callback) {
        AtomicInteger made = new AtomicInteger();
        Server<RecordingProtocol> server = serve(() -> made.incrementAndGet() == 1 ? new Throwing(callback)
                : new EchoProtocol(), smallBuffers(listenOptions()));

        // The victim: drive it into the callback that throws.
        boolean slowReader = callback.equals("pauseWriting") || callback.equals("resumeWriting");
        RecordingProtocol victim = connect(server, new RecordingProtocol() {
            @Override
            protected void onConnectionMade(Transport t) {
                if (slowReader) {
                    t.pauseReading();
                }
            }
        }.keepBytes(false), smallBuffers(connectOptions()));
        Throwing thrower = (Throwing) server.next();
        switch (callback) {
            case "dataReceived" -> victim.transport().write(ByteBuffer.wrap("x".getBytes(StandardCharsets.UTF_8)));
            case "eofReceived", "connectionLost" -> victim.transport().close();
            case "resumeWriting" -> {
                awaitTrue(() -> thrower.events().contains("pauseWriting"), "the server paused writing");
                victim.transport().resumeReading();
            }
            default -> { }
        }
        Throwable cause = await(thrower.lost());
        if (callback.equals("connectionLost")) {
            assertNull(cause);
        } else {
            assertSame(thrower.thrown, cause, "connectionLost gets the exception the callback threw");
        }
        victim.transport().resumeReading(); // a paused reader would never see the end
        await(victim.lost());

        // Every other connection runs on.
        RecordingProtocol other = connect(server, new RecordingProtocol(), connectOptions());
        other.transport().write(ByteBuffer.wrap("still here".getBytes(StandardCharsets.UTF_8)));
        awaitTrue(() -> other.receivedCount() == 10, "another connection is served");
        assertEquals("still here", new String(other.received(), StandardCharsets.UTF_8));
    }

    @Test
    void aThousandConcurrentConnectionsEachEchoTheirOwnData() {
        Server<EchoProtocol> server = serve(EchoProtocol::new, listenOptions());
        int n = 1000;
        List<CompletionStage<Connected<Transport, RecordingProtocol>>> connecting = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            connecting.add(provider().connect(server.address(), connectOptions(), RecordingProtocol::new));
        }
        List<RecordingProtocol> connected = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Connected<Transport, RecordingProtocol> c = await(connecting.get(i));
            clients.add(c.transport());
            connected.add(c.protocol());
            c.transport().write(ByteBuffer.wrap(String.format("client %04d", i).getBytes(StandardCharsets.UTF_8)));
        }
        for (int i = 0; i < n; i++) {
            RecordingProtocol c = connected.get(i);
            awaitTrue(() -> c.receivedCount() == 11, "client " + c + " got its echo");
            assertEquals(String.format("client %04d", i), new String(c.received(), StandardCharsets.UTF_8));
        }
        connected.forEach(c -> c.transport().close());
        for (RecordingProtocol c : connected) {
            assertNull(await(c.lost()));
        }
        for (int i = 0; i < n; i++) {
            EchoProtocol echo = server.next();
            await(echo.lost());
            assertEquals(List.of(), echo.violations());
        }
    }

    @ParameterizedTest(name = "writeCopy: {0}")
    @ValueSource(booleans = {false, true})
    void writesFromManyThreadsKeepEachThreadsOrder(boolean copying) throws InterruptedException {
        Server<RecordingProtocol> server = serve(RecordingProtocol::new, listenOptions());
        RecordingProtocol client = connect(server, new RecordingProtocol(), connectOptions());
        int threads = 8;
        int perThread = 2000;
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> writers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            Thread w = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                ByteBuffer reused = ByteBuffer.allocate(16);
                for (int i = 0; i < perThread; i++) {
                    byte[] line = String.format("%d:%05d\n", id, i).getBytes(StandardCharsets.US_ASCII);
                    if (copying) { // one buffer for all lines, overwritten as soon as writeCopy returns
                        client.transport().writeCopy(reused.clear().put(line).flip());
                        reused.clear().put(new byte[16]);
                    } else {
                        client.transport().write(ByteBuffer.wrap(line));
                    }
                }
            }, "writer-" + t);
            w.start();
            writers.add(w);
        }
        start.countDown();
        for (Thread w : writers) {
            w.join(TIMEOUT.toMillis());
        }
        client.transport().close();
        RecordingProtocol receiver = server.next();
        await(receiver.lost());
        String[] lines = new String(receiver.received(), StandardCharsets.US_ASCII).split("\n");
        assertEquals(threads * perThread, lines.length);
        int[] next = new int[threads];
        for (String line : lines) {
            int id = line.charAt(0) - '0';
            assertEquals(next[id], Integer.parseInt(line.substring(2)), "order of writer " + id);
            next[id]++;
        }
        assertEquals(List.of(), receiver.violations());
    }

    @Test
    void extraInfoGivesBothAddressesAndSocketOptions() {
        Server<RecordingProtocol> server = serve(RecordingProtocol::new, listenOptions());
        RecordingProtocol client = connect(server, new RecordingProtocol(), connectOptions());
        Transport serverSide = await(server.next().made());
        Transport clientSide = client.transport();
        assertEquals(server.address(), clientSide.extraInfo(ExtraInfo.PEER_ADDRESS).orElseThrow());
        assertEquals(clientSide.extraInfo(ExtraInfo.LOCAL_ADDRESS).orElseThrow(),
                serverSide.extraInfo(ExtraInfo.PEER_ADDRESS).orElseThrow());
        assertEquals(true, clientSide.extraInfo(ExtraInfo.socketOption(StandardSocketOptions.TCP_NODELAY)).orElseThrow(),
                "TCP_NODELAY is on by default");
        assertTrue(serverSide.extraInfo(ExtraInfo.of("no such thing", String.class)).isEmpty());
    }

    // ---- the core's thread rules, under concurrency ----

    /**
     * How many connections the lifecycle race runs over; a transport whose connections cost
     * much more (a full TLS handshake each) may run fewer and say why.
     *
     * @return the count, 50,000 by default
     */
    protected int raceConnections() {
        return 50_000;
    }

    /**
     * Extra bytes a transport queues for {@code bytes} of application data (TLS record
     * overhead), for the bound of the producer test.
     *
     * @param bytes application bytes written at once
     * @return extra bytes, zero by default
     */
    protected long writeOverhead(long bytes) {
        return 0;
    }

    @Test
    void closeAndAbortFromOtherThreadsRacingPeerResetAndEndOfInputLoseEachConnectionOnce() throws Exception {
        LifecycleRace.run(provider(), listenOptions(), connectOptions(), raceConnections(), TIMEOUT);
    }

    @Test
    void aProducerOnAnotherThreadThatStopsWhenNotWritableStaysWithinOneWriteOfTheMark() throws Exception {
        // Bytes count when write returns, on the producer's thread: isWritable() turns false
        // within the write that crosses the mark, and resumeWriting tells the producer when to
        // go on. (The old transports counted them only when the loop ran the write.)
        int chunk = 16 * 1024;
        long total = 2L << 20;
        WriteBufferLimits limits = WriteBufferLimits.DEFAULT;
        java.util.concurrent.Semaphore resumed = new java.util.concurrent.Semaphore(0);
        java.util.concurrent.atomic.AtomicLong worst = new java.util.concurrent.atomic.AtomicLong();
        AtomicInteger stops = new AtomicInteger();
        CompletableFuture<Void> produced = new CompletableFuture<>();
        Server<RecordingProtocol> server = serve(() -> new RecordingProtocol() {
            @Override
            protected void onConnectionMade(Transport t) {
                Thread producer = new Thread(() -> {
                    try {
                        byte[] bytes = pattern(chunk, 11);
                        for (long sent = 0; sent < total; sent += chunk) {
                            while (!t.isWritable()) {
                                stops.incrementAndGet();
                                if (!resumed.tryAcquire(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                                    throw new AssertionError("no resumeWriting within " + TIMEOUT);
                                }
                            }
                            t.write(ByteBuffer.wrap(bytes));
                            worst.accumulateAndGet(t.writeBufferSize(), Math::max);
                        }
                        produced.complete(null);
                    } catch (Throwable e) {
                        produced.completeExceptionally(e);
                    }
                }, "producer");
                producer.setDaemon(true);
                producer.start();
            }

            @Override
            public void resumeWriting() {
                super.resumeWriting();
                resumed.release();
            }
        }, smallBuffers(listenOptions()).withWriteBufferLimits(limits));
        RecordingProtocol client = connect(server, new RecordingProtocol() {
            @Override
            protected void onConnectionMade(Transport t) {
                t.pauseReading(); // the kernel's buffers fill and the server's queue grows
            }
        }.keepBytes(false), connectOptions());
        RecordingProtocol sender = server.next();
        awaitTrue(() -> stops.get() > 0, "the producer stopped at the mark");
        client.transport().resumeReading();
        await(produced);
        awaitTrue(() -> client.receivedCount() == total, "everything arrives");
        long bound = limits.high() + chunk + writeOverhead(chunk);
        assertTrue(worst.get() <= bound, "the buffer held at most one write past the mark: " + worst.get() + " > " + bound);
        assertTrue(sender.writingPauses() >= 1, "paused at least once");
        awaitTrue(() -> sender.writingResumes() == sender.writingPauses(), "every pause was followed by one resume");
        assertEquals(List.of(), sender.violations());
    }

    @Test
    void aThrowingTaskAndTimerLeaveTheLoopRunning() {
        Server<EchoProtocol> server = serve(EchoProtocol::new, listenOptions());
        RecordingProtocol client = connect(server, new RecordingProtocol(), connectOptions());
        EchoProtocol echo = server.next();
        Transport serverSide = await(echo.made());
        CompletableFuture<Void> after = new CompletableFuture<>();
        serverSide.loop().execute(() -> {
            throw new IllegalStateException("a task that throws, on purpose");
        });
        serverSide.loop().schedule(() -> {
            throw new IllegalStateException("a timer that throws, on purpose");
        }, 1, TimeUnit.MILLISECONDS);
        serverSide.loop().schedule(() -> after.complete(null), 20, TimeUnit.MILLISECONDS);
        await(after);
        client.transport().write(ByteBuffer.wrap("still here".getBytes(StandardCharsets.UTF_8)));
        awaitTrue(() -> client.receivedCount() == 10, "the connection on that loop is still served");
        RecordingProtocol other = connect(server, new RecordingProtocol(), connectOptions());
        other.transport().write(ByteBuffer.wrap("me too".getBytes(StandardCharsets.UTF_8)));
        awaitTrue(() -> other.receivedCount() == 6, "a new connection is served");
        assertEquals(List.of(), echo.violations());
    }

    @Test
    void writingTheBufferLentToDataReceivedFailsLoudlyAndNamesWriteCopy() {
        CompletableFuture<Throwable> refused = new CompletableFuture<>();
        Server<RecordingProtocol> server = serve(() -> new RecordingProtocol() {
            @Override
            protected void onDataReceived(ByteBuffer data) {
                try {
                    transport().write(data);
                    refused.complete(null);
                } catch (IllegalArgumentException e) {
                    refused.complete(e);
                    transport().writeCopy(data);
                }
            }
        }, listenOptions());
        RecordingProtocol client = connect(server, new RecordingProtocol(), connectOptions());
        client.transport().write(ByteBuffer.wrap("echo me".getBytes(StandardCharsets.UTF_8)));
        Throwable e = await(refused);
        assertInstanceOf(IllegalArgumentException.class, e, "write(data) inside dataReceived is refused");
        assertTrue(e.getMessage().contains("writeCopy"), e.getMessage());
        awaitTrue(() -> client.receivedCount() == 7, "writeCopy sends it");
        assertEquals("echo me", new String(client.received(), StandardCharsets.UTF_8));
    }

    // ---- helpers for subclasses ----

    /**
     * Listens on an ephemeral loopback port.
     *
     * @param <P> the protocol type
     * @param factory makes the protocol of each accepted connection
     * @param options the listen options
     * @return the server
     */
    protected <P extends Protocol> Server<P> serve(Supplier<P> factory, ListenOptions options) {
        BlockingQueue<P> accepted = new LinkedBlockingQueue<>();
        Listener listener = await(provider().listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), options,
                () -> {
                    P p = factory.get();
                    accepted.add(p);
                    return p;
                }));
        listeners.add(listener);
        return new Server<>(listener.localAddress(), accepted, listener);
    }

    /**
     * Connects a protocol to a server and waits until it is connected.
     *
     * @param <P> the protocol type
     * @param server the server
     * @param protocol the client protocol
     * @param options the connect options
     * @return the protocol, connected
     */
    protected <P extends Protocol> P connect(Server<?> server, P protocol, ConnectOptions options) {
        Connected<Transport, P> c = await(provider().connect(server.address(), options, () -> protocol));
        clients.add(c.transport());
        return c.protocol();
    }

    /**
     * Waits for a stage to complete.
     *
     * @param <T> the result type
     * @param stage the stage
     * @return its result
     */
    protected static <T> T await(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError("failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new AssertionError("not done within " + TIMEOUT, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /**
     * Waits for a stage to fail.
     *
     * @param stage the stage
     * @return the failure
     */
    protected static Throwable awaitFailure(CompletionStage<?> stage) {
        try {
            Object result = stage.toCompletableFuture().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            throw new AssertionError("expected a failure, got " + result);
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (TimeoutException e) {
            throw new AssertionError("not done within " + TIMEOUT, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /**
     * Polls a condition until it holds or the deadline passes.
     *
     * @param condition the condition
     * @param what what is awaited, for the failure message
     */
    protected static void awaitTrue(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("not within " + TIMEOUT + ": " + what);
            }
            Thread.onSpinWait();
            CompletableFuture<Void> tick = new CompletableFuture<>();
            tick.completeOnTimeout(null, 1, TimeUnit.MILLISECONDS).join();
        }
    }

    /**
     * Deterministic test content.
     *
     * @param size bytes
     * @param seed varies the content
     * @return the bytes
     */
    protected static byte[] pattern(int size, int seed) {
        byte[] bytes = new byte[size];
        for (int i = 0; i < size; i++) {
            bytes[i] = (byte) (i * 31 + seed + (i >>> 10));
        }
        return bytes;
    }

    /**
     * Options with a small socket send buffer, so that the kernel holds little and write flow
     * control engages after a few KiB instead of megabytes of autotuned buffers. (Receive
     * buffers stay as they are: a tiny receive window next to loopback's 64 KiB segments
     * makes the kernel hold back window updates, and every cycle waits for its persist timer.)
     *
     * @param options the options to change
     * @return the changed options
     */
    protected static ListenOptions smallBuffers(ListenOptions options) {
        return options.withConnectionOptions(options.connectionOptions().with(StandardSocketOptions.SO_SNDBUF, 8192));
    }

    /**
     * Options with a small socket send buffer (see {@link #smallBuffers(ListenOptions)}).
     *
     * @param options the options to change
     * @return the changed options
     */
    protected static ConnectOptions smallBuffers(ConnectOptions options) {
        return options.withSocketOptions(options.socketOptions().with(StandardSocketOptions.SO_SNDBUF, 8192));
    }

    private static void writeInChunks(Transport t, int total) {
        byte[] chunk = pattern(64 * 1024, 5);
        for (int sent = 0; sent < total; sent += chunk.length) {
            t.write(ByteBuffer.wrap(chunk));
        }
    }

    /** A server protocol that throws in one chosen callback. */
    private static final class Throwing extends EchoProtocol {
        final String callback;
        final IllegalStateException thrown;

        Throwing(String callback) {
            this.callback = callback;
            this.thrown = new IllegalStateException("thrown on purpose in " + callback);
        }

        private void maybeThrow(String name) {
            if (name.equals(callback)) {
                throw thrown;
            }
        }

        @Override
        protected void onConnectionMade(Transport t) {
            if (callback.equals("pauseWriting") || callback.equals("resumeWriting")) {
                writeInChunks(t, 8 << 20); // more than the socket buffers hold: the buffer fills
            }
            maybeThrow("connectionMade");
        }

        @Override
        protected void onDataReceived(ByteBuffer data) {
            maybeThrow("dataReceived");
        }

        @Override
        public boolean eofReceived() {
            super.eofReceived();
            maybeThrow("eofReceived");
            return false;
        }

        @Override
        public void pauseWriting() {
            super.pauseWriting();
            maybeThrow("pauseWriting");
        }

        @Override
        public void resumeWriting() {
            super.resumeWriting();
            maybeThrow("resumeWriting");
        }

        @Override
        public void connectionLost(Throwable cause) {
            super.connectionLost(cause);
            maybeThrow("connectionLost");
        }
    }
}
