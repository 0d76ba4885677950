package org.wharf.transport.api;

/** An operation that did not complete in its time: a connect, or a TLS handshake. */
public class TransportTimeoutError extends TransportError {

    private static final long serialVersionUID = 1L;

    /**
     * An error for an operation that timed out.
     *
     * @param message what timed out, and after how long
     */
    public TransportTimeoutError(String message) {
        super(message);
    }
}
