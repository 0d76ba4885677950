package org.wharf.transport.nio.internal;

/**
 * How long an event loop polls for I/O before it sleeps in its selector: the adaptive busy
 * poll ({@code busyPollMicros}). A loop that sleeps has to be woken by the kernel when a packet
 * comes, and on a virtual machine whose idle cores halt that wake-up is an inter-processor
 * interrupt paid by the core that sent the packet. Polling a little longer spares it while
 * work comes in quick succession, at the price of the polling loop's CPU.
 *
 * <p>The budget adapts, so an idle loop does not burn its core: a poll that finds I/O (or a
 * sleep that I/O ended within the longest poll) sets it to the most; a poll that finds no
 * I/O (it runs out, or a task or the next timer ends it) halves it, and below a microsecond it
 * is none. A loop that goes idle so polls for
 * about twice the longest poll in all, then sleeps at once until work again comes within the
 * longest poll of the loop going idle. Owned by the loop thread.
 */
final class BusyPoll {

    /** A budget below this is none: a poll shorter than a selection is not worth its call. */
    static final long MIN_NANOS = 1_000;

    private final long maxNanos;
    private long budgetNanos;
    /** Polls that found work, and polls that ran out: for tests and figures. */
    private long hits;
    private long misses;

    /**
     * A policy with a full budget.
     *
     * @param maxNanos the longest poll, more than 0
     */
    BusyPoll(long maxNanos) {
        if (maxNanos <= 0) {
            throw new IllegalArgumentException("maxNanos must be > 0, got " + maxNanos);
        }
        this.maxNanos = maxNanos;
        this.budgetNanos = maxNanos;
    }

    /** @return how long the next poll may last, 0 for none */
    long budgetNanos() {
        return budgetNanos;
    }

    /** The poll found I/O: poll as long as allowed next time. */
    void found() {
        hits++;
        budgetNanos = maxNanos;
    }

    /** The poll found no I/O: halve the budget, to none below {@link #MIN_NANOS}. */
    void missed() {
        misses++;
        long half = budgetNanos >>> 1;
        // half, or 0 below MIN_NANOS, without a branch: one first taken when the load stops
        // would send the compiled loop back to the interpreter.
        budgetNanos = half & ((MIN_NANOS - 1 - half) >> 63);
    }

    /**
     * The loop slept and I/O woke it.
     *
     * @param idleNanos from the loop going idle (its poll's start) to its waking
     */
    void woke(long idleNanos) {
        if (idleNanos <= maxNanos) {
            budgetNanos = maxNanos; // a full poll would have caught it
        }
    }

    /** @return polls that found work */
    long hits() {
        return hits;
    }

    /** @return polls that found no I/O */
    long misses() {
        return misses;
    }
}
