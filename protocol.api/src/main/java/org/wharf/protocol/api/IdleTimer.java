package org.wharf.protocol.api;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import org.wharf.transport.api.EventLoop;
import org.wharf.transport.api.TimerHandle;

/**
 * Notices a connection on which nothing moved for a while. It looks at an activity count (bytes
 * each way, say) once per timeout on the connection's loop: when the count did not change since
 * the last look, the connection was idle for at least the timeout (at most twice it) and
 * {@code onIdle} runs; else it looks again one timeout later. One timer per connection, not
 * one per read or write. Used by servers' idle timeouts and by gateways for both legs.
 */
public final class IdleTimer {

    private final EventLoop loop;
    private final long timeoutNanos;
    private final LongSupplier activity;
    private final Runnable onIdle;
    private long lastSeen;
    private TimerHandle timer;
    private boolean cancelled;

    private IdleTimer(EventLoop loop, Duration timeout, LongSupplier activity, Runnable onIdle) {
        this.loop = Objects.requireNonNull(loop, "loop");
        this.timeoutNanos = timeout.toNanos();
        this.activity = Objects.requireNonNull(activity, "activity");
        this.onIdle = Objects.requireNonNull(onIdle, "onIdle");
        if (timeoutNanos <= 0) {
            throw new IllegalArgumentException("an idle timeout must be positive, got " + timeout);
        }
    }

    /**
     * Starts watching. Call on the loop (from {@code connectionMade}, say).
     *
     * @param loop the connection's loop, where {@code onIdle} runs
     * @param timeout how long nothing may move, positive
     * @param activity a count that grows whenever something moves
     * @param onIdle what to do when the connection is idle (close it, usually)
     * @return the timer, to {@link #cancel()} when the connection is lost
     */
    public static IdleTimer start(EventLoop loop, Duration timeout, LongSupplier activity, Runnable onIdle) {
        IdleTimer t = new IdleTimer(loop, timeout, activity, onIdle);
        t.lastSeen = activity.getAsLong();
        t.schedule();
        return t;
    }

    /** Stops watching; harmless when done already. On the loop. */
    public void cancel() {
        cancelled = true;
        if (timer != null) {
            timer.cancel();
        }
    }

    private void schedule() {
        timer = loop.schedule(this::look, timeoutNanos, TimeUnit.NANOSECONDS);
    }

    private void look() {
        if (cancelled) {
            return;
        }
        long now = activity.getAsLong();
        if (now != lastSeen) {
            lastSeen = now;
            schedule();
            return;
        }
        cancelled = true;
        onIdle.run();
    }
}
