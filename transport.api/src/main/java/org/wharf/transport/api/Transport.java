package org.wharf.transport.api;

import java.nio.ByteBuffer;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A bidirectional byte stream (TCP, TLS) driving a {@link Protocol}.
 *
 * <p>Writes never block: what the operating system does not take at once is queued, and
 * write flow control ({@link WriteBufferLimits}) tells the protocol when to stop producing.
 */
@ProviderType
public interface Transport extends BaseTransport {

    @Override
    Protocol protocol();

    /**
     * Switches the protocol that receives this transport's callbacks, for protocol upgrades
     * such as HTTP {@code Upgrade}. Takes effect for the next callback; the new protocol's
     * {@link Protocol#connectionMade} is not called by the transport. Call it from the loop
     * (usually from within a callback).
     *
     * @param protocol the protocol to drive from now on
     */
    void setProtocol(Protocol protocol);

    /**
     * Writes bytes: the remaining bytes of {@code data} are sent in order after everything
     * written before. The transport owns the buffer afterwards; the caller must not change
     * it. An empty buffer does nothing.
     *
     * @param data the bytes to write
     * @throws TransportClosedError if the transport is closing or closed (or
     *         {@link #writeEof()} was called); its message says which
     * @throws IllegalArgumentException if {@code data} is the buffer the transport lent to
     *         {@link Protocol#dataReceived} (it is reused after the call): send received bytes
     *         with {@link #writeCopy(ByteBuffer)}
     */
    void write(ByteBuffer data);

    /**
     * Writes the remaining bytes of {@code data}, which stays the caller's: once this returns,
     * its position is at its limit and the caller may reuse or change it. This is how to write
     * bytes the caller does not own, such as the buffer handed to
     * {@link Protocol#dataReceived} (an echo, a proxy). On its loop, with nothing queued, a
     * transport sends what the operating system takes at once and copies only the rest into
     * buffers of its own; while it handles its own input (inside {@code dataReceived}) it
     * copies into pooled buffers that go out together when the input is handled, as writes
     * do then. From another thread it copies everything. The default copies everything and
     * calls {@link #write(ByteBuffer)}.
     *
     * @param data the bytes to write; read, not kept
     * @throws TransportClosedError if the transport is closing or closed (or
     *         {@link #writeEof()} was called)
     */
    default void writeCopy(ByteBuffer data) {
        if (!data.hasRemaining()) {
            write(data);
            return;
        }
        write(ByteBuffer.allocate(data.remaining()).put(data).flip());
    }

    /**
     * Writes several buffers in order, as one gathering write where the operating system
     * allows. The transport owns the buffers afterwards.
     *
     * @param data the buffers to write
     * @throws TransportClosedError if the transport is closing or closed
     */
    void write(ByteBuffer... data);

    /**
     * Closes the write side once the queued data has been written (half-close); reading
     * goes on. Harmless when already done. A peer that takes none of the queued data for the
     * transport's close timeout has the connection aborted, as for {@link #close()}.
     *
     * @throws UnsupportedOperationException if {@link #canWriteEof()} is {@code false}
     */
    void writeEof();

    /**
     * Tells whether this transport can half-close ({@code false} for TLS).
     *
     * @return whether {@link #writeEof()} is supported
     */
    boolean canWriteEof();

    /**
     * Aborts so that the peer sees the connection reset, not ended: what is queued is dropped,
     * TCP sends a reset (RST) instead of a FIN and leaves no TIME_WAIT behind, TLS resets the
     * connection below without a {@code close_notify}. For a gateway passing on a reset from
     * its other leg, or a server cutting off a client it will not serve.
     * {@link BaseProtocol#connectionLost(Throwable)} follows with {@code null}, as after
     * {@link #abort()}. Harmless when already closed; once an abort is on its way, it is that
     * abort. The default aborts.
     */
    default void reset() {
        abort();
    }
}
