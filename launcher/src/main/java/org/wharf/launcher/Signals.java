package org.wharf.launcher;

import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

import org.osgi.framework.launch.Framework;

/**
 * SIGTERM and SIGINT stop the framework instead of the JVM: the endpoints' graceful shutdown
 * (not ready, the grace period, draining) runs while the framework stops, and {@link Main}
 * exits 0 once it has, as a supervisor expects of a stop it asked for. A second signal while
 * that runs exits at once (status 130), for whoever does not want to wait.
 */
final class Signals {

    private Signals() {
    }

    /**
     * Installs the handlers.
     *
     * @param framework the framework to stop
     * @param out the console
     */
    static void onStop(Framework framework, PrintStream out) {
        AtomicBoolean stopping = new AtomicBoolean();
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), signal -> {
                    if (!stopping.compareAndSet(false, true)) {
                        out.println("SIG" + signal.getName() + " again: stopping at once");
                        Runtime.getRuntime().halt(130);
                    }
                    // Not on the signal dispatcher's thread: the graceful shutdown takes its time.
                    Thread stopper = new Thread(() -> {
                        try {
                            framework.stop();
                        } catch (Exception e) {
                            e.printStackTrace(out);
                            Runtime.getRuntime().halt(1);
                        }
                    }, "wharf-stop");
                    stopper.start();
                });
            } catch (IllegalArgumentException unavailable) {
                // This JVM does not let the signal be handled (-Xrs): the shutdown hook stops the framework.
            }
        }
    }

    /**
     * How long a stop may take: the endpoints' grace period and drain deadline, plus time for
     * the bundles to stop.
     *
     * @param framework the framework, for its properties
     * @return the longest a stop should take
     */
    static Duration stopTimeout(Framework framework) {
        return Duration.ofMillis(millis(framework, "wharf.shutdown.grace", 0)
                + millis(framework, "wharf.shutdown.drain", 10_000) + 10_000);
    }

    private static long millis(Framework framework, String property, long fallback) {
        String value = framework.getBundleContext() == null ? null : framework.getBundleContext().getProperty(property);
        try {
            return value == null ? fallback : Math.max(0, Long.parseLong(value.trim()));
        } catch (NumberFormatException e) {
            return fallback; // the endpoints say so, naming the property
        }
    }
}
