package org.wharf.transport.nio.internal;

/** A channel registered with an {@link NioEventLoop}: told what is ready, and when the loop ends. */
interface Selectable {

    /**
     * The channel is ready for the given operations. On the loop thread.
     *
     * @param readyOps the ready set of the selection key
     */
    void ready(int readyOps);

    /** The loop is shutting down: close the channel at once. On the loop thread. */
    void loopShutdown();
}
