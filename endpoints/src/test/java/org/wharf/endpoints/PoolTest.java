package org.wharf.endpoints;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.ref.WeakReference;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.wharf.transport.api.Transport;
import org.wharf.transport.api.TransportClosedError;
import org.wharf.transport.api.TransportTimeoutError;
import org.wharf.endpoints.api.PoolOptions;
import org.wharf.endpoints.api.PooledConnection;
import org.wharf.endpoints.internal.EndpointsActivator;
import org.wharf.transport.tck.EchoProtocol;
import org.wharf.transport.tck.RecordingProtocol;

/** The pool's counts are exact through sequential and concurrent use, drops, timeouts and close. */
class PoolTest {

    private static final Loops LOOPS = new Loops();
    private Server server;
    private InetSocketAddress address;

    @AfterAll
    static void stop() throws Exception {
        LOOPS.close();
    }

    @BeforeEach
    void startServer() {
        server = Loops.await(Server.builder(LOOPS.tcp).address(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .protocol(EchoProtocol::new).start());
        address = server.addresses().get(0);
    }

    @AfterEach
    void stopServer() {
        Loops.await(server.close(Duration.ofSeconds(1)));
    }

    private Pool<RecordingProtocol> pool(int maxSize) {
        return Pool.create(LOOPS.tcp, RecordingProtocol::new, PoolOptions.DEFAULT.withMaxSize(maxSize)
                .withAcquireTimeout(Duration.ofMillis(300)));
    }

    private static void assertCounts(Pool<?> pool, int inUse, int available, long sessions) {
        assertEquals(inUse, pool.inUse(), "in use");
        assertEquals(available, pool.available(), "available");
        assertEquals(sessions, pool.sessions(), "sessions");
    }

    @Test
    void sequentialUseReusesOneConnection() {
        Pool<RecordingProtocol> pool = pool(2);
        assertCounts(pool, 0, 0, 0);
        PooledConnection<RecordingProtocol> first = Loops.await(pool.acquire(address));
        assertCounts(pool, 1, 0, 1);
        first.release();
        assertCounts(pool, 0, 1, 1);
        for (int i = 0; i < 5; i++) {
            PooledConnection<RecordingProtocol> again = Loops.await(pool.acquire(address));
            assertSame(first, again, "the idle connection is reused");
            assertCounts(pool, 1, 0, 1);
            again.release();
        }
        assertCounts(pool, 0, 1, 1);
        assertEquals(1, pool.available(address));
        Loops.await(pool.close());
    }

    @Test
    void concurrentUseGrowsToTheLimitAndWaitersGetConnectionsAsTheyComeBack() {
        Pool<RecordingProtocol> pool = Pool.create(LOOPS.tcp, RecordingProtocol::new, PoolOptions.DEFAULT.withMaxSize(3)
                .withAcquireTimeout(Duration.ofSeconds(30)));
        List<CompletionStage<PooledConnection<RecordingProtocol>>> acquires = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            acquires.add(pool.acquire(address));
        }
        List<PooledConnection<RecordingProtocol>> held = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            held.add(Loops.await(acquires.get(i)));
        }
        Loops.awaitTrue(() -> pool.waiting() == 2, "two wait");
        assertCounts(pool, 3, 0, 3);

        held.get(0).release();
        PooledConnection<RecordingProtocol> fourth = Loops.await(acquires.get(3));
        assertSame(held.get(0), fourth, "a released connection goes straight to a waiter");
        assertEquals(1, pool.waiting());
        held.get(1).discard();
        PooledConnection<RecordingProtocol> fifth = Loops.await(acquires.get(4));
        assertNotSame(held.get(1), fifth, "a discarded connection is replaced by a new one");
        assertCounts(pool, 3, 0, 4);
        assertEquals(0, pool.waiting());
        Loops.await(pool.close());
    }

    @Test
    void aTimedOutAcquireGivesItsSlotBack() {
        Pool<RecordingProtocol> pool = pool(1);
        PooledConnection<RecordingProtocol> held = Loops.await(pool.acquire(address));
        Throwable e = Loops.failure(pool.acquire(address));
        assertInstanceOf(TransportTimeoutError.class, e);
        // Every connection was in use: the pool's shortage, which a gateway tells from the address failing.
        assertInstanceOf(org.wharf.endpoints.api.PoolExhaustedError.class, e);
        assertFalse(((org.wharf.endpoints.api.PoolExhaustedError) e).refused(), e.toString());
        assertTrue(e.getMessage().contains("300 ms"), e.getMessage());
        assertEquals(0, pool.waiting());
        held.release();
        assertCounts(pool, 0, 1, 1);
        assertSame(held, Loops.await(pool.acquire(address)), "nothing went to the timed-out acquire");
        Loops.await(pool.close());
    }

    @Test
    void aCancelledAcquireGivesItsSlotBack() {
        Pool<RecordingProtocol> pool = Pool.create(LOOPS.tcp, RecordingProtocol::new, PoolOptions.DEFAULT.withMaxSize(1)
                .withAcquireTimeout(Duration.ofSeconds(30)));
        PooledConnection<RecordingProtocol> held = Loops.await(pool.acquire(address));
        CompletableFuture<PooledConnection<RecordingProtocol>> cancelled = pool.acquire(address).toCompletableFuture();
        Loops.awaitTrue(() -> pool.waiting() == 1, "it waits");
        cancelled.cancel(false);
        Loops.awaitTrue(() -> pool.waiting() == 0, "the cancelled acquire left the queue");
        held.release();
        assertCounts(pool, 0, 1, 1);
        Loops.await(pool.close());
    }

    @Test
    void aServedAcquireLeavesNothingHeldUntilItsTimeoutFallsDue() {
        // An hour's acquire timeout: a timer that is not cancelled when its acquire is served
        // keeps the acquire (and the connection it completed with) reachable for that hour.
        Pool<RecordingProtocol> pool = Pool.create(LOOPS.tcp, RecordingProtocol::new, PoolOptions.DEFAULT.withMaxSize(1)
                .withAcquireTimeout(Duration.ofHours(1)));
        try {
            List<WeakReference<Object>> served = serveAConnectAndTenWaiters(pool);
            for (int i = 0; i < 100 && served.stream().anyMatch(r -> r.get() != null); i++) {
                System.gc(); // a full collection clears the weak references of what nothing else holds
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
            }
            assertEquals(0, served.stream().filter(r -> r.get() != null).count(),
                    "served acquires still held (by their timeout timers)");
        } finally {
            Loops.await(pool.close());
        }
    }

    /** In a method of its own, so that no local variable of the test holds an acquire. */
    private List<WeakReference<Object>> serveAConnectAndTenWaiters(Pool<RecordingProtocol> pool) {
        List<WeakReference<Object>> served = new ArrayList<>();
        CompletableFuture<PooledConnection<RecordingProtocol>> connecting = pool.acquire(address).toCompletableFuture();
        PooledConnection<RecordingProtocol> held = Loops.await(connecting);
        served.add(new WeakReference<>(connecting));
        for (int i = 0; i < 10; i++) {
            CompletableFuture<PooledConnection<RecordingProtocol>> waiter = pool.acquire(address).toCompletableFuture();
            Loops.awaitTrue(() -> pool.waiting() == 1, "the acquire waits");
            held.release();
            held = Loops.await(waiter); // the released connection goes straight to the waiter
            served.add(new WeakReference<>(waiter));
        }
        held.release();
        return served;
    }

    @Test
    void aBurstPastTheDefaultLimitOfWaitersFailsAtOnce() {
        Pool<RecordingProtocol> pool = Pool.create(LOOPS.tcp, RecordingProtocol::new, PoolOptions.DEFAULT.withMaxSize(1)
                .withAcquireTimeout(Duration.ofMinutes(10)));
        try {
            PooledConnection<RecordingProtocol> held = Loops.await(pool.acquire(address));
            List<CompletableFuture<PooledConnection<RecordingProtocol>>> waiters = new ArrayList<>();
            for (int i = 0; i < 1000; i++) { // PoolOptions.DEFAULT.maxWaiters()
                waiters.add(pool.acquire(address).toCompletableFuture());
            }
            assertEquals(1000, pool.waiting());
            CompletableFuture<PooledConnection<RecordingProtocol>> over = pool.acquire(address).toCompletableFuture();
            assertTrue(over.isCompletedExceptionally(), "the acquire past the limit failed at once, not queued");
            Throwable error = Loops.failure(over);
            // The pool's busy answer (a kind of timeout: an acquire that waited no time), refused at once.
            assertInstanceOf(org.wharf.endpoints.api.PoolExhaustedError.class, error);
            assertTrue(((org.wharf.endpoints.api.PoolExhaustedError) error).refused(), error.toString());
            assertTrue(error.getMessage().contains("1000 acquires wait") && error.getMessage().contains("maxWaiters"),
                    error.getMessage());
            assertEquals(1000, pool.waiting(), "the refused acquire took no place in the queue");
            held.release();
            assertSame(held, Loops.await(waiters.get(0)), "the waiters before it are served as before");
        } finally {
            Loops.await(pool.close());
        }
    }

    @Test
    void theLimitOfWaitersIsSetPerPoolAndCountsPerAddress() {
        Server other = Loops.await(Server.builder(LOOPS.tcp).address(new InetSocketAddress(InetAddress.getLoopbackAddress(),
                0)).protocol(EchoProtocol::new).start());
        InetSocketAddress otherAddress = other.addresses().get(0);
        Pool<RecordingProtocol> pool = Pool.create(LOOPS.tcp, RecordingProtocol::new, PoolOptions.DEFAULT.withMaxSize(1)
                .withAcquireTimeout(Duration.ofMinutes(10)).withMaxWaiters(2));
        Pool<RecordingProtocol> none = Pool.create(LOOPS.tcp, RecordingProtocol::new, PoolOptions.DEFAULT.withMaxSize(1)
                .withAcquireTimeout(Duration.ofMinutes(10)).withMaxWaiters(0));
        try {
            Loops.await(pool.acquire(address));
            CompletableFuture<PooledConnection<RecordingProtocol>> first = pool.acquire(address).toCompletableFuture();
            pool.acquire(address);
            assertTrue(pool.acquire(address).toCompletableFuture().isCompletedExceptionally(), "the third is refused");

            Loops.await(pool.acquire(otherAddress));
            CompletionStage<PooledConnection<RecordingProtocol>> elsewhere = pool.acquire(otherAddress);
            assertFalse(elsewhere.toCompletableFuture().isDone(), "another address has a queue of its own");
            assertEquals(3, pool.waiting());

            first.cancel(false);
            Loops.awaitTrue(() -> pool.waiting() == 2, "the cancelled acquire left the queue");
            assertFalse(pool.acquire(address).toCompletableFuture().isDone(), "its place is taken by the next");

            Loops.await(none.acquire(address));
            Throwable error = Loops.failure(none.acquire(address));
            assertTrue(error.getMessage().contains("0 acquires wait"), error.getMessage());
            assertEquals(0, none.waiting());

            IllegalArgumentException wrong = assertThrows(IllegalArgumentException.class,
                    () -> PoolOptions.DEFAULT.withMaxWaiters(-1));
            assertTrue(wrong.getMessage().contains("maxWaiters"), wrong.getMessage());
        } finally {
            Loops.await(pool.close());
            Loops.await(none.close());
            Loops.await(other.close(Duration.ofSeconds(1)));
        }
    }

    @Test
    void anIdleConnectionThatClosesIsDroppedAndReplaced() {
        Pool<RecordingProtocol> pool = pool(2);
        PooledConnection<RecordingProtocol> c = Loops.await(pool.acquire(address));
        c.release();
        assertCounts(pool, 0, 1, 1);
        Loops.awaitTrue(() -> server.counters().open() == 1, "the server has its side of the connection");
        server.connections().forEach(Transport::close); // the server ends the idle connection
        Loops.awaitTrue(() -> pool.available() == 0, "the closed idle connection left the pool");
        PooledConnection<RecordingProtocol> fresh = Loops.await(pool.acquire(address));
        assertNotSame(c, fresh);
        assertCounts(pool, 1, 0, 2);
        Loops.await(pool.close());
    }

    @Test
    void aConnectionIsGivenBackOnceOnly() {
        Pool<RecordingProtocol> pool = pool(2);
        PooledConnection<RecordingProtocol> c = Loops.await(pool.acquire(address));
        c.release();
        assertThrows(IllegalStateException.class, c::release);
        assertThrows(IllegalStateException.class, c::discard);
        PooledConnection<RecordingProtocol> d = Loops.await(pool.acquire(address));
        d.discard();
        assertThrows(IllegalStateException.class, d::release);
        assertCounts(pool, 0, 0, 1);
        assertTrue(d.transport().isClosing(), "a discarded connection is closed");
        Loops.await(pool.close());
    }

    @Test
    void idleEvictionLifetimeAndHealthCheckDropConnections() {
        Pool<RecordingProtocol> idle = Pool.create(LOOPS.tcp, RecordingProtocol::new, PoolOptions.DEFAULT
                .withIdleTimeout(Duration.ofMillis(100)));
        PooledConnection<RecordingProtocol> a = Loops.await(idle.acquire(address));
        a.release();
        Loops.awaitTrue(() -> idle.available() == 0, "evicted after its idle time");
        Loops.awaitTrue(() -> a.transport().isClosing(), "and closed");
        Loops.await(idle.close());

        Pool<RecordingProtocol> aging = Pool.create(LOOPS.tcp, RecordingProtocol::new, PoolOptions.DEFAULT
                .withMaxLifetime(Duration.ofMillis(50)));
        PooledConnection<RecordingProtocol> old = Loops.await(aging.acquire(address));
        long born = System.nanoTime();
        Loops.awaitTrue(() -> System.nanoTime() - born > 60_000_000L, "the lifetime passes");
        old.release();
        assertCounts(aging, 0, 0, 1);
        assertTrue(old.transport().isClosing(), "a connection past its lifetime is closed, not kept");
        Loops.await(aging.close());

        AtomicBoolean healthy = new AtomicBoolean(true);
        Pool<RecordingProtocol> checked = Pool.create(LOOPS.tcp, RecordingProtocol::new, PoolOptions.DEFAULT
                .withHealthCheck(c -> healthy.get()));
        PooledConnection<RecordingProtocol> b = Loops.await(checked.acquire(address));
        b.release();
        healthy.set(false);
        PooledConnection<RecordingProtocol> c = Loops.await(checked.acquire(address));
        assertNotSame(b, c, "a connection that fails the check is replaced");
        assertTrue(b.transport().isClosing());
        assertCounts(checked, 1, 0, 2);
        Loops.await(checked.close());
    }

    @Test
    void closeClosesIdleAndInUseConnectionsAndFailsWaiters() {
        Pool<RecordingProtocol> pool = Pool.create(LOOPS.tcp, RecordingProtocol::new, PoolOptions.DEFAULT.withMaxSize(2)
                .withAcquireTimeout(Duration.ofSeconds(30)));
        PooledConnection<RecordingProtocol> inUse = Loops.await(pool.acquire(address));
        PooledConnection<RecordingProtocol> idle = Loops.await(pool.acquire(address));
        idle.release();
        CompletionStage<PooledConnection<RecordingProtocol>> waiter = pool.acquire(address);
        CompletionStage<PooledConnection<RecordingProtocol>> third = pool.acquire(address);
        Loops.awaitTrue(() -> pool.waiting() == 1 || pool.inUse() == 2, "one more in use, one waiting");
        Loops.await(pool.close());
        assertCounts(pool, 0, 0, 2);
        assertTrue(inUse.transport().isClosing() && idle.transport().isClosing());
        Throwable waited = waiter.toCompletableFuture().isCompletedExceptionally() ? Loops.failure(waiter)
                : Loops.failure(third);
        assertInstanceOf(TransportClosedError.class, waited);
        assertInstanceOf(TransportClosedError.class, Loops.failure(pool.acquire(address)));
        Loops.awaitTrue(() -> server.counters().open() == 0, "the server saw every pooled connection close");
    }

    @Test
    void anIdleConnectionThatGetsBytesNobodyAskedForIsClosedNotHandedOut() throws Exception {
        java.util.concurrent.BlockingQueue<RecordingProtocol> upstreams = new java.util.concurrent.LinkedBlockingQueue<>();
        Server speaker = Loops.await(Server.builder(LOOPS.tcp).address(new InetSocketAddress(
                InetAddress.getLoopbackAddress(), 0)).protocol(() -> {
                    RecordingProtocol p = new RecordingProtocol();
                    upstreams.add(p);
                    return p;
                }).start());
        InetSocketAddress at = speaker.addresses().get(0);
        Pool<RecordingProtocol> pool = Pool.create(LOOPS.tcp, () -> new RecordingProtocol().keepBytes(true),
                PoolOptions.DEFAULT.withMaxSize(1).withAcquireTimeout(Duration.ofSeconds(10)));
        try {
            PooledConnection<RecordingProtocol> first = Loops.await(pool.acquire(at));
            Transport firstTransport = first.transport();
            first.release();
            // Idle now: the upstream writes, unasked (a late answer, a hostile server).
            Transport upstream = Loops.await(upstreams.poll(10, java.util.concurrent.TimeUnit.SECONDS).made());
            upstream.write(java.nio.ByteBuffer.wrap("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nEVIL!"
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
            Loops.awaitTrue(firstTransport::isClosing, "the idle connection that got bytes was closed");
            assertEquals(0, first.protocol().receivedCount(), "nobody's bytes reached a protocol");
            PooledConnection<RecordingProtocol> second = Loops.await(pool.acquire(at));
            assertNotSame(firstTransport, second.transport(), "a new connection, not the one that carries an answer");
            assertEquals(0, second.protocol().receivedCount());
            second.release();
        } finally {
            Loops.await(pool.close());
            Loops.await(speaker.close(Duration.ofSeconds(1)));
        }
    }

    @Test
    void anAcquireThatConnectsIsBoundedByTheAcquireTimeout() throws Exception {
        List<java.net.Socket> filling = new ArrayList<>();
        try (java.net.ServerSocket full = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            InetSocketAddress at = new InetSocketAddress(InetAddress.getLoopbackAddress(), full.getLocalPort());
            for (int i = 0; i < 4; i++) { // the accept queue full: later SYNs are dropped, connects hang
                java.net.Socket s = new java.net.Socket();
                try {
                    s.connect(at, 300);
                } catch (java.io.IOException queueFull) {
                    // as meant
                }
                filling.add(s);
            }
            Pool<RecordingProtocol> pool = Pool.create(LOOPS.tcp, RecordingProtocol::new, PoolOptions.DEFAULT
                    .withMaxSize(1).withAcquireTimeout(Duration.ofMillis(300))
                    .withConnect(org.wharf.transport.api.ConnectOptions.DEFAULT.withTimeout(Duration.ofSeconds(30))));
            Throwable error = Loops.failure(pool.acquire(at));
            assertInstanceOf(TransportTimeoutError.class, error);
            assertTrue(error.getMessage().contains("within 300 ms (connecting)"), error.getMessage()
                    + ": bounded by the acquire timeout, not the connect's 30 s");
            Loops.await(pool.close());
        } finally {
            for (java.net.Socket s : filling) {
                s.close();
            }
        }
    }

    @Test
    void addressesWithNothingLeftAreForgotten() throws Exception {
        Pool<RecordingProtocol> pool = Pool.create(LOOPS.tcp, RecordingProtocol::new, PoolOptions.DEFAULT
                .withAcquireTimeout(Duration.ofSeconds(10)));
        try {
            List<Integer> closedPorts = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                    closedPorts.add(s.getLocalPort()); // closed again: a connect there is refused
                }
            }
            for (int port : closedPorts) {
                Loops.failure(pool.acquire(new InetSocketAddress(InetAddress.getLoopbackAddress(), port)));
            }
            assertEquals(0, pool.addressesKnown(), "50 refused addresses leave nothing behind");
            PooledConnection<RecordingProtocol> kept = Loops.await(pool.acquire(address));
            PooledConnection<RecordingProtocol> gone = Loops.await(pool.acquire(address));
            kept.release();
            gone.discard();
            assertEquals(1, pool.addressesKnown(), "an address with an idle connection is kept");
            Loops.await(pool.acquire(address)).discard();
            assertEquals(0, pool.addressesKnown(), "and forgotten when its last connection goes");
        } finally {
            Loops.await(pool.close());
        }
    }

    @Test
    void aTimedOutAcquiresCallbackThatBlocksDelaysNoOtherPoolsTimeout() throws Exception {
        PoolOptions oneFast = PoolOptions.DEFAULT.withMaxSize(1).withAcquireTimeout(Duration.ofMillis(100));
        Pool<RecordingProtocol> a = Pool.create(LOOPS.tcp, RecordingProtocol::new, oneFast);
        Pool<RecordingProtocol> b = Pool.create(LOOPS.tcp, RecordingProtocol::new, oneFast);
        java.util.concurrent.CountDownLatch inCallback = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        try {
            Loops.await(a.acquire(address));
            Loops.await(b.acquire(address));
            // Pool a's caller reacts to its timeout slowly (a blocking log appender, a synchronous retry).
            a.acquire(address).whenComplete((c, error) -> {
                inCallback.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(inCallback.await(10, TimeUnit.SECONDS), "pool a's acquire timed out");
            CompletableFuture<PooledConnection<RecordingProtocol>> other = b.acquire(address).toCompletableFuture();
            java.util.concurrent.ExecutionException timedOut = assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> other.get(10, TimeUnit.SECONDS), "pool b's 100 ms timeout waited for pool a's caller");
            assertInstanceOf(TransportTimeoutError.class, timedOut.getCause());
        } finally {
            release.countDown();
            Loops.await(a.close());
            Loops.await(b.close());
        }
    }

    @Test
    void whenTheBundleStopsThePoolThreadsEndAndAcquiresThatWaitFailUntilItStartsAgain() throws Exception {
        Pool<RecordingProtocol> slow = Pool.create(LOOPS.tcp, RecordingProtocol::new, PoolOptions.DEFAULT.withMaxSize(1)
                .withAcquireTimeout(Duration.ofHours(1)));
        Pool<RecordingProtocol> fast = pool(1);
        Pool<RecordingProtocol> unused = pool(1);
        EndpointsActivator activator = new EndpointsActivator();
        try {
            PooledConnection<RecordingProtocol> held = Loops.await(slow.acquire(address));
            CompletableFuture<PooledConnection<RecordingProtocol>> waiter = slow.acquire(address).toCompletableFuture();
            Loops.awaitTrue(() -> slow.waiting() == 1, "an acquire waits, its timeout an hour away");
            Loops.await(fast.acquire(address));
            assertInstanceOf(TransportTimeoutError.class, Loops.failure(fast.acquire(address)));
            assertEquals(List.of("wharf-pool-timed-out", "wharf-pool-timeouts"), poolThreads().stream()
                    .map(Thread::getName).distinct().sorted().toList(), "both kinds of pool thread run");

            activator.stop(null);

            // Well within the 10 s the threads would idle before ending on their own.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (!poolThreads().isEmpty() && System.nanoTime() < deadline) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
            }
            assertEquals(List.of(), poolThreads(), "pool threads alive 5 s after the bundle stopped");
            assertTrue(waiter.isDone(), "the acquire waiting at the stop failed then, not an hour later");
            Throwable stopped = Loops.failure(waiter);
            assertInstanceOf(TransportClosedError.class, stopped);
            assertTrue(stopped.getMessage().contains("endpoints bundle stopped"), stopped.getMessage());
            assertEquals(0, slow.waiting());

            // Used while the bundle is stopped, as a pool another bundle made through the
            // ConnectionPools service may be: an acquire that would wait fails at once, one that
            // would connect makes no connection, and no pool thread comes back.
            CompletableFuture<PooledConnection<RecordingProtocol>> refused = fast.acquire(address).toCompletableFuture();
            assertTrue(refused.isDone(), "an acquire that would wait, made while the bundle is stopped, waits");
            Throwable why = Loops.failure(refused);
            assertInstanceOf(TransportClosedError.class, why);
            assertTrue(why.getMessage().contains("endpoints bundle stopped"), why.getMessage());
            assertEquals(0, fast.waiting());
            CompletableFuture<PooledConnection<RecordingProtocol>> unconnected = unused.acquire(address)
                    .toCompletableFuture();
            assertTrue(unconnected.isDone(), "an acquire that would connect, made while the bundle is stopped, waits");
            assertInstanceOf(TransportClosedError.class, Loops.failure(unconnected));
            assertEquals(0, unused.addressesKnown(), "a connect started for an acquire that failed at once");
            assertEquals(List.of(), poolThreads(), "pool threads made while the bundle is stopped");

            activator.start(null);

            // Used again once it started: the timers come back.
            Throwable timedOut = Loops.failure(fast.acquire(address));
            assertInstanceOf(TransportTimeoutError.class, timedOut);
            assertTrue(timedOut.getMessage().contains("300 ms"), timedOut.getMessage());
            CompletableFuture<PooledConnection<RecordingProtocol>> next = slow.acquire(address).toCompletableFuture();
            Loops.awaitTrue(() -> slow.waiting() == 1, "an acquire waits again");
            held.release();
            assertSame(held, Loops.await(next), "the connection given back goes to the new waiter");
            next.join().release();
            Loops.await(unused.acquire(address)).release();
            assertCounts(unused, 0, 1, 1); // its one slot was free again
        } finally {
            activator.start(null);
            Loops.await(slow.close());
            Loops.await(fast.close());
            Loops.await(unused.close());
        }
    }

    private static List<Thread> poolThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("wharf-pool-") && t.isAlive()).toList();
    }
}
