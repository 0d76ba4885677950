package org.wharf.transport.api;

/**
 * An I/O failure of a transport: the channel could not be opened, connected, read or
 * written. Thrown by transport methods and passed to {@link BaseProtocol#connectionLost}.
 *
 * <p>Subclasses tell apart the causes a caller may act on: {@link TransportClosedError},
 * {@link ConnectionRefusedError}, {@link TransportTimeoutError}, {@link TlsError}.
 */
public class TransportError extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * An error with a message that names the transport and what failed.
     *
     * @param message what failed
     */
    public TransportError(String message) {
        super(message);
    }

    /**
     * An error with a message and the exception that caused it.
     *
     * @param message what failed
     * @param cause the underlying exception, often an {@link java.io.IOException}
     */
    public TransportError(String message, Throwable cause) {
        super(message, cause);
    }
}
