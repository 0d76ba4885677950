package org.wharf.endpoints;

import java.nio.ByteBuffer;
import java.util.Objects;

import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.Transport;

/**
 * A protocol that passes every callback on to another; endpoints extend it to watch a
 * connection (counters, pool membership) without the protocol knowing.
 */
abstract class ForwardingProtocol implements Protocol {

    /** The protocol the callbacks go to. */
    final Protocol protocol;

    ForwardingProtocol(Protocol protocol) {
        this.protocol = Objects.requireNonNull(protocol, "protocol factory returned null");
    }

    @Override
    public void connectionMade(Transport transport) {
        protocol.connectionMade(transport);
    }

    @Override
    public void dataReceived(ByteBuffer data) {
        protocol.dataReceived(data);
    }

    @Override
    public boolean eofReceived() {
        return protocol.eofReceived();
    }

    @Override
    public void pauseWriting() {
        protocol.pauseWriting();
    }

    @Override
    public void resumeWriting() {
        protocol.resumeWriting();
    }

    @Override
    public void connectionLost(Throwable cause) {
        protocol.connectionLost(cause);
    }

    /** The protocol it forwards to, as logs name it: the wrapper is no business of theirs. */
    @Override
    public String toString() {
        return describe(protocol);
    }

    /** A protocol's own {@code toString} if it has one, else its class name. */
    static String describe(Protocol p) {
        try {
            if (p.getClass().getMethod("toString").getDeclaringClass() != Object.class) {
                return p.toString();
            }
        } catch (NoSuchMethodException | RuntimeException e) {
            // the class name says enough
        }
        return p.getClass().getName();
    }
}
