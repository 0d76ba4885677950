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

    /**
     * {@link #ready(int)} threw something that is not fatal: close what this handler owns. The
     * loop has logged it and runs on. On the loop thread.
     *
     * @param error what was thrown
     */
    void failed(Throwable error);
}
