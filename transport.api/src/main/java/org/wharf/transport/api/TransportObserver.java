package org.wharf.transport.api;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Hears what a listener's connections go through before a protocol sees them, for metrics:
 * given with {@link ListenOptions#withObserver(TransportObserver)}. Its methods run on the
 * connection's event loop, must be cheap and must not block or throw.
 */
@ConsumerType
public interface TransportObserver {

    /** The cause of a handshake that did not complete within its timeout. */
    String TIMEOUT = "timeout";
    /** The cause of a handshake the peer ended by closing the connection (or the connection was lost). */
    String CLOSED = "closed";
    /** The cause of a handshake refused over a certificate (unknown, expired, not trusted, missing). */
    String CERTIFICATE = "certificate";
    /** The cause of a handshake that found nothing in common (protocol version, cipher suites, ALPN). */
    String HANDSHAKE = "handshake";
    /** The cause of input that is not TLS or breaks its rules. */
    String PROTOCOL = "protocol";
    /** Any other cause. */
    String OTHER = "other";

    /** An observer that hears nothing. */
    TransportObserver NONE = new TransportObserver() {
    };

    /**
     * A connection's first TLS handshake completed.
     *
     * @param nanos how long it took, from its start
     */
    default void handshakeCompleted(long nanos) {
    }

    /**
     * A connection's first TLS handshake failed; the connection is closed and no protocol was made.
     *
     * @param nanos how long it ran
     * @param cause one of {@link #TIMEOUT}, {@link #CLOSED}, {@link #CERTIFICATE},
     *        {@link #HANDSHAKE}, {@link #PROTOCOL}, {@link #OTHER}: a bounded set, fit for a
     *        metric's label
     */
    default void handshakeFailed(long nanos, String cause) {
    }
}
