package org.wharf.transport.ssl.internal;

import java.lang.System.Logger.Level;

/**
 * Where the TLS layer logs: the OSGi Log Service inside a framework, {@link System.Logger}
 * outside one.
 */
public interface TlsLog {

    /** Logs through {@link System.Logger}. */
    TlsLog SYSTEM = new TlsLog() {
        private final System.Logger logger = System.getLogger("org.wharf.transport.ssl");

        @Override
        public void warn(String message, Throwable error) {
            logger.log(Level.WARNING, message, error);
        }

        @Override
        public void info(String message) {
            logger.log(Level.INFO, message);
        }
    };

    /**
     * A failure that costs one connection, or a setting that weakens security.
     *
     * @param message what happened, naming the peer
     * @param error the cause, or {@code null}
     */
    void warn(String message, Throwable error);

    /**
     * A fact worth a line in a production log.
     *
     * @param message the fact
     */
    void info(String message);
}
