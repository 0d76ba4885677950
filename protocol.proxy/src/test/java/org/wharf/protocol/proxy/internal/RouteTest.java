package org.wharf.protocol.proxy.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Reading a route from configuration, and choosing upstreams. */
class RouteTest {

    @Test
    void roundRobinStartsAtEachUpstreamInTurnAndFallsBackToTheOthers() {
        Route route = parse(Map.of(Route.UPSTREAMS, new String[] {"a:1", "b:2", "c:3"}));
        assertEquals("[a:1, b:2, c:3]", route.candidates().toString());
        assertEquals("[b:2, c:3, a:1]", route.candidates().toString());
        assertEquals("[c:3, a:1, b:2]", route.candidates().toString());
        assertEquals("[a:1, b:2, c:3]", route.candidates().toString());
    }

    @Test
    void retriesLimitHowManyUpstreamsOneConnectionTries() {
        Route route = parse(Map.of(Route.UPSTREAMS, "a:1, b:2, c:3", Route.RETRIES, 1));
        assertEquals(2, route.candidates().size());
        Route none = parse(Map.of(Route.UPSTREAMS, "a:1, b:2, c:3", Route.RETRIES, "0"));
        assertEquals(1, none.candidates().size());
    }

    @Test
    void leastConnectionsPicksTheUpstreamWithFewestOpen() {
        Route route = parse(Map.of(Route.UPSTREAMS, "a:1,b:2,c:3", Route.BALANCING, "least-connections"));
        List<Route.Upstream> all = route.upstreams();
        all.get(0).active.set(5);
        all.get(1).active.set(1);
        all.get(2).active.set(3);
        for (int i = 0; i < 3; i++) {
            assertEquals("b:2", route.candidates().get(0).toString(), "whatever the rotation");
        }
        all.get(1).active.set(5);
        assertEquals("c:3", route.candidates().get(0).toString());
    }

    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource(delimiter = '|', value = {
        "proxy.upstreams|nohostport|proxy.upstreams = 'nohostport': not host:port",
        "proxy.upstreams|host:99999|proxy.upstreams = 'host:99999': the port is not 1..65535",
        "proxy.upstream.transport|udp|proxy.upstream.transport = 'udp': one of tcp, ssl",
        "proxy.balancing|random|proxy.balancing = 'random': one of round-robin, least-connections",
        "proxy.connectTimeout|0|proxy.connectTimeout = '0'",
        "proxy.retries|-1|proxy.retries = '-1'",
        "proxy.idleTimeout|soon|proxy.idleTimeout = 'soon'",
        "proxy.upstream.tls.ca|/etc/ca.pem|proxy.upstream.tls.ca is set but proxy.upstream.transport = tcp"})
    void aBadValueNamesItsPropertyAndValue(String property, String value, String message) {
        Map<String, Object> properties = new java.util.HashMap<>(Map.of(Route.UPSTREAMS, "a:1"));
        properties.put(property, value);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse(properties));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    /** Pools as a ConnectionPools service makes them, each recording whether it was closed. */
    private static final class Pools implements org.wharf.endpoints.api.ConnectionPools {
        final List<org.wharf.endpoints.api.ConnectionPool<?>> made = new java.util.ArrayList<>();
        final List<org.wharf.endpoints.api.ConnectionPool<?>> closed = new java.util.ArrayList<>();
        /** Connections in use and acquires waiting by pool, as the test sets them; none if unset. */
        final Map<Object, Integer> inUse = new java.util.IdentityHashMap<>();
        final Map<Object, Integer> waiting = new java.util.IdentityHashMap<>();

        @Override
        @SuppressWarnings("unchecked")
        public <P extends org.wharf.transport.api.Protocol> org.wharf.endpoints.api.ConnectionPool<P> create(
                org.wharf.transport.api.StreamTransportProvider transport, java.util.function.Supplier<P> factory,
                org.wharf.endpoints.api.PoolOptions options) {
            org.wharf.endpoints.api.ConnectionPool<P> pool = (org.wharf.endpoints.api.ConnectionPool<P>) java.lang.reflect
                    .Proxy.newProxyInstance(getClass().getClassLoader(),
                            new Class<?>[] {org.wharf.endpoints.api.ConnectionPool.class}, (proxy, method, args) ->
                                    switch (method.getName()) {
                                        case "close" -> {
                                            closed.add((org.wharf.endpoints.api.ConnectionPool<?>) proxy);
                                            yield java.util.concurrent.CompletableFuture.completedFuture(null);
                                        }
                                        case "inUse" -> inUse.getOrDefault(proxy, 0);
                                        case "waiting" -> waiting.getOrDefault(proxy, 0);
                                        case "hashCode" -> System.identityHashCode(proxy);
                                        case "equals" -> proxy == args[0];
                                        case "toString" -> "pool " + (made.indexOf(proxy) + 1);
                                        default -> null;
                                    });
            made.add(pool);
            return pool;
        }
    }

    private static org.wharf.transport.api.StreamTransportProvider transport() {
        return (org.wharf.transport.api.StreamTransportProvider) java.lang.reflect.Proxy.newProxyInstance(
                RouteTest.class.getClassLoader(), new Class<?>[] {org.wharf.transport.api.StreamTransportProvider.class},
                (proxy, method, args) -> method.getName().equals("hashCode") ? System.identityHashCode(proxy)
                        : method.getName().equals("equals") ? proxy == args[0] : null);
    }

    /**
     * A route outlives the pool service and the transport it made its pool with (an update of
     * the endpoints or the transport bundle): another of either gets a new pool. The old one is
     * retired, not closed, while a connection of it is in use or an acquire waits on it, and
     * for an acquire timeout (its connects under way finish there); then the next acquire
     * closes it, as closing the route does. Before, the route kept the first pool for good.
     */
    @Test
    void aPooledRouteMakesANewPoolWhenThePoolServiceOrTheTransportIsAnotherAndRetiresTheOld() {
        Route route = parse(Map.of(Route.UPSTREAMS, "a:1", Route.POOLED, "true", Route.PROTOCOL, "redis",
                Route.CONNECT_TIMEOUT, "1")); // the acquire timeout: 1 ms
        var services = new java.util.concurrent.atomic.AtomicReference<Pools>(new Pools());
        var tcp = new java.util.concurrent.atomic.AtomicReference<>(transport());
        ProxyServices now = new ProxyServices(kind -> kind.equals("tcp") ? tcp.get() : null, () -> null,
                services::get);
        Pools before = services.get();
        var first = route.pool(now);
        assertTrue(first == route.pool(now), "the same services: the same pool");

        services.set(new Pools());
        Pools after = services.get();
        before.inUse.put(first, 1);
        before.waiting.put(first, 1);
        var second = route.pool(now);
        assertTrue(second != first && after.made.equals(List.of(second)), "a new pool from the new service");
        assertEquals(1, route.retiredPools());
        awaitClosed(route, now, before, first, () -> {
            before.inUse.put(first, 0); // its last client gave its connection back
            before.waiting.put(first, 0); // and its last waiting acquire was served
        });

        tcp.set(transport());
        var third = route.pool(now);
        assertTrue(third != second && after.made.size() == 2, "a new pool on the new transport");
        awaitClosed(route, now, after, second, null); // nothing in use: closed after the acquire timeout
        assertTrue(third == route.pool(), "the pool made last");

        tcp.set(transport());
        after.inUse.put(third, 1);
        var fourth = route.pool(now);
        route.close();
        assertEquals(List.of(second, fourth, third), after.closed, "closing the route closes the retired pools too");
        tcp.set(null);
        assertThrows(IllegalStateException.class, () -> route.pool(now), "no transport of the route's kind");
    }

    /**
     * Acquires on the route until the retired pool is closed: if it is in use, not before
     * {@code free} frees it; then within 10 s (an acquire timeout of 1 ms has passed by then).
     */
    private static void awaitClosed(Route route, ProxyServices services, Pools pools, Object retired,
            Runnable free) {
        if (free != null) {
            for (int i = 0; i < 100; i++) {
                route.pool(services);
            }
            assertTrue(!pools.closed.contains(retired), "a retired pool in use or waited on stays open");
            free.run();
        }
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (!pools.closed.contains(retired)) {
            assertTrue(System.nanoTime() < deadline, "the retired pool is closed once free");
            route.pool(services);
        }
        assertEquals(0, route.retiredPools());
    }

    @Test
    void poolingOpaqueBytesIsRefusedNamingBothProperties() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse(Map.of(
                Route.UPSTREAMS, "a:1", Route.POOLED, "true")));
        assertTrue(e.getMessage().startsWith("proxy.pooled = true needs proxy.protocol = redis or http (it is tcp, the "
                + "default)"), e.getMessage());
        IllegalArgumentException explicit = assertThrows(IllegalArgumentException.class, () -> parse(Map.of(
                Route.UPSTREAMS, "a:1", Route.POOLED, true, Route.PROTOCOL, "tcp")));
        assertTrue(explicit.getMessage().contains("proxy.protocol = redis or http (it is tcp)"), explicit.getMessage());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> parse(Map.of(
                Route.UPSTREAMS, "a:1", Route.PROTOCOL, "memcached")));
        assertTrue(unknown.getMessage().contains("proxy.protocol = 'memcached': one of tcp, redis, http"),
                unknown.getMessage());
        assertTrue(parse(Map.of(Route.UPSTREAMS, "a:1", Route.POOLED, "true", Route.PROTOCOL, "redis")).pooled());
        assertTrue(parse(Map.of(Route.UPSTREAMS, "a:1", Route.POOLED, "true", Route.PROTOCOL, "HTTP")).pooled());
        assertEquals(Route.Application.TCP, parse(Map.of(Route.UPSTREAMS, "a:1")).application());
    }

    @Test
    void theEndpointRefusesAPooledOpaqueRouteBeforeItListens() {
        ProxyFactory factory = new ProxyFactory(new ProxyServices(kind -> null, () -> null, () -> null));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> factory.checkSettings(
                new org.wharf.protocol.api.ProtocolContext("gw", "tcp", Map.of(Route.UPSTREAMS, "a:1", Route.POOLED,
                        "true"), org.wharf.protocol.api.ConnectionHooks.NONE)));
        assertTrue(e.getMessage().contains("proxy.pooled") && e.getMessage().contains("proxy.protocol"), e.getMessage());
    }

    @Test
    void aRouteNeedsAnUpstream() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse(Map.of()));
        assertTrue(e.getMessage().contains("proxy.upstreams is missing (the route needs at least one upstream"),
                e.getMessage());
    }

    @Test
    void aMissingUpstreamTlsFileIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse(Map.of(
                Route.UPSTREAMS, "a:1", Route.TRANSPORT, "ssl", "proxy.upstream.tls.ca", "/nonexistent/ca.pem")));
        assertTrue(e.getMessage().contains("proxy.upstream.tls") && e.getMessage().contains("/nonexistent/ca.pem"),
                e.getMessage());
    }

    /** A route read with the TLS transport's settings factory, as in a platform. */
    static Route parse(java.util.Map<String, ?> properties) {
        return Route.parse("gw", properties, new org.wharf.transport.ssl.internal.TlsPropertiesFactory());
    }
}
