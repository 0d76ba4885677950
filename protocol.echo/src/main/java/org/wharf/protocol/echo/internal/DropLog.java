package org.wharf.protocol.echo.internal;

import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * When a kind of dropped datagram gets a log line: the first of its kind at once, then at most
 * one a window, each saying how many of its kind were dropped since the line before. A flood
 * is a line a window, not a line a datagram, and a later attack is heard of, not only the
 * first. The shape of transport.core's {@code LogLimiter}, which protocol bundles do not
 * import; confined to one socket's event loop, and nothing is allocated per drop.
 */
final class DropLog {

    /** The drops that are logged, one window each. */
    enum Kind {
        OWN_ADDRESS("whose source is the endpoint itself", "echo.udp.dropped.ownAddress"),
        REFLECTOR_PORT("from ports that answer datagrams themselves", "echo.udp.dropped.reflectorPort"),
        SOURCE_RATE("over the per-source rate", "echo.udp.dropped.sourceRate"),
        TOTAL_RATE("over the total rate", "echo.udp.dropped.totalRate");

        /** Which datagrams, after "dropped N datagrams". */
        final String what;
        /** The counter in the endpoint's figures. */
        final String counter;

        Kind(String what, String counter) {
            this.what = what;
            this.counter = counter;
        }
    }

    private static final int KINDS = Kind.values().length;

    private final LongSupplier clock;
    private final long window;
    /** Per kind: drops since its last line, this one included. */
    private final long[] dropped = new long[KINDS];
    /** Per kind: when its last line was, if {@link #logged}. */
    private final long[] lineAt = new long[KINDS];
    private final boolean[] logged = new boolean[KINDS];
    /** Per kind: how long before its newest line the one before it was; -1 for none. */
    private final long[] gap = new long[KINDS];

    /**
     * @param clock nanoseconds, as {@link System#nanoTime()}
     * @param window nanoseconds one line stands for its kind
     */
    DropLog(LongSupplier clock, long window) {
        this.clock = clock;
        this.window = window;
    }

    /**
     * Counts one drop.
     *
     * @param kind why it was dropped
     * @return {@code 0}, or when a line is due now, how many of this kind it stands for: the
     *         drops since its last line, this one included
     */
    long drop(Kind kind) {
        int k = kind.ordinal();
        long n = ++dropped[k];
        long now = clock.getAsLong();
        if (logged[k] && now - lineAt[k] < window) {
            return 0;
        }
        gap[k] = logged[k] ? now - lineAt[k] : -1;
        logged[k] = true;
        lineAt[k] = now;
        dropped[k] = 0;
        return n;
    }

    /**
     * @param kind a kind whose line {@link #drop(Kind)} just said is due
     * @return what that line's count is since, for the line
     */
    String since(Kind kind) {
        long g = gap[kind.ordinal()];
        return g < 0 ? "since the socket bound"
                : "in the " + Math.max(1, TimeUnit.NANOSECONDS.toSeconds(g)) + " s since the last line like it";
    }

    /**
     * @param kind why
     * @return the drops of this kind no line has told of yet
     */
    long unlogged(Kind kind) {
        return dropped[kind.ordinal()];
    }

    /**
     * @param n a count of datagrams
     * @return "1 datagram", "1,234 datagrams"
     */
    static String datagrams(long n) {
        return String.format(Locale.ROOT, "%,d datagram%s", n, n == 1 ? "" : "s");
    }
}
