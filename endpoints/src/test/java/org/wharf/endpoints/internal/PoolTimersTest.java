package org.wharf.endpoints.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.wharf.transport.api.TransportClosedError;
import org.wharf.transport.api.TransportTimeoutError;
import org.wharf.transport.tck.Await;

/** The pools' timers: made on use, ended by a stop that leaves no acquire without an outcome. */
class PoolTimersTest {

    private static final long HOUR = TimeUnit.HOURS.toNanos(1);

    @AfterEach
    void stop() {
        PoolTimers.stop();
    }

    private static Throwable cause(CompletableFuture<?> f) {
        assertTrue(f.isCompletedExceptionally(), "failed: " + f);
        return Await.failure(f);
    }

    @Test
    void aTimeoutPendingAtTheStopFailsItsAcquireThenAndNeverRunsLater() {
        PoolTimers timers = PoolTimers.get();
        AtomicInteger fired = new AtomicInteger();
        CompletableFuture<Object> pending = new CompletableFuture<>();
        timers.timeOut(pending, HOUR, () -> "fired " + fired.incrementAndGet());

        PoolTimers.stop();

        Throwable stopped = cause(pending);
        assertInstanceOf(TransportClosedError.class, stopped);
        assertTrue(stopped.getMessage().contains("endpoints bundle stopped"), stopped.getMessage());
        assertTrue(timers.terminated(), "the stopped timers' executors have ended: nothing of theirs runs later");
        assertEquals(0, fired.get(), "the timeout itself never ran");
        assertNull(PoolTimers.current(), "no timers until one is needed");

        // A caller that got the timers just before the stop gives them its timeout just after.
        CompletableFuture<Object> late = new CompletableFuture<>();
        timers.timeOut(late, HOUR, () -> "fired " + fired.incrementAndGet());
        assertInstanceOf(TransportClosedError.class, cause(late));
        assertEquals(0, fired.get());
    }

    @Test
    void timersUsedAfterAStopAreNewAndTimeOutAsBefore() {
        PoolTimers first = PoolTimers.get();
        assertSame(first, PoolTimers.get());
        PoolTimers.stop();
        PoolTimers second = PoolTimers.get();
        assertNotSame(first, second);
        CompletableFuture<Object> acquire = new CompletableFuture<>();
        second.timeOut(acquire, TimeUnit.MILLISECONDS.toNanos(10), () -> "no connection within 10 ms");
        Throwable timedOut = Await.failure(acquire);
        assertInstanceOf(TransportTimeoutError.class, timedOut);
        assertEquals("no connection within 10 ms", timedOut.getMessage());
    }

    @Test
    void aServedAcquiresTimeoutLeavesTheQueueAndTheStopTouchesNothingDone() {
        PoolTimers timers = PoolTimers.get();
        CompletableFuture<Object> served = new CompletableFuture<>();
        timers.timeOut(served, HOUR, () -> "timed out");
        served.complete("a connection");
        PoolTimers.stop();
        assertEquals("a connection", served.join());
        assertTrue(timers.terminated());
    }

    @Test
    void theThreadsHoldNoContextClassLoaderNorThreadLocalsOfTheThreadThatMadeThem() throws Exception {
        Thread caller = Thread.currentThread();
        ClassLoader before = caller.getContextClassLoader();
        InheritableThreadLocal<Object> callersLocal = new InheritableThreadLocal<>();
        try (URLClassLoader callers = new URLClassLoader(new URL[0], null)) {
            caller.setContextClassLoader(callers);
            callersLocal.set(callers); // as a protocol bundle's object would be
            PoolTimers.stop(); // new threads, made from this thread (the timer's) and from that (the other)
            CompletableFuture<Object> acquire = new CompletableFuture<>();
            AtomicReference<Thread> failedOn = new AtomicReference<>();
            AtomicReference<Object> inherited = new AtomicReference<>();
            CountDownLatch seen = new CountDownLatch(1);
            acquire.whenComplete((v, e) -> {
                failedOn.set(Thread.currentThread());
                inherited.set(callersLocal.get());
                seen.countDown();
            });
            PoolTimers.get().timeOut(acquire, TimeUnit.MILLISECONDS.toNanos(1), () -> "timed out");
            assertTrue(seen.await(Await.TIMEOUT.toSeconds(), TimeUnit.SECONDS), "timed out");
            assertNull(inherited.get(), "a thread of the timers holds the inheritable thread locals of its maker");
            List<Thread> threads = new ArrayList<>(List.of(failedOn.get()));
            Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("wharf-pool-timeouts"))
                    .forEach(threads::add);
            assertEquals(List.of("wharf-pool-timed-out", "wharf-pool-timeouts"),
                    threads.stream().map(Thread::getName).distinct().sorted().toList());
            for (Thread t : threads) {
                assertNull(t.getContextClassLoader(), t.getName());
                assertTrue(t.isDaemon(), t.getName());
            }
        } finally {
            callersLocal.remove();
            caller.setContextClassLoader(before);
        }
    }

    @Test
    void aStopRacingWithNewTimeoutsLeavesNoAcquireWithoutAnOutcome() throws Exception {
        for (int round = 0; round < 100; round++) {
            List<CompletableFuture<Object>> all = java.util.Collections.synchronizedList(new ArrayList<>());
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> callers = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                Thread t = new Thread(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (int j = 0; j < 50; j++) {
                        CompletableFuture<Object> acquire = new CompletableFuture<>();
                        all.add(acquire);
                        PoolTimers.get().timeOut(acquire, HOUR, () -> "timed out");
                    }
                });
                t.start();
                callers.add(t);
            }
            go.countDown();
            PoolTimers.stop();
            for (Thread t : callers) {
                t.join(TimeUnit.SECONDS.toMillis(10));
            }
            assertEquals(200, all.size());
            PoolTimers.stop(); // and the timers made after the first stop
            long open = all.stream().filter(f -> !f.isDone()).count();
            assertEquals(0, open, "acquires with a timeout from neither the timers nor a stop, round " + round);
            all.forEach(f -> assertInstanceOf(TransportClosedError.class, cause(f)));
        }
    }
}
