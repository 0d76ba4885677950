package org.wharf.transport.api;

/**
 * An operation on a transport that is closing or closed, such as a write after
 * {@link BaseTransport#close()}. The message says which of the two; when the transport was
 * closed by a failure, that failure is the cause.
 */
public class TransportClosedError extends TransportError {

    private static final long serialVersionUID = 1L;

    /**
     * An error for an operation on a closing or closed transport.
     *
     * @param message what was attempted and whether the transport is closing or closed
     * @param cause the failure that closed the transport, or {@code null}
     */
    public TransportClosedError(String message, Throwable cause) {
        super(message, cause);
    }
}
