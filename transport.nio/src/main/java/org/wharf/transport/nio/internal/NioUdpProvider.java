package org.wharf.transport.nio.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.DatagramChannel;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;

import org.wharf.transport.api.Connected;
import org.wharf.transport.api.DatagramOptions;
import org.wharf.transport.api.DatagramProtocol;
import org.wharf.transport.api.DatagramTransport;
import org.wharf.transport.api.DatagramTransportProvider;
import org.wharf.transport.api.TransportError;

/**
 * UDP over NIO ({@code wharf.transport=udp}). The no-argument constructor is for
 * {@link java.util.ServiceLoader}: it shares one process-wide group of loops.
 */
@aQute.bnd.annotation.spi.ServiceProvider(value = DatagramTransportProvider.class,
        resolution = aQute.bnd.annotation.Resolution.OPTIONAL)
public final class NioUdpProvider implements DatagramTransportProvider {

    private final NioEventLoopGroup group;
    private final Resolver resolver;

    /** A provider on the process-wide shared loops (for {@link java.util.ServiceLoader}). */
    public NioUdpProvider() {
        this(SharedGroup.get(), SharedGroup.resolver());
    }

    /**
     * A provider on the given loops.
     *
     * @param group the loops
     * @param resolver resolves host names off the loops
     */
    public NioUdpProvider(NioEventLoopGroup group, Resolver resolver) {
        this.group = group;
        this.resolver = resolver;
    }

    @Override
    public String kind() {
        return UDP;
    }

    @Override
    public java.util.List<org.wharf.transport.api.LoopStats> loopStats() {
        return group.stats();
    }

    @Override
    public int deadLoops() {
        return group.deadLoops();
    }

    @Override
    public <P extends DatagramProtocol> CompletionStage<Connected<DatagramTransport, P>> bind(InetSocketAddress address,
            DatagramOptions options, Supplier<P> protocolFactory) {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(protocolFactory, "protocolFactory");
        return resolver.resolve(address).thenCompose(addresses -> open(address, addresses.get(0), null, options,
                protocolFactory));
    }

    @Override
    public <P extends DatagramProtocol> CompletionStage<Connected<DatagramTransport, P>> connect(
            InetSocketAddress address, DatagramOptions options, Supplier<P> protocolFactory) {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(protocolFactory, "protocolFactory");
        return resolver.resolve(address).thenCompose(addresses -> open(address,
                options.localAddress().orElse(null), addresses.get(0), options, protocolFactory));
    }

    private <P extends DatagramProtocol> CompletableFuture<Connected<DatagramTransport, P>> open(
            InetSocketAddress asked, InetSocketAddress local, InetSocketAddress remote, DatagramOptions options,
            Supplier<P> factory) {
        CompletableFuture<Connected<DatagramTransport, P>> result = new CompletableFuture<>();
        DatagramChannel channel = null;
        try {
            InetSocketAddress family = remote != null ? remote : local;
            channel = family != null && family.getAddress() instanceof java.net.Inet6Address
                    ? DatagramChannel.open(StandardProtocolFamily.INET6)
                    : DatagramChannel.open(StandardProtocolFamily.INET);
            channel.configureBlocking(false);
            options.socketOptions().applyTo(channel);
            channel.bind(local);
            if (remote != null) {
                channel.connect(remote);
            }
        } catch (IOException | RuntimeException e) {
            close(channel);
            result.completeExceptionally(new TransportError((remote != null ? "cannot connect udp to " : "cannot bind udp to ")
                    + NioTcpProvider.describe(asked) + ": " + e.getMessage(), e));
            return result;
        }
        DatagramChannel ready = channel;
        try {
            NioEventLoop loop = group.next();
            loop.execute(() -> {
                NioDatagramTransport transport = new NioDatagramTransport(loop, ready,
                        options.writeBufferLimits().orElse(group.settings().writeBufferLimits()),
                        options.maxDatagramSize());
                FactoryCall<P> call = new FactoryCall<>(factory);
                P protocol;
                try {
                    protocol = transport.start(call, null);
                } catch (IOException e) {
                    close(ready);
                    result.completeExceptionally(new TransportError("registering " + transport + " failed", e));
                    return;
                }
                if (protocol == null) {
                    result.completeExceptionally(call.failure(new TransportError(transport + " closed before it was made")));
                    return;
                }
                result.complete(new Connected<>(transport, protocol));
            });
        } catch (RejectedExecutionException e) {
            close(channel);
            result.completeExceptionally(new TransportError("the udp transport is shut down", e));
        }
        return result;
    }

    private static void close(DatagramChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // already failing
            }
        }
    }
}
