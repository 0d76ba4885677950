package org.wharf.transport.api;

import java.util.Arrays;
import java.util.concurrent.atomic.LongAdder;

/**
 * A distribution of values in fixed buckets, cheap enough for a hot path: one binary search
 * over the bounds and two {@link LongAdder} increments per value, no lock, no allocation.
 * Buckets are fixed when it is made, so what an exposition shows never changes shape (as a
 * Prometheus histogram's {@code le} labels). Thread-safe.
 *
 * <p>Durations are recorded in nanoseconds against {@link #DURATION_BOUNDS_NANOS}: from
 * 100 µs to 30 min, enough for a loop's lag and a connection's life alike.
 */
public final class Histogram {

    /** The bucket bounds of {@link #ofDurations()}: upper bounds in nanoseconds, ascending. */
    private static final long[] DURATION_BOUNDS_NANOS = {100_000L, 250_000L, 500_000L, 1_000_000L, 2_500_000L,
        5_000_000L, 10_000_000L, 25_000_000L, 50_000_000L, 100_000_000L, 250_000_000L, 500_000_000L,
        1_000_000_000L, 2_500_000_000L, 5_000_000_000L, 10_000_000_000L, 30_000_000_000L, 60_000_000_000L,
        300_000_000_000L, 1_800_000_000_000L};

    private final long[] bounds;
    /** One per bound, and the last for values above every bound. */
    private final LongAdder[] buckets;
    private final LongAdder sum = new LongAdder();

    /**
     * A histogram with the given upper bounds.
     *
     * @param upperBounds the inclusive upper bound of each bucket, strictly ascending; a last
     *        bucket takes every larger value
     * @throws IllegalArgumentException if the bounds are empty or not strictly ascending
     */
    public Histogram(long... upperBounds) {
        if (upperBounds.length == 0) {
            throw new IllegalArgumentException("a histogram needs at least one bucket bound");
        }
        for (int i = 1; i < upperBounds.length; i++) {
            if (upperBounds[i] <= upperBounds[i - 1]) {
                throw new IllegalArgumentException("bucket bounds must ascend strictly, got " + upperBounds[i]
                        + " after " + upperBounds[i - 1]);
            }
        }
        this.bounds = upperBounds.clone();
        this.buckets = new LongAdder[bounds.length + 1];
        for (int i = 0; i < buckets.length; i++) {
            buckets[i] = new LongAdder();
        }
    }

    /**
     * A histogram of durations in nanoseconds, with the platform's fixed duration buckets.
     *
     * @return a new, empty histogram
     */
    public static Histogram ofDurations() {
        return new Histogram(DURATION_BOUNDS_NANOS);
    }

    /**
     * Counts one value.
     *
     * @param value the value (a duration in nanoseconds for {@link #ofDurations()}); a
     *        negative one counts as zero
     */
    public void record(long value) {
        long v = Math.max(0, value);
        int i = Arrays.binarySearch(bounds, v);
        buckets[i >= 0 ? i : -i - 1].increment();
        sum.add(v);
    }

    /**
     * What it has counted so far.
     *
     * @return a new snapshot
     */
    public Snapshot snapshot() {
        long[] counts = new long[buckets.length];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = buckets[i].sum();
        }
        return new Snapshot(bounds, counts, sum.sum());
    }

    /** A histogram at one moment: immutable. */
    public static final class Snapshot {

        private final long[] bounds;
        private final long[] counts;
        private final long sum;

        Snapshot(long[] bounds, long[] counts, long sum) {
            this.bounds = bounds;
            this.counts = counts;
            this.sum = sum;
        }

        /**
         * The upper bounds of the buckets, ascending (the last bucket, for larger values, has none).
         *
         * @return a copy
         */
        public long[] upperBounds() {
            return bounds.clone();
        }

        /**
         * The values counted in each bucket (not cumulative): one per bound, then the larger values.
         *
         * @return a copy, one longer than {@link #upperBounds()}
         */
        public long[] bucketCounts() {
            return counts.clone();
        }

        /**
         * The values counted.
         *
         * @return the count, the sum of {@link #bucketCounts()}
         */
        public long count() {
            long n = 0;
            for (long c : counts) {
                n += c;
            }
            return n;
        }

        /**
         * The sum of the values counted.
         *
         * @return the sum
         */
        public long sum() {
            return sum;
        }

        @Override
        public String toString() {
            return count() + " values, sum " + sum + ", buckets " + Arrays.toString(counts);
        }
    }
}
