package org.wharf.protocol.proxy.internal;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.wharf.protocol.api.FirstBytes;
import org.wharf.protocol.api.ProtocolContext;
import org.wharf.protocol.api.ProtocolFactory;
import org.wharf.protocol.api.ProtocolProperties;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.StreamTransportProvider;

/**
 * The {@code proxy} protocol: a TCP/TLS gateway. An endpoint with {@code protocol = proxy}
 * forwards each connection it accepts to one of the upstream servers its {@code proxy.*}
 * properties name (see {@link Route}); TLS in, TLS out, or both, as the endpoint's and the
 * route's transports say. In a framework {@link ProxyComponent} registers it with the
 * transport services; on the plain module path ServiceLoader makes it, and it finds the
 * {@code tcp} and {@code ssl} providers with ServiceLoader. It refers to no OSGi type, so it
 * loads where there is no framework.
 *
 * <p>On an endpoint that detects its protocol by the first bytes, a route with
 * {@code proxy.protocol = redis} claims RESP (see {@link #match}); other routes claim nothing,
 * since opaque TCP has no first bytes of its own and HTTP is the HTTP protocols' to claim.
 */
@ProtocolProperties(name = "proxy")
@aQute.bnd.annotation.spi.ServiceProvider(value = ProtocolFactory.class,
        resolution = aQute.bnd.annotation.Resolution.OPTIONAL)
@aQute.bnd.annotation.spi.ServiceConsumer(value = StreamTransportProvider.class,
        resolution = aQute.bnd.annotation.Resolution.OPTIONAL)
@aQute.bnd.annotation.spi.ServiceConsumer(value = org.wharf.transport.api.TlsOptionsFactory.class,
        resolution = aQute.bnd.annotation.Resolution.OPTIONAL)
@aQute.bnd.annotation.spi.ServiceConsumer(value = org.wharf.endpoints.api.ConnectionPools.class,
        resolution = aQute.bnd.annotation.Resolution.OPTIONAL)
public final class ProxyFactory implements ProtocolFactory, FirstBytes {

    private final Map<String, Route> routes = new ConcurrentHashMap<>();
    private final ProxyServices services;

    /** Made by ServiceLoader: transports, TLS settings and pools are found with ServiceLoader on first use. */
    public ProxyFactory() {
        this(ProxyServices.fromServiceLoader());
    }

    /**
     * A proxy on the given services.
     *
     * @param services transports, the TLS settings factory, pools
     */
    ProxyFactory(ProxyServices services) {
        this.services = services;
    }

    /**
     * Stops the proxy (its component is deactivated: the bundle is updated or stopped): every
     * route is retired, and a connection made after (outside a framework nothing prevents it)
     * gets a route retired at once. Open connections go on as the endpoint lets them (until
     * they end or its drain timeout), on their route's pool: each route's pools close when its
     * last connection ends, at once if it has none.
     */
    void close() {
        stopped = true;
        for (String endpoint : List.copyOf(routes.keySet())) {
            Route route = routes.remove(endpoint);
            if (route != null) {
                route.retire();
            }
        }
    }

    /** Closed: a route asked for now (outside a framework nothing prevents it) is retired at once. */
    private volatile boolean stopped;

    /**
     * A protocol that forwards one client connection.
     *
     * @param context the endpoint's name and configuration ({@code proxy.*} properties)
     * @return the connection's protocol
     * @throws IllegalArgumentException if the route's configuration is wrong, naming the
     *     property and the value
     */
    @Override
    public Protocol newProtocol(ProtocolContext context) {
        return new ProxyConnection(route(context), services);
    }
    /**
     * Reads the endpoint's route, so a wrong {@code proxy.*} value fails the endpoint.
     *
     * @param context the endpoint and its configuration
     * @throws IllegalArgumentException naming the property and the value that is wrong
     */
    @Override
    public void checkSettings(ProtocolContext context) {
        Route.parse(context.endpoint(), context.properties(), services.tls().get());
    }

    /**
     * The route's figures: connections (total and open), bytes each way, failed upstream
     * connects, connections open to each upstream, whether each is up (1) or marked down (0) and
     * how many times it was marked down, and, on a pooled route, upstream connections
     * given back for reuse and closed instead.
     *
     * @param endpoint the endpoint's name
     * @return the figures, empty if the endpoint has had no connection yet
     */
    @Override
    public Map<String, Long> metrics(String endpoint) {
        Route route = routes.get(endpoint);
        if (route == null) {
            return Map.of();
        }
        Map<String, Long> figures = new java.util.LinkedHashMap<>();
        Route.Counters c = route.counters;
        figures.put("proxy.connections", c.connections.sum());
        figures.put("proxy.connections.open", c.active.get());
        figures.put("proxy.bytes.toUpstream", c.bytesToUpstream.sum());
        figures.put("proxy.bytes.toClient", c.bytesToClient.sum());
        figures.put("proxy.upstream.failures", c.upstreamFailures.sum());
        if (route.pooled()) {
            figures.put("proxy.pool.released", c.poolReleased.sum());
            figures.put("proxy.pool.discarded", c.poolDiscarded.sum());
            figures.put("proxy.pool.exhausted", c.poolExhausted.sum());
        }
        for (Route.Upstream u : route.upstreams()) {
            figures.put("proxy.upstream." + u + ".open", (long) u.active.get());
            figures.put("proxy.upstream." + u + ".up", u.down.get() ? 0L : 1L);
            figures.put("proxy.upstream." + u + ".markedDown", u.markedDown.sum());
        }
        return figures;
    }

    /** The endpoint's route, read again only when its configuration changed. */
    Route route(ProtocolContext context) {
        Route current = routes.get(context.endpoint());
        if (current != null && current.readFrom(context.properties())) {
            return current; // the common case, without compute's lock
        }
        Route[] replaced = {null};
        Route route = routes.compute(context.endpoint(), (name, old) -> {
            if (old != null && old.readFrom(context.properties())) {
                return old;
            }
            replaced[0] = old;
            return old == null ? Route.parse(name, context.properties(), services.tls().get())
                    : old.reread(context.properties(), services.tls().get());
        });
        if (replaced[0] != null) {
            replaced[0].retire(); // outside compute's lock: it may close the old route's pools
        }
        if (stopped) {
            routes.remove(context.endpoint(), route);
            route.retire(); // its pools close when this connection ends
        }
        return route;
    }

    /**
     * RESP, on a route that forwards it: an array ({@code *} and a digit, what every client
     * library and {@code redis-cli} send), or an inline command (a line of printable text
     * starting with a letter, decided at its end) that is not an HTTP request line.
     */
    @Override
    public Match match(ProtocolContext context, java.nio.ByteBuffer first) {
        if (!"redis".equals(String.valueOf(context.properties().get(Route.PROTOCOL)).trim())) {
            return Match.NO;
        }
        return resp(first);
    }

    /** Whether these first bytes begin a RESP request. */
    static Match resp(java.nio.ByteBuffer first) {
        int start = first.position();
        int end = first.limit();
        byte b = first.get(start);
        if (b == '*') {
            if (start + 1 == end) {
                return Match.NEED_MORE;
            }
            byte n = first.get(start + 1);
            return n >= '0' && n <= '9' ? Match.MATCH : Match.NO;
        }
        if (!(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z')) {
            return Match.NO;
        }
        byte[] http = {' ', 'H', 'T', 'T', 'P', '/'};
        for (int i = start; i < end; i++) {
            byte c = first.get(i);
            if (c == '\n' || c == '\r') {
                return Match.MATCH;
            }
            if (c < 0x20 || c == 0x7f) {
                return Match.NO;
            }
            if (c == ' ' && end - i >= http.length && first.slice(i, http.length).equals(java.nio.ByteBuffer.wrap(http))) {
                return Match.NO; // an HTTP request line, not an inline command
            }
        }
        return Match.NEED_MORE;
    }
}
