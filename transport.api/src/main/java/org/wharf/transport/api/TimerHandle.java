package org.wharf.transport.api;

import org.osgi.annotation.versioning.ProviderType;

/** A timer scheduled with {@link EventLoop#schedule}; cancelling it keeps its task from running. */
@ProviderType
public interface TimerHandle {

    /**
     * Cancels the timer. Harmless when it already ran or was cancelled. May be called from
     * any thread.
     *
     * @return {@code true} if this call kept the task from running
     */
    boolean cancel();

    /**
     * Tells whether the timer was cancelled before it ran.
     *
     * @return {@code true} once {@link #cancel()} has kept the task from running
     */
    boolean isCancelled();
}
