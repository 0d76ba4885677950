package org.wharf.endpoints.internal;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.wharf.endpoints.api.ConnectionDTO;
import org.wharf.endpoints.api.EndpointDTO;
import org.wharf.endpoints.api.EndpointRuntime;
import org.wharf.endpoints.api.ProtocolDTO;

/** Gogo commands: {@code wharf:protocols}, {@code wharf:endpoints}, {@code wharf:connections}. */
@Component(service = WharfCommands.class, property = {"osgi.command.scope=wharf",
    "osgi.command.function=protocols", "osgi.command.function=endpoints", "osgi.command.function=connections",
    "osgi.command.function=metrics"})
public final class WharfCommands {

    @Reference
    private EndpointRuntime runtime;

    /** Made by Declarative Services. */
    public WharfCommands() {
    }

    /**
     * Lists the registered protocols.
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
     * Lists the configured endpoints.
     *
     * @return a table
     */
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
     * Lists the open connections.
     *
     * @return a table
     */
    public String connections() {
        StringBuilder out = new StringBuilder(String.format("%-16s %-24s %-24s %12s %12s%n", "ENDPOINT", "PEER", "LOCAL",
                "IN", "OUT"));
        for (ConnectionDTO c : runtime.getConnectionDTOs(null)) {
            out.append(String.format("%-16s %-24s %-24s %12d %12d%n", c.endpoint, c.peer, c.local, c.bytesReceived,
                    c.bytesSent));
        }
        return out.toString();
    }

    /**
     * Lists the figures each endpoint's protocol keeps (such as a proxy route's).
     *
     * @return a table
     */
    public String metrics() {
        StringBuilder out = new StringBuilder(String.format("%-16s %-40s %16s%n", "ENDPOINT", "METRIC", "VALUE"));
        for (EndpointDTO e : runtime.getRuntimeDTO().endpoints) {
            e.protocolMetrics.forEach((name, value) -> out.append(String.format("%-16s %-40s %16d%n", e.name, name,
                    value)));
        }
        return out.toString();
    }
}
