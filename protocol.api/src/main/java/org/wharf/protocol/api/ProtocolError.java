package org.wharf.protocol.api;

/**
 * Malformed input: a frame too long, a bad length field, a message that does not parse.
 * Thrown from a protocol callback, it aborts that one connection: the transport hands it to
 * {@code connectionLost} and logs it, and every other connection runs on.
 */
public class ProtocolError extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * An error that says what was wrong with the input.
     *
     * @param message what was malformed, with the offending value or size
     */
    public ProtocolError(String message) {
        super(message);
    }

    /**
     * An error with the exception that revealed it.
     *
     * @param message what was malformed
     * @param cause the underlying exception
     */
    public ProtocolError(String message, Throwable cause) {
        super(message, cause);
    }
}
