package org.wharf.transport.api;

import java.net.StandardSocketOptions;
import java.util.Objects;
import java.util.Optional;

/**
 * How a stream transport provider listens: backlog, options of the listening socket and of
 * each accepted connection, write-buffer limits, TLS. Immutable; each {@code with...}
 * method returns a changed copy.
 */
public final class ListenOptions {

    /**
     * Backlog 1024, {@code SO_REUSEADDR} on the listening socket, {@code TCP_NODELAY} on
     * each connection, the provider's default write-buffer limits, no TLS.
     */
    public static final ListenOptions DEFAULT = new ListenOptions(1024,
            SocketOptions.NONE.with(StandardSocketOptions.SO_REUSEADDR, true),
            SocketOptions.NONE.with(StandardSocketOptions.TCP_NODELAY, true),
            null, null, TransportObserver.NONE);

    private final int backlog;
    private final SocketOptions listenerOptions;
    private final SocketOptions connectionOptions;
    private final WriteBufferLimits writeBufferLimits;
    private final TlsOptions tls;
    private final TransportObserver observer;

    private ListenOptions(int backlog, SocketOptions listenerOptions, SocketOptions connectionOptions,
            WriteBufferLimits writeBufferLimits, TlsOptions tls, TransportObserver observer) {
        this.observer = observer;
        this.backlog = backlog;
        this.listenerOptions = listenerOptions;
        this.connectionOptions = connectionOptions;
        this.writeBufferLimits = writeBufferLimits;
        this.tls = tls;
    }

    /**
     * The length of the queue of connections not yet accepted.
     *
     * @return the backlog, positive
     */
    public int backlog() {
        return backlog;
    }

    /**
     * Options of the listening socket, such as {@code SO_REUSEADDR}.
     *
     * @return the options
     */
    public SocketOptions listenerOptions() {
        return listenerOptions;
    }

    /**
     * Options of each accepted connection, such as {@code TCP_NODELAY}.
     *
     * @return the options
     */
    public SocketOptions connectionOptions() {
        return connectionOptions;
    }

    /**
     * The write-buffer limits each accepted connection starts with.
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
     * A copy with another backlog.
     *
     * @param value the backlog, positive
     * @return the changed options
     */
    public ListenOptions withBacklog(int value) {
        if (value <= 0) {
            throw new IllegalArgumentException("backlog must be positive, got " + value);
        }
        return new ListenOptions(value, listenerOptions, connectionOptions, writeBufferLimits, tls, observer);
    }

    /**
     * A copy with other listening-socket options.
     *
     * @param value the options
     * @return the changed options
     */
    public ListenOptions withListenerOptions(SocketOptions value) {
        return new ListenOptions(backlog, Objects.requireNonNull(value), connectionOptions, writeBufferLimits, tls, observer);
    }

    /**
     * A copy with other per-connection options.
     *
     * @param value the options
     * @return the changed options
     */
    public ListenOptions withConnectionOptions(SocketOptions value) {
        return new ListenOptions(backlog, listenerOptions, Objects.requireNonNull(value), writeBufferLimits, tls, observer);
    }

    /**
     * A copy with other write-buffer limits.
     *
     * @param value the limits, or {@code null} for the provider's default
     * @return the changed options
     */
    public ListenOptions withWriteBufferLimits(WriteBufferLimits value) {
        return new ListenOptions(backlog, listenerOptions, connectionOptions, value, tls, observer);
    }

    /**
     * A copy with TLS settings.
     *
     * @param value the TLS options, or {@code null} for clear text
     * @return the changed options
     */
    public ListenOptions withTls(TlsOptions value) {
        return new ListenOptions(backlog, listenerOptions, connectionOptions, writeBufferLimits, value, observer);
    }

    /**
     * What hears of the listener's connections before their protocols do (TLS handshakes),
     * for metrics.
     *
     * @return the observer, {@link TransportObserver#NONE} unless set
     */
    public TransportObserver observer() {
        return observer;
    }

    /**
     * A copy with an observer of the listener's connections.
     *
     * @param value the observer
     * @return the changed options
     */
    public ListenOptions withObserver(TransportObserver value) {
        return new ListenOptions(backlog, listenerOptions, connectionOptions, writeBufferLimits, tls,
                Objects.requireNonNull(value, "observer"));
    }
}
