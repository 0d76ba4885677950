package org.wharf.protocol.echo;

import java.net.SocketAddress;
import java.nio.ByteBuffer;

import org.osgi.service.component.annotations.Component;
import org.wharf.protocol.api.DatagramProtocolFactory;
import org.wharf.protocol.api.ProtocolContext;
import org.wharf.protocol.api.ProtocolFactory;
import org.wharf.protocol.api.ProtocolProperties;
import org.wharf.transport.api.DatagramProtocol;
import org.wharf.transport.api.DatagramTransport;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.Transport;

/**
 * The {@code echo} protocol (RFC 862) for tcp, ssl and udp: every byte comes back. A
 * protocol bundle in full: one DS component, the service properties in one annotation,
 * and a {@link java.util.ServiceLoader} registration for use without a framework.
 */
@Component(service = {ProtocolFactory.class, DatagramProtocolFactory.class})
@ProtocolProperties(name = "echo")
@aQute.bnd.annotation.spi.ServiceProvider(value = ProtocolFactory.class,
        resolution = aQute.bnd.annotation.Resolution.OPTIONAL)
@aQute.bnd.annotation.spi.ServiceProvider(value = DatagramProtocolFactory.class,
        resolution = aQute.bnd.annotation.Resolution.OPTIONAL)
public final class EchoFactory implements ProtocolFactory, DatagramProtocolFactory {

    /** Made by Declarative Services or ServiceLoader. */
    public EchoFactory() {
    }

    @Override
    public Protocol newProtocol(ProtocolContext context) {
        return new Echo();
    }

    @Override
    public DatagramProtocol newDatagramProtocol(ProtocolContext context) {
        return new DatagramEcho();
    }

    /** Stream echo: when the peer reads slower than it writes, reading pauses until it catches up. */
    static final class Echo implements Protocol {
        private Transport transport;

        @Override
        public void connectionMade(Transport t) {
            transport = t;
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            // The buffer is only ours during the call: writeCopy sends it or copies what it must.
            transport.writeCopy(data);
        }

        @Override
        public void pauseWriting() {
            transport.pauseReading();
        }

        @Override
        public void resumeWriting() {
            transport.resumeReading();
        }

        @Override
        public void connectionLost(Throwable cause) {
        }
    }

    /** Datagram echo: each datagram goes back to its sender. */
    static final class DatagramEcho implements DatagramProtocol {
        private DatagramTransport transport;

        @Override
        public void connectionMade(DatagramTransport t) {
            transport = t;
        }

        @Override
        public void datagramReceived(ByteBuffer data, SocketAddress sender) {
            transport.sendTo(ByteBuffer.allocate(data.remaining()).put(data).flip(), sender);
        }

        @Override
        public void connectionLost(Throwable cause) {
        }
    }
}
