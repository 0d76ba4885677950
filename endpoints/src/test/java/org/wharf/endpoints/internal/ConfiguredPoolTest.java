package org.wharf.endpoints.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.wharf.transport.api.ConnectOptions;
import org.wharf.transport.api.TlsOptions;
import org.wharf.transport.tck.LogCapture;

/** An {@code org.wharf.client.pool} configuration read into the pool's settings, and its mistakes logged once. */
class ConfiguredPoolTest {

    private final Whiteboard whiteboard = new Whiteboard();

    private static Map<String, Object> configuration(Object... more) {
        Map<String, Object> properties = new HashMap<>(Map.of("name", "upstream", "host", "127.0.0.1", "port", 6379,
                "protocol", "redis"));
        for (int i = 0; i < more.length; i += 2) {
            properties.put((String) more[i], more[i + 1]);
        }
        return properties;
    }

    /** The warnings a configuration logs when the whiteboard looks at it twice. */
    private List<String> warnings(Map<String, Object> properties) {
        try (LogCapture log = new LogCapture()) {
            ConfiguredPool pool = new ConfiguredPool(whiteboard, "org.wharf.client.pool~upstream", properties);
            pool.reconcile(null);
            pool.reconcile(null);
            return log.warnings();
        }
    }

    @Test
    void connectTimeoutIsReadWithItsDefaultAndAppliedToTheConnects() {
        assertEquals(Duration.ofSeconds(30), new ConfiguredPool(whiteboard, "p", configuration()).options(null).connect()
                .timeout());
        ConfiguredPool configured = new ConfiguredPool(whiteboard, "p", configuration("connectTimeout", "2500"));
        assertEquals(Duration.ofMillis(2500), configured.options(null).connect().timeout());
        TlsOptions tls = TlsOptions.of(() -> {
            throw new AssertionError("not asked for a context");
        });
        ConnectOptions overTls = configured.options(tls).connect();
        assertEquals(Duration.ofMillis(2500), overTls.timeout(), "with TLS too");
        assertSame(tls, overTls.tls().orElseThrow());
    }

    @Test
    void aConnectTimeoutThatCannotBeUsedIsLoggedOnceNamingPropertyAndValue() {
        assertEquals(List.of("pool upstream: connectTimeout = 'soon': not a whole number"),
                warnings(configuration("connectTimeout", "soon")));
        assertEquals(List.of("pool upstream: connectTimeout = 0: at least 1"), warnings(configuration("connectTimeout", 0)));
    }

    @Test
    void maxWaitersIsReadWithItsDefault() {
        assertEquals(1000, new ConfiguredPool(whiteboard, "p", configuration()).maxWaiters());
        assertEquals(5, new ConfiguredPool(whiteboard, "p", configuration("maxWaiters", "5")).maxWaiters());
        assertEquals(0, new ConfiguredPool(whiteboard, "p", configuration("maxWaiters", 0)).maxWaiters());
    }

    @Test
    void aMaxWaitersThatCannotBeUsedIsLoggedOnceNamingPropertyAndValue() {
        assertEquals(List.of("pool upstream: maxWaiters = '-1': at least 0"), warnings(configuration("maxWaiters", "-1")));
        assertEquals(List.of("pool upstream: maxWaiters = 'many': not a whole number"),
                warnings(configuration("maxWaiters", "many")));
    }
}
