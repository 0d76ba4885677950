package org.wharf.transport.nio.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.wharf.transport.api.ConnectOptions;
import org.wharf.transport.api.Connected;
import org.wharf.transport.api.DatagramOptions;
import org.wharf.transport.api.DatagramTransport;
import org.wharf.transport.api.ListenOptions;
import org.wharf.transport.api.Listener;
import org.wharf.transport.api.TimerHandle;
import org.wharf.transport.api.Transport;
import org.wharf.transport.api.TransportError;
import org.wharf.transport.api.WriteBufferLimits;
import org.wharf.transport.tck.EchoProtocol;
import org.wharf.transport.tck.RecordingDatagramProtocol;
import org.wharf.transport.tck.RecordingProtocol;

class NioEventLoopTest {

    private NioEventLoopGroup group = new NioEventLoopGroup(new NioSettings(2, 16 * 1024, WriteBufferLimits.DEFAULT));

    @AfterEach
    void stop() throws Exception {
        group.shutdown().get(10, TimeUnit.SECONDS);
    }

    @Test
    void aLoopCountsItsTasksEventsAndChannelsAndSamplesItsLag() throws Exception {
        NioEventLoop loop = group.next();
        org.wharf.transport.api.LoopStats before = loop.stats();
        CountDownLatch ran = new CountDownLatch(100);
        for (int i = 0; i < 100; i++) {
            loop.execute(ran::countDown);
        }
        assertTrue(ran.await(10, TimeUnit.SECONDS));
        // Published at the end of the turn that ran them.
        awaitTrue(() -> loop.stats().tasksRun() >= before.tasksRun() + 100, () -> "100 tasks counted: " + loop.stats());

        // A connection: its listener and both ends register channels, its bytes are I/O events.
        Resolver resolver = new Resolver();
        NioTcpProvider tcp = new NioTcpProvider(group, resolver);
        Listener listener = tcp.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), ListenOptions.DEFAULT,
                EchoProtocol::new).toCompletableFuture().get(10, TimeUnit.SECONDS);
        Connected<Transport, RecordingProtocol> client = tcp.connect(listener.localAddress(), ConnectOptions.DEFAULT,
                RecordingProtocol::new).toCompletableFuture().get(10, TimeUnit.SECONDS);
        client.transport().write(java.nio.ByteBuffer.wrap(new byte[] {1, 2, 3}));
        awaitTrue(() -> client.protocol().receivedCount() == 3, () -> "echo");
        awaitTrue(() -> group.stats().stream().mapToLong(org.wharf.transport.api.LoopStats::channels).sum() >= 3,
                () -> "listener and both ends registered: " + group.stats());
        awaitTrue(() -> group.stats().stream().mapToLong(org.wharf.transport.api.LoopStats::ioEvents).sum() >= 3,
                () -> "accept, connect and reads handled: " + group.stats());

        // A task that holds the loop for 1.2 s: a probe (every 500 ms) falls due in its first
        // half and waits for the rest, at least 700 ms; the lag shows it.
        loop.execute(() -> {
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1_200);
            while (System.nanoTime() < until) {
                Thread.onSpinWait(); // the load under test: a loop kept busy
            }
        });
        awaitTrue(() -> {
            org.wharf.transport.api.Histogram.Snapshot lag = loop.stats().lag();
            long[] bounds = lag.upperBounds();
            long[] counts = lag.bucketCounts();
            for (int i = 0; i < counts.length; i++) {
                if ((i == bounds.length || bounds[i] > 500_000_000L) && counts[i] > 0) {
                    return true;
                }
            }
            return false;
        }, () -> "a lag sample above 500 ms: " + loop.stats());
        assertEquals(2, group.stats().size(), "one per loop");
        assertEquals(loop.name(), loop.stats().name());
        client.transport().close();
        listener.close().toCompletableFuture().get(10, TimeUnit.SECONDS);
        resolver.shutdown();
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition, java.util.function.Supplier<String> what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 10 s: " + what.get());
            }
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
    }

    @Test
    void timersRunOnTheLoopInDeadlineOrder() throws Exception {
        NioEventLoop loop = group.next();
        List<String> ran = new ArrayList<>();
        CountDownLatch all = new CountDownLatch(3);
        for (int delay : new int[] {30, 10, 20}) {
            loop.schedule(() -> {
                assertTrue(loop.inEventLoop());
                ran.add("t" + delay);
                all.countDown();
            }, delay, TimeUnit.MILLISECONDS);
        }
        assertTrue(all.await(10, TimeUnit.SECONDS));
        assertEquals(List.of("t10", "t20", "t30"), ran);
    }

    @Test
    void aCancelledTimerNeverRunsAndCancelTellsWhetherItHelped() throws Exception {
        NioEventLoop loop = group.next();
        AtomicInteger runs = new AtomicInteger();
        TimerHandle cancelled = loop.schedule(runs::incrementAndGet, 20, TimeUnit.MILLISECONDS);
        assertTrue(cancelled.cancel());
        assertTrue(cancelled.isCancelled());
        CountDownLatch later = new CountDownLatch(1);
        TimerHandle ran = loop.schedule(later::countDown, 40, TimeUnit.MILLISECONDS);
        assertTrue(later.await(10, TimeUnit.SECONDS));
        assertFalse(ran.cancel(), "too late to cancel a timer that ran");
        assertEquals(0, runs.get());
        assertThrows(IllegalArgumentException.class, () -> loop.schedule(() -> { }, -1, TimeUnit.MILLISECONDS));
    }

    @Test
    void tasksFromManyThreadsAllRunInEachThreadsOrder() throws Exception {
        NioEventLoop loop = group.next();
        int threads = 4;
        int each = 10_000;
        int[] last = new int[threads];
        java.util.Arrays.fill(last, -1);
        AtomicInteger outOfOrder = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(threads * each);
        List<Thread> senders = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            senders.add(new Thread(() -> {
                for (int i = 0; i < each; i++) {
                    int n = i;
                    loop.execute(() -> {
                        if (last[id] != n - 1) {
                            outOfOrder.incrementAndGet();
                        }
                        last[id] = n;
                        done.countDown();
                    });
                }
            }));
        }
        senders.forEach(Thread::start);
        assertTrue(done.await(30, TimeUnit.SECONDS));
        assertEquals(0, outOfOrder.get());
    }

    @Test
    void loopThreadsKeepNoContextClassLoader() throws Exception {
        CompletableFuture<ClassLoader> seen = new CompletableFuture<>();
        NioEventLoop loop = group.next();
        loop.execute(() -> seen.complete(Thread.currentThread().getContextClassLoader()));
        assertNull(seen.get(10, TimeUnit.SECONDS));
        CompletableFuture<Boolean> daemon = new CompletableFuture<>();
        loop.execute(() -> daemon.complete(Thread.currentThread().isDaemon()));
        assertTrue(daemon.get(10, TimeUnit.SECONDS));
    }

    @Test
    void shutdownClosesEveryChannelAndEndsEveryThread() throws Exception {
        Resolver resolver = new Resolver();
        NioTcpProvider tcp = new NioTcpProvider(group, resolver);
        NioUdpProvider udp = new NioUdpProvider(group, resolver);
        Listener listener = tcp.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), ListenOptions.DEFAULT,
                EchoProtocol::new).toCompletableFuture().get(10, TimeUnit.SECONDS);
        // The clients' peer is a plain socket: only the shutdown can end their connections.
        java.net.ServerSocket peer = new java.net.ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        List<java.net.Socket> accepted = new ArrayList<>();
        List<RecordingProtocol> clients = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            Connected<Transport, RecordingProtocol> c = tcp.connect((InetSocketAddress) peer.getLocalSocketAddress(),
                    ConnectOptions.DEFAULT, RecordingProtocol::new).toCompletableFuture().get(10, TimeUnit.SECONDS);
            clients.add(c.protocol());
            accepted.add(peer.accept());
        }
        Connected<DatagramTransport, RecordingDatagramProtocol> datagrams = udp.bind(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), DatagramOptions.DEFAULT,
                RecordingDatagramProtocol::new).toCompletableFuture().get(10, TimeUnit.SECONDS);
        String prefix = group.next().name().replaceAll("-\\d+$", "-");

        group.shutdown().get(10, TimeUnit.SECONDS);
        resolver.shutdown();

        for (RecordingProtocol c : clients) {
            assertInstanceOf(TransportError.class, c.lost().get(10, TimeUnit.SECONDS), "lost with a reason");
            assertEquals(List.of(), c.violations());
        }
        assertInstanceOf(TransportError.class, datagrams.protocol().lost().get(10, TimeUnit.SECONDS));
        assertFalse(listener.isListening());
        assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().startsWith(prefix)),
                "no loop thread of the group is alive");
        assertThrows(RejectedExecutionException.class, () -> group.next().execute(() -> { }));
        for (java.net.Socket socket : accepted) {
            socket.close();
        }
        peer.close();
    }

    @Test
    void closingADatagramTransportFromATaskRunsNoOtherConnectionsIoInsideThatTask() throws Exception {
        // Closing a datagram socket on the loop selects at once to free its port. That selection
        // dispatched whatever was ready, so another connection's callbacks (or the closing
        // protocol's own) ran inside the task that closed it.
        NioEventLoopGroup one = new NioEventLoopGroup(new NioSettings(1, 16 * 1024, WriteBufferLimits.DEFAULT));
        Resolver resolver = new Resolver();
        try {
            NioUdpProvider udp = new NioUdpProvider(one, resolver);
            java.util.concurrent.atomic.AtomicBoolean inTask = new java.util.concurrent.atomic.AtomicBoolean();
            CompletableFuture<Boolean> deliveredInsideTheTask = new CompletableFuture<>();
            Connected<DatagramTransport, RecordingDatagramProtocol> a = udp.bind(
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), DatagramOptions.DEFAULT,
                    () -> (RecordingDatagramProtocol) new RecordingDatagramProtocol() {
                        @Override
                        public void datagramReceived(java.nio.ByteBuffer data, java.net.SocketAddress sender) {
                            deliveredInsideTheTask.complete(inTask.get());
                            super.datagramReceived(data, sender);
                        }
                    }).toCompletableFuture().get(10, TimeUnit.SECONDS);
            Connected<DatagramTransport, RecordingDatagramProtocol> c = udp.bind(
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), DatagramOptions.DEFAULT,
                    RecordingDatagramProtocol::new).toCompletableFuture().get(10, TimeUnit.SECONDS);
            InetSocketAddress target = (InetSocketAddress) a.transport().extraInfo(
                    org.wharf.transport.api.ExtraInfo.LOCAL_ADDRESS).orElseThrow();
            try (java.nio.channels.DatagramChannel sender = java.nio.channels.DatagramChannel.open()) {
                CompletableFuture<Void> ran = new CompletableFuture<>();
                one.next().execute(() -> {
                    inTask.set(true);
                    try {
                        // On loopback the datagram is in a's socket when send returns: a is readable.
                        sender.send(java.nio.ByteBuffer.wrap(new byte[] {42}), target);
                        c.transport().close();
                        ran.complete(null);
                    } catch (Throwable e) {
                        ran.completeExceptionally(e);
                    } finally {
                        inTask.set(false);
                    }
                });
                ran.get(10, TimeUnit.SECONDS);
                assertFalse(deliveredInsideTheTask.get(10, TimeUnit.SECONDS),
                        "a's datagram came in the loop's own selection, not inside the task that closed c");
            }
            c.protocol().lost().get(10, TimeUnit.SECONDS);
            a.transport().abort();
        } finally {
            one.shutdown().get(10, TimeUnit.SECONDS);
            resolver.shutdown();
        }
    }

    @Test
    void connectTriesEveryAddressInTurn() throws Exception {
        InetSocketAddress refused;
        try (java.nio.channels.ServerSocketChannel probe = java.nio.channels.ServerSocketChannel.open()) {
            probe.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            refused = (InetSocketAddress) probe.getLocalAddress();
        }
        Resolver resolver = new Resolver();
        NioTcpProvider tcp = new NioTcpProvider(group, resolver);
        Listener listener = tcp.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), ListenOptions.DEFAULT,
                EchoProtocol::new).toCompletableFuture().get(10, TimeUnit.SECONDS);
        InetSocketAddress good = listener.localAddress();
        Resolver twoAddresses = new Resolver() {
            @Override
            public CompletableFuture<List<InetSocketAddress>> resolve(InetSocketAddress address) {
                return CompletableFuture.completedFuture(List.of(refused, good));
            }
        };
        NioTcpProvider viaTwo = new NioTcpProvider(group, twoAddresses);
        Connected<Transport, RecordingProtocol> c = viaTwo.connect(InetSocketAddress.createUnresolved("twohomed", 1),
                ConnectOptions.DEFAULT, RecordingProtocol::new).toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals(good, c.transport().extraInfo(org.wharf.transport.api.ExtraInfo.PEER_ADDRESS).orElseThrow());
        c.transport().close();
    }

    @Test
    void hostNamesAreResolvedOffTheLoop() throws Exception {
        Resolver resolver = new Resolver();
        NioTcpProvider tcp = new NioTcpProvider(group, resolver);
        Listener listener = tcp.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), ListenOptions.DEFAULT,
                EchoProtocol::new).toCompletableFuture().get(10, TimeUnit.SECONDS);
        Connected<Transport, RecordingProtocol> c = tcp.connect(
                InetSocketAddress.createUnresolved("localhost", listener.localAddress().getPort()), ConnectOptions.DEFAULT,
                RecordingProtocol::new).toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertTrue(c.transport().isReading());
        c.transport().close();
        Throwable unknown = tcp.connect(InetSocketAddress.createUnresolved("no-such-host.invalid", 80), ConnectOptions.DEFAULT,
                RecordingProtocol::new).toCompletableFuture().handle((r, e) -> e).get(30, TimeUnit.SECONDS);
        assertInstanceOf(TransportError.class, unknown);
        assertTrue(unknown.getMessage().contains("no-such-host.invalid"), unknown.getMessage());
    }

    @Test
    void aPortInUseIsAnErrorThatNamesTheAddress() throws Exception {
        Resolver resolver = new Resolver();
        NioTcpProvider tcp = new NioTcpProvider(group, resolver);
        Listener first = tcp.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                ListenOptions.DEFAULT.withListenerOptions(org.wharf.transport.api.SocketOptions.NONE), EchoProtocol::new)
                .toCompletableFuture().get(10, TimeUnit.SECONDS);
        Throwable e = tcp.listen(first.localAddress(), ListenOptions.DEFAULT.withListenerOptions(
                org.wharf.transport.api.SocketOptions.NONE), EchoProtocol::new).toCompletableFuture().handle((r, x) -> x)
                .get(10, TimeUnit.SECONDS);
        assertInstanceOf(TransportError.class, e);
        assertTrue(e.getMessage().contains(String.valueOf(first.localAddress().getPort())), e.getMessage());
        first.close().toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertFalse(first.isListening());
    }

    @Test
    void theTcpProviderRefusesTlsOptions() throws Exception {
        Resolver resolver = new Resolver();
        NioTcpProvider tcp = new NioTcpProvider(group, resolver);
        var tls = org.wharf.transport.api.TlsOptions.of(javax.net.ssl.SSLContext.getDefault());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tcp.listen(
                new InetSocketAddress(0), ListenOptions.DEFAULT.withTls(tls), EchoProtocol::new));
        assertTrue(e.getMessage().contains("ssl"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> tcp.connect(new InetSocketAddress(1),
                ConnectOptions.DEFAULT.withTls(tls), RecordingProtocol::new));
    }

    @Test
    void writeCopyChunksGoBackToThePoolWhenWrittenOrDropped() throws Exception {
        Resolver resolver = new Resolver();
        NioTcpProvider tcp = new NioTcpProvider(group, resolver);
        Listener echo = tcp.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), ListenOptions.DEFAULT,
                () -> ((EchoProtocol) new EchoProtocol().keepBytes(false)).copying(true))
                .toCompletableFuture().get(10, TimeUnit.SECONDS);
        // Written: 8 MiB through the echo from a plain socket, read back in full.
        byte[] sent = new byte[8 << 20];
        new java.util.Random(8).nextBytes(sent);
        try (java.net.Socket socket = new java.net.Socket(InetAddress.getLoopbackAddress(), echo.localAddress().getPort())) {
            CompletableFuture<byte[]> back = CompletableFuture.supplyAsync(() -> {
                try {
                    return socket.getInputStream().readNBytes(sent.length);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            socket.getOutputStream().write(sent);
            assertTrue(java.util.Arrays.equals(sent, back.get(30, TimeUnit.SECONDS)), "the echo is what was sent");
        }
        // Dropped: 8 MiB copied on the loop towards a peer that never reads, then an abort.
        java.net.ServerSocket deaf = new java.net.ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        java.nio.ByteBuffer reused = java.nio.ByteBuffer.allocate(64 * 1024);
        Connected<Transport, RecordingProtocol> writer = tcp.connect((InetSocketAddress) deaf.getLocalSocketAddress(),
                ConnectOptions.DEFAULT, () -> (RecordingProtocol) new RecordingProtocol() {
                    @Override
                    protected void onConnectionMade(Transport t) {
                        for (int i = 0; i < 128; i++) {
                            t.writeCopy(reused.clear());
                        }
                    }
                }).toCompletableFuture().get(10, TimeUnit.SECONDS);
        java.net.Socket accepted = deaf.accept();
        NioEventLoop loop = (NioEventLoop) writer.transport().loop();
        assertTrue(onLoop(loop, () -> loop.chunks().inUse()) > 0, "what the kernel did not take waits in chunks");
        writer.transport().abort();
        writer.protocol().lost().get(10, TimeUnit.SECONDS);
        echo.close().toCompletableFuture().get(10, TimeUnit.SECONDS);
        for (int i = 0; i < 2; i++) {
            NioEventLoop l = group.next();
            assertEquals(0, onLoop(l, () -> l.chunks().inUse()), "chunks held on " + l.name());
            assertTrue(onLoop(l, () -> l.chunks().free()) <= 16, "free chunks kept on " + l.name());
        }
        accepted.close();
        deaf.close();
        resolver.shutdown();
    }

    private static <T> T onLoop(NioEventLoop loop, java.util.function.Supplier<T> action) throws Exception {
        CompletableFuture<T> result = new CompletableFuture<>();
        loop.execute(() -> result.complete(action.get()));
        return result.get(10, TimeUnit.SECONDS);
    }

    @Test
    void aFatalErrorEndsOnlyItsLoopWhoseConnectionsAreLostAndTheGroupStopsUsingIt() throws Exception {
        Resolver resolver = new Resolver();
        NioTcpProvider tcp = new NioTcpProvider(group, resolver);
        List<String> deaths = new java.util.concurrent.CopyOnWriteArrayList<>();
        group.onLoopDeath((name, error) -> deaths.add(name + ": " + error.getMessage()));
        Listener listener = tcp.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), ListenOptions.DEFAULT,
                EchoProtocol::new).toCompletableFuture().get(10, TimeUnit.SECONDS);
        // Two connections from the client side land on both loops (round robin).
        List<RecordingProtocol> clients = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            clients.add(tcp.connect(listener.localAddress(), ConnectOptions.DEFAULT, RecordingProtocol::new)
                    .toCompletableFuture().get(10, TimeUnit.SECONDS).protocol());
        }
        NioEventLoop victim = (NioEventLoop) clients.get(0).transport().loop();
        victim.execute(() -> {
            throw new OutOfMemoryError("a fatal error, on purpose");
        });
        Throwable cause = clients.get(0).lost().get(10, TimeUnit.SECONDS);
        assertInstanceOf(TransportError.class, cause, "the dead loop's connections get connectionLost");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (deaths.isEmpty() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(List.of(victim.name() + ": a fatal error, on purpose"), deaths, "logged and told once");
        assertEquals(1, group.deadLoops());
        assertThrows(RejectedExecutionException.class, () -> victim.execute(() -> { }));
        // The listener may have lived on the dead loop; a new one on the survivor serves on,
        // and no new connection is handed to the dead loop.
        Listener again = tcp.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), ListenOptions.DEFAULT,
                EchoProtocol::new).toCompletableFuture().get(10, TimeUnit.SECONDS);
        for (int i = 0; i < 10; i++) {
            Connected<Transport, RecordingProtocol> c = tcp.connect(again.localAddress(), ConnectOptions.DEFAULT,
                    RecordingProtocol::new).toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertTrue(c.transport().loop() != victim, "connections avoid the dead loop");
            c.transport().write(java.nio.ByteBuffer.wrap(new byte[] {1, 2, 3}));
            RecordingProtocol p = c.protocol();
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (p.receivedCount() < 3 && System.nanoTime() < until) {
                Thread.onSpinWait();
            }
            assertEquals(3, p.receivedCount(), "served by the surviving loop");
            c.transport().close();
        }
    }

    @Test
    void aHandlerThatThrowsOnAnIoEventClosesOnlyItsOwnChannel() throws Exception {
        NioEventLoop loop = group.next();
        CompletableFuture<Throwable> failed = new CompletableFuture<>();
        java.nio.channels.Pipe pipe = java.nio.channels.Pipe.open();
        pipe.source().configureBlocking(false);
        CompletableFuture<Void> registered = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                loop.register(pipe.source(), java.nio.channels.SelectionKey.OP_READ, new Selectable() {
                    @Override
                    public void ready(int readyOps) {
                        throw new IllegalStateException("a handler bug, on purpose");
                    }

                    @Override
                    public void loopShutdown() {
                    }

                    @Override
                    public void failed(Throwable error) {
                        try {
                            pipe.source().close();
                        } catch (java.io.IOException ignored) {
                            // closing anyway
                        }
                        failed.complete(error);
                    }
                });
                registered.complete(null);
            } catch (java.io.IOException e) {
                registered.completeExceptionally(e);
            }
        });
        registered.get(10, TimeUnit.SECONDS);
        pipe.sink().write(java.nio.ByteBuffer.wrap(new byte[] {1}));
        assertEquals("a handler bug, on purpose", failed.get(10, TimeUnit.SECONDS).getMessage());
        CompletableFuture<Boolean> still = new CompletableFuture<>();
        loop.execute(() -> still.complete(loop.inEventLoop()));
        assertTrue(still.get(10, TimeUnit.SECONDS), "the loop runs on");
        pipe.sink().close();
    }

    @Test
    void everyTaskHandedOverWhileALoopShutsDownRunsOrIsRefused() throws Exception {
        // The loop's last look at its queue and a task's arrival race: the task must not fall
        // between them (accepted, and never run).
        for (int round = 0; round < 2000; round++) {
            NioEventLoop loop = new NioEventLoop("race-" + round, 1024);
            loop.start();
            AtomicInteger accepted = new AtomicInteger();
            AtomicInteger ran = new AtomicInteger();
            CountDownLatch ready = new CountDownLatch(1);
            Thread feeder = new Thread(() -> {
                ready.countDown();
                while (true) {
                    try {
                        loop.execute(ran::incrementAndGet);
                        accepted.incrementAndGet();
                    } catch (RejectedExecutionException refused) {
                        return;
                    }
                }
            });
            feeder.start();
            ready.await();
            loop.shutdown().get(10, TimeUnit.SECONDS);
            feeder.join(10_000);
            assertEquals(accepted.get(), ran.get(), "round " + round + ": accepted tasks that never ran");
        }
    }
}
