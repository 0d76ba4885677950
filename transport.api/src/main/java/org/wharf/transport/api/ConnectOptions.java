package org.wharf.transport.api;

import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How a stream transport provider connects: timeout, local address, socket options,
 * write-buffer limits, TLS, and the event loop preferred. Immutable; each {@code with...}
 * method returns a changed copy.
 */
public final class ConnectOptions {

    /** 30 s timeout, any local address, {@code TCP_NODELAY}, the provider's default write-buffer limits, no TLS. */
    public static final ConnectOptions DEFAULT = new ConnectOptions(Duration.ofSeconds(30), null,
            SocketOptions.NONE.with(StandardSocketOptions.TCP_NODELAY, true), null, null, null);

    private final Duration timeout;
    private final InetSocketAddress localAddress;
    private final SocketOptions socketOptions;
    private final WriteBufferLimits writeBufferLimits;
    private final TlsOptions tls;
    private final EventLoop eventLoop;

    private ConnectOptions(Duration timeout, InetSocketAddress localAddress, SocketOptions socketOptions,
            WriteBufferLimits writeBufferLimits, TlsOptions tls, EventLoop eventLoop) {
        this.eventLoop = eventLoop;
        this.timeout = timeout;
        this.localAddress = localAddress;
        this.socketOptions = socketOptions;
        this.writeBufferLimits = writeBufferLimits;
        this.tls = tls;
    }

    /**
     * How long the whole connect may take, over every address tried (and the TLS handshake,
     * for TLS) before it fails with {@link TransportTimeoutError}.
     *
     * @return the timeout
     */
    public Duration timeout() {
        return timeout;
    }

    /**
     * The local address to bind before connecting.
     *
     * @return the address, or empty to let the operating system choose
     */
    public Optional<InetSocketAddress> localAddress() {
        return Optional.ofNullable(localAddress);
    }

    /**
     * Options of the connection's socket.
     *
     * @return the options
     */
    public SocketOptions socketOptions() {
        return socketOptions;
    }

    /**
     * The write-buffer limits the connection starts with.
     *
     * @return the limits, or empty for the provider's configured default (64 KiB / 16 KiB
     *         unless configured otherwise)
     */
    public Optional<WriteBufferLimits> writeBufferLimits() {
        return Optional.ofNullable(writeBufferLimits);
    }

    /**
     * TLS settings, for providers that secure their connections.
     *
     * @return the TLS options, or empty for clear text
     */
    public Optional<TlsOptions> tls() {
        return Optional.ofNullable(tls);
    }

    /**
     * A copy with another timeout.
     *
     * @param value the timeout, positive
     * @return the changed options
     */
    public ConnectOptions withTimeout(Duration value) {
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException("connect timeout must be positive, got " + value);
        }
        return new ConnectOptions(value, localAddress, socketOptions, writeBufferLimits, tls, eventLoop);
    }

    /**
     * A copy with a local address to bind.
     *
     * @param value the address, or {@code null} to let the operating system choose
     * @return the changed options
     */
    public ConnectOptions withLocalAddress(InetSocketAddress value) {
        return new ConnectOptions(timeout, value, socketOptions, writeBufferLimits, tls, eventLoop);
    }

    /**
     * A copy with other socket options.
     *
     * @param value the options
     * @return the changed options
     */
    public ConnectOptions withSocketOptions(SocketOptions value) {
        return new ConnectOptions(timeout, localAddress, Objects.requireNonNull(value), writeBufferLimits, tls, eventLoop);
    }

    /**
     * A copy with other write-buffer limits.
     *
     * @param value the limits, or {@code null} for the provider's default
     * @return the changed options
     */
    public ConnectOptions withWriteBufferLimits(WriteBufferLimits value) {
        return new ConnectOptions(timeout, localAddress, socketOptions, value, tls, eventLoop);
    }

    /**
     * A copy with TLS settings.
     *
     * @param value the TLS options, or {@code null} for clear text
     * @return the changed options
     */
    public ConnectOptions withTls(TlsOptions value) {
        return new ConnectOptions(timeout, localAddress, socketOptions, writeBufferLimits, value, eventLoop);
    }

    /**
     * The event loop the connection should run on, when the provider owns it. A proxy asks
     * for its client connection's loop, so both legs share one thread and hand bytes over
     * without locks or task hops (as Netty's proxies do with the inbound channel's loop).
     *
     * @return the preferred loop, or empty to let the provider choose
     */
    public Optional<EventLoop> eventLoop() {
        return Optional.ofNullable(eventLoop);
    }

    /**
     * A copy that prefers an event loop. A provider that does not own the loop ignores it,
     * so callers must not rely on sharing a thread.
     *
     * @param value the loop, or {@code null} to let the provider choose
     * @return the changed options
     */
    public ConnectOptions withEventLoop(EventLoop value) {
        return new ConnectOptions(timeout, localAddress, socketOptions, writeBufferLimits, tls, value);
    }
}
