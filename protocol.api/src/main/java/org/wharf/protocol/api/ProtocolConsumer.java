package org.wharf.protocol.api;

import java.nio.ByteBuffer;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Consumes one request of a {@link Connection} (Pulsar's {@code ProtocolConsumer}): it reads
 * the bytes of its request, answers, and calls {@link Connection#finished(ProtocolConsumer)}.
 * The connection then hands the bytes left over, the start of the next request, to a new
 * consumer. All methods run on the transport's event loop.
 */
@ConsumerType
public interface ProtocolConsumer {

    /**
     * This consumer becomes the connection's current one, before it receives any data.
     *
     * @param connection the connection, to write through its transport and to finish
     */
    default void start(Connection connection) {
    }

    /**
     * Bytes of the connection arrived. Consume those that belong to this request (advance
     * the buffer's position past them) and leave the rest: they start the next request. A
     * consumer that has not finished and leaves bytes makes the connection hold them and
     * pause reading until it finishes (pipelining).
     *
     * @param data the bytes, valid only during this call: copy what must be kept
     */
    void dataReceived(ByteBuffer data);

    /**
     * The peer closed its write side while this consumer was current.
     *
     * @return {@code true} if this request's input is complete and a response is under way
     *         (the connection closes once it finishes); {@code false}, the default, closes now
     */
    default boolean eofReceived() {
        return false;
    }

    /**
     * The connection was lost while this consumer was current.
     *
     * @param cause {@code null} for a clean close, otherwise what ended it
     */
    default void connectionLost(Throwable cause) {
    }
}
