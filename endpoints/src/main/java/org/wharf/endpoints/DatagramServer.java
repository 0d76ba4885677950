package org.wharf.endpoints;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

import org.wharf.transport.api.Connected;
import org.wharf.transport.api.DatagramOptions;
import org.wharf.transport.api.DatagramProtocol;
import org.wharf.transport.api.DatagramTransport;
import org.wharf.transport.api.DatagramTransportProvider;
import org.wharf.transport.api.ExtraInfo;

/**
 * A datagram server: binds one or more addresses, each with its own protocol instance from
 * the factory, and counts what its sockets receive and send ({@link #counters()}).
 */
public final class DatagramServer {

    private final List<Connected<DatagramTransport, ? extends DatagramProtocol>> bound;
    private final LongAdder datagrams;
    private final LongAdder bytes;

    private DatagramServer(List<Connected<DatagramTransport, ? extends DatagramProtocol>> bound, LongAdder datagrams,
            LongAdder bytes) {
        this.bound = bound;
        this.datagrams = datagrams;
        this.bytes = bytes;
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
        LongAdder datagrams = new LongAdder();
        LongAdder bytes = new LongAdder();
        List<CompletableFuture<? extends Connected<DatagramTransport, ? extends DatagramProtocol>>> binds = new ArrayList<>();
        for (InetSocketAddress address : addresses) {
            binds.add(provider.bind(address, options, () -> new Counting(factory.get(), datagrams, bytes))
                    .toCompletableFuture());
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
            return new DatagramServer(done, datagrams, bytes);
        });
    }

    /**
     * The counters now, in the terms of a stream server's: each datagram received counts as
     * a session (a datagram is its own exchange); bytes are those received and sent over all
     * sockets; nothing is open or rejected, and requests are the protocol's to count.
     *
     * @return a snapshot
     */
    public ServerCounters counters() {
        return countersFrom(ServerCounters.NONE);
    }

    /**
     * The counters now, counting on from those of the servers before this one (a datagram
     * endpoint rebinds at each change): their datagrams and bytes added to this one's.
     *
     * @param before what the earlier servers counted
     * @return a snapshot
     */
    public ServerCounters countersFrom(ServerCounters before) {
        long sent = 0;
        for (var c : bound) {
            sent += c.transport().extraInfo(ExtraInfo.BYTES_SENT).orElse(0L);
        }
        return new ServerCounters(before.sessions() + datagrams.sum(), 0, 0, 0, before.bytesReceived() + bytes.sum(),
                before.bytesSent() + sent);
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

    /**
     * Completes once every socket is closed (its protocol heard {@code connectionLost}), so its
     * port is free to bind again.
     *
     * @return the stage
     */
    public CompletionStage<Void> closed() {
        return CompletableFuture.allOf(bound.stream().map(c -> ((Counting) c.protocol()).lost)
                .toArray(CompletableFuture[]::new));
    }

    /** Counts each datagram on its way to the protocol. */
    private static final class Counting implements DatagramProtocol {
        private final DatagramProtocol protocol;
        private final LongAdder datagrams;
        private final LongAdder bytes;
        final CompletableFuture<Void> lost = new CompletableFuture<>();

        Counting(DatagramProtocol protocol, LongAdder datagrams, LongAdder bytes) {
            this.protocol = Objects.requireNonNull(protocol, "protocol factory returned null");
            this.datagrams = datagrams;
            this.bytes = bytes;
        }

        @Override
        public void connectionMade(DatagramTransport transport) {
            protocol.connectionMade(transport);
        }

        @Override
        public void datagramReceived(ByteBuffer data, SocketAddress sender) {
            datagrams.increment();
            bytes.add(data.remaining());
            protocol.datagramReceived(data, sender);
        }

        @Override
        public void errorReceived(Exception error) {
            protocol.errorReceived(error);
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
            try {
                protocol.connectionLost(cause);
            } finally {
                lost.complete(null);
            }
        }
    }
}
