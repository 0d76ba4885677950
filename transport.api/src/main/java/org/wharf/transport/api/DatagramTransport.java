package org.wharf.transport.api;

import java.net.SocketAddress;
import java.nio.ByteBuffer;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A datagram socket (UDP) driving a {@link DatagramProtocol}. Datagrams keep their
 * boundaries and their sender's address. Send and receive errors go to
 * {@link DatagramProtocol#errorReceived(Exception)} and the transport stays open.
 */
@ProviderType
public interface DatagramTransport extends BaseTransport {

    @Override
    DatagramProtocol protocol();

    /**
     * Switches the protocol that receives this transport's callbacks. Takes effect for the
     * next callback; the new protocol's {@code connectionMade} is not called.
     *
     * @param protocol the protocol to drive from now on
     */
    void setProtocol(DatagramProtocol protocol);

    /**
     * Sends the remaining bytes of {@code data} as one datagram. Never blocks: what cannot
     * be sent at once is queued, under write flow control. The transport owns the buffer
     * afterwards. A datagram that cannot be sent is reported to
     * {@link DatagramProtocol#errorReceived(Exception)} (on the JDK this includes an empty
     * datagram on a connected transport).
     *
     * @param data the datagram
     * @param target where to send it; {@code null} for the connected peer
     * @throws TransportClosedError if the transport is closing or closed
     * @throws IllegalArgumentException if the transport is connected and {@code target} is
     *         another address, or it is not connected and {@code target} is {@code null}
     */
    void sendTo(ByteBuffer data, SocketAddress target);

    /**
     * Sends the remaining bytes of {@code data} as one datagram, as {@link #sendTo} does, but
     * {@code data} stays the caller's: once this returns, its position is at its limit and
     * the caller may reuse or change it. This is how to answer with bytes the caller does not
     * own, such as the buffer handed to {@link DatagramProtocol#datagramReceived} (an echo, a
     * relay). On its loop, with nothing queued, a transport sends straight from {@code data}
     * and copies nothing; it copies what must wait, and everything when called from another
     * thread. The default copies and calls {@link #sendTo}.
     *
     * @param data the datagram; read, not kept
     * @param target where to send it; {@code null} for the connected peer
     * @throws TransportClosedError if the transport is closing or closed
     * @throws IllegalArgumentException if the transport is connected and {@code target} is
     *         another address, or it is not connected and {@code target} is {@code null}
     */
    default void sendCopyTo(ByteBuffer data, SocketAddress target) {
        sendTo(ByteBuffer.allocate(data.remaining()).put(data).flip(), target);
    }

    /**
     * Sends a datagram to the connected peer: {@code sendTo(data, null)}.
     *
     * @param data the datagram
     * @throws TransportClosedError if the transport is closing or closed
     * @throws IllegalArgumentException if the transport is not connected
     */
    void send(ByteBuffer data);
}
