package org.wharf.transport.nio.internal;

import java.io.IOException;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.nio.channels.NetworkChannel;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.util.Objects;
import java.util.Optional;

import org.wharf.transport.api.BaseProtocol;
import org.wharf.transport.api.BaseTransport;
import org.wharf.transport.api.ExtraInfo;
import org.wharf.transport.api.TransportClosedError;
import org.wharf.transport.api.WriteBufferLimits;

/**
 * What every NIO transport shares: the open/closing/closed life cycle, close (flush first)
 * and abort (drop), read control through the selection key, write flow control with one
 * pause and one resume per crossing, and delivery of {@code connectionLost} exactly once on
 * a later turn of the loop.
 *
 * <p>Fields that callbacks depend on are changed on the loop thread only; the public methods
 * that other threads may call set a volatile flag and hand the work to the loop.
 *
 * @param <C> the channel type
 * @param <P> the protocol type
 */
abstract class NioTransportBase<C extends SelectableChannel & NetworkChannel, P extends BaseProtocol<?>>
        implements BaseTransport, Selectable {

    static final int OPEN = 0;
    static final int CLOSING = 1;
    static final int CLOSED = 2;

    final NioEventLoop loop;
    final C channel;
    final SocketAddress local;
    /** The peer of a connected channel, else {@code null}. */
    final SocketAddress peer;
    SelectionKey key;
    volatile P protocol;
    volatile int state = OPEN;
    volatile boolean reading = true;
    /** Bytes queued for writing; changed on the loop only. */
    volatile long pending;
    /** Bytes delivered to the protocol and handed to the kernel; changed on the loop only. */
    volatile long bytesReceived;
    volatile long bytesSent;
    private volatile WriteBufferLimits limits;
    /** close() was asked for: the transport closes once the write queue is empty. */
    private volatile boolean closeRequested;
    private boolean writingPaused;
    private int interest;

    NioTransportBase(NioEventLoop loop, C channel, WriteBufferLimits limits, AddressSource remote) {
        this.loop = loop;
        this.channel = channel;
        this.limits = limits;
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

    /** Drops what waits to be written (abort). */
    abstract void dropQueuedWrites();

    /** Whether the channel may be read now, besides not being paused or closing. */
    boolean canRead() {
        return true;
    }

    /** Who the transport talks to, for messages. */
    abstract String describePeer();

    // ---- starting ----

    /**
     * Starts driving the protocol: registers (reusing {@code existing} when the channel is
     * registered already) and calls {@code connectionMade}. On the loop thread.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    final void start(P p, SelectionKey existing) throws IOException {
        protocol = Objects.requireNonNull(p, "protocol");
        interest = SelectionKey.OP_READ;
        if (existing != null) {
            key = existing;
            key.attach(this);
            key.interestOps(interest);
        } else {
            key = loop.register(channel, interest, this);
        }
        try {
            ((BaseProtocol) p).connectionMade(this);
        } catch (Throwable e) {
            callbackFailed("connectionMade", e);
        }
    }

    final boolean isClosed() {
        return state == CLOSED;
    }

    @Override
    public final void loopShutdown() {
        abortOnLoop(new org.wharf.transport.api.TransportError(this + " closed: event loop " + loop.name()
                + " shut down"));
    }

    // ---- write flow control ----

    /** After queueing: asks for OP_WRITE and pauses the protocol above the high-water mark. */
    final void afterEnqueue() {
        updateInterest();
        if (!writingPaused && pending > limits.high() && state != CLOSED) {
            writingPaused = true;
            try {
                protocol.pauseWriting();
            } catch (Throwable e) {
                callbackFailed("pauseWriting", e);
            }
        }
    }

    /**
     * After the queue drained some: completes a pending close once empty, drops OP_WRITE, and
     * resumes the protocol at the low-water mark.
     */
    final void afterFlush() {
        if (!hasQueuedWrites()) {
            queueEmptied();
            if (closeRequested && state != CLOSED) {
                closeNow(null);
                return;
            }
        }
        if (state == CLOSED) {
            return;
        }
        updateInterest();
        if (writingPaused && pending <= limits.low() && state == OPEN) {
            writingPaused = false;
            try {
                protocol.resumeWriting();
            } catch (Throwable e) {
                callbackFailed("resumeWriting", e);
            }
        }
    }

    /** The write queue just became empty (half-close waits for this). */
    void queueEmptied() {
    }

    final void checkWritable() {
        int s = state;
        if (s != OPEN) {
            throw new TransportClosedError("write to a " + (s == CLOSING ? "closing" : "closed") + " transport ("
                    + this + ")", null);
        }
    }

    @Override
    public final long writeBufferSize() {
        return pending;
    }

    @Override
    public final WriteBufferLimits writeBufferLimits() {
        return limits;
    }

    @Override
    public final void setWriteBufferLimits(WriteBufferLimits newLimits) {
        limits = Objects.requireNonNull(newLimits, "limits");
        onLoop(() -> {
            if (state != CLOSED) {
                afterEnqueue();
                afterFlush();
            }
        });
    }

    // ---- closing ----

    @Override
    public final void close() {
        if (state != OPEN) {
            return;
        }
        closeRequested = true;
        state = CLOSING;
        onLoop(this::closeOnLoop);
    }

    /** Close on the loop: at once if nothing is queued, else when the queue empties. */
    final void closeOnLoop() {
        if (state == CLOSED) {
            return;
        }
        closeRequested = true;
        state = CLOSING;
        if (!hasQueuedWrites()) {
            closeNow(null);
        } else {
            updateInterest(); // stop reading, keep flushing
        }
    }

    @Override
    public final void abort() {
        abort(null);
    }

    @Override
    public final void abort(Throwable cause) {
        if (state == CLOSED) {
            return;
        }
        if (state == OPEN) {
            state = CLOSING;
        }
        onLoop(() -> abortOnLoop(cause));
    }

    final void abortOnLoop(Throwable cause) {
        dropQueuedWrites();
        pending = 0;
        closeNow(cause);
    }

    /** Closes the channel now; {@code connectionLost(cause)} follows on a later turn of the loop. */
    final void closeNow(Throwable cause) {
        if (state == CLOSED) {
            return;
        }
        state = CLOSED;
        reading = false;
        if (key != null) {
            key.cancel();
        }
        try {
            channel.close();
        } catch (IOException e) {
            loop.log().debug(() -> "closing " + this + " failed: " + e);
        }
        P p = protocol;
        loop.execute(() -> {
            try {
                p.connectionLost(cause);
            } catch (Throwable e) {
                loop.log().warn("protocol " + p.getClass().getName() + " of " + this + " failed in connectionLost", e);
            }
        });
    }

    /** A protocol callback threw: logged, and the connection aborted with the exception. */
    final void callbackFailed(String callback, Throwable error) {
        loop.log().warn("protocol " + protocol.getClass().getName() + " of " + this + " failed in " + callback
                + "; connection aborted: " + error, error);
        abortOnLoop(error);
    }

    @Override
    public final boolean isClosing() {
        return state != OPEN;
    }

    // ---- reading ----

    @Override
    public final void pauseReading() {
        if (!reading) {
            return;
        }
        reading = false;
        onLoop(this::updateInterest);
    }

    @Override
    public final void resumeReading() {
        if (reading || state != OPEN) {
            return;
        }
        reading = true;
        onLoop(this::updateInterest);
    }

    @Override
    public final boolean isReading() {
        return reading && state == OPEN;
    }

    /** Sets the key's interest from the state: read unless paused or closing, write while queued. */
    final void updateInterest() {
        if (state == CLOSED || key == null) {
            return;
        }
        int ops = 0;
        if (reading && state == OPEN && canRead()) {
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

    final void onLoop(Runnable action) {
        if (loop.inEventLoop()) {
            action.run();
        } else {
            loop.execute(action);
        }
    }

    private static SocketAddress address(AddressSource source) {
        try {
            return source.get();
        } catch (IOException e) {
            return null;
        }
    }
}
