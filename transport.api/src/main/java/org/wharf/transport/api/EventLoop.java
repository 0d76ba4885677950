package org.wharf.transport.api;

import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The single thread that runs the callbacks of the transports it owns, and the tasks and
 * timers given to it. Obtained from {@link BaseTransport#loop()}.
 *
 * <p>All methods may be called from any thread.
 */
@ProviderType
public interface EventLoop extends Executor {

    /**
     * Tells whether the calling thread is this loop's thread.
     *
     * @return {@code true} when called from the loop itself
     */
    boolean inEventLoop();

    /**
     * Runs a task on the loop as soon as possible, after the tasks already queued.
     * A task that throws is logged; the loop runs on.
     *
     * @param task the task to run on the loop thread
     * @throws RejectedExecutionException if the loop has been shut down
     */
    @Override
    void execute(Runnable task);

    /**
     * Runs a task on the loop once the delay has passed. Timers cost no thread of their
     * own; a task that throws is logged and the loop runs on.
     *
     * @param task the task to run on the loop thread
     * @param delay the delay, zero or more
     * @param unit the unit of {@code delay}
     * @return a handle that cancels the timer
     * @throws RejectedExecutionException if the loop has been shut down
     * @throws IllegalArgumentException if {@code delay} is negative
     */
    TimerHandle schedule(Runnable task, long delay, TimeUnit unit);
}
