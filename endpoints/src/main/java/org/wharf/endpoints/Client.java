package org.wharf.endpoints;

import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

import org.wharf.transport.api.ConnectOptions;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.StreamTransportProvider;
import org.wharf.transport.api.Transport;

/**
 * One client connection (the seeds' {@code Client}): resolves the name, tries every address,
 * honours the connect timeout and, over {@code ssl}, verifies the server's certificate and
 * host name. Connecting twice is an error.
 *
 * @param <P> the protocol type
 */
public final class Client<P extends Protocol> extends OneConnection<Transport, P> {

    private final StreamTransportProvider provider;
    private final InetSocketAddress address;
    private final ConnectOptions options;
    private final Supplier<P> factory;

    /**
     * A client that is not connected yet.
     *
     * @param provider the transport ({@code tcp}, {@code ssl}, ...)
     * @param address the server; an unresolved address is resolved on connect
     * @param options timeout, local address, socket options, TLS
     * @param factory makes the protocol of the connection
     */
    public Client(StreamTransportProvider provider, InetSocketAddress address, ConnectOptions options,
            Supplier<P> factory) {
        super("client to " + Objects.requireNonNull(address, "address").getHostString() + ":" + address.getPort());
        this.provider = Objects.requireNonNull(provider, "provider");
        this.address = Objects.requireNonNull(address, "address");
        this.options = Objects.requireNonNull(options, "options");
        this.factory = Objects.requireNonNull(factory, "factory");
    }

    /**
     * Connects.
     *
     * @return completes with the protocol once connected (after the TLS handshake over ssl),
     *         or fails with a {@link org.wharf.transport.api.TransportError}
     * @throws IllegalStateException if this client connected (or is connecting) already
     */
    public CompletionStage<P> connect() {
        return connectOnce(() -> provider.connect(address, options, factory));
    }
}
