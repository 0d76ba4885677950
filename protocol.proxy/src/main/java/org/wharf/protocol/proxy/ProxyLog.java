package org.wharf.protocol.proxy;

import java.lang.System.Logger.Level;

/** Where the proxy logs: {@link System.Logger}, or the OSGi Log Service in a framework ({@link ProxyComponent}). */
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
}
