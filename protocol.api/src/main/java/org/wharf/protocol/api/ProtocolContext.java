package org.wharf.protocol.api;

import java.util.Map;
import java.util.Objects;

/**
 * Where a protocol instance is about to serve: handed to {@link ProtocolFactory} for each
 * new connection (or datagram socket).
 *
 * @param endpoint the name of the endpoint that accepted or made the connection
 * @param transport the transport kind, such as {@code tcp}, {@code ssl} or {@code udp}
 * @param properties the endpoint's configuration properties, unmodifiable
 * @param hooks the endpoint's request hooks: a protocol built on {@link Connection} passes
 *        them on, so the endpoint counts its requests
 */
public record ProtocolContext(String endpoint, String transport, Map<String, Object> properties,
        ConnectionHooks hooks) {

    /**
     * Checks and copies the parts.
     *
     * @param endpoint the endpoint name
     * @param transport the transport kind
     * @param properties the endpoint's configuration; copied
     * @param hooks the endpoint's request hooks
     */
    public ProtocolContext {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(transport, "transport");
        properties = Map.copyOf(properties);
        Objects.requireNonNull(hooks, "hooks");
    }

    /**
     * A context without configuration properties or hooks.
     *
     * @param endpoint the endpoint name
     * @param transport the transport kind
     * @return the context
     */
    public static ProtocolContext of(String endpoint, String transport) {
        return new ProtocolContext(endpoint, transport, Map.of(), ConnectionHooks.NONE);
    }
}
