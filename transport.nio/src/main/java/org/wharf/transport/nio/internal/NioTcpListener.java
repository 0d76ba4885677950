package org.wharf.transport.nio.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.wharf.transport.api.Addresses;
import org.wharf.transport.api.ListenOptions;
import org.wharf.transport.api.Listener;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.WriteBufferLimits;

/**
 * A listening TCP socket on one loop; accepted connections are spread over the group's
 * loops, each with a protocol from the factory.
 */
final class NioTcpListener implements Listener, Selectable {

    private static final System.Logger LOG = System.getLogger("org.wharf.transport.nio");

    /** Connections accepted per readiness event before other channels get their turn. */
    private static final int MAX_ACCEPTS_PER_EVENT = 64;
    /** Pause after an accept failure (such as too many open files), so the loop does not spin. */
    private static final long ACCEPT_BACKOFF_MILLIS = 100;
    /** How long one logged accept failure stands for those that follow it. */
    static final java.time.Duration ACCEPT_FAILURE_WINDOW = java.time.Duration.ofSeconds(10);

    private final NioEventLoopGroup group;
    private final NioEventLoop loop;
    private final ServerSocketChannel server;
    private final InetSocketAddress address;
    private final ListenOptions options;
    private final WriteBufferLimits limits;
    private final Supplier<? extends Protocol> factory;
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private final org.wharf.transport.core.LogLimiter acceptFailures = new org.wharf.transport.core.LogLimiter(LOG,
            ACCEPT_FAILURE_WINDOW);
    private SelectionKey key;
    private volatile boolean listening = true;

    NioTcpListener(NioEventLoopGroup group, NioEventLoop loop, ServerSocketChannel server, ListenOptions options,
            WriteBufferLimits limits, Supplier<? extends Protocol> factory) throws IOException {
        this.group = group;
        this.loop = loop;
        this.server = server;
        this.address = (InetSocketAddress) server.getLocalAddress();
        this.options = options;
        this.limits = limits;
        this.factory = factory;
    }

    /** Registers for accepting; on the loop thread. */
    void register() throws IOException {
        key = loop.register(server, SelectionKey.OP_ACCEPT, this);
    }

    @Override
    public InetSocketAddress localAddress() {
        return address;
    }

    @Override
    public boolean isListening() {
        return listening;
    }

    @Override
    public CompletionStage<Void> close() {
        if (listening) {
            listening = false;
            try {
                loop.execute(this::closeOnLoop);
            } catch (java.util.concurrent.RejectedExecutionException loopGone) {
                closeOnLoop();
            }
        }
        return closed;
    }

    private void closeOnLoop() {
        listening = false;
        if (key != null) {
            key.cancel();
        }
        try {
            server.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "closing the listener on " + address + " failed", e);
        }
        if (loop.inEventLoop()) {
            loop.deregisterCancelled(); // the port is free when closed() completes
        }
        closed.complete(null);
    }

    @Override
    public void ready(int readyOps) {
        for (int i = 0; i < MAX_ACCEPTS_PER_EVENT && listening; i++) {
            SocketChannel channel;
            try {
                channel = server.accept();
            } catch (IOException e) {
                // The backoff first: nothing said about the failure may keep the loop from it.
                key.interestOps(0);
                loop.schedule(() -> {
                    if (listening && key.isValid()) {
                        key.interestOps(SelectionKey.OP_ACCEPT);
                    }
                }, ACCEPT_BACKOFF_MILLIS, TimeUnit.MILLISECONDS);
                // Out of descriptors, this repeats every backoff for as long as clients keep
                // connecting: one line per window, the rest counted into the next.
                acceptFailures.log(System.Logger.Level.WARNING, "accept", () -> "accepting on " + Addresses.text(address)
                        + " failed: " + e.getMessage() + "; retrying every " + ACCEPT_BACKOFF_MILLIS + " ms", e);
                return;
            }
            if (channel == null) {
                return;
            }
            accepted(channel);
        }
    }

    private void accepted(SocketChannel channel) {
        NioEventLoop child;
        try {
            channel.configureBlocking(false);
            options.connectionOptions().applyTo(channel);
            child = group.next();
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "setting up a connection accepted on " + address + " failed; closed: " + e, e);
            closeQuietly(channel);
            return;
        }
        if (child == loop) {
            startConnection(child, channel);
        } else {
            try {
                child.execute(() -> startConnection(child, channel));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                closeQuietly(channel);
            }
        }
    }

    /** Registers the connection, then makes its protocol: a protocol is made only for a live connection. */
    private void startConnection(NioEventLoop child, SocketChannel channel) {
        try {
            new NioTcpTransport(child, channel, limits).start(factory, null);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "registering a connection accepted on " + address + " failed; closed", e);
            closeQuietly(channel);
        }
    }

    @Override
    public void failed(Throwable error) {
        LOG.log(System.Logger.Level.WARNING, "accepting on " + address + " failed: " + error + "; the listener goes on", error);
    }

    @Override
    public void loopShutdown() {
        closeOnLoop();
    }

    @Override
    public String toString() {
        return "tcp listener " + Addresses.text(address);
    }

    private void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing more to do for a connection that never started
        }
    }
}
