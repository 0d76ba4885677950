package org.wharf.endpoints.api;

import org.wharf.transport.api.TransportTimeoutError;

/**
 * An acquire that no connection served because every connection the pool may hold to the
 * address was in use: none came free within the acquire timeout, or
 * {@link PoolOptions#maxWaiters()} acquires waited already and this one was refused at once.
 * It says nothing against the address: its connections work, they are all busy (a gateway
 * does not count it as a failure of the upstream).
 */
public final class PoolExhaustedError extends TransportTimeoutError {

    /** Serialization version. */
    private static final long serialVersionUID = 1L;

    /** Refused at once, not timed out. */
    private final boolean refused;

    /**
     * An exhausted pool's answer to an acquire.
     *
     * @param message what was busy, and for how long the acquire waited
     * @param refused whether the acquire was refused at once (too many waiting already)
     */
    public PoolExhaustedError(String message, boolean refused) {
        super(message);
        this.refused = refused;
    }

    /**
     * Whether the acquire was refused at once, {@link PoolOptions#maxWaiters()} acquires
     * waiting already, rather than waiting out the acquire timeout.
     *
     * @return true if refused at once
     */
    public boolean refused() {
        return refused;
    }
}
