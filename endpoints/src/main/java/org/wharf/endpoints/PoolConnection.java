package org.wharf.endpoints;

import java.net.InetSocketAddress;

import org.wharf.endpoints.api.PooledConnection;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.TimerHandle;
import org.wharf.transport.api.Transport;

/**
 * A connection taken from a {@link Pool}: use it, then give it back once, with
 * {@link #release()} (for reuse) or {@link #discard()} (closed, never reused).
 *
 * @param <P> the protocol type
 */
public final class PoolConnection<P extends Protocol> implements PooledConnection<P> {

    private final Pool<P> pool;
    private final InetSocketAddress address;
    final Transport transport;
    private final P protocol;
    final long createdNanos;
    long idleSinceNanos;
    TimerHandle idleTimer;

    PoolConnection(Pool<P> pool, InetSocketAddress address, Transport transport, P protocol) {
        this.pool = pool;
        this.address = address;
        this.transport = transport;
        this.protocol = protocol;
        this.createdNanos = System.nanoTime();
    }

    /**
     * The address this connection goes to (the pool's key).
     *
     * @return the address
     */
    @Override
    public InetSocketAddress address() {
        return address;
    }

    /**
     * The connection's transport.
     *
     * @return the transport
     */
    @Override
    public Transport transport() {
        return transport;
    }

    /**
     * The connection's protocol.
     *
     * @return the protocol
     */
    @Override
    public P protocol() {
        return protocol;
    }

    /**
     * Gives the connection back for reuse; a closed or expired one is dropped instead.
     *
     * @throws IllegalStateException if it was released or discarded already
     */
    @Override
    public void release() {
        pool.release(this);
    }

    /**
     * Gives the connection back to be closed, never reused.
     *
     * @throws IllegalStateException if it was released or discarded already
     */
    @Override
    public void discard() {
        pool.discard(this);
    }

    @Override
    public String toString() {
        return "pooled " + transport;
    }
}
