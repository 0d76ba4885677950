package org.wharf.protocol.http.internal;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.stream.Collectors;

import org.wharf.endpoints.api.ConnectionDTO;
import org.wharf.endpoints.api.EndpointRuntime;
import org.wharf.endpoints.api.RuntimeDTO;
import org.wharf.protocol.http.HttpHandler;
import org.wharf.protocol.http.HttpRequest;
import org.wharf.protocol.http.HttpResponse;

/**
 * The platform's status: {@code /status} as JSON, {@code /metrics} in the Prometheus text
 * format, {@code /} as the operator's live page (which reads {@code /status}), and what
 * balancers and Kubernetes probe: {@code /ready} (readiness) and {@code /live} (liveness);
 * {@code /connections} lists open connections with their clients.
 */
final class StatusPage implements HttpHandler {

    /**
     * The operator's live view: one self-contained page (its script and style inline, nothing
     * fetched from elsewhere) that reads {@code /status} every second and charts the last minutes.
     */
    private static final byte[] LIVE_PAGE = livePage();

    /** How long a built {@code /connections} page is served again, and the least time between two builds. */
    static final long CONNECTIONS_EVERY_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(1);

    private final EndpointRuntime runtime;
    private final AllowedHosts hosts;
    private final java.util.function.LongSupplier clock;
    /** The last {@code /connections} page built, for which endpoint filter, and when; guarded by this. */
    private HttpResponse connectionsPage;
    private String connectionsFor;
    private long connectionsBuilt;

    StatusPage(EndpointRuntime runtime) {
        this(runtime, AllowedHosts.ANY);
    }

    StatusPage(EndpointRuntime runtime, AllowedHosts hosts) {
        this(runtime, hosts, System::nanoTime);
    }

    /** A page on a given clock (nanoseconds), for tests. */
    StatusPage(EndpointRuntime runtime, java.util.function.LongSupplier clock) {
        this(runtime, AllowedHosts.ANY, clock);
    }

    private StatusPage(EndpointRuntime runtime, AllowedHosts hosts, java.util.function.LongSupplier clock) {
        this.runtime = runtime;
        this.hosts = hosts;
        this.clock = clock;
        this.connectionsBuilt = clock.getAsLong() - 2 * CONNECTIONS_EVERY_NANOS;
    }

    @Override
    public HttpResponse handle(HttpRequest request) {
        if (!request.method().equals("GET") && !request.method().equals("HEAD")) {
            return HttpResponse.text(405, "only GET and HEAD\n").withHeader("Allow", "GET, HEAD");
        }
        // A balancer's or Kubernetes' probe names whatever host it was told to, and what it reads
        // is no secret: the probes answer any name.
        boolean probe = request.path().equals("/ready") || request.path().equals("/live");
        if (!probe && request.host().filter(host -> !hosts.allows(host)).isPresent()) {
            // A name the operator did not list: a page elsewhere may have rebound it to us.
            return HttpResponse.text(403, "host not allowed (" + AllowedHosts.PROPERTY + ")\n");
        }
        return switch (request.path()) {
            case "/status" -> HttpResponse.of(200, "application/json", json().getBytes(StandardCharsets.UTF_8));
            case "/metrics" -> HttpResponse.of(200, PrometheusText.CONTENT_TYPE,
                    PrometheusText.format(runtime.getMetricDTOs()).getBytes(StandardCharsets.UTF_8));
            case "/" -> HttpResponse.of(200, "text/html; charset=utf-8", LIVE_PAGE);
            case "/ready" -> ready();
            case "/live" -> live();
            case "/connections" -> connections(request);
            default -> HttpResponse.text(404, "not found: " + request.path() + "\n");
        };
    }

    /** For a balancer's readiness check: 200 while the node takes new connections, else 503 and why. */
    private HttpResponse ready() {
        RuntimeDTO now = runtime.getRuntimeDTO();
        return now.ready ? HttpResponse.text(200, "ready\n")
                : HttpResponse.text(503, "not ready: " + NoPaths.of(now.notReadyReason) + "\n");
    }

    /** For a liveness check: 200 while the node can serve (its event loops run), else 503 and why. */
    private HttpResponse live() {
        RuntimeDTO now = runtime.getRuntimeDTO();
        return now.live ? HttpResponse.text(200, "live\n")
                : HttpResponse.text(503, "not live: " + now.notLiveReason + "\n");
    }

    /** At most this many connections are listed by {@code /connections}: the page stays small. */
    static final int MAX_CONNECTIONS = 1000;

    /**
     * {@code /connections[?endpoint=NAME]}: the open connections as JSON, each with its client
     * (the PROXY protocol's, behind a balancer) and the balancer; at most {@value #MAX_CONNECTIONS},
     * with the total.
     */
    private HttpResponse connections(HttpRequest request) {
        String endpoint;
        try {
            endpoint = request.query().flatMap(q -> Arrays.stream(q.split("&"))
                    .filter(p -> p.startsWith("endpoint=")).map(p -> java.net.URLDecoder.decode(p.substring(9),
                            StandardCharsets.UTF_8)).findFirst()).orElse(null);
        } catch (IllegalArgumentException e) {
            return HttpResponse.text(400, "a malformed percent-encoding in the query\n"); // "%zz", a lone "%"
        }
        // Each build reads every open connection: at most one a second, whoever asks and however
        // often (pipelined requests too); the same question within it gets the same page.
        synchronized (this) {
            long now = clock.getAsLong();
            if (now - connectionsBuilt < CONNECTIONS_EVERY_NANOS) {
                if (java.util.Objects.equals(endpoint, connectionsFor)) {
                    return connectionsPage;
                }
                return HttpResponse.text(503, "the connections were listed less than a second ago; ask again\n")
                        .withHeader("Retry-After", "1");
            }
            connectionsPage = buildConnections(endpoint);
            connectionsFor = endpoint;
            connectionsBuilt = now;
            return connectionsPage;
        }
    }

    private HttpResponse buildConnections(String endpoint) {
        ConnectionDTO[] all = runtime.getConnectionDTOs(endpoint);
        String listed = Arrays.stream(all).limit(MAX_CONNECTIONS).map(c -> "{\"endpoint\":" + q(c.endpoint)
                + ",\"client\":" + q(c.peer) + ",\"proxiedBy\":" + (c.proxiedBy == null ? "null" : q(c.proxiedBy))
                + ",\"local\":" + q(c.local) + ",\"bytesReceived\":" + c.bytesReceived + ",\"bytesSent\":"
                + c.bytesSent + "}").collect(Collectors.joining(","));
        return HttpResponse.of(200, "application/json", ("{\"total\":" + all.length + ",\"connections\":[" + listed
                + "]}").getBytes(StandardCharsets.UTF_8));
    }

    private String json() {
        RuntimeDTO now = runtime.getRuntimeDTO();
        String endpoints = Arrays.stream(now.endpoints).map(e -> "{\"name\":" + q(e.name) + ",\"transport\":"
                + q(e.transport) + ",\"state\":" + q(e.state.name()) + ",\"failureReason\":" + e.failureReason
                + ",\"reason\":" + q(NoPaths.of(e.failureMessage)) + ",\"addresses\":[" + Arrays.stream(e.addresses)
                .map(StatusPage::q).collect(Collectors.joining(",")) + "],\"protocol\":" + q(e.protocol)
                + ",\"version\":" + q(e.protocolVersion) + ",\"sessions\":" + e.sessions + ",\"open\":" + e.open
                + ",\"rejected\":" + e.rejected + ",\"requests\":" + e.requests + ",\"bytesReceived\":"
                + e.bytesReceived + ",\"bytesSent\":" + e.bytesSent + ",\"protocolMetrics\":{"
                + e.protocolMetrics.entrySet().stream().map(m -> q(m.getKey()) + ":" + m.getValue())
                .collect(Collectors.joining(",")) + "}}").collect(Collectors.joining(","));
        String protocols = Arrays.stream(now.protocols).map(p -> "{\"name\":" + q(p.name) + ",\"version\":"
                + q(p.version) + ",\"transports\":[" + Arrays.stream(p.transports).map(StatusPage::q)
                .collect(Collectors.joining(",")) + "],\"bundle\":" + q(p.bundle) + "}").collect(Collectors.joining(","));
        return "{\"changeCount\":" + now.changeCount + ",\"ready\":" + now.ready + ",\"notReadyReason\":"
                + q(NoPaths.of(now.notReadyReason)) + ",\"shuttingDown\":" + now.shuttingDown + ",\"live\":" + now.live
                + ",\"endpoints\":[" + endpoints + "],\"protocols\":["
                + protocols + "]}";
    }

    private static byte[] livePage() {
        try (java.io.InputStream in = StatusPage.class.getResourceAsStream("live.html")) {
            if (in == null) {
                throw new IllegalStateException("live.html is missing from " + StatusPage.class.getPackageName());
            }
            return in.readAllBytes();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot read live.html of the status page", e);
        }
    }

    private static String q(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    private static String h(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
