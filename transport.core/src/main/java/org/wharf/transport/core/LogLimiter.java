package org.wharf.transport.core;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Logs what clients can cause (a malformed input, a failed handshake) without letting them
 * flood the log: per kind of event, the first occurrence in a window is logged, the rest are
 * counted, and the count rides along with the next line logged for that kind ("and 1,234 more
 * like it in the last 10 s"). Thread-safe; the kinds are a handful of constants per caller,
 * never a client's address.
 */
public final class LogLimiter {

    private static final class Window {
        volatile long start;
        final AtomicLong suppressed = new AtomicLong();

        Window(long start) {
            this.start = start;
        }
    }

    /**
     * Loads {@link Window} with this class: a limiter may first log when the process has no
     * file descriptor left (a listener out of them), and loading a class from a folder needs one.
     */
    private static final Window LOADED = new Window(0);

    private final System.Logger logger;
    private final long windowNanos;
    private final LongSupplier clock;
    private final ConcurrentHashMap<String, Window> windows = new ConcurrentHashMap<>();

    /**
     * A limiter for one logger.
     *
     * @param logger where the lines go
     * @param window how long one logged line stands for the same kind of event
     */
    public LogLimiter(System.Logger logger, Duration window) {
        this(logger, window, System::nanoTime);
    }

    /** A limiter on a given clock (nanoseconds), for tests. */
    LogLimiter(System.Logger logger, Duration window, LongSupplier clock) {
        this.logger = Objects.requireNonNull(logger, "logger");
        this.windowNanos = window.toNanos();
        this.clock = clock;
    }

    /**
     * Logs an event unless one of its kind was logged within the window; then it is counted.
     *
     * @param level the level
     * @param kind what kind of event (a constant)
     * @param message makes the line, only when it is logged
     * @param error the cause to log with it, or {@code null}
     * @return {@code true} if a line was logged
     */
    public boolean log(Level level, String kind, Supplier<String> message, Throwable error) {
        if (!logger.isLoggable(level)) {
            return false;
        }
        long now = clock.getAsLong();
        Window w = windows.get(kind);
        if (w == null) {
            Window fresh = new Window(now);
            w = windows.putIfAbsent(kind, fresh);
            if (w == null) {
                logger.log(level, message.get(), error);
                return true;
            }
        }
        long start = w.start;
        if (now - start < windowNanos) {
            w.suppressed.incrementAndGet();
            return false;
        }
        synchronized (w) {
            if (w.start != start) {
                w.suppressed.incrementAndGet(); // another thread opened the next window
                return false;
            }
            w.start = now;
        }
        long more = w.suppressed.getAndSet(0);
        String line = message.get();
        if (more > 0) {
            line += String.format(" (and %,d more like it in the %d s before)", more,
                    Math.max(1, (now - start) / 1_000_000_000L));
        }
        logger.log(level, line, error);
        return true;
    }

    /**
     * How many events of a kind are counted and not yet reported.
     *
     * @param kind the kind
     * @return the count
     */
    public long suppressed(String kind) {
        Window w = windows.get(kind);
        return w == null ? 0 : w.suppressed.get();
    }
}
