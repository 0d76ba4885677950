package org.wharf.endpoints;

import java.util.List;

/**
 * A protocol registered with the whiteboard.
 *
 * @param name its {@code wharf.protocol.name}
 * @param version its version (the property, else the bundle's)
 * @param transports the transport kinds it serves
 * @param bundle the symbolic name of the bundle that registered it
 * @param endpoints the endpoints it serves now
 */
public record ProtocolInfo(String name, String version, List<String> transports, String bundle, List<String> endpoints) {

    /**
     * Copies the lists.
     *
     * @param name its name
     * @param version its version
     * @param transports the transport kinds
     * @param bundle the registering bundle
     * @param endpoints the endpoints it serves
     */
    public ProtocolInfo {
        transports = List.copyOf(transports);
        endpoints = List.copyOf(endpoints);
    }
}
