package org.wharf.protocol.api;

import java.util.Map;

import org.osgi.annotation.versioning.ConsumerType;
import org.wharf.transport.api.DatagramProtocol;
import org.wharf.transport.api.Protocol;

/**
 * The service a protocol bundle registers (whiteboard pattern): it creates one protocol
 * instance per connection. It knows nothing about ports or addresses; endpoints configured
 * through ConfigAdmin select it by its service properties ({@value #NAME_PROPERTY},
 * {@value #VERSION_PROPERTY}, {@value #TRANSPORTS_PROPERTY}), usually declared with
 * {@link ProtocolProperties}.
 *
 * <p>A factory implements the method of each kind of transport it lists in
 * {@value #TRANSPORTS_PROPERTY}. Both are called on the event loop of the new transport and
 * must not block.
 */
@ConsumerType
public interface ProtocolFactory {

    /** Service property: the protocol's name, such as {@code echo} or {@code http}. */
    String NAME_PROPERTY = "wharf.protocol.name";

    /**
     * Service property: the protocol's version; when absent or empty, the registering
     * bundle's version is used.
     */
    String VERSION_PROPERTY = "wharf.protocol.version";

    /** Service property: the transport kinds the protocol supports ({@code tcp}, {@code ssl}, {@code udp}). */
    String TRANSPORTS_PROPERTY = "wharf.protocol.transports";

    /**
     * Creates the protocol for a new stream connection (tcp, ssl).
     *
     * @param context the endpoint and transport the connection belongs to
     * @return a new protocol instance, not shared with other connections
     * @throws UnsupportedOperationException if this factory serves no stream transport (the default)
     */
    default Protocol newProtocol(ProtocolContext context) {
        throw new UnsupportedOperationException(getClass().getName() + " serves no stream transport");
    }

    /**
     * Creates the protocol for a new datagram transport (udp).
     *
     * @param context the endpoint and transport it belongs to
     * @return a new protocol instance
     * @throws UnsupportedOperationException if this factory serves no datagram transport (the default)
     */
    default DatagramProtocol newDatagramProtocol(ProtocolContext context) {
        throw new UnsupportedOperationException(getClass().getName() + " serves no datagram transport");
    }

    /**
     * Checks an endpoint's settings for this protocol before the endpoint listens, and
     * before a changed configuration is taken, so a wrong value fails the endpoint with a
     * clear reason instead of failing each connection. The default accepts everything.
     *
     * @param context the endpoint, its transport and its configuration properties
     * @throws IllegalArgumentException naming the property and the value that is wrong
     */
    default void checkSettings(ProtocolContext context) {
    }

    /**
     * Figures this protocol keeps for one endpoint, shown by the runtime's introspection
     * (Gogo, JMX), such as a proxy route's bytes each way. The default has none.
     *
     * @param endpoint the endpoint's name
     * @return figures by name, empty if none
     */
    default Map<String, Long> metrics(String endpoint) {
        return Map.of();
    }
}
