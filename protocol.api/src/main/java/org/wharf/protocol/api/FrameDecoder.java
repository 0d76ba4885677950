package org.wharf.protocol.api;

import java.nio.ByteBuffer;
import java.util.function.Consumer;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Turns a byte stream into messages. The input may be split anywhere: a decoder keeps what
 * it needs of an incomplete frame (bounded by its maximum frame size) and yields each
 * message once complete, so the same stream gives the same messages whatever the split.
 *
 * <p>A decoder belongs to one connection and is used from one thread at a time. After it
 * threw {@link ProtocolError} its state is undefined: the connection is to be closed.
 *
 * @param <M> the type of the messages
 */
@ConsumerType
public interface FrameDecoder<M> {

    /**
     * Decodes the remaining bytes of {@code data}, consuming all of them, and hands every
     * complete message to {@code out} in order. Messages do not share memory with
     * {@code data}.
     *
     * @param data the next bytes of the stream; its position is advanced to its limit
     * @param out receives each message
     * @throws ProtocolError if the input is malformed or a frame exceeds the maximum
     */
    void decode(ByteBuffer data, Consumer<? super M> out);

    /**
     * The stream has ended: yields what the decoder can still make of buffered input.
     * The default fails when an incomplete frame is buffered.
     *
     * @param out receives any last message
     * @throws ProtocolError if the stream ended inside a frame
     */
    default void endOfInput(Consumer<? super M> out) {
        int n = buffered();
        if (n > 0) {
            throw new ProtocolError("input ended inside a frame (" + n + " bytes of an incomplete frame)");
        }
    }

    /**
     * The number of bytes of an incomplete frame held back.
     *
     * @return buffered bytes, zero or more
     */
    int buffered();
}
