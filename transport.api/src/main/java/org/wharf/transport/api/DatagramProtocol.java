package org.wharf.transport.api;

import java.net.SocketAddress;
import java.nio.ByteBuffer;

import org.osgi.annotation.versioning.ConsumerType;

/** A protocol over datagrams: receives each datagram of a {@link DatagramTransport} whole. */
@ConsumerType
public interface DatagramProtocol extends BaseProtocol<DatagramTransport> {

    /**
     * A datagram arrived.
     *
     * @param data the datagram, valid only during this call: copy what must be kept
     * @param sender the address it came from
     */
    void datagramReceived(ByteBuffer data, SocketAddress sender);

    /**
     * A send or receive failed, such as a datagram larger than the receive buffer. The
     * transport stays open. The default ignores the error.
     *
     * @param error what failed
     */
    default void errorReceived(Exception error) {
    }
}
