package org.wharf.launcher;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

/**
 * The console's prompt waits for the endpoints configured in etc/ to settle, so that their
 * start-up lines come before it (a fail-safe deadline bounds the wait).
 */
class SettleIT {

    /** What Settle reads reflectively: the runtime's DTO shape. */
    public static final class Endpoint {
        public volatile String state;

        Endpoint(String state) {
            this.state = state;
        }
    }

    /** As RuntimeDTO. */
    public static final class Dto {
        public Endpoint[] endpoints;
    }

    /** As EndpointRuntime. */
    public static final class Runtime {
        volatile Endpoint[] endpoints;

        public Dto getRuntimeDTO() {
            Dto dto = new Dto();
            dto.endpoints = endpoints;
            return dto;
        }
    }

    private static BundleContext contextWith(Runtime runtime) {
        ServiceReference<?> ref = (ServiceReference<?>) Proxy.newProxyInstance(SettleIT.class.getClassLoader(),
                new Class<?>[] {ServiceReference.class}, (p, m, a) -> null);
        return (BundleContext) Proxy.newProxyInstance(SettleIT.class.getClassLoader(), new Class<?>[] {BundleContext.class},
                (p, m, a) -> switch (m.getName()) {
                    case "getServiceReference" -> "org.wharf.endpoints.api.EndpointRuntime".equals(a[0]) ? ref : null;
                    case "getService" -> runtime;
                    case "ungetService" -> true;
                    default -> throw new UnsupportedOperationException(m.getName());
                });
    }

    @Test
    void waitsUntilEveryConfiguredEndpointIsThereAndNoneWaits(@TempDir Path etc) throws Exception {
        Files.writeString(etc.resolve("org.wharf.server-echo.cfg"), "");
        Files.writeString(etc.resolve("org.wharf.server-http.cfg"), "");
        Runtime runtime = new Runtime();
        runtime.endpoints = new Endpoint[] {new Endpoint("LISTENING")}; // the second not yet there
        CompletableFuture<Long> returned = CompletableFuture.supplyAsync(() -> {
            try {
                Settle.endpoints(contextWith(runtime), etc, 20_000);
                return System.nanoTime();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        Endpoint http = new Endpoint("WAITING");
        runtime.endpoints = new Endpoint[] {new Endpoint("LISTENING"), http};
        assertTrue(!returned.isDone(), "returned with an endpoint waiting");
        long settled = System.nanoTime();
        http.state = "FAILED"; // settled: failing is an answer, and its warning is printed by now
        long at = returned.get(10, TimeUnit.SECONDS);
        assertTrue(at >= settled, "returned only once settled");
    }

    @Test
    void promptsAnywayAtTheDeadline(@TempDir Path etc) throws Exception {
        Files.writeString(etc.resolve("org.wharf.server-kv.cfg"), "");
        Runtime runtime = new Runtime();
        runtime.endpoints = new Endpoint[] {new Endpoint("WAITING")}; // its protocol never comes
        long start = System.nanoTime();
        Settle.endpoints(contextWith(runtime), etc, 300);
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(millis >= 300 && millis < 10_000, millis + " ms");
    }
}
