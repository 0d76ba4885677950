package org.wharf.transport.nio.internal;

import java.lang.System.Logger.Level;
import java.util.function.Supplier;

/**
 * Where the transports log. Inside a framework it is backed by the OSGi Log Service; on a
 * plain class or module path by {@link System.Logger}.
 */
public interface Log {

    /** Logs through {@link System.Logger}, named after the transport bundle. */
    Log SYSTEM = new Log() {
        private final System.Logger logger = System.getLogger("org.wharf.transport.nio");

        @Override
        public void warn(String message, Throwable error) {
            logger.log(Level.WARNING, message, error);
        }

        @Override
        public void info(String message) {
            logger.log(Level.INFO, message);
        }

        @Override
        public void debug(Supplier<String> message) {
            logger.log(Level.DEBUG, message);
        }
    };

    /**
     * Something failed that costs one connection (or one datagram), not the service.
     *
     * @param message what failed, naming the connection
     * @param error the cause, or {@code null}
     */
    void warn(String message, Throwable error);

    /**
     * A fact worth a line in a production log.
     *
     * @param message the fact
     */
    void info(String message);

    /**
     * Detail for debugging, built only when debug logging is on.
     *
     * @param message makes the message
     */
    void debug(Supplier<String> message);
}
