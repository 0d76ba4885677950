package org.wharf.transport.api;

import java.nio.ByteBuffer;

import org.osgi.annotation.versioning.ConsumerType;

/** A protocol over a byte stream: receives the bytes of a {@link Transport} as they arrive. */
@ConsumerType
public interface Protocol extends BaseProtocol<Transport> {

    /**
     * Bytes arrived. Message boundaries are not kept: a message may arrive split across
     * calls, or several in one.
     *
     * @param data the bytes, valid only during this call (the transport reuses the buffer):
     *        copy what must be kept
     */
    void dataReceived(ByteBuffer data);

    /**
     * The peer closed its write side (end of input). Called at most once, after the last
     * {@link #dataReceived}.
     *
     * @return {@code true} to keep the write side open (half-close: the protocol closes
     *         later), {@code false} to let the transport close. The default is {@code false}.
     */
    default boolean eofReceived() {
        return false;
    }
}
