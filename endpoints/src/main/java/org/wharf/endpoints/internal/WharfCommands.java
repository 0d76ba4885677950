package org.wharf.endpoints.internal;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.wharf.endpoints.api.ConnectionDTO;
import org.wharf.endpoints.api.EndpointDTO;
import org.wharf.endpoints.api.EndpointRuntime;
import org.wharf.endpoints.api.ProtocolDTO;

/**
 * Gogo commands: {@code wharf:protocols}, {@code wharf:endpoints [NAME]},
 * {@code wharf:connections [ENDPOINT]}, {@code wharf:metrics [ENDPOINT]}. Their help text is
 * Gogo's {@code @Descriptor} (read by {@code help wharf:endpoints}); the annotation is only
 * there inside a framework with Gogo, and without it the commands work all the same.
 */
@Component(service = WharfCommands.class, property = {"osgi.command.scope=wharf",
    "osgi.command.function=protocols", "osgi.command.function=endpoints", "osgi.command.function=connections",
    "osgi.command.function=metrics"})
public final class WharfCommands {

    @Reference
    private EndpointRuntime runtime;

    /** Made by Declarative Services. */
    public WharfCommands() {
    }

    /** Over a given runtime, outside a framework (tests). */
    WharfCommands(EndpointRuntime runtime) {
        this.runtime = runtime;
    }

    /**
     * Lists the registered protocols.
     *
     * @return a table
     */
    @Descriptor("lists the protocols registered (name, version of their bundle, transports, bundle, endpoints using "
            + "them)")
    public String protocols() {
        StringBuilder out = new StringBuilder(String.format("%-16s %-14s %-14s %-32s %s%n", "PROTOCOL", "VERSION",
                "TRANSPORTS", "BUNDLE", "ENDPOINTS"));
        for (ProtocolDTO p : runtime.getRuntimeDTO().protocols) {
            out.append(String.format("%-16s %-14s %-14s %-32s %s%n", p.name, p.version, String.join(",", p.transports),
                    p.bundle, String.join(",", p.endpoints)));
        }
        return out.toString();
    }

    /**
     * Lists the configured endpoints.
     *
     * @return a table
     */
    @Descriptor("lists the endpoints: name, transport, addresses, state, protocol and version, open connections, "
            + "sessions so far, and why one is not listening")
    public String endpoints() {
        StringBuilder out = new StringBuilder(String.format("%-16s %-5s %-24s %-10s %-20s %8s %8s %s%n", "ENDPOINT", "TRANS",
                "ADDRESS", "STATE", "PROTOCOL", "OPEN", "SESSIONS", "REASON"));
        for (EndpointDTO e : runtime.getRuntimeDTO().endpoints) {
            out.append(String.format("%-16s %-5s %-24s %-10s %-20s %8d %8d %s%n", e.name, e.transport,
                    String.join(",", e.addresses), e.state, (e.protocol + " " + e.protocolVersion).trim(), e.open,
                    e.sessions, e.failureMessage));
        }
        return out.toString();
    }

    /**
     * Describes one endpoint: every figure the runtime keeps for it.
     *
     * @param name the endpoint's name
     * @return one line per figure, or why there is none
     */
    @Descriptor("describes one endpoint: state and reason, addresses, protocol, connections, requests, bytes and "
            + "its protocol's metrics")
    public String endpoints(@Descriptor("the endpoint's name (its configuration's name property)") String name) {
        EndpointDTO e = find(name);
        if (e == null) {
            return unknown(name);
        }
        StringBuilder out = new StringBuilder();
        line(out, "endpoint", e.name);
        line(out, "transport", e.transport);
        line(out, "addresses", String.join(", ", e.addresses));
        line(out, "state", String.valueOf(e.state));
        if (e.failureMessage != null && !e.failureMessage.isEmpty()) {
            line(out, "reason", e.failureMessage);
        }
        line(out, "protocol", (e.protocol + " " + e.protocolVersion).trim());
        line(out, "open", Long.toString(e.open));
        line(out, "sessions", Long.toString(e.sessions));
        line(out, "rejected", Long.toString(e.rejected));
        line(out, "requests", Long.toString(e.requests));
        line(out, "received", e.bytesReceived + " bytes");
        line(out, "sent", e.bytesSent + " bytes");
        if (e.protocolMetrics != null) {
            new TreeMap<>(e.protocolMetrics).forEach((metric, value) -> line(out, metric, Long.toString(value)));
        }
        return out.toString();
    }

    /**
     * Lists the open connections of every endpoint.
     *
     * @return a table
     */
    @Descriptor("lists the open connections of every endpoint: peer, local address, bytes in and out")
    public String connections() {
        return connectionTable(null);
    }

    /**
     * Lists the open connections of one endpoint.
     *
     * @param endpoint the endpoint's name
     * @return a table, or why there is none
     */
    @Descriptor("lists the open connections of one endpoint: peer, local address, bytes in and out")
    public String connections(@Descriptor("the endpoint's name") String endpoint) {
        return find(endpoint) == null ? unknown(endpoint) : connectionTable(endpoint);
    }

    /**
     * Lists the figures each endpoint's protocol keeps (such as a proxy route's).
     *
     * @return a table
     */
    @Descriptor("lists the figures each endpoint's protocol keeps (such as a gateway route's upstreams)")
    public String metrics() {
        return metricTable(null);
    }

    /**
     * Lists the figures one endpoint's protocol keeps.
     *
     * @param endpoint the endpoint's name
     * @return a table, or why there is none
     */
    @Descriptor("lists the figures one endpoint's protocol keeps")
    public String metrics(@Descriptor("the endpoint's name") String endpoint) {
        return find(endpoint) == null ? unknown(endpoint) : metricTable(endpoint);
    }

    private String connectionTable(String endpoint) {
        StringBuilder out = new StringBuilder(String.format("%-16s %-24s %-24s %12s %12s%n", "ENDPOINT", "PEER", "LOCAL",
                "IN", "OUT"));
        for (ConnectionDTO c : runtime.getConnectionDTOs(endpoint)) {
            out.append(String.format("%-16s %-24s %-24s %12d %12d%n", c.endpoint, c.peer, c.local, c.bytesReceived,
                    c.bytesSent));
        }
        return out.toString();
    }

    private String metricTable(String endpoint) {
        StringBuilder out = new StringBuilder(String.format("%-16s %-40s %16s%n", "ENDPOINT", "METRIC", "VALUE"));
        for (EndpointDTO e : runtime.getRuntimeDTO().endpoints) {
            if (endpoint == null || endpoint.equals(e.name)) {
                new TreeMap<>(e.protocolMetrics == null ? Map.<String, Long>of() : e.protocolMetrics)
                        .forEach((name, value) -> out.append(String.format("%-16s %-40s %16d%n", e.name, name, value)));
            }
        }
        return out.toString();
    }

    private EndpointDTO find(String name) {
        return Arrays.stream(runtime.getRuntimeDTO().endpoints).filter(e -> e.name.equals(name)).findFirst()
                .orElse(null);
    }

    private String unknown(String name) {
        String known = Arrays.stream(runtime.getRuntimeDTO().endpoints).map(e -> e.name).sorted()
                .collect(Collectors.joining(", "));
        return "no endpoint named " + name + " (" + (known.isEmpty() ? "there are none" : "there are: " + known) + ")"
                + System.lineSeparator();
    }

    private static void line(StringBuilder out, String key, String value) {
        out.append(String.format("%-24s %s%n", key, value));
    }
}
