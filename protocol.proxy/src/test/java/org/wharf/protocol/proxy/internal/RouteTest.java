package org.wharf.protocol.proxy.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

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
        /** Acquires made, by pool. */
        final Map<Object, Integer> acquires = new java.util.IdentityHashMap<>();
        /** Runs at the start of the next acquire, once. */
        Runnable beforeAcquire;

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
                                        case "acquire" -> acquire(proxy);
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

        private Object acquire(Object pool) {
            Runnable before = beforeAcquire;
            beforeAcquire = null;
            if (before != null) {
                before.run();
            }
            acquires.merge(pool, 1, Integer::sum);
            return closed.contains(pool) ? java.util.concurrent.CompletableFuture.failedFuture(
                    new org.wharf.transport.api.TransportClosedError("pool closed", null))
                    : java.util.concurrent.CompletableFuture.completedFuture(null);
        }
    }

    private static org.wharf.transport.api.StreamTransportProvider transport() {
        return (org.wharf.transport.api.StreamTransportProvider) java.lang.reflect.Proxy.newProxyInstance(
                RouteTest.class.getClassLoader(), new Class<?>[] {org.wharf.transport.api.StreamTransportProvider.class},
                (proxy, method, args) -> method.getName().equals("hashCode") ? System.identityHashCode(proxy)
                        : method.getName().equals("equals") ? proxy == args[0] : null);
    }

    /** A pooled route on services the test swaps, with a clock it sets. */
    private static final class Swapped {
        final java.util.concurrent.atomic.AtomicReference<Pools> pools = new java.util.concurrent.atomic.AtomicReference<>(
                new Pools());
        final java.util.concurrent.atomic.AtomicReference<org.wharf.transport.api.StreamTransportProvider> tcp =
                new java.util.concurrent.atomic.AtomicReference<>(transport());
        final ProxyServices services = new ProxyServices(kind -> kind.equals("tcp") ? tcp.get() : null, () -> null,
                pools::get);
        final long[] now = {0};
        final Route route = parse(Map.of(Route.UPSTREAMS, "a:1", Route.POOLED, "true", Route.PROTOCOL, "redis",
                Route.CONNECT_TIMEOUT, "5000")); // the acquire timeout: 5 s

        Swapped() {
            route.clock = () -> now[0];
        }
    }

    /**
     * A route outlives the pool service and the transport it made its pool with (an update of
     * the endpoints or the transport bundle): another of either gets a new pool. The old one is
     * retired, not closed, while a connection of it is in use, while an acquire waits on it, and
     * for an acquire timeout (its connects under way finish there); then it is closed when one
     * of the route's connections is given back or on its next acquire, and when the route is
     * retired with no connection left.
     * Before, the route kept the first pool for good.
     */
    @Test
    void aPooledRouteMakesANewPoolWhenThePoolServiceOrTheTransportIsAnotherAndRetiresTheOld() {
        Swapped s = new Swapped();
        Route route = s.route;
        Pools before = s.pools.get();
        var first = route.pool(s.services);
        assertTrue(first == route.pool(s.services), "the same services: the same pool");

        s.pools.set(new Pools());
        Pools after = s.pools.get();
        var second = route.pool(s.services);
        assertTrue(second != first && after.made.equals(List.of(second)), "a new pool from the new service");
        assertEquals(1, route.retiredPools());
        s.now[0] += TimeUnit.MILLISECONDS.toNanos(4999);
        route.tidyPools();
        assertEquals(List.of(), before.closed, "not within the acquire timeout: a connect may be under way");
        s.now[0] += TimeUnit.MILLISECONDS.toNanos(1);
        before.inUse.put(first, 1);
        route.tidyPools();
        route.pool(s.services);
        assertEquals(List.of(), before.closed, "not while a connection of it is in use");
        before.inUse.put(first, 0);
        before.waiting.put(first, 1);
        route.tidyPools();
        assertEquals(List.of(), before.closed, "not while an acquire waits on it");
        before.waiting.put(first, 0);
        route.tidyPools(); // the last one given back
        assertEquals(List.of(first), before.closed);
        assertEquals(0, route.retiredPools());

        s.tcp.set(transport());
        var third = route.pool(s.services);
        assertTrue(third != second && after.made.size() == 2, "a new pool on the new transport");
        s.now[0] += TimeUnit.SECONDS.toNanos(5);
        assertTrue(third == route.pool(s.services), "the next acquire");
        assertEquals(List.of(second), after.closed, "closes the retired pool whose time has come");

        s.tcp.set(transport());
        after.inUse.put(third, 1);
        var fourth = route.pool(s.services);
        route.retire();
        assertEquals(List.of(second, fourth, third), after.closed, "retiring a route no connection uses closes the "
                + "retired pools too");
    }

    /**
     * A route read anew (the endpoint's configuration changed) gets no new connection: its pool
     * closes when the last client connection made on it ends, or at once if none is open. Before,
     * its idle upstream connections stayed open until their idle timeout.
     */
    @Test
    void aRouteReadAnewClosesItsPoolWhenItsLastClientConnectionEnds() {
        Swapped s = new Swapped();
        ProxyFactory proxy = new ProxyFactory(s.services);
        Pools pools = s.pools.get();
        Route old = proxy.route(context(pooledRedis("a:1")));
        old.clientOpened();
        old.clientOpened();
        var first = old.pool(s.services);
        Route next = proxy.route(context(pooledRedis("b:1")));
        assertTrue(next != old);
        old.clientClosed();
        assertEquals(List.of(), pools.closed, "not while a client connection of the old route is open");
        old.clientClosed();
        assertEquals(List.of(first), pools.closed, "the last one closes the old route's pool");

        // One made from the old route a moment before it was read anew, started only now.
        old.clientOpened();
        var late = old.pool(s.services);
        assertTrue(late != first, "a late connection gets a pool of its own");
        old.clientClosed();
        assertEquals(List.of(first, late), pools.closed);

        var nextPool = next.pool(s.services);
        proxy.route(context(pooledRedis("c:1")));
        assertEquals(List.of(first, late, nextPool), pools.closed, "a route read anew with no connection closes its "
                + "pool at once");
    }

    /**
     * Stopping the proxy (a bundle update) retires its routes: a connection still open goes on
     * with its pooled upstream connection, and its route's pools close when it ends. Before, they
     * closed at once, cutting requests in flight and failing the next request of every open
     * connection (its route was closed), though the endpoint gave them its drain timeout.
     */
    @Test
    void stoppingTheProxyLetsOpenConnectionsFinishOnTheirPools() {
        Swapped s = new Swapped();
        ProxyFactory proxy = new ProxyFactory(s.services);
        Map<String, Object> v1 = pooledRedis("a:1");
        Route first = proxy.route(context(v1));
        assertTrue(first == proxy.route(context(new java.util.HashMap<>(v1))), "the same configuration: the same route");
        first.clientOpened();
        var pool = first.pool(s.services);
        Route second = proxy.route(context(pooledRedis("b:1")));
        var secondPool = second.pool(s.services);
        Route current = proxy.route(context(pooledRedis("c:1")));
        current.clientOpened();
        var currentPool = current.pool(s.services);
        assertEquals(List.of(secondPool), s.pools.get().closed, "a route read anew that no connection uses closes "
                + "its pool at once");
        proxy.close();
        assertEquals(List.of(secondPool), s.pools.get().closed, "open connections keep their pools");
        assertTrue(pool == first.pool(s.services) && currentPool == current.pool(s.services),
                "an open connection's next request is served on its route's pool");
        current.clientClosed();
        assertEquals(List.of(secondPool, currentPool), s.pools.get().closed, "its pool closes when it ends");
        first.clientClosed();
        assertEquals(List.of(secondPool, currentPool, pool), s.pools.get().closed);
    }

    /**
     * A transport may report the loss of a connection whose protocol it never started (it closed
     * while the factory ran): that connection never counted for its route, so its loss must not
     * either. Counted, it closed the pool of a retired route under a client still using it.
     */
    @Test
    void aConnectionLostBeforeItWasMadeDoesNotCountForItsRoute() {
        Swapped s = new Swapped();
        ProxyFactory proxy = new ProxyFactory(s.services);
        Route route = proxy.route(context(pooledRedis("a:1")));
        route.clientOpened(); // a client using the pool
        var pool = route.pool(s.services);
        proxy.close();
        new ProxyConnection(route, s.services).connectionLost(null);
        assertEquals(List.of(), s.pools.get().closed, "the client's pool stays open");
        route.clientClosed();
        assertEquals(List.of(pool), s.pools.get().closed);
    }

    /** After the proxy stopped, a route asked for (outside a framework) is retired at once. */
    @Test
    void aRouteAskedForAfterTheProxyStoppedIsRetired() {
        Swapped s = new Swapped();
        ProxyFactory proxy = new ProxyFactory(s.services);
        proxy.close();
        Route late = proxy.route(context(pooledRedis("a:1")));
        late.clientOpened();
        var pool = late.pool(s.services);
        late.clientClosed();
        assertEquals(List.of(pool), s.pools.get().closed, "its pool closes when its connection ends");
    }

    /** A pooled Redis route's settings, to one upstream. */
    private static Map<String, Object> pooledRedis(String upstream) {
        return Map.of(Route.UPSTREAMS, upstream, Route.POOLED, "true", Route.PROTOCOL, "redis");
    }

    private static org.wharf.protocol.api.ProtocolContext context(Map<String, Object> properties) {
        return new org.wharf.protocol.api.ProtocolContext("gw", "tcp", properties,
                org.wharf.protocol.api.ConnectionHooks.NONE);
    }

    /**
     * An acquire made on a pool that was retired and closed after its caller took it (the
     * services changed in between) is made again on the route's pool, not failed as if the
     * upstream had failed; a pool that is still the route's fails as it failed.
     */
    @Test
    void anAcquireOnAPoolClosedSinceItWasTakenIsMadeAgainOnTheRoutesPool() throws Exception {
        Swapped s = new Swapped();
        Pools before = s.pools.get();
        var first = s.route.pool(s.services);
        Pools after = new Pools();
        before.beforeAcquire = () -> { // between the caller taking the pool and acquiring on it
            s.pools.set(after);
            s.route.pool(s.services);
            s.now[0] += TimeUnit.SECONDS.toNanos(5);
            s.route.tidyPools();
        };
        s.route.acquire(s.services, java.net.InetSocketAddress.createUnresolved("a", 1)).toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
        assertEquals(List.of(first), before.closed);
        assertEquals(1, before.acquires.get(first), "made on the taken pool, which was closed");
        assertEquals(1, after.acquires.get(after.made.get(0)), "and made again on the route's pool");

        after.closed.add(after.made.get(0)); // the route's own pool fails (the endpoints bundle stopped, say)
        java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
                () -> s.route.acquire(s.services, java.net.InetSocketAddress.createUnresolved("a", 1))
                        .toCompletableFuture().get(10, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof org.wharf.transport.api.TransportClosedError, e.toString());
        assertEquals(2, after.acquires.get(after.made.get(0)), "not made again: the pool is the route's");
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
        assertTrue(parse(pooledRedis("a:1")).pooled());
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

    /**
     * Without proxy.idleTimeout a route closed nothing idle: a client and an upstream that went
     * quiet, or a client gone half-closed before a silent upstream, held two descriptors for
     * ever. Ten minutes unless set, as nginx; 0 still means never.
     */
    @Test
    void anIdleConnectionClosesAfterTenMinutesUnlessSetOtherwise() {
        assertEquals(java.time.Duration.ofMinutes(10), parse(Map.of(Route.UPSTREAMS, "a:1")).idleTimeout());
        assertEquals(java.time.Duration.ofSeconds(2), parse(Map.of(Route.UPSTREAMS, "a:1", Route.IDLE_TIMEOUT, "2000"))
                .idleTimeout());
        assertEquals(null, parse(Map.of(Route.UPSTREAMS, "a:1", Route.IDLE_TIMEOUT, "0")).idleTimeout());
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
