package org.wharf.protocol.proxy.internal;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import org.wharf.endpoints.api.ConnectionPool;
import org.wharf.endpoints.api.ConnectionPools;
import org.wharf.endpoints.api.PoolOptions;
import org.wharf.endpoints.api.PooledConnection;
import org.wharf.transport.api.ConnectOptions;
import org.wharf.transport.api.Settings;
import org.wharf.transport.api.TlsOptions;
import org.wharf.transport.api.TlsOptionsFactory;
import org.wharf.transport.api.TransportProvider;

/**
 * One endpoint's route: where its connections go, read from the endpoint's configuration
 * ({@code proxy.*} properties), with the live state that choosing an upstream needs and the
 * route's counters. A bad value fails with a message naming the property and the value.
 *
 * <table>
 * <caption>Properties</caption>
 * <tr><th>property</th><th>meaning</th></tr>
 * <tr><td>{@value #UPSTREAMS}</td><td>{@code host:port}, one or more (array or comma-separated); required</td></tr>
 * <tr><td>{@value #TRANSPORT}</td><td>{@code tcp} (default) or {@code ssl}</td></tr>
 * <tr><td>{@code proxy.upstream.tls.*}</td><td>the upstream leg's TLS: the {@code tls.*} properties of
 *     org.wharf.tls ({@code tls.ca}, {@code tls.verify}, {@code tls.serverName}, a client certificate, ...)</td></tr>
 * <tr><td>{@value #BALANCING}</td><td>{@code round-robin} (default) or {@code least-connections}</td></tr>
 * <tr><td>{@value #CONNECT_TIMEOUT}</td><td>milliseconds per upstream tried (default 5000)</td></tr>
 * <tr><td>{@value #RETRIES}</td><td>further upstreams tried after a failed connect (default: all of them)</td></tr>
 * <tr><td>{@value #IDLE_TIMEOUT}</td><td>milliseconds without a byte either way before both legs close (default 600000, ten minutes); 0 for never</td></tr>
 * <tr><td>{@value #PROTOCOL}</td><td>what the route carries: {@code tcp} (default: bytes the gateway does not
 *     read), {@code redis} (RESP) or {@code http} (HTTP/1.1); pooling needs one of the last two</td></tr>
 * <tr><td>{@value #POOLED}</td><td>{@code true}: upstream connections are kept in a pool and reused by the next
 *     client connection, each only once the gateway has seen every request of the last client answered in full
 *     (read as {@value #PROTOCOL} says; an exchange that leaves the connection changed or owing closes it
 *     instead); refused with {@code proxy.protocol = tcp}. {@code false} (default): one upstream connection per
 *     client connection</td></tr>
 * <tr><td>{@value #POOL_MAX_SIZE}</td><td>pooled connections per upstream (default 64)</td></tr>
 * <tr><td>{@value #POOL_IDLE_TIMEOUT}</td><td>milliseconds an idle pooled connection is kept (default 60000)</td></tr>
 * <tr><td>{@value #SEND_PROXY_PROTOCOL}</td><td>{@code off} (default), {@code v1} or {@code v2}: a PROXY protocol
 *     header first on each upstream connection, naming the client; refused on a pooled route</td></tr>
 * <tr><td>{@value #HEALTH_FAILURES}</td><td>failed connects in a row that mark an upstream down (default 3;
 *     0: never marked down)</td></tr>
 * <tr><td>{@value #HEALTH_DOWN_TIME}</td><td>milliseconds before a marked-down upstream is first checked again
 *     (default 1000), doubled after each failed check</td></tr>
 * <tr><td>{@value #HEALTH_MAX_DOWN_TIME}</td><td>the most milliseconds between checks (default 30000)</td></tr>
 * <tr><td>{@value #HEALTH_CHECK}</td><td>{@code connect} (default): a check is a connection;
 *     {@code protocol}: a request in {@value #PROTOCOL} ({@code redis}: PING; {@code http}: HEAD /) answered within
 *     the connect timeout; {@code probe}: the {@link org.wharf.protocol.api.HealthProbe} service named by
 *     {@value #HEALTH_PROBE} (see {@link HealthCheck})</td></tr>
 * <tr><td>{@value #HEALTH_PROBE}</td><td>with {@value #HEALTH_CHECK} = probe: the probe's name
 *     ({@code wharf.probe.name}); while none of that name is registered, checks connect</td></tr>
 * <tr><td>{@value #HEALTH_MAX_BYTES}</td><td>the most bytes of an answer a probe is given (default 16384); one that
 *     has not decided by then fails the check</td></tr>
 * <tr><td>{@value #HEALTH_INTERVAL}</td><td>milliseconds between active checks of every upstream that is up (a connect
 *     over the route's transport; a failed one counts as a failed connect); 0 (default) for none</td></tr>
 * <tr><td>{@code proxy.sni.NAME}</td><td>upstreams ({@code host:port}, as {@value #UPSTREAMS}) for TLS
 *     connections whose ClientHello asks for server name NAME; the TLS bytes pass through untouched. With any of
 *     these, {@value #UPSTREAMS} is the default route (other names, no name, plain text) and may be left out: then
 *     such connections are closed</td></tr>
 * <tr><td>{@code proxy.sni.NAME.tls.*}</td><td>the gateway terminates TLS for NAME with these settings (the
 *     {@code tls.*} properties of org.wharf.tls: {@code tls.certificate} and {@code tls.key}, or a keystore;
 *     {@code tls.alpn}, {@code tls.protocols}, ...): the client's TLS ends at the gateway and NAME's upstreams get the
 *     plain bytes (TLS again with {@value #TRANSPORT} = ssl). A key is NAME's TLS setting when {@code proxy.sni.NAME}
 *     is a route. Needs the endpoint's {@code transport = tcp} and no {@code proxyProtocol} acceptance. A route
 *     with {@value #TRANSPORT} = ssl takes no name or ALPN route that passes TLS through (it would wrap TLS in
 *     TLS)</td></tr>
 * <tr><td>{@code proxy.alpn.PROTO}</td><td>upstreams for TLS connections whose ClientHello offers the application
 *     protocol PROTO ({@code h2}, {@code http/1.1}; exact, case matters) with ALPN, passed through untouched. A server
 *     name's own route comes first; then the first protocol in the client's list that has a route; then the default
 *     route</td></tr>
 * <tr><td>{@value #SNI_TIMEOUT}</td><td>milliseconds a connection may take to send its first bytes when
 *     routing by server name or ALPN (default 5000); one that sent nothing by then goes to the default route</td></tr>
 * <tr><td>{@value #SNI_MAX_BYTES}</td><td>the most bytes read to find a connection's ClientHello when routing by
 *     server name or ALPN (default 16389: one whole TLS record, which every client's hello fits); a connection whose
 *     hello is longer is closed</td></tr>
 * <tr><td>{@value #HTTP_MAX_LINE}</td><td>on a pooled http route: the longest request, response, header or chunk-size
 *     line the gateway follows (default 65536 bytes); past it the upstream connection is closed after its client
 *     instead of reused (the bytes still pass)</td></tr>
 * <tr><td>{@value #HTTP_MAX_HEADER_FIELDS}</td><td>on a pooled http route: the most header (or trailer) lines of one
 *     message followed (default 256); past it, as above</td></tr>
 * <tr><td>{@value #HTTP_MAX_PIPELINED}</td><td>on a pooled http route: the most requests awaiting their responses
 *     followed (default 1024); past it, as above</td></tr>
 * <tr><td>{@value #ACCESS_LOG}</td><td>{@code true} (default): one line per connection in the logger
 *     {@code org.wharf.access}; {@code false}: none</td></tr>
 * </table>
 */
final class Route {

    static final String UPSTREAMS = "proxy.upstreams";
    static final String TRANSPORT = "proxy.upstream.transport";
    static final String TLS_PREFIX = "proxy.upstream.";
    static final String BALANCING = "proxy.balancing";
    static final String CONNECT_TIMEOUT = "proxy.connectTimeout";
    static final String RETRIES = "proxy.retries";
    static final String IDLE_TIMEOUT = "proxy.idleTimeout";
    /** Without {@value #IDLE_TIMEOUT}: ten minutes, nginx's {@code proxy_timeout}. */
    static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(10);
    static final String PROTOCOL = "proxy.protocol";
    static final String POOLED = "proxy.pooled";
    static final String POOL_MAX_SIZE = "proxy.pool.maxSize";
    static final String POOL_IDLE_TIMEOUT = "proxy.pool.idleTimeout";
    static final String SEND_PROXY_PROTOCOL = "proxy.upstream.proxyProtocol";
    static final String ACCESS_LOG = "proxy.accessLog";
    static final String SNI_PREFIX = "proxy.sni.";
    static final String ALPN_PREFIX = "proxy.alpn.";
    /** Between a server name and its TLS settings: {@code proxy.sni.NAME.tls.certificate}. */
    private static final String TLS_INFIX = "." + TlsOptionsFactory.PREFIX;
    static final String SNI_TIMEOUT = "proxy.sniTimeout";
    static final String SNI_MAX_BYTES = "proxy.sniMaxBytes";
    static final String HTTP_MAX_LINE = "proxy.http.maxLine";
    static final String HTTP_MAX_HEADER_FIELDS = "proxy.http.maxHeaderFields";
    static final String HTTP_MAX_PIPELINED = "proxy.http.maxPipelined";
    static final String HEALTH_FAILURES = "proxy.health.failures";
    static final String HEALTH_DOWN_TIME = "proxy.health.downTime";
    static final String HEALTH_MAX_DOWN_TIME = "proxy.health.maxDownTime";
    static final String HEALTH_INTERVAL = "proxy.health.interval";
    static final String HEALTH_CHECK = "proxy.health.check";
    static final String HEALTH_PROBE = "proxy.health.probe";
    static final String HEALTH_MAX_BYTES = "proxy.health.maxBytes";
    private static final System.Logger LOG = System.getLogger("org.wharf.protocol.proxy");

    /** What a route carries, so far as the gateway reads it: where exchanges end, for pooling. */
    enum Application {
        /** Bytes the gateway does not read: it cannot tell when an answer is complete. */
        TCP,
        /** Redis's RESP: one reply per command. */
        REDIS,
        /** HTTP/1.1: one response per request. */
        HTTP
    }

    /** How the first upstream to try is chosen. */
    enum Balancing {
        ROUND_ROBIN, LEAST_CONNECTIONS
    }

    /** An upstream server and the route's connections to it now open or opening, and its health. */
    static final class Upstream {
        final InetSocketAddress address;
        final AtomicInteger active = new AtomicInteger();
        /** Connects that failed since the last that succeeded. */
        final AtomicInteger failuresInARow = new AtomicInteger();
        /** Marked down: no client connection is sent to it until a check connects again. */
        final java.util.concurrent.atomic.AtomicBoolean down = new java.util.concurrent.atomic.AtomicBoolean();
        /** How many times it was marked down. */
        final LongAdder markedDown = new LongAdder();
        /** When it was marked down (nanoTime), and the wait before the next check; guarded by down. */
        volatile long downSince;
        volatile long backoffMillis;

        Upstream(InetSocketAddress address) {
            this.address = address;
        }

        @Override
        public String toString() {
            return address.getHostString() + ":" + address.getPort();
        }
    }

    /**
     * Upstreams chosen by a server name or an ALPN protocol, with their own rotation.
     *
     * @param terminate TLS settings with which the gateway ends the client's TLS; null to pass it through
     */
    private record Group(List<Upstream> members, AtomicInteger next, int tries, TlsOptions terminate) {
    }

    /**
     * Where a TLS connection goes, chosen by its ClientHello.
     *
     * @param candidates the upstreams to try, in order (maybe none)
     * @param terminate TLS settings to end the client's TLS with at the gateway; null to pass it through
     * @param alpn the ALPN protocol whose route was chosen; null if none was
     */
    record Choice(List<Upstream> candidates, TlsOptions terminate, String alpn) {
    }

    /** The route's figures since the endpoint first had a connection. */
    static final class Counters {
        final LongAdder connections = new LongAdder();
        final AtomicLong active = new AtomicLong();
        final LongAdder bytesToUpstream = new LongAdder();
        final LongAdder bytesToClient = new LongAdder();
        final LongAdder upstreamFailures = new LongAdder();
        /** Pooled upstream connections given back for reuse, their exchange complete. */
        final LongAdder poolReleased = new LongAdder();
        /** Pooled upstream connections closed instead, their exchange owing or unsafe. */
        final LongAdder poolDiscarded = new LongAdder();
        /** Clients no pooled upstream connection served, every one in use (not upstream failures). */
        final LongAdder poolExhausted = new LongAdder();
    }

    /** The route's lines that a client or an upstream can cause per connection, rate-limited. */
    final RouteLog log = new RouteLog(LOG);

    private final String endpoint;
    private final Map<String, Object> settings;
    private final List<Upstream> upstreams;
    private final String transport;
    private final ConnectOptions connectOptions;
    private final Balancing balancing;
    private final int tries;
    private final Duration idleTimeout;
    private final AtomicInteger next = new AtomicInteger();
    private final boolean pooled;
    private final Application application;
    private final int poolMaxSize;
    private final Duration poolIdleTimeout;
    private final ProxyHeaderWriter.Version sendProxyProtocol;
    private final boolean accessLog;
    private final Map<String, Group> byName;
    private final Map<String, Group> byAlpn = new HashMap<>();
    private final Duration sniTimeout;
    private int sniMaxBytes;
    private HttpExchange.Limits httpLimits;
    private final int healthFailures;
    private final Duration downTime;
    private final Duration maxDownTime;
    private final Duration healthInterval;
    private final HealthCheck.Kind healthCheck;
    /** The probe checks use, or null when they only connect. */
    private String probeName;
    private int healthMaxBytes;
    /** The probe was not registered at the last check: said once, until it is found again. */
    private final java.util.concurrent.atomic.AtomicBoolean probeMissing = new java.util.concurrent.atomic.AtomicBoolean();
    private final java.util.concurrent.atomic.AtomicBoolean activeChecks = new java.util.concurrent.atomic.AtomicBoolean();
    /** Replaced by a newer reading of the configuration, or the proxy stopped: its checks stop. */
    private volatile boolean retired;
    /** The pool acquires go to, and what it was made with; guarded by this. */
    private ConnectionPool<PooledLeg> pool;
    private ConnectionPools poolMadeBy;
    private org.wharf.transport.api.StreamTransportProvider poolTransport;
    /** Pools made with services that were replaced since; guarded by this. */
    private final List<RetiredPool> retiredPools = new ArrayList<>();
    /** Whether {@link #retiredPools} has any, for a look without the lock. */
    private volatile boolean retiring;
    /** The time retired pools are closed by; tests set their own. */
    java.util.function.LongSupplier clock = System::nanoTime;
    /** The route's figures; carried over when the endpoint's configuration changes. */
    Counters counters = new Counters();

    private Route(String endpoint, Map<String, Object> settings, List<Upstream> upstreams, String transport,
            ConnectOptions connectOptions, Balancing balancing, int tries, Duration idleTimeout, Application application,
            boolean pooled, int poolMaxSize, Duration poolIdleTimeout, ProxyHeaderWriter.Version sendProxyProtocol,
            boolean accessLog, int healthFailures, Duration downTime, Duration maxDownTime, Duration sniTimeout,
            Duration healthInterval, HealthCheck.Kind healthCheck) {
        this.healthInterval = healthInterval;
        this.healthCheck = healthCheck;
        this.byName = new HashMap<>();
        this.sniTimeout = sniTimeout;
        this.healthFailures = healthFailures;
        this.downTime = downTime;
        this.maxDownTime = maxDownTime;
        this.sendProxyProtocol = sendProxyProtocol;
        this.accessLog = accessLog;
        this.application = application;
        this.pooled = pooled;
        this.poolMaxSize = poolMaxSize;
        this.poolIdleTimeout = poolIdleTimeout;
        this.endpoint = endpoint;
        this.settings = settings;
        this.upstreams = upstreams;
        this.transport = transport;
        this.connectOptions = connectOptions;
        this.balancing = balancing;
        this.tries = tries;
        this.idleTimeout = idleTimeout;
    }

    /**
     * Reads a route from an endpoint's configuration.
     *
     * @param endpoint the endpoint's name, for logs
     * @param properties the endpoint's configuration
     * @param tlsFactory makes the upstream TLS settings; {@code null} while there is no TLS transport
     * @return the route
     * @throws IllegalArgumentException naming the property and value that is wrong
     */
    static Route parse(String endpoint, Map<String, ?> properties, TlsOptionsFactory tlsFactory) {
        Settings settings = Settings.of(properties);
        Map<String, Upstream> known = new HashMap<>(); // one Upstream per address, whichever names lead to it
        List<Upstream> upstreams = upstreams(settings, UPSTREAMS, known);
        Map<String, List<Upstream>> named = new java.util.TreeMap<>();
        Map<String, Map<String, Object>> terminating = new java.util.TreeMap<>(); // name -> its tls.* settings
        Map<String, List<Upstream>> byProtocol = new java.util.TreeMap<>();
        for (String key : properties.keySet()) {
            if (key.startsWith(SNI_PREFIX) && key.length() > SNI_PREFIX.length()) {
                String rest = key.substring(SNI_PREFIX.length());
                String owner = tlsOwner(properties, SNI_PREFIX, rest);
                if (owner != null) {
                    terminating.computeIfAbsent(owner.toLowerCase(Locale.ROOT), n -> new HashMap<>())
                            .put(rest.substring(owner.length() + 1), properties.get(key));
                    continue;
                }
                List<Upstream> group = upstreams(settings, key, known);
                if (group.isEmpty()) {
                    throw Settings.wrong(key, properties.get(key), "names no upstream host:port");
                }
                named.put(rest.toLowerCase(Locale.ROOT), group);
            } else if (key.startsWith(ALPN_PREFIX) && key.length() > ALPN_PREFIX.length()) {
                String rest = key.substring(ALPN_PREFIX.length());
                if (tlsOwner(properties, ALPN_PREFIX, rest) != null) {
                    throw new IllegalArgumentException(key + " is set, but a route by ALPN passes TLS through: the "
                            + "gateway terminates TLS by server name only (" + SNI_PREFIX + "NAME.tls.*)");
                }
                List<Upstream> group = upstreams(settings, key, known);
                if (group.isEmpty()) {
                    throw Settings.wrong(key, properties.get(key), "names no upstream host:port");
                }
                byProtocol.put(rest, group);
            }
        }
        Map<String, TlsOptions> terminate = terminations(settings, terminating, tlsFactory);
        String passedThrough = named.keySet().stream().filter(n -> !terminate.containsKey(n)).map(n -> SNI_PREFIX + n)
                .findFirst().orElse(byProtocol.isEmpty() ? null : ALPN_PREFIX + byProtocol.keySet().iterator().next());
        if (passedThrough != null && settings.text(TRANSPORT, "tcp").trim().equalsIgnoreCase(TransportProvider.SSL)) {
            throw new IllegalArgumentException(TRANSPORT + " = ssl cannot go with " + passedThrough + ", a route that "
                    + "passes TLS through: its connections are TLS already and would be wrapped in the gateway's own. "
                    + "Give it a certificate (" + (passedThrough.startsWith(SNI_PREFIX) ? passedThrough : SNI_PREFIX
                    + "NAME") + ".tls.*) to terminate it, or use another endpoint");
        }
        if (upstreams.isEmpty() && named.isEmpty() && byProtocol.isEmpty()) {
            throw new IllegalArgumentException(UPSTREAMS + " is missing (the route needs at least one upstream host:port)");
        }
        String transport = settings.choice(TRANSPORT, UpstreamTransport.TCP).name().toLowerCase(Locale.ROOT);
        ConnectOptions options = ConnectOptions.DEFAULT.withTimeout(settings.positiveMillis(CONNECT_TIMEOUT,
                Duration.ofSeconds(5)));
        Settings tls = settings.under(TLS_PREFIX);
        boolean hasTls = tls.asMap().keySet().stream().anyMatch(k -> k.startsWith(TlsOptionsFactory.PREFIX));
        if (transport.equals(TransportProvider.SSL)) {
            if (tlsFactory == null) {
                throw new IllegalArgumentException(TRANSPORT + " = 'ssl' needs the TLS transport (no TlsOptionsFactory "
                        + "service is registered)");
            }
            try {
                options = options.withTls(tlsFactory.fromProperties(tls.asMap()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("the upstream TLS settings (" + TLS_PREFIX + "tls.*): "
                        + e.getMessage(), e);
            }
        } else if (hasTls) {
            throw new IllegalArgumentException(TLS_PREFIX + tls.asMap().keySet().iterator().next()
                    + " is set but " + TRANSPORT + " = tcp: set it to ssl for TLS to the upstreams");
        }
        Balancing mode = settings.choice(BALANCING, Balancing.ROUND_ROBIN);
        int retries = settings.integer(RETRIES, Integer.MAX_VALUE - 1, 0, Integer.MAX_VALUE - 1);
        // As nginx's proxy_timeout: a connection whose client and upstream both went quiet (or
        // left it half-closed) does not keep two descriptors for ever unless asked to.
        Duration idle = settings.millis(IDLE_TIMEOUT, DEFAULT_IDLE_TIMEOUT).orElse(null);
        Application application = settings.choice(PROTOCOL, Application.TCP);
        boolean pooled = settings.flag(POOLED, false);
        if (pooled && application == Application.TCP) {
            throw new IllegalArgumentException(POOLED + " = true needs " + PROTOCOL + " = redis or http (it is tcp"
                    + (settings.has(PROTOCOL) ? "" : ", the default") + "): the gateway reuses an upstream connection only "
                    + "once it has seen every answer the last client was owed, and it cannot see that in bytes it does "
                    + "not read");
        }
        ProxyHeaderWriter.Version send = settings.choice(SEND_PROXY_PROTOCOL, ProxyHeaderWriter.Version.OFF);
        if (pooled && send != ProxyHeaderWriter.Version.OFF) {
            throw new IllegalArgumentException(SEND_PROXY_PROTOCOL + " = " + Settings.describe(settings.text(
                    SEND_PROXY_PROTOCOL, "")) + " cannot go with " + POOLED + " = true: a PROXY header names one client "
                    + "for the whole upstream connection, and a pooled one serves many");
        }
        HealthCheck.Kind check = settings.choice(HEALTH_CHECK, HealthCheck.Kind.CONNECT);
        if (check == HealthCheck.Kind.PROTOCOL && application == Application.TCP) {
            throw new IllegalArgumentException(HEALTH_CHECK + " = 'protocol' needs " + PROTOCOL + " = redis or http "
                    + "(with tcp the gateway knows no request to check with; " + HEALTH_CHECK + " = probe with "
                    + HEALTH_PROBE + " = NAME uses a probe another bundle registers)");
        }
        String probeName = settings.text(HEALTH_PROBE, "").trim();
        if (check == HealthCheck.Kind.PROBE && probeName.isEmpty()) {
            throw new IllegalArgumentException(HEALTH_CHECK + " = 'probe' needs " + HEALTH_PROBE + " = NAME (the "
                    + "wharf.probe.name of a registered health probe)");
        }
        if (check != HealthCheck.Kind.PROBE && !probeName.isEmpty()) {
            throw new IllegalArgumentException(HEALTH_PROBE + " = " + Settings.describe(probeName) + " is set but "
                    + HEALTH_CHECK + " = " + check.name().toLowerCase(Locale.ROOT) + ": set it to probe to check with it");
        }
        int maxBytes = settings.integer(HEALTH_MAX_BYTES, 16384, 1, Integer.MAX_VALUE);
        Duration downTime = settings.positiveMillis(HEALTH_DOWN_TIME, Duration.ofSeconds(1));
        Duration maxDownTime = settings.positiveMillis(HEALTH_MAX_DOWN_TIME, Duration.ofSeconds(30));
        if (maxDownTime.compareTo(downTime) < 0) {
            throw Settings.wrong(HEALTH_MAX_DOWN_TIME, maxDownTime.toMillis(), "is less than " + HEALTH_DOWN_TIME + " = "
                    + downTime.toMillis());
        }
        int maxSize = settings.integer(POOL_MAX_SIZE, 64, 1, Integer.MAX_VALUE);
        Duration poolIdle = settings.positiveMillis(POOL_IDLE_TIMEOUT, Duration.ofMinutes(1));
        if ((!named.isEmpty() || !byProtocol.isEmpty()) && pooled) {
            throw new IllegalArgumentException(POOLED + " = true cannot go with " + (named.isEmpty() ? ALPN_PREFIX
                    : SNI_PREFIX) + "* routes: a TLS connection passed through is not read, so its exchanges cannot be "
                    + "followed");
        }
        Route route = new Route(endpoint, new HashMap<>(properties), List.copyOf(upstreams), transport, options, mode,
                Math.min(upstreams.size(), retries + 1), idle, application, pooled, maxSize, poolIdle, send,
                settings.flag(ACCESS_LOG, true), settings.integer(HEALTH_FAILURES, 3, 0, Integer.MAX_VALUE), downTime,
                maxDownTime, settings.positiveMillis(SNI_TIMEOUT, Duration.ofSeconds(5)),
                settings.millis(HEALTH_INTERVAL, null).orElse(null), check);
        route.probeName = check == HealthCheck.Kind.PROBE ? probeName : check == HealthCheck.Kind.PROTOCOL
                ? application.name().toLowerCase(Locale.ROOT) : null;
        route.healthMaxBytes = maxBytes;
        // The most a ClientHello may take: from one that fits a small record to four full records.
        route.sniMaxBytes = settings.integer(SNI_MAX_BYTES, ClientHello.MAX_BYTES, 256, 4 * ClientHello.MAX_BYTES);
        route.httpLimits = new HttpExchange.Limits(
                settings.integer(HTTP_MAX_LINE, HttpExchange.MAX_LINE, 256, 16 << 20),
                settings.integer(HTTP_MAX_HEADER_FIELDS, HttpExchange.MAX_HEADERS, 1, 1 << 16),
                settings.integer(HTTP_MAX_PIPELINED, HttpExchange.MAX_PIPELINED, 1, 1 << 20));
        named.forEach((name, group) -> route.byName.put(name, new Group(List.copyOf(group), new AtomicInteger(),
                Math.min(group.size(), retries + 1), terminate.get(name))));
        byProtocol.forEach((protocol, group) -> route.byAlpn.put(protocol, new Group(List.copyOf(group),
                new AtomicInteger(), Math.min(group.size(), retries + 1), null)));
        return route;
    }

    /**
     * The route a key such as {@code proxy.sni.a.example.tls.certificate} is a TLS setting of:
     * NAME before a {@code .tls.} such that {@code prefix + NAME} is a route, the shortest such.
     * Server names have dots, so the key alone cannot say where the name ends.
     *
     * @return NAME as spelled in the key, or null if the key is a route itself
     */
    private static String tlsOwner(Map<String, ?> properties, String prefix, String rest) {
        for (int i = rest.indexOf(TLS_INFIX); i > 0; i = rest.indexOf(TLS_INFIX, i + 1)) {
            if (properties.containsKey(prefix + rest.substring(0, i))) {
                return rest.substring(0, i);
            }
        }
        return null;
    }

    /** Reads each terminating name's {@code tls.*} settings, and what terminating needs of the endpoint. */
    private static Map<String, TlsOptions> terminations(Settings settings, Map<String, Map<String, Object>> byName,
            TlsOptionsFactory tlsFactory) {
        if (byName.isEmpty()) {
            return Map.of();
        }
        String first = SNI_PREFIX + byName.keySet().iterator().next() + ".tls.*";
        String endpointTransport = settings.text("transport", TransportProvider.TCP).trim();
        if (!endpointTransport.equals(TransportProvider.TCP)) {
            throw new IllegalArgumentException(first + " terminates TLS by server name, which needs the endpoint's "
                    + "transport = tcp (it is " + Settings.describe(endpointTransport) + ": the endpoint would end the "
                    + "TLS before the gateway could read the server name)");
        }
        String proxyProtocol = settings.text("proxyProtocol", "off").trim();
        if (!proxyProtocol.equals("off")) {
            throw new IllegalArgumentException(first + " cannot go with proxyProtocol = " + Settings.describe(
                    proxyProtocol) + " (yet): TLS is started on the accepted connection, and one admitted after a PROXY "
                    + "header reaches the gateway through a view of it");
        }
        if (tlsFactory == null) {
            throw new IllegalArgumentException(first + " needs the TLS transport (no TlsOptionsFactory service is "
                    + "registered)");
        }
        Map<String, TlsOptions> out = new HashMap<>();
        byName.forEach((name, tls) -> {
            if (!tls.containsKey("tls.certificate") && !tls.containsKey("tls.keystore")) {
                throw new IllegalArgumentException(SNI_PREFIX + name + ".tls.* terminates TLS for " + name
                        + " and needs a certificate: " + SNI_PREFIX + name + ".tls.certificate and .tls.key (PEM), or "
                        + ".tls.keystore");
            }
            try {
                out.put(name, tlsFactory.fromProperties(tls));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("the TLS settings of " + SNI_PREFIX + name + " (" + SNI_PREFIX + name
                        + ".tls.*): " + e.getMessage(), e);
            }
        });
        return out;
    }

    private static List<Upstream> upstreams(Settings settings, String key, Map<String, Upstream> known) {
        List<Upstream> out = new ArrayList<>();
        for (String address : settings.list(key)) {
            InetSocketAddress a = Settings.hostAndPort(key, address);
            out.add(known.computeIfAbsent(a.getHostString() + ":" + a.getPort(), k -> new Upstream(a)));
        }
        return out;
    }

    /** The transports a route's upstream leg may use. */
    private enum UpstreamTransport { TCP, SSL }

    /**
     * The same route read from changed settings, keeping the figures counted so far; the caller
     * {@linkplain #retire() retires} this one once the new one is in its place.
     *
     * @param properties the endpoint's new configuration
     * @param tlsFactory makes the upstream TLS settings, or {@code null}
     * @return the new route
     * @throws IllegalArgumentException naming the property and value that is wrong
     */
    Route reread(Map<String, ?> properties, TlsOptionsFactory tlsFactory) {
        Route next = parse(endpoint, properties, tlsFactory);
        next.counters = counters;
        return next;
    }

    /**
     * No new connection gets this route (it was read anew, or the proxy stopped): its pools
     * close when the last client connection made on it ends, at once if none is open, and its
     * health checks stop. The connections still open go on with their upstream connections.
     */
    void retire() {
        retired = true;
        if (clients.get() == 0) {
            closePools();
        }
    }

    /** Client connections made on this route and not gone yet. */
    private final java.util.concurrent.atomic.AtomicInteger clients = new java.util.concurrent.atomic.AtomicInteger();

    /** A client connection of this route was made. */
    void clientOpened() {
        clients.incrementAndGet();
    }

    /**
     * A client connection of this route is gone. The last one of a retired route closes its
     * pools: no later connection gets this route, so their idle upstream connections would only
     * wait for their idle timeout.
     */
    void clientClosed() {
        if (clients.decrementAndGet() == 0 && retired) {
            closePools();
        }
    }

    /**
     * Closes the pools of a route nothing uses, but not the route: a connection made from it a
     * moment before it was retired, and made only now, gets a new pool, closed in turn when
     * that connection ends.
     */
    private void closePools() {
        List<ConnectionPool<PooledLeg>> all = new ArrayList<>();
        synchronized (this) {
            if (clients.get() != 0) {
                return; // such a late connection came meanwhile: the last to go closes them
            }
            if (pool != null) {
                all.add(pool);
                pool = null;
                poolMadeBy = null;
                poolTransport = null;
            }
            retiredPools.forEach(r -> all.add(r.pool()));
            retiredPools.clear();
            retiring = false;
        }
        all.forEach(ConnectionPool::close);
    }

    /** @return whether these are the properties this route was read from */
    boolean readFrom(Map<String, ?> properties) {
        return settings.equals(properties);
    }

    /**
     * The upstreams to try for a new connection, in order: as many as the retries allow,
     * the first chosen by the balancing mode, the rest following it round the list.
     */
    List<Upstream> candidates() {
        return candidates(upstreams, next, tries);
    }

    /**
     * Where a TLS connection goes by what its ClientHello says: the route of its server name if
     * there is one; else the route of the first protocol in its ALPN list that has one; else
     * the default route.
     *
     * @param serverName the ClientHello's SNI, lower case; null for none (or plain text)
     * @param alpn the protocols it offers, in its order; empty for none
     * @return the upstreams to try and whether the gateway terminates the TLS
     */
    Choice choose(String serverName, List<String> alpn) {
        Group g = serverName == null ? null : byName.get(serverName);
        if (g != null) {
            return new Choice(candidates(g.members(), g.next(), g.tries()), g.terminate(), null);
        }
        for (String protocol : alpn) {
            g = byAlpn.get(protocol);
            if (g != null) {
                return new Choice(candidates(g.members(), g.next(), g.tries()), null, protocol);
            }
        }
        return new Choice(candidates(), null, null);
    }

    /**
     * @param serverName a ClientHello's SNI, or null
     * @param alpn the ALPN protocol whose route was chosen, or null
     * @return whether a connection with them has somewhere to go (its named route, or the default one)
     */
    boolean hasRoute(String serverName, String alpn) {
        return !upstreams.isEmpty() || serverName != null && byName.containsKey(serverName)
                || alpn != null && byAlpn.containsKey(alpn);
    }

    /**
     * Whether a connect failed because this process (EMFILE) or the system (ENFILE) has no
     * file descriptor left: the JDK says so only in the message of the exception it throws.
     */
    private static boolean outOfDescriptors(Throwable error) {
        for (Throwable e = error; e != null; e = e.getCause() == e ? null : e.getCause()) {
            String message = e.getMessage();
            if (e instanceof java.io.IOException && message != null && message.contains("Too many open files")) {
                return true;
            }
        }
        return false;
    }

    /** @return whether any upstream is not marked down */
    boolean anyUp() {
        for (Upstream u : upstreams) {
            if (!u.down.get()) {
                return true;
            }
        }
        return false;
    }

    /** @return whether connections are routed by the server name or ALPN protocols their ClientHello asks for */
    boolean routesByName() {
        return !byName.isEmpty() || !byAlpn.isEmpty();
    }

    /** @return how long a connection routed by name may take to send its first bytes */
    Duration sniTimeout() {
        return sniTimeout;
    }

    /** @return the most bytes read to find a connection's ClientHello when routing by name */
    int sniMaxBytes() {
        return sniMaxBytes;
    }

    private List<Upstream> candidates(List<Upstream> upstreams, AtomicInteger next, int tries) {
        int n = upstreams.size();
        if (n == 0) {
            return List.of();
        }
        int start = Math.floorMod(next.getAndIncrement(), n);
        boolean anyDown = false;
        for (Upstream u : upstreams) {
            anyDown |= u.down.get();
        }
        if (anyDown) {
            // Marked-down upstreams are left out (a check brings them back), so no client waits on them.
            List<Upstream> order = new ArrayList<>(tries);
            for (int i = 0; i < n && order.size() < tries; i++) {
                Upstream u = upstreams.get((start + i) % n);
                if (!u.down.get()) {
                    order.add(u);
                }
            }
            if (balancing == Balancing.LEAST_CONNECTIONS && order.size() > 1) {
                Upstream best = order.get(0);
                for (Upstream u : order) {
                    best = u.active.get() < best.active.get() ? u : best;
                }
                order.remove(best);
                order.add(0, best);
            }
            return order;
        }
        if (balancing == Balancing.LEAST_CONNECTIONS) {
            // The fewest open connections first; ties go round robin from start.
            int best = start;
            for (int i = 1; i < n; i++) {
                int at = (start + i) % n;
                if (upstreams.get(at).active.get() < upstreams.get(best).active.get()) {
                    best = at;
                }
            }
            start = best;
        }
        List<Upstream> order = new ArrayList<>(tries);
        for (int i = 0; i < tries; i++) {
            order.add(upstreams.get((start + i) % n));
        }
        return order;
    }

    String endpoint() {
        return endpoint;
    }

    /** @return whether upstream connections are pooled and reused */
    boolean pooled() {
        return pooled;
    }

    /** @return what the route carries */
    Application application() {
        return application;
    }

    /**
     * Follows one client's exchange over a pooled connection.
     *
     * @return a new tracker for the route's protocol
     * @throws IllegalArgumentException if the route carries opaque TCP
     */
    Exchange newExchange() {
        return Exchange.of(application, httpLimits);
    }

    /**
     * Takes an upstream connection from the route's pool ({@link #pool(ProxyServices)}). An
     * acquire made on a pool that was retired and closed in between (its caller took it just
     * before the services changed) is made again, once, on the pool the route has now, rather
     * than failing as if the upstream had.
     *
     * @throws IllegalStateException if there is no pool service or no transport of the route's kind
     */
    CompletionStage<PooledConnection<PooledLeg>> acquire(ProxyServices services, InetSocketAddress address) {
        ConnectionPool<PooledLeg> taken = pool(services);
        return taken.acquire(address).exceptionallyCompose(error -> {
            Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                    ? error.getCause() : error;
            ConnectionPool<PooledLeg> now = pool();
            if (cause instanceof org.wharf.transport.api.TransportClosedError && now != null && now != taken) {
                return pool(services).acquire(address);
            }
            return java.util.concurrent.CompletableFuture.failedFuture(cause);
        });
    }

    /**
     * The route's pool of upstream connections, made on first use with the pool service and the
     * route's transport as they are now (read under this lock, so a caller that read them
     * earlier cannot bring back an older one), and made anew when either is another than the
     * pool was made with: a route outlives the services (it is kept while its configuration
     * stays), and a pool on a transport that went, or of an endpoints bundle that was updated,
     * makes no more connections. The old pool is retired, not closed: acquires waiting on it
     * and connects it has under way finish there, its connections in use finish with their
     * clients; it is closed once none is in use or waiting and an acquire timeout has passed
     * (looked at on the route's next acquire and whenever one of its connections is given
     * back or dropped), or with the route's other pools when its last client connection ends
     * after it was retired.
     *
     * @throws IllegalStateException if there is no pool service or no transport of the route's
     *     kind
     */
    ConnectionPool<PooledLeg> pool(ProxyServices services) {
        ConnectionPool<PooledLeg> current;
        List<ConnectionPool<PooledLeg>> finished;
        synchronized (this) {
            ConnectionPools pools = services.connectionPools();
            org.wharf.transport.api.StreamTransportProvider provider = services.transport(transport);
            if (provider == null) {
                throw new IllegalStateException("no " + transport + " transport provider is available");
            }
            if (pool != null && (pools != poolMadeBy || provider != poolTransport)) {
                // Connects under way finish within the acquire timeout they were started with.
                retiredPools.add(new RetiredPool(pool, clock.getAsLong() + connectOptions.timeout().toNanos()));
                retiring = true;
                pool = null;
            }
            if (pool == null) {
                poolMadeBy = pools;
                poolTransport = provider;
                pool = pools.create(provider, PooledLeg::new, PoolOptions.DEFAULT.withConnect(connectOptions)
                        .withMaxSize(poolMaxSize).withIdleTimeout(poolIdleTimeout)
                        .withAcquireTimeout(connectOptions.timeout()));
            }
            current = pool;
            finished = finishedPools();
        }
        finished.forEach(ConnectionPool::close); // outside the lock: closing fails what it still had
        return current;
    }

    /**
     * A connection of the route's pools was given back or dropped: a retired pool it leaves
     * unused is closed now if its time has come. One volatile read when none is retired.
     */
    void tidyPools() {
        if (!retiring) {
            return;
        }
        List<ConnectionPool<PooledLeg>> finished;
        synchronized (this) {
            finished = finishedPools();
        }
        finished.forEach(ConnectionPool::close);
    }

    /** A pool the route no longer hands out, and when it may be closed at the earliest; guarded by the route. */
    private record RetiredPool(ConnectionPool<PooledLeg> pool, long closeAfterNanos) {
    }

    /**
     * Takes the retired pools nothing uses or waits on any more, their time come, off the list,
     * for the caller to close outside the lock; under the lock.
     */
    private List<ConnectionPool<PooledLeg>> finishedPools() {
        if (retiredPools.isEmpty()) {
            return List.of();
        }
        long now = clock.getAsLong();
        List<ConnectionPool<PooledLeg>> finished = new ArrayList<>();
        retiredPools.removeIf(r -> {
            if (now - r.closeAfterNanos() >= 0 && r.pool().inUse() == 0 && r.pool().waiting() == 0) {
                finished.add(r.pool());
                return true;
            }
            return false;
        });
        retiring = !retiredPools.isEmpty();
        return finished;
    }

    /** @return the pool made last, or null */
    synchronized ConnectionPool<PooledLeg> pool() {
        return pool;
    }

    /** @return how many retired pools are not closed yet, for tests */
    synchronized int retiredPools() {
        return retiredPools.size();
    }

    // ---- passive health ----

    /**
     * A connect to an upstream succeeded: its failures in a row start again from zero.
     *
     * @param u the upstream
     */
    void connected(Upstream u) {
        if (u.failuresInARow.get() != 0) {
            u.failuresInARow.set(0);
        }
    }

    /**
     * A connect to an upstream failed; the one that makes {@value #HEALTH_FAILURES} in a row
     * marks it down (logged once) and starts checks in the background: the first after
     * {@value #HEALTH_DOWN_TIME}, each further one after twice the wait of the last, up to
     * {@value #HEALTH_MAX_DOWN_TIME}. The check that connects marks it up again (logged once).
     *
     * @param u the upstream
     * @param cause why
     * @param loop where the checks are timed
     * @param probe connects to the upstream once, as a client connection would
     */
    void connectFailed(Upstream u, Throwable cause, org.wharf.transport.api.EventLoop loop,
            java.util.function.Function<Upstream, java.util.concurrent.CompletionStage<?>> probe) {
        if (healthFailures == 0 || outOfDescriptors(cause)) {
            return; // without a file descriptor every connect fails: the gateway's shortage, not the upstream's
        }
        int n = u.failuresInARow.incrementAndGet();
        if (n < healthFailures || !u.down.compareAndSet(false, true)) {
            return;
        }
        u.downSince = System.nanoTime();
        u.backoffMillis = downTime.toMillis();
        u.markedDown.increment();
        LOG.log(System.Logger.Level.WARNING, "proxy " + endpoint + ": upstream " + u + " marked down after " + n
                + " failed connects or checks in a row (last: " + cause.getMessage() + "); no connection goes to it "
                + "until a check passes, the first in " + u.backoffMillis + " ms");
        scheduleCheck(u, loop, probe);
    }

    /**
     * Starts the active checks, once: every {@value #HEALTH_INTERVAL} each upstream that is up
     * is connected to; a failure counts as a failed connect, a success clears the count.
     *
     * @param loop where they are timed
     * @param probe connects to an upstream once
     */
    void startActiveChecks(org.wharf.transport.api.EventLoop loop,
            java.util.function.Function<Upstream, java.util.concurrent.CompletionStage<?>> probe) {
        if (healthInterval == null || healthFailures == 0 || !activeChecks.compareAndSet(false, true)) {
            return;
        }
        loop.schedule(new Runnable() {
            @Override
            public void run() {
                if (retired) {
                    return;
                }
                for (Upstream u : upstreams()) {
                    if (u.down.get()) {
                        continue; // its own checks run while it is down
                    }
                    java.util.concurrent.CompletionStage<?> check;
                    try {
                        check = probe.apply(u);
                    } catch (RuntimeException e) {
                        check = java.util.concurrent.CompletableFuture.failedFuture(e);
                    }
                    check.whenComplete((ok, error) -> {
                        if (error == null) {
                            connected(u);
                        } else {
                            Throwable cause = error instanceof java.util.concurrent.CompletionException
                                    && error.getCause() != null ? error.getCause() : error;
                            connectFailed(u, cause, loop, probe);
                        }
                    });
                }
                loop.schedule(this, healthInterval.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            }
        }, healthInterval.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    private void scheduleCheck(Upstream u, org.wharf.transport.api.EventLoop loop,
            java.util.function.Function<Upstream, java.util.concurrent.CompletionStage<?>> probe) {
        loop.schedule(() -> {
            if (retired) {
                return; // a newer route took over; its upstreams have their own health
            }
            java.util.concurrent.CompletionStage<?> check;
            try {
                check = probe.apply(u);
            } catch (RuntimeException e) {
                check = java.util.concurrent.CompletableFuture.failedFuture(e);
            }
            check.whenComplete((ok, error) -> {
                if (error == null) {
                    u.failuresInARow.set(0);
                    long millis = (System.nanoTime() - u.downSince) / 1_000_000;
                    LOG.log(System.Logger.Level.INFO, "proxy " + endpoint + ": upstream " + u + " is up again (a check "
                            + "passed after " + millis + " ms down)");
                    u.down.set(false); // after the line: whoever sees it up can read why

                } else {
                    if (!outOfDescriptors(error)) { // no descriptor to check with: not its failure
                        u.backoffMillis = Math.min(maxDownTime.toMillis(), u.backoffMillis * 2);
                    }
                    LOG.log(System.Logger.Level.DEBUG, () -> "proxy " + endpoint + ": upstream " + u + " still down ("
                            + error.getMessage() + "); next check in " + u.backoffMillis + " ms");
                    scheduleCheck(u, loop, probe);
                }
            });
        }, u.backoffMillis, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    String transport() {
        return transport;
    }

    /** @return whether each connection gets a line in the access log */
    boolean accessLog() {
        return accessLog;
    }

    /** @return the name of the probe checks use, or null when they only connect */
    String probeName() {
        return probeName;
    }

    /** @return the most bytes of an answer a probe is given */
    int healthMaxBytes() {
        return healthMaxBytes;
    }

    /** @return the endpoint's configuration this route was read from */
    Map<String, Object> properties() {
        return settings;
    }

    /**
     * Whether the route's probe was there for a check: its going and its coming back are each
     * logged once, since every check would otherwise repeat them.
     *
     * @param present whether a probe of {@link #probeName()} is registered
     */
    void probeAvailable(boolean present) {
        if (!present && probeMissing.compareAndSet(false, true)) {
            LOG.log(System.Logger.Level.WARNING, "proxy " + endpoint + ": no health probe named '" + probeName
                    + "' is registered (" + HEALTH_CHECK + " = " + healthCheck.name().toLowerCase(Locale.ROOT)
                    + "); checks only connect until one is");
        } else if (present && probeMissing.compareAndSet(true, false)) {
            LOG.log(System.Logger.Level.INFO, "proxy " + endpoint + ": health probe '" + probeName
                    + "' is registered again; checks use it");
        }
    }

    /** @return what a health check asks of an upstream */
    HealthCheck.Kind healthCheck() {
        return healthCheck;
    }

    /** @return which PROXY protocol header goes first on each upstream connection */
    ProxyHeaderWriter.Version sendProxyProtocol() {
        return sendProxyProtocol;
    }

    ConnectOptions connectOptions() {
        return connectOptions;
    }

    /** @return the idle timeout, or {@code null} for none */
    Duration idleTimeout() {
        return idleTimeout;
    }

    /** @return every upstream of the route, the default route's first, each once */
    List<Upstream> upstreams() {
        if (byName.isEmpty() && byAlpn.isEmpty()) {
            return upstreams;
        }
        java.util.LinkedHashSet<Upstream> all = new java.util.LinkedHashSet<>(upstreams);
        byName.values().forEach(g -> all.addAll(g.members()));
        byAlpn.values().forEach(g -> all.addAll(g.members()));
        return List.copyOf(all);
    }
}
