package org.wharf.protocol.api;

import java.util.Map;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * What every protocol factory service has: the service properties endpoints select it by,
 * and two optional hooks. A protocol bundle registers a {@link ProtocolFactory} (stream
 * transports), a {@link DatagramProtocolFactory} (datagram transports), or one object as both;
 * which of the two it implements is what it serves, and {@value #TRANSPORTS_PROPERTY} may only
 * narrow that.
 */
@ConsumerType
public interface BaseProtocolFactory {

    /** Service property: the protocol's name, such as {@code echo}. */
    String NAME_PROPERTY = "wharf.protocol.name";

    /**
     * Service property: the protocol's version; when absent or empty, the registering
     * bundle's version is used.
     */
    String VERSION_PROPERTY = "wharf.protocol.version";

    /**
     * Service property: the transport kinds served ({@code tcp}, {@code ssl}, {@code udp}); when
     * absent, every kind of the factory's interfaces (stream: tcp and ssl; datagram: udp).
     */
    String TRANSPORTS_PROPERTY = "wharf.protocol.transports";

    /**
     * Service property: a factory configuration PID whose configurations are endpoints of this
     * protocol (as {@code org.wharf.server} configurations with {@code protocol} set to its
     * name), so a protocol can describe its endpoints' settings with a Metatype of its own
     * ({@code org.wharf.proxy}). Configurations of it stay the user's: nothing is written.
     */
    String CONFIGURATION_PID_PROPERTY = "wharf.protocol.configurationPid";

    /**
     * Checks an endpoint's settings for this protocol before the endpoint listens, and before
     * a changed configuration is taken, so a wrong value fails the endpoint with a clear
     * reason instead of failing each connection. The default accepts everything.
     *
     * @param context the endpoint, its transport and its configuration properties
     * @throws IllegalArgumentException naming the property and the value that is wrong
     */
    default void checkSettings(ProtocolContext context) {
    }

    /**
     * Figures this protocol keeps for one endpoint, shown by the runtime's introspection
     * (Gogo, JMX, {@code /status}), such as a gateway route's bytes each way. The default has
     * none.
     *
     * @param endpoint the endpoint's name
     * @return figures by name, empty if none
     */
    default Map<String, Long> metrics(String endpoint) {
        return Map.of();
    }
}
