package org.wharf.endpoints;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;

/**
 * What the runtime knows of one configured endpoint.
 *
 * @param name the endpoint's configured name
 * @param transport the transport kind ({@code tcp}, {@code ssl}, {@code udp})
 * @param addresses the bound addresses (empty unless listening)
 * @param state where it stands
 * @param reason why it waits or failed (naming the property and value); empty when listening
 * @param protocol the name of the bound protocol, or empty
 * @param protocolVersion the version of the bound protocol, or empty
 * @param counters its counters (zero for datagram endpoints)
 * @param protocolMetrics the figures its protocol keeps for it (such as a proxy route's), by name
 */
public record EndpointInfo(String name, String transport, List<InetSocketAddress> addresses, EndpointState state,
        String reason, String protocol, String protocolVersion, ServerCounters counters,
        Map<String, Long> protocolMetrics) {

    /**
     * Copies the address list.
     *
     * @param name the endpoint's configured name
     * @param transport the transport kind
     * @param addresses the bound addresses
     * @param state where it stands
     * @param reason why it waits or failed
     * @param protocol the bound protocol's name
     * @param protocolVersion the bound protocol's version
     * @param counters its counters
     * @param protocolMetrics its protocol's figures
     */
    public EndpointInfo {
        addresses = List.copyOf(addresses);
        protocolMetrics = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(protocolMetrics));
    }
}
