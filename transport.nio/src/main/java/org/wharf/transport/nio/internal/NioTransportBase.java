package org.wharf.transport.nio.internal;

import java.io.IOException;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.nio.ByteBuffer;
import java.nio.channels.NetworkChannel;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.util.Optional;
import java.util.function.Supplier;

import org.wharf.transport.api.BaseProtocol;
import org.wharf.transport.api.ExtraInfo;
import org.wharf.transport.api.TransportError;
import org.wharf.transport.api.WriteBufferLimits;
import org.wharf.transport.core.AbstractTransport;

/**
 * What every NIO transport adds to the transport core: its channel and selection key, read
 * and write interest, and the extra info a socket knows. Lifecycle and flow control are the
 * core's ({@link AbstractTransport}).
 *
 * @param <C> the channel type
 * @param <P> the protocol type
 */
abstract class NioTransportBase<C extends SelectableChannel & NetworkChannel, P extends BaseProtocol<?>>
        extends AbstractTransport<P> implements Selectable {

    private static final System.Logger LOG = System.getLogger("org.wharf.transport.nio");

    final NioEventLoop loop;
    final C channel;
    final SocketAddress local;
    /** The peer of a connected channel, else {@code null}. */
    final SocketAddress peer;
    SelectionKey key;
    /** Bytes delivered to the protocol and handed to the kernel; changed on the loop only. */
    volatile long bytesReceived;
    volatile long bytesSent;
    private static final java.lang.invoke.VarHandle BYTES_RECEIVED;
    private static final java.lang.invoke.VarHandle BYTES_SENT;

    static {
        try {
            java.lang.invoke.MethodHandles.Lookup lookup = java.lang.invoke.MethodHandles.lookup();
            BYTES_RECEIVED = lookup.findVarHandle(NioTransportBase.class, "bytesReceived", long.class);
            BYTES_SENT = lookup.findVarHandle(NioTransportBase.class, "bytesSent", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
    private int interest;

    NioTransportBase(NioEventLoop loop, C channel, WriteBufferLimits limits, AddressSource remote) {
        super(loop, limits);
        closeTimeout(loop.closeTimeout());
        this.loop = loop;
        this.channel = channel;
        this.local = address(channel::getLocalAddress);
        this.peer = address(remote);
    }

    /** Reads an address of a channel. */
    @FunctionalInterface
    interface AddressSource {
        SocketAddress get() throws IOException;
    }

    // ---- what each kind of transport says about itself ----

    /** Whether writes wait in the queue. */
    abstract boolean hasQueuedWrites();

    /** Drops what waits to be written and uncounts it (abort). */
    abstract void dropQueuedWrites();

    /** Whether the channel may be read now, besides not being paused or closing. */
    boolean canRead() {
        return true;
    }

    // ---- starting ----

    /**
     * Registers (reusing {@code existing} when the channel is registered already), then makes
     * the protocol and calls {@code connectionMade}. On the loop thread.
     *
     * @return the protocol, or {@code null} if the factory failed (the channel is closed)
     */
    final <Q extends P> Q start(Supplier<Q> factory, SelectionKey existing) throws IOException {
        interest = SelectionKey.OP_READ;
        if (existing != null) {
            key = existing;
            key.attach(this);
            key.interestOps(interest);
        } else {
            key = loop.register(channel, interest, this);
        }
        return start(factory);
    }

    @Override
    public final void loopShutdown() {
        abortNow(new TransportError(this + " closed: event loop " + loop.name() + " shut down"));
    }

    @Override
    public final void failed(Throwable error) {
        callbackFailed("an I/O event", error);
    }

    // ---- closing ----

    @Override
    protected final void closeGracefully() {
        if (!hasQueuedWrites()) {
            closeChannel(null);
        } else {
            updateInterest(); // stop reading, keep flushing
        }
    }

    @Override
    protected final void abortNow(Throwable cause) {
        dropQueuedWrites();
        if (resetRequested() && channel instanceof java.nio.channels.SocketChannel socket && socket.isOpen()) {
            try {
                socket.setOption(java.net.StandardSocketOptions.SO_LINGER, 0); // close sends a reset
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, () -> "no reset for " + this + ": " + e);
            }
        }
        closeChannel(cause);
    }

    /** Closes the channel now; {@code connectionLost(cause)} follows on a later turn of the loop. */
    final void closeChannel(Throwable cause) {
        if (isClosed()) {
            return;
        }
        if (key != null) {
            key.cancel();
        }
        try {
            channel.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "closing " + this + " failed: " + e);
        }
        if (channel instanceof java.nio.channels.DatagramChannel && loop.inEventLoop()) {
            // A bound port: free before connectionLost says the socket is closed. (Not for
            // TCP connections, whose ports nobody binds again: no extra selection per close.)
            loop.deregisterCancelled();
        }
        closed(cause);
    }

    /** The queue drained: a graceful close completes, else interest and marks follow the queue. */
    final void afterFlush() {
        if (!hasQueuedWrites()) {
            queueEmptied();
            if (isClosingGracefully()) {
                closeChannel(null);
                return;
            }
        }
        if (!isClosed()) {
            updateInterest();
        }
    }

    /** The write queue just became empty (half-close waits for this). */
    void queueEmptied() {
    }

    // ---- reading ----

    @Override
    protected final void readingChanged() {
        updateInterest();
        if (wantsToRead()) {
            readingResumed();
        }
    }

    /** Reading is wanted again (not inside a callback): deliver what was held back, if anything. */
    void readingResumed() {
    }

    /** Sets the key's interest: read unless paused or closing, write while queued. */
    final void updateInterest() {
        if (isClosed() || key == null) {
            return;
        }
        int ops = 0;
        if (wantsToRead() && canRead()) {
            ops |= SelectionKey.OP_READ;
        }
        if (hasQueuedWrites()) {
            ops |= SelectionKey.OP_WRITE;
        }
        if (ops != interest) {
            interest = ops;
            key.interestOps(ops);
        }
    }

    @Override
    protected final boolean isLent(ByteBuffer data) {
        return loop.isLoopBuffer(data);
    }

    // ---- counting ----

    /**
     * Counts bytes delivered to the protocol. The loop is the only writer, so a release store
     * publishes the sum to readers on other threads (which read the volatile field): on x86 a
     * plain store, where {@code bytesReceived += n} on the volatile field pays a full fence on
     * every read. On the loop.
     */
    final void countReceived(long n) {
        BYTES_RECEIVED.setRelease(this, bytesReceived + n);
    }

    /** Counts bytes handed to the kernel, as {@link #countReceived}. On the loop. */
    final void countSent(long n) {
        BYTES_SENT.setRelease(this, bytesSent + n);
    }

    // ---- the rest ----

    @Override
    public final NioEventLoop loop() {
        return loop;
    }

    /** Extra info every NIO transport knows: addresses, channel, socket options. */
    @Override
    public final <T> Optional<T> extraInfo(ExtraInfo<T> key) {
        Object value = null;
        if (key.equals(ExtraInfo.PEER_ADDRESS)) {
            value = peer;
        } else if (key.equals(ExtraInfo.LOCAL_ADDRESS)) {
            value = local;
        } else if (key.equals(ExtraInfo.CHANNEL)) {
            value = channel;
        } else if (key.equals(ExtraInfo.BYTES_RECEIVED)) {
            value = bytesReceived;
        } else if (key.equals(ExtraInfo.BYTES_SENT)) {
            value = bytesSent;
        } else if (key.name().startsWith("socket:") && channel.isOpen()) {
            value = socketOption(key.name().substring("socket:".length()));
        }
        return key.type().isInstance(value) ? Optional.of(key.type().cast(value)) : Optional.empty();
    }

    private Object socketOption(String name) {
        for (SocketOption<?> option : channel.supportedOptions()) {
            if (option.name().equals(name)) {
                try {
                    return channel.getOption(option);
                } catch (IOException | UnsupportedOperationException e) {
                    return null;
                }
            }
        }
        return null;
    }

    private static SocketAddress address(AddressSource source) {
        try {
            return source.get();
        } catch (IOException e) {
            return null;
        }
    }
}
