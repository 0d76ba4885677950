package org.wharf.endpoints.whiteboard;

import java.util.List;
import java.util.Map;

import org.osgi.framework.Version;
import org.wharf.protocol.api.ProtocolFactory;

/**
 * A registered {@link ProtocolFactory} with what the whiteboard matches on.
 *
 * @param id the service id
 * @param factory the service object
 * @param properties its service properties
 * @param name {@code wharf.protocol.name}
 * @param version the protocol version (the property, else the bundle's)
 * @param transports the transport kinds it serves
 * @param bundle the registering bundle's symbolic name
 */
record ProtocolEntry(long id, ProtocolFactory factory, Map<String, Object> properties, String name, Version version,
        List<String> transports, String bundle) {

    boolean serves(String transport) {
        return transports.contains(transport);
    }

    /** Its {@code service.ranking}, 0 when not set. */
    int ranking() {
        return properties.get("service.ranking") instanceof Integer r ? r : 0;
    }
}
