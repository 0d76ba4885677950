package org.wharf.transport.nio.internal;

import java.util.function.Function;

import org.wharf.transport.api.WriteBufferLimits;

/**
 * The loops that providers made by {@link java.util.ServiceLoader} share, outside a
 * framework: created on first use, daemon threads, for the life of the process. Their settings
 * are the configuration PID's properties given as system properties of the same names,
 * {@code -Dorg.wharf.transport.nio.busyPollMicros=50} for one; a value that is not a number
 * or out of range is logged, naming the property and the value, and its default used.
 */
final class SharedGroup {

    /** The prefix of the system properties: the configuration PID and a dot. */
    static final String PREFIX = "org.wharf.transport.nio.";

    private static final System.Logger LOG = System.getLogger("org.wharf.transport.nio");

    private SharedGroup() {
    }

    private static final class Holder {
        static final NioEventLoopGroup GROUP = new NioEventLoopGroup("wharf-nio-shared", settings(System::getProperty));
        static final Resolver RESOLVER = new Resolver();
    }

    static NioEventLoopGroup get() {
        return Holder.GROUP;
    }

    static Resolver resolver() {
        return Holder.RESOLVER;
    }

    /**
     * The settings the properties give, each unset or wrong one at its default.
     *
     * @param properties a property's value by its full name, or null when unset
     * @return the settings
     */
    static NioSettings settings(Function<String, String> properties) {
        NioSettings d = NioSettings.DEFAULT;
        int high = (int) number(properties, "writeBufferHigh", d.writeBufferLimits().high(), 0, Integer.MAX_VALUE);
        int low = NioSettings.lowMark(high, (int) number(properties, "writeBufferLow", NioSettings.UNSET_LOW,
                NioSettings.UNSET_LOW, Integer.MAX_VALUE));
        WriteBufferLimits limits = d.writeBufferLimits();
        if (low <= high) {
            limits = new WriteBufferLimits(high, low);
        } else {
            LOG.log(System.Logger.Level.WARNING, PREFIX + "writeBufferLow=" + low + " is above " + PREFIX
                    + "writeBufferHigh=" + high + "; both take their defaults (" + limits.high() + ", " + limits.low()
                    + ")");
        }
        return new NioSettings(
                (int) number(properties, "loopThreads", d.loopThreads(), 0, 1024),
                (int) number(properties, "readBufferSize", d.readBufferSize(), 512, 16 * 1024 * 1024),
                limits,
                (int) number(properties, "udpBatch", d.udpBatch(), 0, 64),
                java.time.Duration.ofMillis(number(properties, "closeTimeout", d.closeTimeout().toMillis(), 0,
                        Long.MAX_VALUE / 1_000_000)),
                (int) number(properties, "busyPollMicros", d.busyPollMicros(), 0, NioSettings.MAX_BUSY_POLL_MICROS));
    }

    private static long number(Function<String, String> properties, String name, long fallback, long min, long max) {
        String value = properties.apply(PREFIX + name);
        if (value == null) {
            return fallback;
        }
        try {
            long n = Long.parseLong(value.trim());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        LOG.log(System.Logger.Level.WARNING, PREFIX + name + "=" + value + " is not a number in " + min + ".." + max
                + "; the default " + fallback + " is used");
        return fallback;
    }
}
