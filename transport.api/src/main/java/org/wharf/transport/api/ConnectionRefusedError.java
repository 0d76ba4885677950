package org.wharf.transport.api;

/** A connect that the peer refused (nothing listens on the address), for every address tried. */
public class ConnectionRefusedError extends TransportError {

    private static final long serialVersionUID = 1L;

    /**
     * An error for a refused connect.
     *
     * @param message the address that refused
     * @param cause the underlying exception, or {@code null}
     */
    public ConnectionRefusedError(String message, Throwable cause) {
        super(message, cause);
    }
}
