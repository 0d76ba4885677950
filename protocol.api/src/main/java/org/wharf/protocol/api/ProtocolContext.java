package org.wharf.protocol.api;

import java.util.Map;
import java.util.Objects;

/**
 * Where a protocol instance is about to serve: handed to {@link ProtocolFactory} for each
 * new connection (or datagram socket). A class, not a record, so that what a context carries
 * can grow compatibly.
 */
public final class ProtocolContext {

    private final String endpoint;
    private final String transport;
    private final Map<String, Object> properties;
    private final ConnectionHooks hooks;
    private final MemoryBudget budget;

    /**
     * Checks and copies the parts.
     *
     * @param endpoint the name of the endpoint that accepted or made the connection
     * @param transport the transport kind, such as {@code tcp}, {@code ssl} or {@code udp}
     * @param properties the endpoint's configuration properties; copied
     * @param hooks the endpoint's request hooks
     */
    public ProtocolContext(String endpoint, String transport, Map<String, Object> properties, ConnectionHooks hooks) {
        this(endpoint, transport, properties, hooks, MemoryBudget.UNLIMITED);
    }

    /**
     * Checks and copies the parts.
     *
     * @param endpoint the name of the endpoint that accepted or made the connection
     * @param transport the transport kind, such as {@code tcp}, {@code ssl} or {@code udp}
     * @param properties the endpoint's configuration properties; copied
     * @param hooks the endpoint's request hooks
     * @param budget the connection's share of the memory budget
     */
    public ProtocolContext(String endpoint, String transport, Map<String, Object> properties, ConnectionHooks hooks,
            MemoryBudget budget) {
        this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
        this.transport = Objects.requireNonNull(transport, "transport");
        this.properties = Map.copyOf(properties);
        this.hooks = Objects.requireNonNull(hooks, "hooks");
        this.budget = Objects.requireNonNull(budget, "budget");
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

    /**
     * The endpoint that accepted or made the connection.
     *
     * @return its name
     */
    public String endpoint() {
        return endpoint;
    }

    /**
     * The transport kind.
     *
     * @return such as {@code tcp}, {@code ssl} or {@code udp}
     */
    public String transport() {
        return transport;
    }

    /**
     * The endpoint's configuration properties.
     *
     * @return them, unmodifiable
     */
    public Map<String, Object> properties() {
        return properties;
    }

    /**
     * The endpoint's request hooks: a protocol built on {@link Connection} passes them on, so
     * the endpoint counts its requests.
     *
     * @return the hooks
     */
    public ConnectionHooks hooks() {
        return hooks;
    }

    /**
     * The connection's share of the memory budget: a protocol reserves what it holds for the
     * client (a request body, messages not yet handled) and refuses the work when it cannot.
     * {@link MemoryBudget#UNLIMITED} outside an endpoint.
     *
     * @return the budget
     */
    public MemoryBudget budget() {
        return budget;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ProtocolContext c && c.endpoint.equals(endpoint) && c.transport.equals(transport)
                && c.properties.equals(properties) && c.hooks.equals(hooks);
    }

    @Override
    public int hashCode() {
        return Objects.hash(endpoint, transport, properties, hooks);
    }

    @Override
    public String toString() {
        return "endpoint " + endpoint + " (" + transport + ")";
    }
}
