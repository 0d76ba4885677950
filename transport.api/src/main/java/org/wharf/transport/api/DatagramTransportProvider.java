package org.wharf.transport.api;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Makes datagram transports (UDP): bound to a local address, or connected to one peer.
 * Registered as an OSGi service with {@value TransportProvider#TRANSPORT_PROPERTY} set to its
 * kind, and found with {@link java.util.ServiceLoader} outside a framework.
 */
@ProviderType
public interface DatagramTransportProvider extends TransportProvider {

    /**
     * Binds a datagram socket to a local address, to receive from and send to anyone.
     *
     * @param <P> the protocol type
     * @param address the local address; port 0 for an ephemeral port
     * @param options socket options, datagram size, limits
     * @param protocolFactory creates the protocol, called once on the transport's loop
     * @return completes with transport and protocol once bound, or fails with
     *         {@link TransportError} naming the address
     */
    <P extends DatagramProtocol> CompletionStage<Connected<DatagramTransport, P>> bind(InetSocketAddress address,
            DatagramOptions options, Supplier<P> protocolFactory);

    /**
     * Connects a datagram socket to one peer: it sends there by default and receives only
     * from there. An unresolved address is resolved first.
     *
     * @param <P> the protocol type
     * @param address the peer
     * @param options local address, socket options, datagram size, limits
     * @param protocolFactory creates the protocol, called once on the transport's loop
     * @return completes with transport and protocol, or fails with {@link TransportError}
     */
    <P extends DatagramProtocol> CompletionStage<Connected<DatagramTransport, P>> connect(InetSocketAddress address,
            DatagramOptions options, Supplier<P> protocolFactory);
}
