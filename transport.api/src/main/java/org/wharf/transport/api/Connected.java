package org.wharf.transport.api;

import java.util.Objects;

/**
 * The result of a successful connect or bind: the transport and the protocol it drives,
 * after {@link BaseProtocol#connectionMade} has been called.
 *
 * @param <T> the transport type
 * @param <P> the protocol type
 * @param transport the transport
 * @param protocol the protocol created for it
 */
public record Connected<T extends BaseTransport, P extends BaseProtocol<?>>(T transport, P protocol) {

    /**
     * Checks that neither part is missing.
     *
     * @param transport the transport
     * @param protocol the protocol created for it
     * @throws NullPointerException if either is {@code null}
     */
    public Connected {
        Objects.requireNonNull(transport, "transport");
        Objects.requireNonNull(protocol, "protocol");
    }
}
