package org.wharf.endpoints.internal;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.wharf.endpoints.ServerCounters;
import org.wharf.endpoints.api.EndpointState;
import org.wharf.endpoints.api.MetricDTO;
import org.wharf.endpoints.api.SampleDTO;
import org.wharf.protocol.api.MemoryBudget;
import org.wharf.transport.api.Histogram;
import org.wharf.transport.api.LoopStats;
import org.wharf.transport.api.TransportObserver;
import org.wharf.transport.api.TransportProvider;

/**
 * The runtime's metrics as DTOs: read from the published endpoints (each with the counters of
 * the server it describes), the transports' loops and the bound protocols' figures. Names,
 * units and help are fixed here, once; the status protocol only formats them.
 */
final class RuntimeMetrics {

    private static final double NANOS_PER_SECOND = 1e9;
    private static final List<String> TLS_CAUSES = List.of(TransportObserver.TIMEOUT, TransportObserver.CLOSED,
            TransportObserver.CERTIFICATE, TransportObserver.HANDSHAKE, TransportObserver.PROTOCOL,
            TransportObserver.OTHER);

    private final Map<String, MetricDTO> metrics = new LinkedHashMap<>();
    private final Map<String, List<SampleDTO>> samples = new LinkedHashMap<>();

    private RuntimeMetrics() {
        declare("wharf_endpoint_state", MetricDTO.GAUGE, "",
                "1 for the state each configured endpoint is in, 0 for the others");
        declare("wharf_endpoint_info", MetricDTO.GAUGE, "",
                "Each configured endpoint's transport and bound protocol, as labels (always 1)");
        declare("wharf_connections_accepted_total", MetricDTO.COUNTER, "",
                "Connections accepted and served (for UDP: datagrams received)");
        declare("wharf_connections_refused_total", MetricDTO.COUNTER, "",
                "Connections accepted and closed at once, by reason (limit, tls, budget, client_limit, proxy_protocol)");
        declare("wharf_connections_open", MetricDTO.GAUGE, "", "Connections open now");
        declare("wharf_connections_closed_total", MetricDTO.COUNTER, "",
                "Connections closed, by reason (normal, idle, shutdown, error, protocol)");
        declare("wharf_received_bytes_total", MetricDTO.COUNTER, "bytes",
                "Bytes received over the endpoint's connections");
        declare("wharf_sent_bytes_total", MetricDTO.COUNTER, "bytes", "Bytes sent over the endpoint's connections");
        declare("wharf_requests_total", MetricDTO.COUNTER, "", "Requests finished, for protocols that count them");
        declare("wharf_connection_duration_seconds", MetricDTO.HISTOGRAM, "seconds",
                "How long closed connections were open");
        declare("wharf_request_duration_seconds", MetricDTO.HISTOGRAM, "seconds",
                "How long requests took from their first byte to their end, for request-cycle protocols");
        declare("wharf_tls_handshake_duration_seconds", MetricDTO.HISTOGRAM, "seconds",
                "How long the TLS handshakes of accepted connections took, those that completed");
        declare("wharf_tls_handshake_failures_total", MetricDTO.COUNTER, "",
                "TLS handshakes of accepted connections that failed, by cause");
        declare("wharf_loop_channels", MetricDTO.GAUGE, "", "Channels registered with an event loop now");
        declare("wharf_loop_tasks_total", MetricDTO.COUNTER, "", "Tasks and timers an event loop has run");
        declare("wharf_loop_io_events_total", MetricDTO.COUNTER, "", "I/O readiness events an event loop has handled");
        declare("wharf_loop_busy_polls_total", MetricDTO.COUNTER, "", "Polls an event loop made before it slept "
                + "(busyPollMicros), by whether they found I/O");
        declare("wharf_loop_lag_seconds", MetricDTO.HISTOGRAM, "seconds",
                "How long a task handed to an event loop waits before it runs (sampled twice a second)");
        declare("wharf_memory_used_bytes", MetricDTO.GAUGE, "bytes",
                "Bytes an endpoint's connections hold for their clients now (request bodies and the like)");
        declare("wharf_memory_limit_bytes", MetricDTO.GAUGE, "bytes", "An endpoint's memory budget (memory.endpoint)");
        declare("wharf_memory_platform_used_bytes", MetricDTO.GAUGE, "bytes",
                "Bytes all endpoints' connections hold for their clients now");
        declare("wharf_memory_platform_limit_bytes", MetricDTO.GAUGE, "bytes",
                "The platform's memory budget (wharf.memory.total)");
        declare("wharf_protocol_figure", MetricDTO.GAUGE, "",
                "A figure a protocol keeps for an endpoint (such as a gateway route's), by name");
    }

    /**
     * The metrics of these endpoints and transports.
     *
     * @param endpoints the published endpoints
     * @param transports the registered transport providers (their loops, once each)
     * @param platform the platform's memory budget
     * @return one DTO per metric, sorted by name
     */
    static MetricDTO[] of(List<Endpoint.View> endpoints, Collection<? extends TransportProvider> transports,
            MemoryBudget platform) {
        RuntimeMetrics m = new RuntimeMetrics();
        m.gauge("wharf_memory_platform_used_bytes", platform.used());
        m.gauge("wharf_memory_platform_limit_bytes", platform.limit());
        endpoints.forEach(m::endpoint);
        Map<String, LoopStats> loops = new TreeMap<>();
        for (TransportProvider t : transports) {
            try {
                t.loopStats().forEach(s -> loops.putIfAbsent(s.name(), s));
            } catch (RuntimeException e) {
                // a transport's introspection never breaks the runtime's
            }
        }
        loops.values().forEach(m::loop);
        return m.finish();
    }

    private void endpoint(Endpoint.View v) {
        String e = v.name();
        for (EndpointState s : EndpointState.values()) {
            gauge("wharf_endpoint_state", s == v.state() ? 1 : 0, "endpoint", e, "state",
                    s.name().toLowerCase(java.util.Locale.ROOT));
        }
        ProtocolEntry p = v.protocol();
        gauge("wharf_endpoint_info", 1, "endpoint", e, "transport", v.transport(), "protocol",
                p == null ? "" : p.name(), "version", p == null ? "" : p.version().toString());
        ServerCounters c = v.counters();
        gauge("wharf_connections_accepted_total", c.sessions(), "endpoint", e);
        c.refused().forEach((reason, n) -> gauge("wharf_connections_refused_total", n, "endpoint", e, "reason",
                reason));
        gauge("wharf_connections_open", c.open(), "endpoint", e);
        c.closed().forEach((reason, n) -> gauge("wharf_connections_closed_total", n, "endpoint", e, "reason", reason));
        gauge("wharf_received_bytes_total", c.bytesReceived(), "endpoint", e);
        gauge("wharf_sent_bytes_total", c.bytesSent(), "endpoint", e);
        gauge("wharf_requests_total", c.requests(), "endpoint", e);
        if (c.memoryLimit() != Long.MAX_VALUE) {
            gauge("wharf_memory_used_bytes", c.memoryUsed(), "endpoint", e);
            gauge("wharf_memory_limit_bytes", c.memoryLimit(), "endpoint", e);
        }
        if (!"udp".equals(v.transport())) {
            histogram("wharf_connection_duration_seconds", c.connectionDurations(), "endpoint", e);
            histogram("wharf_request_duration_seconds", c.requestDurations(), "endpoint", e);
        }
        if ("ssl".equals(v.transport())) {
            histogram("wharf_tls_handshake_duration_seconds", c.handshakeDurations(), "endpoint", e);
            Map<String, Long> failures = new TreeMap<>();
            TLS_CAUSES.forEach(cause -> failures.put(cause, 0L));
            failures.putAll(c.handshakeFailures());
            failures.forEach((cause, n) -> gauge("wharf_tls_handshake_failures_total", n, "endpoint", e, "cause",
                    cause));
        }
        if (p != null) {
            Map<String, Long> figures;
            try {
                figures = p.metrics(e);
            } catch (RuntimeException | LinkageError failed) {
                figures = Map.of(); // a protocol's introspection never breaks the runtime's
            }
            if (figures != null) {
                new TreeMap<>(figures).forEach((name, n) -> gauge("wharf_protocol_figure", n == null ? 0 : n,
                        "endpoint", e, "protocol", p.name(), "name", name));
            }
        }
    }

    private void loop(LoopStats s) {
        gauge("wharf_loop_channels", s.channels(), "loop", s.name());
        gauge("wharf_loop_tasks_total", s.tasksRun(), "loop", s.name());
        gauge("wharf_loop_io_events_total", s.ioEvents(), "loop", s.name());
        gauge("wharf_loop_busy_polls_total", s.busyPollsFound(), "loop", s.name(), "found", "true");
        gauge("wharf_loop_busy_polls_total", s.busyPolls() - s.busyPollsFound(), "loop", s.name(), "found", "false");
        histogram("wharf_loop_lag_seconds", s.lag(), "loop", s.name());
    }

    private void declare(String name, String type, String unit, String help) {
        MetricDTO m = new MetricDTO();
        m.name = name;
        m.type = type;
        m.unit = unit;
        m.help = help;
        metrics.put(name, m);
        samples.put(name, new ArrayList<>());
    }

    /** A counter's or gauge's sample. */
    private void gauge(String metric, double value, String... labels) {
        SampleDTO s = new SampleDTO();
        s.labels = labels(labels);
        s.value = value;
        samples.get(metric).add(s);
    }

    /** A histogram of nanoseconds, as seconds. */
    private void histogram(String metric, Histogram.Snapshot h, String... labels) {
        SampleDTO s = new SampleDTO();
        s.labels = labels(labels);
        long[] bounds = h.upperBounds();
        long[] counts = h.bucketCounts();
        s.upperBounds = new double[bounds.length];
        s.cumulativeCounts = new long[counts.length];
        long running = 0;
        for (int i = 0; i < counts.length; i++) {
            running += counts[i];
            s.cumulativeCounts[i] = running;
            if (i < bounds.length) {
                s.upperBounds[i] = bounds[i] / NANOS_PER_SECOND;
            }
        }
        s.count = running;
        s.sum = h.sum() / NANOS_PER_SECOND;
        samples.get(metric).add(s);
    }

    private static Map<String, String> labels(String... pairs) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put(pairs[i], pairs[i + 1]);
        }
        return m;
    }

    private MetricDTO[] finish() {
        metrics.forEach((name, m) -> m.samples = samples.get(name).toArray(SampleDTO[]::new));
        return metrics.values().stream().sorted(Comparator.comparing(m -> m.name)).toArray(MetricDTO[]::new);
    }
}
