package org.wharf.transport.nio.internal;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.wharf.transport.api.Addresses;
import org.wharf.transport.api.ConnectOptions;
import org.wharf.transport.api.Connected;
import org.wharf.transport.api.ConnectionRefusedError;
import org.wharf.transport.api.ListenOptions;
import org.wharf.transport.api.Listener;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.StreamTransportProvider;
import org.wharf.transport.api.TimerHandle;
import org.wharf.transport.api.Transport;
import org.wharf.transport.api.TransportError;
import org.wharf.transport.api.TransportTimeoutError;
import org.wharf.transport.api.WriteBufferLimits;

/**
 * TCP over NIO ({@code wharf.transport=tcp}). The no-argument constructor is for
 * {@link java.util.ServiceLoader}: it shares one process-wide group of loops.
 */
@aQute.bnd.annotation.spi.ServiceProvider(value = StreamTransportProvider.class,
        resolution = aQute.bnd.annotation.Resolution.OPTIONAL)
public final class NioTcpProvider implements StreamTransportProvider {

    private final NioEventLoopGroup group;
    private final Resolver resolver;

    /** A provider on the process-wide shared loops (for {@link java.util.ServiceLoader}). */
    public NioTcpProvider() {
        this(SharedGroup.get(), SharedGroup.resolver());
    }

    /**
     * A provider on the given loops.
     *
     * @param group the loops
     * @param resolver resolves host names off the loops
     */
    public NioTcpProvider(NioEventLoopGroup group, Resolver resolver) {
        this.group = group;
        this.resolver = resolver;
    }

    @Override
    public String kind() {
        return TCP;
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
    public CompletionStage<Listener> listen(InetSocketAddress address, ListenOptions options,
            Supplier<? extends Protocol> protocolFactory) {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(protocolFactory, "protocolFactory");
        if (options.tls().isPresent()) {
            throw new IllegalArgumentException("the tcp transport does not do TLS: listen with wharf.transport=ssl");
        }
        CompletableFuture<Listener> result = new CompletableFuture<>();
        ServerSocketChannel server = null;
        try {
            server = ServerSocketChannel.open();
            server.configureBlocking(false);
            options.listenerOptions().applyTo(server);
            server.bind(address, options.backlog());
            NioEventLoop loop = group.next();
            NioTcpListener listener = new NioTcpListener(group, loop, server, options, limits(options.writeBufferLimits()
                    .orElse(null)), protocolFactory);
            ServerSocketChannel bound = server;
            // A loop that is shutting down refuses the task: that is a failed listen, not a throw.
            loop.execute(() -> {
                try {
                    listener.register();
                    result.complete(listener);
                } catch (IOException e) {
                    close(bound);
                    result.completeExceptionally(new TransportError("cannot listen on " + describe(address) + ": " + e.getMessage(), e));
                }
            });
        } catch (IOException | RuntimeException e) {
            close(server);
            String why = e instanceof java.util.concurrent.RejectedExecutionException ? "the transport is shut down"
                    : e.getMessage();
            result.completeExceptionally(new TransportError("cannot listen on " + describe(address) + ": " + why, e));
        }
        return result;
    }

    @Override
    public <P extends Protocol> CompletionStage<Connected<Transport, P>> connect(InetSocketAddress address,
            ConnectOptions options, Supplier<P> protocolFactory) {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(protocolFactory, "protocolFactory");
        if (options.tls().isPresent()) {
            throw new IllegalArgumentException("the tcp transport does not do TLS: connect with wharf.transport=ssl");
        }
        Connector<P> connector = new Connector<>(group.next(options.eventLoop()), address, options, protocolFactory);
        try {
            // The timeout covers the name's lookup too: a resolver that never answers fails the connect in time.
            connector.loop.execute(connector::armTimeout);
        } catch (RejectedExecutionException e) {
            connector.result.completeExceptionally(new TransportError("connect to " + describe(address)
                    + " failed: the transport is shut down", e));
            return connector.result;
        }
        resolver.resolve(address).whenComplete((addresses, error) -> {
            try {
                connector.loop.execute(() -> connector.start(addresses, error));
            } catch (RejectedExecutionException e) {
                connector.result.completeExceptionally(new TransportError("connect to " + describe(address)
                        + " failed: the transport is shut down", e));
            }
        });
        return connector.result;
    }

    private WriteBufferLimits limits(WriteBufferLimits given) {
        return given != null ? given : group.settings().writeBufferLimits();
    }

    static String describe(InetSocketAddress a) {
        return Addresses.text(a);
    }

    private static void close(java.nio.channels.Channel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // already failing
            }
        }
    }

    /** One connect: each address in turn, within one overall timeout. Runs on its loop. */
    private final class Connector<P extends Protocol> implements Selectable {
        final NioEventLoop loop;
        final InetSocketAddress target;
        final ConnectOptions options;
        final Supplier<P> factory;
        final CompletableFuture<Connected<Transport, P>> result = new CompletableFuture<>();
        List<InetSocketAddress> addresses;
        int next;
        SocketChannel channel;
        SelectionKey key;
        TimerHandle timeout;
        Throwable lastError;

        Connector(NioEventLoop loop, InetSocketAddress target, ConnectOptions options, Supplier<P> factory) {
            this.loop = loop;
            this.target = target;
            this.options = options;
            this.factory = factory;
        }

        void start(List<InetSocketAddress> resolved, Throwable error) {
            if (error != null) {
                Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                fail(cause instanceof TransportError te ? te
                        : new TransportError("cannot resolve " + describe(target) + ": " + cause, cause));
                return;
            }
            if (result.isDone()) {
                return; // timed out while the name was looked up
            }
            addresses = resolved;
            tryNext();
        }

        /** Starts the one timeout of the whole connect, lookup included. On the loop, before {@link #start}. */
        void armTimeout() {
            long millis = options.timeout().toMillis();
            timeout = loop.schedule(() -> fail(new TransportTimeoutError("connect to " + describe(target)
                    + " timed out after " + millis + " ms" + (addresses == null ? " (looking its name up)" : ""))),
                    millis, TimeUnit.MILLISECONDS);
        }

        private void tryNext() {
            while (!result.isDone()) {
                if (next >= addresses.size()) {
                    fail(mapError(lastError));
                    return;
                }
                InetSocketAddress address = addresses.get(next++);
                try {
                    channel = SocketChannel.open();
                    channel.configureBlocking(false);
                    options.socketOptions().applyTo(channel);
                    if (options.localAddress().isPresent()) {
                        channel.bind(options.localAddress().get());
                    }
                    if (channel.connect(address)) {
                        connected();
                    } else {
                        key = loop.register(channel, SelectionKey.OP_CONNECT, this);
                    }
                    return;
                } catch (IOException | RuntimeException e) {
                    lastError = e;
                    closeChannel();
                }
            }
        }

        @Override
        public void ready(int readyOps) {
            try {
                if (channel.finishConnect()) {
                    connected();
                }
            } catch (IOException e) {
                lastError = e;
                closeChannel();
                tryNext();
            }
        }

        private void connected() {
            if (result.isDone()) {
                closeChannel();
                return;
            }
            timeout.cancel();
            NioTcpTransport transport = new NioTcpTransport(loop, channel,
                    limits(options.writeBufferLimits().orElse(null)));
            FactoryCall<P> call = new FactoryCall<>(factory);
            P protocol;
            try {
                protocol = transport.start(call, key);
            } catch (IOException e) {
                closeChannel();
                result.completeExceptionally(new TransportError("registering the connection to " + describe(target)
                        + " failed", e));
                return;
            }
            key = null; // the transport owns it now
            if (protocol == null) {
                result.completeExceptionally(call.failure(new TransportError("connection to " + describe(target)
                        + " closed before it was made")));
                return;
            }
            result.complete(new Connected<>(transport, protocol));
        }

        @Override
        public void failed(Throwable error) {
            fail(new TransportError("connect to " + describe(target) + " failed: " + error, error));
        }

        private void fail(TransportError error) {
            if (result.completeExceptionally(error)) {
                if (timeout != null) {
                    timeout.cancel();
                }
                closeChannel();
            }
        }

        private TransportError mapError(Throwable e) {
            if (e instanceof ConnectException) {
                return new ConnectionRefusedError("connection to " + describe(target) + " refused"
                        + (addresses.size() > 1 ? " (" + addresses.size() + " addresses tried)" : ""), e);
            }
            return new TransportError("connect to " + describe(target) + " failed: "
                    + (e == null ? "no address" : e.getMessage()), e);
        }

        private void closeChannel() {
            if (key != null) {
                key.cancel();
                key = null;
            }
            close(channel);
            channel = null;
        }

        @Override
        public void loopShutdown() {
            fail(new TransportError("connect to " + describe(target) + " failed: the transport is shut down"));
        }
    }
}
