package org.wharf.endpoints.api;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The runtime as text, for shells: one place for what {@code wharf:protocols},
 * {@code wharf:endpoints}, {@code wharf:connections} and {@code wharf:metrics} print, whether
 * Gogo runs them (the embedded platform) or Karaf's shell does.
 */
public final class RuntimeText {

    private final EndpointRuntime runtime;

    /**
     * Text over a runtime.
     *
     * @param runtime what to describe
     */
    public RuntimeText(EndpointRuntime runtime) {
        this.runtime = Objects.requireNonNull(runtime, "runtime");
    }

    /**
     * The registered protocols: name, version, transports, bundle, endpoints using them.
     *
     * @return a table
     */
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
     * The configured endpoints: name, transport, addresses, state, protocol, open connections,
     * sessions, and why one is not listening.
     *
     * @return a table
     */
    public String endpoints() {
        StringBuilder out = new StringBuilder(String.format("%-16s %-5s %-24s %-10s %-20s %8s %8s %s%n", "ENDPOINT",
                "TRANS", "ADDRESS", "STATE", "PROTOCOL", "OPEN", "SESSIONS", "REASON"));
        for (EndpointDTO e : runtime.getRuntimeDTO().endpoints) {
            out.append(String.format("%-16s %-5s %-24s %-10s %-20s %8d %8d %s%n", e.name, e.transport,
                    String.join(",", e.addresses), e.state, (e.protocol + " " + e.protocolVersion).trim(), e.open,
                    e.sessions, e.failureMessage));
        }
        return out.toString();
    }

    /**
     * One endpoint, every figure the runtime keeps for it.
     *
     * @param name the endpoint's name
     * @return one line per figure, or which endpoints there are
     */
    public String endpoint(String name) {
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
     * The open connections of one endpoint or all: peer, local address, bytes in and out.
     *
     * @param endpoint the endpoint's name, or {@code null} for every endpoint
     * @return a table, or which endpoints there are
     */
    public String connections(String endpoint) {
        if (endpoint != null && find(endpoint) == null) {
            return unknown(endpoint);
        }
        StringBuilder out = new StringBuilder(String.format("%-16s %-24s %-24s %12s %12s%n", "ENDPOINT", "PEER", "LOCAL",
                "IN", "OUT"));
        for (ConnectionDTO c : runtime.getConnectionDTOs(endpoint)) {
            out.append(String.format("%-16s %-24s %-24s %12d %12d%n", c.endpoint, c.peer, c.local, c.bytesReceived,
                    c.bytesSent));
        }
        return out.toString();
    }

    /**
     * The figures each endpoint's protocol keeps (such as a gateway route's), of one endpoint or all.
     *
     * @param endpoint the endpoint's name, or {@code null} for every endpoint
     * @return a table, or which endpoints there are
     */
    public String metrics(String endpoint) {
        if (endpoint != null && find(endpoint) == null) {
            return unknown(endpoint);
        }
        StringBuilder out = new StringBuilder(String.format("%-16s %-40s %16s%n", "ENDPOINT", "METRIC", "VALUE"));
        for (EndpointDTO e : runtime.getRuntimeDTO().endpoints) {
            if (endpoint == null || endpoint.equals(e.name)) {
                new TreeMap<>(e.protocolMetrics == null ? Map.<String, Long>of() : e.protocolMetrics)
                        .forEach((name, value) -> out.append(String.format("%-16s %-40s %16d%n", e.name, name, value)));
            }
        }
        return out.toString();
    }

    /**
     * The endpoints' names, sorted: what a shell completes an endpoint argument with.
     *
     * @return the names
     */
    public List<String> endpointNames() {
        return Arrays.stream(runtime.getRuntimeDTO().endpoints).map(e -> e.name).sorted().toList();
    }

    private EndpointDTO find(String name) {
        return Arrays.stream(runtime.getRuntimeDTO().endpoints).filter(e -> e.name.equals(name)).findFirst()
                .orElse(null);
    }

    private String unknown(String name) {
        String known = endpointNames().stream().collect(Collectors.joining(", "));
        return "no endpoint named " + name + " (" + (known.isEmpty() ? "there are none" : "there are: " + known) + ")"
                + System.lineSeparator();
    }

    private static void line(StringBuilder out, String key, String value) {
        out.append(String.format("%-24s %s%n", key, value));
    }
}
