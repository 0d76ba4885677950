package org.wharf.endpoints;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

import org.wharf.transport.api.Connected;
import org.wharf.transport.api.DatagramOptions;
import org.wharf.transport.api.DatagramProtocol;
import org.wharf.transport.api.DatagramTransport;
import org.wharf.transport.api.DatagramTransportProvider;
import org.wharf.transport.api.ExtraInfo;

/**
 * A datagram server: binds one or more addresses, each with its own protocol instance from
 * the factory.
 */
public final class DatagramServer {

    private final List<Connected<DatagramTransport, ? extends DatagramProtocol>> bound;

    private DatagramServer(List<Connected<DatagramTransport, ? extends DatagramProtocol>> bound) {
        this.bound = bound;
    }

    /**
     * Binds every address.
     *
     * @param provider the transport ({@code udp})
     * @param addresses where to bind; port 0 for an ephemeral port
     * @param options socket options, datagram size, limits
     * @param factory makes the protocol of each bound socket
     * @return completes with the server once every address is bound, or fails (and binds none)
     */
    public static CompletionStage<DatagramServer> bind(DatagramTransportProvider provider,
            List<InetSocketAddress> addresses, DatagramOptions options, Supplier<? extends DatagramProtocol> factory) {
        Objects.requireNonNull(factory, "factory");
        if (addresses.isEmpty()) {
            throw new IllegalStateException("a datagram server needs an address to bind");
        }
        List<CompletableFuture<? extends Connected<DatagramTransport, ? extends DatagramProtocol>>> binds = new ArrayList<>();
        for (InetSocketAddress address : addresses) {
            binds.add(provider.bind(address, options, factory::get).toCompletableFuture());
        }
        return CompletableFuture.allOf(binds.toArray(CompletableFuture[]::new)).handle((v, error) -> {
            List<Connected<DatagramTransport, ? extends DatagramProtocol>> done = new ArrayList<>();
            for (var b : binds) {
                if (!b.isCompletedExceptionally()) {
                    done.add(b.join());
                }
            }
            if (error != null) {
                done.forEach(c -> c.transport().close());
                throw error instanceof java.util.concurrent.CompletionException c ? c
                        : new java.util.concurrent.CompletionException(error);
            }
            return new DatagramServer(done);
        });
    }

    /**
     * The bound addresses, with the real ports.
     *
     * @return the addresses
     */
    public List<InetSocketAddress> addresses() {
        return bound.stream().map(c -> (InetSocketAddress) c.transport().extraInfo(ExtraInfo.LOCAL_ADDRESS).orElseThrow())
                .toList();
    }

    /**
     * The transports of the bound sockets.
     *
     * @return the transports
     */
    public List<DatagramTransport> transports() {
        return bound.stream().map(Connected::transport).toList();
    }

    /** Closes every socket (queued datagrams go out first). */
    public void close() {
        bound.forEach(c -> c.transport().close());
    }
}
