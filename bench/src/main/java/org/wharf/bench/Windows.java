package org.wharf.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * When the driver measures: windows of one length, each starting at an offset from the
 * moment the load starts (every connection open, every handshake done). The default is one
 * window after a short warm-up; {@code --warmup SECONDS} adds a second one after a longer
 * warm-up in the same run, so the first seconds of a server and its steady state are
 * reported side by side.
 *
 * <p>{@link #start} gives the clock one run of load consults: it tells a {@link Listener}
 * each window's opening and closing, once each and in order, at the first moment the load
 * looks at the time past it; the driver uses that to have each server count its CPU time over
 * exactly the window the driver counts its work in.
 */
final class Windows {

    /** Told when a window opens and closes. */
    interface Listener {

        /** Does nothing. */
        Listener NONE = new Listener() {
            @Override
            public void opened(int window) {
            }

            @Override
            public void closed(int window) {
            }
        };

        /**
         * A window opened: the load counts its work from now.
         *
         * @param window the window's index
         */
        void opened(int window);

        /**
         * A window closed: the load has stopped counting its work for it.
         *
         * @param window the window's index
         */
        void closed(int window);
    }

    private final long[] starts;
    private final long length;

    /**
     * Windows of one length at the given offsets.
     *
     * @param starts each window's offset from the start of the load, in increasing order, none
     *     before the previous window has closed
     * @param length each window's length, positive
     * @throws IllegalArgumentException naming the window that overlaps or the value that is wrong
     */
    Windows(List<Duration> starts, Duration length) {
        if (starts.isEmpty()) {
            throw new IllegalArgumentException("at least one measuring window");
        }
        if (length.isNegative() || length.isZero()) {
            throw new IllegalArgumentException("a measuring window must last, got " + length);
        }
        this.length = length.toNanos();
        this.starts = new long[starts.size()];
        for (int i = 0; i < starts.size(); i++) {
            long start = starts.get(i).toNanos();
            if (start < 0) {
                throw new IllegalArgumentException("window " + i + " starts before the load: " + starts.get(i));
            }
            if (i > 0 && start < this.starts[i - 1] + this.length) {
                throw new IllegalArgumentException("window " + i + " at " + starts.get(i) + " starts before window "
                        + (i - 1) + " ends (" + Duration.ofNanos(this.starts[i - 1] + this.length) + ")");
            }
            this.starts[i] = start;
        }
    }

    /**
     * One window after a warm-up.
     *
     * @param warmup the load before the window
     * @param measure the window's length
     * @return the windows
     */
    static Windows of(Duration warmup, Duration measure) {
        return new Windows(List.of(warmup), measure);
    }

    /**
     * One window after {@code warmup} and, unless {@code steady} is null, a second one after
     * {@code steady} of load.
     *
     * @param warmup the load before the first window
     * @param measure each window's length
     * @param steady the load before the second window, or null for one window
     * @return the windows
     * @throws IllegalArgumentException if the second window would start before the first ends
     */
    static Windows of(Duration warmup, Duration measure, Duration steady) {
        List<Duration> starts = new ArrayList<>(List.of(warmup));
        if (steady != null) {
            starts.add(steady);
        }
        return new Windows(starts, measure);
    }

    /** @return how many windows */
    int count() {
        return starts.length;
    }

    /** @return each window's length */
    Duration length() {
        return Duration.ofNanos(length);
    }

    /**
     * @param window a window's index
     * @return its offset from the start of the load
     */
    Duration start(int window) {
        return Duration.ofNanos(starts[window]);
    }

    /** @return the offset at which the last window closes: how long the load runs */
    long spanNanos() {
        return starts[starts.length - 1] + length;
    }

    /**
     * The window an offset falls in.
     *
     * @param offsetNanos nanoseconds since the start of the load
     * @return the window's index, or -1 if the offset is in none
     */
    int at(long offsetNanos) {
        for (int i = 0; i < starts.length; i++) {
            if (offsetNanos >= starts[i] && offsetNanos < starts[i] + length) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Starts the clock of one run of load.
     *
     * @param startNanos {@link System#nanoTime()} when the load starts
     * @param listener told of every opening and closing
     * @return the clock
     */
    Clock start(long startNanos, Listener listener) {
        return new Clock(startNanos, listener);
    }

    /**
     * One run's view of the windows. Boundary {@code 2i} is window {@code i} opening, boundary
     * {@code 2i + 1} its closing; {@link #advance} passes every boundary up to the time given,
     * so a late look (a long pause of the load) still opens and closes each window in order.
     * For one thread.
     */
    final class Clock {
        private final long startNanos;
        private final Listener listener;
        private int next;

        private Clock(long startNanos, Listener listener) {
            this.startNanos = startNanos;
            this.listener = listener;
        }

        /** @return {@link System#nanoTime()} when the load started */
        long startNanos() {
            return startNanos;
        }

        private long boundary(int k) {
            return startNanos + starts[k / 2] + (k % 2 == 0 ? 0 : length);
        }

        /**
         * Passes every boundary at or before {@code now}, telling the listener.
         *
         * @param now {@link System#nanoTime()}, not earlier than at the last call
         * @return the window open at {@code now}, or -1
         */
        int advance(long now) {
            while (next < 2 * starts.length && now - boundary(next) >= 0) {
                if (next % 2 == 0) {
                    listener.opened(next / 2);
                } else {
                    listener.closed(next / 2);
                }
                next++;
            }
            return next % 2 == 1 ? next / 2 : -1;
        }

        /**
         * @param now {@link System#nanoTime()}
         * @return whether the last window has closed by {@code now}
         */
        boolean finished(long now) {
            return now - (startNanos + spanNanos()) >= 0;
        }

        /**
         * @param now {@link System#nanoTime()}
         * @return nanoseconds from {@code now} to the next boundary not yet passed (0 if it is
         *     due), or to the end once every boundary is passed
         */
        long nanosToNextBoundary(long now) {
            long at = next < 2 * starts.length ? boundary(next) : startNanos + spanNanos();
            return Math.max(0, at - now);
        }
    }
}
