package org.wharf.protocol.proxy;

import java.lang.System.Logger.Level;
import java.util.function.Supplier;

import org.osgi.service.log.LoggerFactory;

/** Where the proxy logs: the OSGi Log Service while there is one, {@link System.Logger} otherwise. */
interface ProxyLog {

    /**
     * A failure that costs a connection (an upstream down, a bad route).
     *
     * @param message what happened, naming the route, the client and the upstream
     * @param error the cause, or {@code null}
     */
    void warn(String message, Throwable error);

    /**
     * A fact worth a line in a production log.
     *
     * @param message the fact
     */
    void info(String message);

    /** @return a log writing to {@link System.Logger} {@code org.wharf.protocol.proxy} */
    static ProxyLog system() {
        System.Logger logger = System.getLogger("org.wharf.protocol.proxy");
        return new ProxyLog() {
            @Override
            public void warn(String message, Throwable error) {
                logger.log(Level.WARNING, message, error);
            }

            @Override
            public void info(String message) {
                logger.log(Level.INFO, message);
            }
        };
    }

    /**
     * A log writing to the OSGi Log Service when {@code factory} supplies one.
     *
     * @param factory the current LoggerFactory, or {@code null} when there is none
     * @return the log
     */
    static ProxyLog osgi(Supplier<LoggerFactory> factory) {
        ProxyLog fallback = system();
        return new ProxyLog() {
            @Override
            public void warn(String message, Throwable error) {
                LoggerFactory f = factory.get();
                if (f == null) {
                    fallback.warn(message, error);
                } else {
                    f.getLogger("org.wharf.protocol.proxy").warn(message, error);
                }
            }

            @Override
            public void info(String message) {
                LoggerFactory f = factory.get();
                if (f == null) {
                    fallback.info(message);
                } else {
                    f.getLogger("org.wharf.protocol.proxy").info(message);
                }
            }
        };
    }
}
