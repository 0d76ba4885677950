package org.wharf.transport.tck;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.PriorityQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

import org.wharf.transport.api.EventLoop;
import org.wharf.transport.api.TimerHandle;

/**
 * An event loop that runs nothing by itself: the thread that created it is the loop thread,
 * tasks wait until {@link #runPending()}, and timers run when {@link #advance(Duration)}
 * moves its virtual clock past them. Tests stay deterministic and never sleep.
 *
 * <p>{@link #execute(Runnable)} may be called from any thread.
 */
public final class ManualEventLoop implements EventLoop {

    private final Thread owner = Thread.currentThread();
    private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
    private final PriorityQueue<Timer> timers = new PriorityQueue<>(
            Comparator.comparingLong((Timer t) -> t.due).thenComparingLong(t -> t.sequence));
    private long now;
    private long sequence;
    private boolean shutdown;

    /** A loop owned by the calling thread, its clock at zero. */
    public ManualEventLoop() {
    }

    @Override
    public boolean inEventLoop() {
        return Thread.currentThread() == owner;
    }

    @Override
    public void execute(Runnable task) {
        synchronized (tasks) {
            if (shutdown) {
                throw new RejectedExecutionException("event loop is shut down");
            }
            tasks.add(task);
            tasks.notifyAll();
        }
    }

    @Override
    public TimerHandle schedule(Runnable task, long delay, TimeUnit unit) {
        if (delay < 0) {
            throw new IllegalArgumentException("delay must be >= 0, got " + delay);
        }
        Timer timer = new Timer(task);
        synchronized (tasks) {
            if (shutdown) {
                throw new RejectedExecutionException("event loop is shut down");
            }
            timer.due = now + unit.toNanos(delay);
            timer.sequence = sequence++;
            timers.add(timer);
        }
        return timer;
    }

    /**
     * Runs queued tasks, including those they queue, until none is left. Call it from the
     * loop thread.
     *
     * @return how many tasks ran
     */
    public int runPending() {
        checkOwner();
        int ran = 0;
        for (Runnable task; (task = poll()) != null; ran++) {
            task.run();
        }
        return ran;
    }

    /**
     * Waits until a task is queued (by another thread), then runs all that are queued.
     *
     * @param timeout how long to wait at most
     * @return how many tasks ran
     * @throws InterruptedException if interrupted while waiting
     * @throws AssertionError if no task came within the timeout
     */
    public int awaitAndRun(Duration timeout) throws InterruptedException {
        checkOwner();
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (tasks) {
            while (tasks.isEmpty()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("no task was queued on the event loop within " + timeout);
                }
                TimeUnit.NANOSECONDS.timedWait(tasks, left);
            }
        }
        return runPending();
    }

    /**
     * Moves the virtual clock forward, running each timer that falls due (in order of due
     * time) and the tasks queued meanwhile.
     *
     * @param time how far to move the clock
     */
    public void advance(Duration time) {
        checkOwner();
        long until;
        synchronized (tasks) {
            until = now + time.toNanos();
        }
        runPending();
        while (true) {
            Timer next;
            synchronized (tasks) {
                next = timers.peek();
                if (next == null || next.due > until) {
                    now = until;
                    break;
                }
                timers.poll();
                now = next.due;
            }
            if (!next.cancelled) {
                next.ran = true;
                next.task.run();
            }
            runPending();
        }
    }

    /**
     * One turn of a real loop, without moving the clock: the queued tasks, then the timers due
     * now that were set before this call, each followed by the tasks it queued. A timer set
     * meanwhile, even one due now, waits for the next turn, as on a real loop, where a timer
     * set while timers run fires after the next selection.
     *
     * @return how many timers ran
     * @since 0.4
     */
    public int turn() {
        checkOwner();
        long before;
        synchronized (tasks) {
            before = sequence;
        }
        runPending();
        int ran = 0;
        while (true) {
            Timer next;
            synchronized (tasks) {
                next = timers.stream().filter(t -> t.sequence < before && t.due <= now)
                        .min(Comparator.comparingLong((Timer t) -> t.due).thenComparingLong(t -> t.sequence))
                        .orElse(null);
                if (next == null) {
                    break;
                }
                timers.remove(next);
            }
            if (!next.cancelled) {
                next.ran = true;
                ran++;
                next.task.run();
            }
            runPending();
        }
        return ran;
    }

    /**
     * The virtual clock.
     *
     * @return nanoseconds since the loop was made, as moved by {@link #advance(Duration)}
     */
    public long nanoTime() {
        synchronized (tasks) {
            return now;
        }
    }

    /**
     * The number of timers not yet run nor cancelled.
     *
     * @return live timers
     */
    public int activeTimers() {
        synchronized (tasks) {
            return (int) timers.stream().filter(t -> !t.cancelled).count();
        }
    }

    /** Refuses further tasks and timers. */
    public void shutdown() {
        synchronized (tasks) {
            shutdown = true;
        }
    }

    private Runnable poll() {
        synchronized (tasks) {
            return tasks.poll();
        }
    }

    private void checkOwner() {
        if (!inEventLoop()) {
            throw new IllegalStateException("only the thread that made the loop may run it");
        }
    }

    private static final class Timer implements TimerHandle {
        final Runnable task;
        long due;
        long sequence;
        volatile boolean cancelled;
        volatile boolean ran;

        Timer(Runnable task) {
            this.task = task;
        }

        @Override
        public boolean cancel() {
            if (ran || cancelled) {
                return false;
            }
            cancelled = true;
            return true;
        }

        @Override
        public boolean isCancelled() {
            return cancelled;
        }
    }
}
