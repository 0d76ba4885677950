package org.wharf.protocol.echo.internal;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.service.component.annotations.Component;
import org.wharf.protocol.api.DatagramProtocolFactory;
import org.wharf.protocol.api.ProtocolContext;
import org.wharf.protocol.api.ProtocolFactory;
import org.wharf.protocol.api.ProtocolProperties;
import org.wharf.transport.api.DatagramProtocol;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.Transport;

/**
 * The {@code echo} protocol (RFC 862) for tcp, ssl and udp: every byte comes back. A
 * protocol bundle in full: one DS component, the service properties in one annotation,
 * and a {@link java.util.ServiceLoader} registration for use without a framework.
 *
 * <p>Over udp an answer goes to whatever source address a datagram claims, so the datagram
 * echo guards itself ({@link DatagramEcho}): no answer to its own address, answer rates per
 * source and in total ({@code echo.udp.*}, see {@link UdpEchoSettings}), and counters by
 * endpoint in {@link #metrics(String)}.
 */
@Component(service = {ProtocolFactory.class, DatagramProtocolFactory.class})
@ProtocolProperties(name = "echo")
@aQute.bnd.annotation.spi.ServiceProvider(value = ProtocolFactory.class,
        resolution = aQute.bnd.annotation.Resolution.OPTIONAL)
@aQute.bnd.annotation.spi.ServiceProvider(value = DatagramProtocolFactory.class,
        resolution = aQute.bnd.annotation.Resolution.OPTIONAL)
public final class EchoFactory implements ProtocolFactory, DatagramProtocolFactory {

    private final Map<String, UdpEchoCounters> udpCounters = new ConcurrentHashMap<>();

    /** Made by Declarative Services or ServiceLoader. */
    public EchoFactory() {
    }

    @Override
    public Protocol newProtocol(ProtocolContext context) {
        return new Echo();
    }

    /**
     * A guarded datagram echo for one bound socket.
     *
     * @param context the endpoint, with its {@code echo.udp.*} settings
     * @return the protocol
     * @throws IllegalArgumentException naming a setting and value that is wrong
     */
    @Override
    public DatagramProtocol newDatagramProtocol(ProtocolContext context) {
        return new DatagramEcho(context.endpoint(), UdpEchoSettings.from(context.properties()),
                udpCounters.computeIfAbsent(context.endpoint(), name -> new UdpEchoCounters()), System::nanoTime);
    }

    /**
     * Checks the {@code echo.udp.*} settings ({@code echo.udp.rate}, {@code echo.udp.burst},
     * {@code echo.udp.totalRate}, {@code echo.udp.sources}).
     *
     * @param context the endpoint and its configuration
     * @throws IllegalArgumentException naming the property and the value that is wrong
     */
    @Override
    public void checkSettings(ProtocolContext context) {
        UdpEchoSettings.from(context.properties());
    }

    /**
     * A UDP endpoint's figures: datagrams and bytes in and out, datagrams dropped by reason
     * (own address, invalid source, per-source rate, total rate, send queue full), errors,
     * and sources (IPv4 addresses, IPv6 /64s) whose rate is followed now.
     *
     * @param endpoint the endpoint's name
     * @return the figures, empty for an endpoint that never bound a UDP socket
     */
    @Override
    public Map<String, Long> metrics(String endpoint) {
        UdpEchoCounters c = udpCounters.get(endpoint);
        return c == null ? Map.of() : c.figures();
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
}
