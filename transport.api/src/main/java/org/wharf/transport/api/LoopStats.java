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
    private final long busyPolls;
    private final long busyPollsFound;

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
        this(name, channels, tasksRun, ioEvents, lag, 0, 0);
    }

    /**
     * The figures of one loop that may poll before it sleeps.
     *
     * @param name the loop's name (its thread's), fit for a metric's label
     * @param channels the channels registered with it now
     * @param tasksRun tasks and timers it has run
     * @param ioEvents I/O readiness events it has handled
     * @param lag how long probe tasks waited before they ran, in nanoseconds
     * @param busyPolls polls it made before sleeping (0 where it never polls)
     * @param busyPollsFound of those, the polls that found I/O
     * @since 0.5.0
     */
    public LoopStats(String name, long channels, long tasksRun, long ioEvents, Histogram.Snapshot lag, long busyPolls,
            long busyPollsFound) {
        this.name = name;
        this.channels = channels;
        this.tasksRun = tasksRun;
        this.ioEvents = ioEvents;
        this.lag = lag;
        this.busyPolls = busyPolls;
        this.busyPollsFound = busyPollsFound;
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

    /**
     * Polls for I/O the loop made before it slept (its transport's busy polling), so far; 0
     * where it does not poll.
     *
     * @return the count
     * @since 0.5.0
     */
    public long busyPolls() {
        return busyPolls;
    }

    /**
     * Of {@link #busyPolls()}, those that found I/O: each spared the loop a sleep and the
     * wake-up after it. Few of them mean the polling costs CPU for little.
     *
     * @return the count
     * @since 0.5.0
     */
    public long busyPollsFound() {
        return busyPollsFound;
    }

    @Override
    public String toString() {
        return "loop " + name + ": " + channels + " channels, " + tasksRun + " tasks, " + ioEvents + " I/O events, lag "
                + lag + (busyPolls == 0 ? "" : ", " + busyPollsFound + " of " + busyPolls + " busy polls found I/O");
    }
}
