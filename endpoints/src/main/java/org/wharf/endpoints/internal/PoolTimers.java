package org.wharf.endpoints.internal;

import java.security.PrivilegedAction;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

import org.wharf.transport.api.TransportClosedError;
import org.wharf.transport.api.TransportTimeoutError;

/**
 * The acquire timeouts of every {@link org.wharf.endpoints.Pool}, with the threads they run on:
 * made on first use, and ended when the endpoints bundle stops ({@link #bundleStopped()}, from
 * {@link EndpointsActivator}). Until the bundle starts again no timers are made: an acquire
 * that would wait fails at once instead. Outside a framework nothing stops them: the threads
 * end on their own when idle, as before.
 *
 * <p>Two executors. One daemon thread ({@code wharf-pool-timeouts}) runs only while a timeout
 * is pending (it ends after 10 s without any), and a cancelled timeout leaves its queue at
 * once; it only hands a timed-out acquire's failure to a cached pool
 * ({@code wharf-pool-timed-out}: a thread each while they run, none after 10 s idle). So the
 * caller's callbacks run neither on the one thread every pool's timeouts share nor on the
 * common pool (one thread on two cores), where one that blocks would hold every other pool's
 * timeouts.
 *
 * <p>A stopped bundle's threads would keep its class loader reachable (thread, task, class)
 * for up to 10 s after the last timeout, or for good under steady load, and a timeout pending
 * at the stop would run the stopped bundle's code later. So the bundle's stop ends both
 * executors, and each acquire whose timeout was pending fails at once with a
 * {@link TransportClosedError}, as a pool's waiters do when it closes, rather than waiting with
 * no timeout or timing out in a stopped bundle. Its callbacks are other bundles' code: they
 * run on {@code wharf-pool-timed-out} threads, not on the thread stopping the bundle (the
 * framework's), which waits for them 5 s at most and interrupts none. A callback that acquires
 * again, or a pool a protocol bundle made through the
 * {@link org.wharf.endpoints.api.ConnectionPools} service and goes on using, gets that at-once
 * failure rather than new threads of a stopped bundle.
 */
public final class PoolTimers {

    private static final System.Logger LOG = System.getLogger("org.wharf.endpoints");
    /** How long a stop waits for a timed-out acquire's callback that is still running. */
    private static final long STOP_WAIT_MILLIS = 5_000;
    private static final Object LOCK = new Object();
    /**
     * The timers while the endpoints bundle is stopped: no executor, no thread; each acquire
     * given to them fails at once.
     */
    private static final PoolTimers BUNDLE_STOPPED = new PoolTimers(false);
    /**
     * The timers pools use now: null until the first timeout and after a stop outside a
     * framework, {@link #BUNDLE_STOPPED} from the bundle's stop to its next start.
     */
    private static volatile PoolTimers current;

    private final ScheduledThreadPoolExecutor timeouts;
    private final ThreadPoolExecutor timedOut;
    /** Set before the executors shut down; a timeout that sees it fails its acquire as stopped. */
    private volatile boolean stopped;
    /** Acquires the stop fails, each taken by a timed-out thread ({@link #failLater}). */
    private final ConcurrentLinkedQueue<CompletableFuture<?>> failing = new ConcurrentLinkedQueue<>();
    /** Whether a task failing them was handed to the timed-out executor and has not started. */
    private final AtomicBoolean failerPending = new AtomicBoolean();

    private PoolTimers(boolean live) {
        if (!live) {
            timeouts = null;
            timedOut = null;
            stopped = true;
            return;
        }
        timeouts = new ScheduledThreadPoolExecutor(1, daemons("wharf-pool-timeouts"));
        timeouts.setRemoveOnCancelPolicy(true);
        // Once shut down it drops what is not due yet (the stop has run it) and runs what is.
        timeouts.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        timeouts.setKeepAliveTime(10, TimeUnit.SECONDS);
        timeouts.allowCoreThreadTimeOut(true);
        timedOut = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 10, TimeUnit.SECONDS, new SynchronousQueue<>(),
                daemons("wharf-pool-timed-out"));
    }

    /**
     * The timers, made if there are none (first use, or first use after a stop), unless the
     * endpoints bundle is stopped: one volatile read when they exist or the bundle is stopped.
     *
     * @return the timers every pool uses now
     */
    public static PoolTimers get() {
        PoolTimers timers = current;
        return timers != null ? timers : start();
    }

    private static PoolTimers start() {
        synchronized (LOCK) {
            if (current == null) {
                current = new PoolTimers(true);
            }
            return current;
        }
    }

    /**
     * The endpoints bundle stops: ends the timers as {@link #stop()} does, and from now on,
     * until {@link #bundleStarted()}, an acquire given to the timers fails at once with a
     * {@link TransportClosedError}, and no timers, and no threads, are made: not for a callback
     * of an acquire the stop fails that acquires again, nor for a pool made through the
     * service that another bundle goes on using.
     */
    public static void bundleStopped() {
        PoolTimers timers;
        synchronized (LOCK) {
            timers = current;
            current = BUNDLE_STOPPED;
        }
        if (timers != null && timers != BUNDLE_STOPPED) {
            timers.shutdown();
        }
    }

    /** The endpoints bundle starts (again): the timers are made on first use. */
    public static void bundleStarted() {
        synchronized (LOCK) {
            if (current == BUNDLE_STOPPED) {
                current = null;
            }
        }
    }

    /**
     * Ends the timers' threads: each acquire whose timeout is pending fails now with a
     * {@link TransportClosedError} (its callbacks run on a {@code wharf-pool-timed-out} thread,
     * not this one), and no timeout runs afterwards. Returns once both executors have ended
     * (their threads are leaving), or after 5 s if an acquire's callback still runs there (it
     * is not interrupted; its thread ends when it returns). A pool used afterwards makes new
     * timers, unless the bundle is stopped. For tests: the bundle's stop is
     * {@link #bundleStopped()}.
     */
    static void stop() {
        PoolTimers timers;
        synchronized (LOCK) {
            timers = current;
            if (timers == BUNDLE_STOPPED) {
                return;
            }
            current = null;
        }
        if (timers != null) {
            timers.shutdown();
        }
    }

    /**
     * @return the timers in use (while the bundle is stopped, the ones with no executor, which
     *         count as terminated), or null if there are none, for tests
     */
    static PoolTimers current() {
        return current;
    }

    /** @return whether both executors have ended, for tests */
    boolean terminated() {
        return timeouts == null || timeouts.isTerminated() && timedOut.isTerminated();
    }

    /**
     * Fails an acquire with a {@link TransportTimeoutError} after a time unless it completed by
     * then. The timer is cancelled, and leaves the queue with what it holds, as soon as the
     * acquire completes (served, failed or cancelled): an acquire holds nothing for the rest of
     * its timeout. If these timers have been stopped, or the endpoints bundle is, the acquire
     * fails at once, on this thread, with a {@link TransportClosedError}.
     *
     * @param result the acquire, not yet handed to its caller
     * @param nanos its timeout
     * @param why the timeout's message
     * @return true if the timeout is set; false if the acquire failed at once (stopped)
     */
    public boolean timeOut(CompletableFuture<?> result, long nanos, Supplier<String> why) {
        return timeOutWith(result, nanos, () -> new TransportTimeoutError(why.get()));
    }

    /**
     * As {@link #timeOut}, failing the acquire with the error given (a kind of timeout).
     *
     * @param result the acquire, not yet handed to its caller
     * @param nanos its timeout
     * @param error makes the error it fails with, if it times out
     * @return true if the timeout is set; false if the acquire failed at once (stopped)
     */
    public boolean timeOutWith(CompletableFuture<?> result, long nanos, Supplier<? extends TransportTimeoutError> error) {
        if (timeouts == null) { // BUNDLE_STOPPED
            result.completeExceptionally(new TransportClosedError("the endpoints bundle stopped: a pool acquire"
                    + " cannot wait for a connection (no pool timers) until the bundle starts again", null));
            return false;
        }
        Timeout timeout = new Timeout(result, error);
        ScheduledFuture<?> timer;
        try {
            timer = timeouts.schedule(timeout, nanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException stopping) {
            failStopped(result); // these timers were stopped since the caller got them
            return false;
        }
        if (stopped) {
            // Stopped while this was queued: shutdown() may have looked at the queue before it
            // got there, and the executor drops it without running it.
            timer.cancel(false);
            failStopped(result);
            return false;
        }
        result.whenComplete((c, failed) -> timer.cancel(false));
        return true;
    }

    /**
     * Runs the pending timeouts now (each hands its acquire to a timed-out thread, which fails
     * it as stopped), then ends both executors and waits for their threads, 5 s at most in all.
     * Nothing of a caller runs on this thread, the thread stopping the bundle.
     */
    private void shutdown() {
        stopped = true;
        // Each queued timeout is run here, while the executor still runs tasks (a shut down one
        // may have ended, and then cancels a task it is asked to run rather than run it); it
        // sees `stopped`. One queued after this snapshot sees `stopped` in timeOut, which reads
        // it after queueing (the queue's lock orders the two); one after the shutdown is refused.
        for (Runnable pending : timeouts.getQueue().toArray(new Runnable[0])) {
            pending.run(); // at most once: done, cancelled or run by the timer thread meanwhile, nothing
        }
        // Not shutdownNow: the timer thread may have taken a due timeout from the queue before
        // the snapshot and not run it yet, and a stopped (not merely shut down) executor cancels
        // such a task instead of running it, leaving its acquire with no outcome. Shut down, it
        // runs it (it is due), the timeout sees `stopped`, and the rest of the queue, run above,
        // is dropped (the policy set in the constructor).
        timeouts.shutdown();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STOP_WAIT_MILLIS);
        boolean interrupted = false;
        try {
            timeouts.awaitTermination(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            // While the timed-out executor takes tasks, a callback that blocks holds up no other
            // acquire's failure (failStoppedOnes hands the rest on first); after it, the threads
            // failing them go on alone.
            awaitHandedOut(deadline);
        } catch (InterruptedException e) {
            interrupted = true;
        }
        // Not shutdownNow either: a caller's callback may be running on a timed-out thread, and
        // an interrupt would close an InterruptibleChannel it uses although its own bundle runs
        // on. Its queue, a SynchronousQueue, holds no task to drop anyway.
        timedOut.shutdown();
        try {
            if (!interrupted) {
                timedOut.awaitTermination(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            }
        } catch (InterruptedException e) {
            interrupted = true;
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (!terminated()) {
            LOG.log(System.Logger.Level.WARNING, "pool timers stopped, but a timed-out acquire's callback still runs"
                    + " on a wharf-pool-timed-out thread after " + STOP_WAIT_MILLIS
                    + " ms (not interrupted; its thread ends when it returns)");
        }
    }

    /**
     * Fails an acquire as stopped on a timed-out thread, not on the one that found it (the
     * thread stopping the bundle, or the timer thread): its callbacks are a caller's code.
     */
    private void failLater(CompletableFuture<?> result) {
        failing.add(result);
        if (!handOn()) {
            failStoppedOnes(); // the timed-out executor has ended: only after the stop's wait
        }
    }

    /**
     * Makes sure a timed-out thread will fail what {@link #failing} holds: hands it a task
     * unless one handed before has not started yet.
     *
     * @return false if the timed-out executor takes no more tasks
     */
    private boolean handOn() {
        if (!failerPending.compareAndSet(false, true)) {
            return true;
        }
        try {
            timedOut.execute(this::failStoppedOnes);
            return true;
        } catch (RejectedExecutionException ended) {
            failerPending.set(false);
            return false;
        }
    }

    /**
     * Fails the acquires in {@link #failing} as stopped, one at a time, each after handing the
     * rest on to another thread, so a callback that blocks holds up its own acquire only. Once
     * the executor takes no more tasks, this thread fails them all.
     */
    private void failStoppedOnes() {
        failerPending.set(false); // started: the next handOn starts another
        CompletableFuture<?> next;
        while ((next = failing.poll()) != null) {
            if (!failing.isEmpty()) {
                handOn(); // refused: this thread goes on with them
            } else {
                synchronized (failing) {
                    failing.notifyAll(); // all handed out: awaitHandedOut returns
                }
            }
            failStopped(next);
        }
    }

    /** Waits until a thread has taken each acquire the stop fails, or until the deadline. */
    private void awaitHandedOut(long deadline) throws InterruptedException {
        synchronized (failing) {
            long left;
            while (!failing.isEmpty() && (left = deadline - System.nanoTime()) > 0) {
                TimeUnit.NANOSECONDS.timedWait(failing, left);
            }
        }
    }

    private static void failStopped(CompletableFuture<?> result) {
        result.completeExceptionally(new TransportClosedError(
                "pool timers stopped (the endpoints bundle stopped) while the acquire waited", null));
    }

    /** One acquire's timeout, run by the timeouts thread when it falls due, or by shutdown(). */
    private final class Timeout implements Runnable {
        private final CompletableFuture<?> result;
        private final Supplier<? extends TransportTimeoutError> error;

        Timeout(CompletableFuture<?> result, Supplier<? extends TransportTimeoutError> error) {
            this.result = result;
            this.error = error;
        }

        @Override
        public void run() {
            if (result.isDone()) {
                return;
            }
            if (stopped) {
                failLater(result);
                return;
            }
            try {
                timedOut.execute(() -> result.completeExceptionally(error.get()));
            } catch (RejectedExecutionException stopping) {
                failLater(result);
            }
        }
    }

    /**
     * Daemon threads of this name that hold nothing of whoever made them: no context class
     * loader, no inherited thread locals, and no access control context with the caller's
     * protection domains (a thread keeps the domains, and so the class loaders, of every class
     * on the stack that created it, such as a protocol bundle that acquired, for as long as it
     * runs; made in a privileged block it keeps only this bundle's).
     */
    @SuppressWarnings("removal")
    private static ThreadFactory daemons(String name) {
        return task -> java.security.AccessController.doPrivileged((PrivilegedAction<Thread>) () -> {
            Thread t = new Thread(null, task, name, 0, false);
            t.setDaemon(true);
            t.setContextClassLoader(null);
            return t;
        });
    }
}
