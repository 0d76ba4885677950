package org.wharf.endpoints.api;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletionStage;

import org.osgi.annotation.versioning.ProviderType;
import org.wharf.transport.api.Protocol;

/**
 * Connections kept for reuse, per address. {@link #acquire(InetSocketAddress)} takes an idle
 * connection if there is one (it passes the health check and is within its lifetime), else
 * makes one while fewer than the maximum exist for that address, else waits up to the acquire
 * timeout. A connection goes back once, released or discarded.
 *
 * @param <P> the protocol type
 */
@ProviderType
public interface ConnectionPool<P extends Protocol> {

    /**
     * Takes a connection to the pool's default address ({@link PoolOptions#address()}).
     *
     * @return as {@link #acquire(InetSocketAddress)}
     * @throws IllegalStateException if the pool has no default address
     */
    CompletionStage<PooledConnection<P>> acquire();

    /**
     * Takes a connection to an address: an idle one, a new one, or the next one given back.
     *
     * @param address the server
     * @return completes with the connection, or fails with a
     *         {@link org.wharf.transport.api.TransportError} (the connect failed),
     *         {@link org.wharf.transport.api.TransportTimeoutError} (none came within the
     *         acquire timeout: a {@link PoolExhaustedError} if every connection was in use,
     *         which is also the answer at once when too many acquires wait already) or
     *         {@link org.wharf.transport.api.TransportClosedError} (the
     *         pool is closed, or, in a framework, the endpoints bundle stopped while it waited,
     *         or is stopped and it would have to wait)
     */
    CompletionStage<PooledConnection<P>> acquire(InetSocketAddress address);

    /**
     * Connections handed out and not yet given back.
     *
     * @return the count
     */
    int inUse();

    /**
     * Idle connections ready for reuse.
     *
     * @return the count
     */
    int available();

    /**
     * Acquires waiting for a connection to come free.
     *
     * @return the count
     */
    int waiting();

    /**
     * Connections made since the pool was made.
     *
     * @return the count
     */
    long sessions();

    /**
     * Closes the pool: waiting acquires fail, idle and in-use connections are closed.
     *
     * @return completes when every connection of the pool is gone
     */
    CompletionStage<Void> close();
}
