package org.wharf.transport.api;

/**
 * What one event loop has done, at one moment: for metrics. Immutable. A class, not a record,
 * so that a figure added later is a compatible change.
 */
public final class LoopStats {

    private final String name;
    private final long channels;
    private final long tasksRun;
    private final long ioEvents;
    private final Histogram.Snapshot lag;

    /**
     * The figures of one loop.
     *
     * @param name the loop's name (its thread's), fit for a metric's label
     * @param channels the channels registered with it now
     * @param tasksRun tasks and timers it has run
     * @param ioEvents I/O readiness events it has handled
     * @param lag how long probe tasks waited before they ran, in nanoseconds
     */
    public LoopStats(String name, long channels, long tasksRun, long ioEvents, Histogram.Snapshot lag) {
        this.name = name;
        this.channels = channels;
        this.tasksRun = tasksRun;
        this.ioEvents = ioEvents;
        this.lag = lag;
    }

    /**
     * The loop's name.
     *
     * @return the name of its thread
     */
    public String name() {
        return name;
    }

    /**
     * Channels registered with the loop now (listeners, connections, datagram sockets).
     *
     * @return the count
     */
    public long channels() {
        return channels;
    }

    /**
     * Tasks and timers run so far.
     *
     * @return the count
     */
    public long tasksRun() {
        return tasksRun;
    }

    /**
     * I/O readiness events handled so far.
     *
     * @return the count
     */
    public long ioEvents() {
        return ioEvents;
    }

    /**
     * The loop's lag: how long a task handed to it waits before it runs, sampled by a probe
     * at a fixed interval; in nanoseconds.
     *
     * @return the distribution so far
     */
    public Histogram.Snapshot lag() {
        return lag;
    }

    @Override
    public String toString() {
        return "loop " + name + ": " + channels + " channels, " + tasksRun + " tasks, " + ioEvents + " I/O events, lag "
                + lag;
    }
}
