package org.wharf.launcher;

import java.io.IOException;
import java.lang.reflect.Array;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

/**
 * Waits, at start, until every endpoint configured in {@code etc/} has settled (listening or
 * failed, not waiting), so that the console's first prompt comes after what they log. The
 * runtime's types live in a bundle, so they are read reflectively.
 */
final class Settle {

    private Settle() {
    }

    /**
     * Returns once the endpoint runtime lists at least as many endpoints as {@code etc/} has
     * {@code org.wharf.*.cfg} files and none is waiting, or after {@code atMostMillis}.
     */
    static void endpoints(BundleContext context, Path etc, long atMostMillis) throws InterruptedException {
        long deadline = System.nanoTime() + atMostMillis * 1_000_000;
        int configured = configured(etc);
        Object lock = new Object();
        while (System.nanoTime() < deadline && !settled(context, configured)) {
            synchronized (lock) {
                lock.wait(50); // polling with a deadline: the runtime has no listener API to wait on
            }
        }
    }

    private static int configured(Path etc) {
        int n = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(etc, "org.wharf.*-*.cfg")) {
            for (Path ignored : files) {
                n++;
            }
        } catch (IOException e) {
            return 0;
        }
        return n;
    }

    private static boolean settled(BundleContext context, int configured) {
        ServiceReference<?> ref = context.getServiceReference("org.wharf.endpoints.api.EndpointRuntime");
        if (ref == null) {
            return false;
        }
        Object runtime = context.getService(ref);
        if (runtime == null) {
            return false;
        }
        try {
            Object dto = runtime.getClass().getMethod("getRuntimeDTO").invoke(runtime);
            Object endpoints = dto.getClass().getField("endpoints").get(dto);
            int n = Array.getLength(endpoints);
            if (n < configured) {
                return false;
            }
            for (int i = 0; i < n; i++) {
                Object e = Array.get(endpoints, i);
                if ("WAITING".equals(String.valueOf(e.getClass().getField("state").get(e)))) {
                    return false;
                }
            }
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return true; // a runtime we cannot read: do not hold the shell for it
        } finally {
            context.ungetService(ref);
        }
    }
}
