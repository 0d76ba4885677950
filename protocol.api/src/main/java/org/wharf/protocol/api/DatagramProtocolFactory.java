package org.wharf.protocol.api;

import org.osgi.annotation.versioning.ConsumerType;
import org.wharf.transport.api.DatagramProtocol;

/**
 * The service a protocol bundle registers for datagram transports (udp): it creates the
 * protocol of each datagram endpoint. Selected like a {@link ProtocolFactory}, by the same
 * service properties.
 */
@ConsumerType
public interface DatagramProtocolFactory extends BaseProtocolFactory {

    /**
     * Creates the protocol of a datagram transport. Called on its event loop: must not block.
     *
     * @param context the endpoint and transport it belongs to
     * @return a new protocol instance
     */
    DatagramProtocol newDatagramProtocol(ProtocolContext context);
}
