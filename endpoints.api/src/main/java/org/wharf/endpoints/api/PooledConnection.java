package org.wharf.endpoints.api;

import java.net.InetSocketAddress;

import org.osgi.annotation.versioning.ProviderType;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.Transport;

/**
 * A connection taken from a {@link ConnectionPool}: use it, then give it back once, with
 * {@link #release()} (for reuse) or {@link #discard()} (closed, never reused).
 *
 * @param <P> the protocol type
 */
@ProviderType
public interface PooledConnection<P extends Protocol> {

    /**
     * The address this connection goes to (the pool's key).
     *
     * @return the address
     */
    InetSocketAddress address();

    /**
     * The connection's transport.
     *
     * @return the transport
     */
    Transport transport();

    /**
     * The connection's protocol.
     *
     * @return the protocol
     */
    P protocol();

    /**
     * Gives the connection back for reuse; a closed or expired one is dropped instead. Only
     * when nothing more is owed on it: the next user reads whatever the last one left.
     *
     * @throws IllegalStateException if it was released or discarded already
     */
    void release();

    /**
     * Gives the connection back to be closed, never reused.
     *
     * @throws IllegalStateException if it was released or discarded already
     */
    void discard();
}
