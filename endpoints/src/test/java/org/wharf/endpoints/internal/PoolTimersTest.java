package org.wharf.endpoints.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

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
    void aTimeoutTheTimerThreadTookJustBeforeTheStopStillFailsItsAcquire() throws Exception {
        // The timer thread takes a due timeout from its queue, and the stop comes before it runs
        // it: the stop's look at the queue does not see it, so the timer thread must still run
        // it. Its executor is swapped for one that holds the thread there (beforeExecute runs
        // between the take and the run), configured as the one it replaces.
        PoolTimers timers = PoolTimers.get();
        Field field = PoolTimers.class.getDeclaredField("timeouts");
        field.setAccessible(true);
        ScheduledThreadPoolExecutor made = (ScheduledThreadPoolExecutor) field.get(timers);
        CountDownLatch taken = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        ScheduledThreadPoolExecutor held = new ScheduledThreadPoolExecutor(1, made.getThreadFactory()) {
            @Override
            protected void beforeExecute(Thread t, Runnable r) {
                taken.countDown();
                boolean interrupted = false;
                while (true) {
                    try {
                        go.await();
                        break;
                    } catch (InterruptedException e) {
                        interrupted = true; // a shutdownNow: the task runs all the same, as it would
                    }
                }
                if (interrupted) {
                    t.interrupt();
                }
            }
        };
        held.setRemoveOnCancelPolicy(made.getRemoveOnCancelPolicy());
        held.setExecuteExistingDelayedTasksAfterShutdownPolicy(made.getExecuteExistingDelayedTasksAfterShutdownPolicy());
        held.setContinueExistingPeriodicTasksAfterShutdownPolicy(made.getContinueExistingPeriodicTasksAfterShutdownPolicy());
        held.setKeepAliveTime(made.getKeepAliveTime(TimeUnit.NANOSECONDS), TimeUnit.NANOSECONDS);
        held.allowCoreThreadTimeOut(made.allowsCoreThreadTimeOut());
        field.set(timers, held);
        made.shutdown();
        Thread stopping = null;
        try {
            CompletableFuture<Object> acquire = new CompletableFuture<>();
            timers.timeOut(acquire, 0, () -> "timed out");
            assertTrue(taken.await(Await.TIMEOUT.toSeconds(), TimeUnit.SECONDS), "the timer thread took the timeout");
            assertEquals(0, held.getQueue().size(), "the stop finds nothing queued");

            stopping = new Thread(PoolTimers::stop, "stopping");
            stopping.start();
            long deadline = System.nanoTime() + Await.TIMEOUT.toNanos();
            while (!held.isShutdown() && System.nanoTime() < deadline) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
            }
            assertTrue(held.isShutdown(), "the stop shut the timer's executor down");
            go.countDown(); // the timer thread runs what it took

            try {
                acquire.get(5, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                assertInstanceOf(TransportClosedError.class, e.getCause());
            } catch (TimeoutException e) {
                throw new AssertionError("the acquire whose timeout the timer thread had taken at the stop got no"
                        + " outcome (its timeout was dropped, never run)", e);
            }
        } finally {
            go.countDown();
            if (stopping != null) {
                stopping.join(TimeUnit.SECONDS.toMillis(10));
            }
        }
        assertTrue(timers.terminated());
    }

    @Test
    void theStopInterruptsNoCallbackOfATimedOutAcquireAndWaitsForItFiveSecondsAtMost() throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicReference<Boolean> interrupted = new AtomicReference<>();
        CompletableFuture<Object> acquire = new CompletableFuture<>();
        acquire.whenComplete((v, e) -> {
            running.countDown();
            try {
                release.await(); // as blocking I/O on an InterruptibleChannel: an interrupt closes it
                interrupted.set(false);
            } catch (InterruptedException stopped) {
                interrupted.set(true);
            }
        });
        PoolTimers timers = PoolTimers.get();
        timers.timeOut(acquire, TimeUnit.MILLISECONDS.toNanos(1), () -> "timed out");
        assertTrue(running.await(Await.TIMEOUT.toSeconds(), TimeUnit.SECONDS), "timed out");
        assertInstanceOf(TransportTimeoutError.class, cause(acquire));

        Thread stopping = new Thread(PoolTimers::stop, "stopping");
        try {
            stopping.start();
            stopping.join(TimeUnit.SECONDS.toMillis(10));
            assertTrue(!stopping.isAlive(), "the stop still waits for a callback after 10 s");
        } finally {
            release.countDown();
        }
        Await.awaitTrue(() -> interrupted.get() != null, "the callback returned");
        assertEquals(false, interrupted.get(), "the stop interrupted the callback of a timed-out acquire");
        Await.awaitTrue(timers::terminated, "its thread ended when it returned");
    }

    @Test
    void theStopFailsPendingAcquiresOffItsThreadAndOneCallbackThatBlocksHoldsUpNoOtherAcquire() throws Exception {
        PoolTimers timers = PoolTimers.get();
        CountDownLatch blocking = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean first = new AtomicBoolean(true);
        Set<Thread> ranOn = ConcurrentHashMap.newKeySet();
        List<CompletableFuture<Object>> acquires = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            CompletableFuture<Object> acquire = new CompletableFuture<>();
            acquire.whenComplete((v, e) -> {
                ranOn.add(Thread.currentThread());
                if (first.getAndSet(false)) {
                    blocking.countDown();
                    try {
                        release.await(); // another bundle's callback, blocking
                    } catch (InterruptedException stopped) {
                        Thread.currentThread().interrupt();
                    }
                }
            });
            timers.timeOut(acquire, HOUR, () -> "timed out");
            acquires.add(acquire);
        }
        Thread stopping = new Thread(PoolTimers::stop, "stopping");
        try {
            stopping.start();
            assertTrue(blocking.await(Await.TIMEOUT.toSeconds(), TimeUnit.SECONDS), "a callback ran");
            assertFalse(ranOn.contains(stopping), "a pending acquire's callback ran on the thread stopping the bundle");
            Await.awaitTrue(() -> acquires.stream().allMatch(CompletableFuture::isDone),
                    "every acquire failed while one's callback blocks");
            acquires.forEach(a -> assertInstanceOf(TransportClosedError.class, cause(a)));
        } finally {
            release.countDown();
            stopping.join(TimeUnit.SECONDS.toMillis(10));
        }
        assertFalse(stopping.isAlive(), "the stop still waits 10 s after the callbacks returned");
        assertFalse(ranOn.contains(stopping), "a pending acquire's callback ran on the thread stopping the bundle");
        assertTrue(timers.terminated());
    }

    @Test
    void fromTheBundlesStopToItsStartAnAcquireFailsAtOnceAndNoTimersAreMade() throws Exception {
        EndpointsActivator activator = new EndpointsActivator();
        PoolTimers timers = PoolTimers.get();
        CompletableFuture<Object> pending = new CompletableFuture<>();
        CompletableFuture<Object> retried = new CompletableFuture<>();
        // A caller that acquires again when its acquire fails, as a protocol bundle may.
        pending.whenComplete((v, e) -> PoolTimers.get().timeOut(retried, HOUR, () -> "timed out"));
        timers.timeOut(pending, HOUR, () -> "timed out");
        try {
            activator.stop(null);

            assertInstanceOf(TransportClosedError.class, cause(pending));
            assertTrue(timers.terminated());
            assertTrue(retried.isDone(), "an acquire made again by a callback of the bundle's stop waits, on timers"
                    + " made after the stop");
            Throwable why = cause(retried);
            assertInstanceOf(TransportClosedError.class, why);
            assertTrue(why.getMessage().contains("endpoints bundle stopped"), why.getMessage());
            PoolTimers now = PoolTimers.current();
            assertTrue(now == null || now.terminated(), "timers made after the bundle stopped");

            CompletableFuture<Object> later = new CompletableFuture<>();
            PoolTimers.get().timeOut(later, HOUR, () -> "timed out");
            assertTrue(later.isDone(), "an acquire made while the bundle is stopped waits");
            assertInstanceOf(TransportClosedError.class, cause(later));
            now = PoolTimers.current();
            assertTrue(now == null || now.terminated(), "timers made while the bundle is stopped");
        } finally {
            activator.start(null);
        }
        CompletableFuture<Object> started = new CompletableFuture<>();
        PoolTimers.get().timeOut(started, TimeUnit.MILLISECONDS.toNanos(1), () -> "timed out");
        assertInstanceOf(TransportTimeoutError.class, Await.failure(started), "started again: timers as before");
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

    @Test
    void aStopRacingWithTimeoutsFallingDueLeavesNoAcquireWithoutAnOutcome() throws Exception {
        // As above, left to chance: timeouts due at once, given while the stop runs. Rarely
        // catches the timer thread between the take and the run (the test above does that).
        for (int round = 0; round < 200; round++) {
            List<CompletableFuture<Object>> all = java.util.Collections.synchronizedList(new ArrayList<>());
            AtomicInteger given = new AtomicInteger();
            PoolTimers timers = PoolTimers.get();
            Thread caller = new Thread(() -> {
                while (PoolTimers.current() == timers) {
                    CompletableFuture<Object> acquire = new CompletableFuture<>();
                    all.add(acquire);
                    timers.timeOut(acquire, 0, () -> "timed out");
                    given.incrementAndGet();
                }
            });
            caller.start();
            while (given.get() < 20) {
                Thread.onSpinWait();
            }
            PoolTimers.stop();
            caller.join(TimeUnit.SECONDS.toMillis(10));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            long open;
            do {
                synchronized (all) {
                    open = all.stream().filter(f -> !f.isDone()).count();
                }
            } while (open > 0 && System.nanoTime() < deadline);
            assertEquals(0, open, "acquires given no outcome by the timers nor by the stop, round " + round);
        }
    }
}
