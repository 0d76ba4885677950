package org.wharf.protocol.api;

import org.osgi.annotation.versioning.ConsumerType;
import org.wharf.transport.api.Transport;

/**
 * Handles the messages a {@link MessageProtocol} decoded, one at a time and in order per
 * connection.
 *
 * @param <M> the message type
 */
@ConsumerType
@FunctionalInterface
public interface MessageHandler<M> {

    /**
     * Handles one message, typically by writing a reply to the transport. Runs on the
     * transport's event loop (then it must not block) or on the executor the protocol was
     * given (then it may).
     *
     * @param message the message; it belongs to the handler
     * @param transport the connection it came from
     * @throws Exception to give up on the connection: it is aborted with this exception
     */
    void handle(M message, Transport transport) throws Exception;
}
