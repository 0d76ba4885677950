package org.wharf.protocol.api;

/**
 * A protocol that can end its connection at a clean boundary of its own, so that a client
 * leaving a draining endpoint loses nothing: an HTTP/1.1 connection answers the request in
 * progress with {@code Connection: close} and closes after it, and closes at once if it has
 * been idle a while. An endpoint asks when it drains (its node shuts down, its protocol is
 * upgraded or removed); connections whose protocol is not {@code Drainable} go on until they
 * end by themselves or the drain's deadline closes them.
 *
 * <p>Called on the connection's event loop, at most once, and only while its transport is
 * open.
 */
@org.osgi.annotation.versioning.ConsumerType
public interface Drainable {

    /** Finish what is in progress, then close the transport at the next clean boundary. */
    void drain();
}
