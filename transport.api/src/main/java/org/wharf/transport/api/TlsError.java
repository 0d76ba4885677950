package org.wharf.transport.api;

/**
 * A TLS failure: a handshake that failed (untrusted or expired certificate, wrong host
 * name, no common protocol or cipher), a malformed or truncated record, or a peer that
 * ended the stream without close_notify.
 */
public class TlsError extends TransportError {

    private static final long serialVersionUID = 1L;

    /**
     * An error for a TLS failure.
     *
     * @param message what failed, naming the peer where known
     * @param cause the underlying exception, often an {@link javax.net.ssl.SSLException}, or {@code null}
     */
    public TlsError(String message, Throwable cause) {
        super(message, cause);
    }
}
