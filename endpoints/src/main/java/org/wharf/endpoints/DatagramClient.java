package org.wharf.endpoints;

import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

import org.wharf.transport.api.DatagramOptions;
import org.wharf.transport.api.DatagramProtocol;
import org.wharf.transport.api.DatagramTransport;
import org.wharf.transport.api.DatagramTransportProvider;

/**
 * A datagram socket connected to one peer (the seeds' UDP client). Connecting twice is an
 * error.
 *
 * @param <P> the protocol type
 */
public final class DatagramClient<P extends DatagramProtocol> extends OneConnection<DatagramTransport, P> {

    private final DatagramTransportProvider provider;
    private final InetSocketAddress address;
    private final DatagramOptions options;
    private final Supplier<P> factory;

    /**
     * A client that is not connected yet.
     *
     * @param provider the transport ({@code udp})
     * @param address the peer; resolved on connect when unresolved
     * @param options local address, socket options, datagram size, limits
     * @param factory makes the protocol
     */
    public DatagramClient(DatagramTransportProvider provider, InetSocketAddress address, DatagramOptions options,
            Supplier<P> factory) {
        super("datagram client to " + address);
        this.provider = Objects.requireNonNull(provider, "provider");
        this.address = Objects.requireNonNull(address, "address");
        this.options = Objects.requireNonNull(options, "options");
        this.factory = Objects.requireNonNull(factory, "factory");
    }

    /**
     * Connects the socket to the peer.
     *
     * @return completes with the protocol
     * @throws IllegalStateException if connected (or connecting) already
     */
    public CompletionStage<P> connect() {
        return connectOnce(() -> provider.connect(address, options, factory));
    }
}
