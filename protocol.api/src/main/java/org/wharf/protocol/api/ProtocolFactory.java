package org.wharf.protocol.api;

import org.osgi.annotation.versioning.ConsumerType;
import org.wharf.transport.api.Protocol;

/**
 * The service a protocol bundle registers for stream transports (whiteboard pattern): it
 * creates one protocol instance per connection. It knows nothing about ports or addresses;
 * endpoints configured through ConfigAdmin select it by its service properties
 * ({@value #NAME_PROPERTY}, {@value #VERSION_PROPERTY}, {@value #TRANSPORTS_PROPERTY}), usually
 * declared with {@link ProtocolProperties}.
 */
@ConsumerType
public interface ProtocolFactory extends BaseProtocolFactory {

    /**
     * Creates the protocol for a new stream connection (tcp, ssl). Called on the event loop of
     * the new transport: must not block.
     *
     * @param context the endpoint and transport the connection belongs to
     * @return a new protocol instance, not shared with other connections
     */
    Protocol newProtocol(ProtocolContext context);
}
