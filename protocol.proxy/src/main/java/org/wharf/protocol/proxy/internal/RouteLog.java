package org.wharf.protocol.proxy.internal;

import java.lang.System.Logger.Level;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Supplier;

/**
 * A route's lines that one client, or one upstream, can cause once per connection: per kind,
 * the first in a window of 10 s is logged and the rest are counted, their count said with the
 * next line of the kind. Protocol bundles do not import transport.core's {@code LogLimiter};
 * this is its shape for a fixed set of kinds, lock-free, allocating nothing for a line not
 * logged. Thread-safe.
 */
final class RouteLog {

    /** What a line is about: one window each. */
    enum Kind {
        /** No upstream took a client's connection. */
        NO_UPSTREAM,
        /** An upstream failed a client, and the next is tried. */
        RETRYING,
        /** An upstream failed a client's connection once it was made. */
        UPSTREAM_FAILED,
        /** A client's TLS was not terminated. */
        TLS_REFUSED,
        /** A connection closed by the idle timeout. */
        IDLE
    }

    static final long WINDOW_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final long NEVER = Long.MIN_VALUE;

    private final System.Logger logger;
    /** Per kind: when its last line was logged, or {@link #NEVER}. */
    private final AtomicLongArray lineAt = new AtomicLongArray(Kind.values().length);
    /** Per kind: lines not logged since the last one. */
    private final AtomicLongArray suppressed = new AtomicLongArray(Kind.values().length);

    RouteLog(System.Logger logger) {
        this.logger = logger;
        for (int i = 0; i < lineAt.length(); i++) {
            lineAt.set(i, NEVER);
        }
    }

    /**
     * Logs a line unless one of its kind was logged within the window; then it is counted.
     *
     * @return whether it was logged
     */
    boolean log(Level level, Kind kind, Supplier<String> message, Throwable error) {
        if (!logger.isLoggable(level)) {
            return false;
        }
        int k = kind.ordinal();
        long now = System.nanoTime();
        long at = lineAt.get(k);
        if (at != NEVER && now - at < WINDOW_NANOS || !lineAt.compareAndSet(k, at, now)) {
            suppressed.incrementAndGet(k);
            return false;
        }
        long more = suppressed.getAndSet(k, 0);
        String line = message.get();
        if (more > 0) {
            // (A first line that lost a race to another thread's has no window before it.)
            line += at == NEVER ? String.format(" (and %,d more like it)", more) : String.format(
                    " (and %,d more like it in the %d s before)", more, Math.max(1, (now - at) / 1_000_000_000L));
        }
        logger.log(level, line, error);
        return true;
    }
}
