package org.wharf.endpoints.api;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;

import org.wharf.transport.api.ConnectOptions;

/**
 * How a {@link ConnectionPool} makes and keeps connections. Immutable; the {@code with}
 * methods return changed copies.
 */
public final class PoolOptions {

    /**
     * 10 connections per address, a 30 s acquire timeout, 1,000 acquires waiting per address at
     * most, idle connections kept, no lifetime limit.
     */
    public static final PoolOptions DEFAULT = new PoolOptions(ConnectOptions.DEFAULT, 10, Duration.ofSeconds(30), null,
            null, null, c -> true, 1000);

    private final ConnectOptions connect;
    private final int maxSize;
    private final Duration acquireTimeout;
    private final Duration idleTimeout;
    private final Duration maxLifetime;
    private final InetSocketAddress address;
    private final Predicate<? super PooledConnection<?>> healthCheck;
    private final int maxWaiters;

    private PoolOptions(ConnectOptions connect, int maxSize, Duration acquireTimeout, Duration idleTimeout,
            Duration maxLifetime, InetSocketAddress address, Predicate<? super PooledConnection<?>> healthCheck,
            int maxWaiters) {
        this.maxWaiters = maxWaiters;
        this.connect = connect;
        this.maxSize = maxSize;
        this.acquireTimeout = acquireTimeout;
        this.idleTimeout = idleTimeout;
        this.maxLifetime = maxLifetime;
        this.address = address;
        this.healthCheck = healthCheck;
    }

    /**
     * How connections are made (timeout, TLS, socket options).
     *
     * @return the connect options
     */
    public ConnectOptions connect() {
        return connect;
    }

    /**
     * Connections per address at most (idle, in use and being made).
     *
     * @return the limit
     */
    public int maxSize() {
        return maxSize;
    }

    /**
     * How long an acquire waits for a connection to come free.
     *
     * @return the timeout
     */
    public Duration acquireTimeout() {
        return acquireTimeout;
    }

    /**
     * How long a connection may sit idle in the pool before it is closed.
     *
     * @return the idle timeout, or empty to keep idle connections
     */
    public Optional<Duration> idleTimeout() {
        return Optional.ofNullable(idleTimeout);
    }

    /**
     * The age after which a connection is never reused.
     *
     * @return the lifetime, or empty for no limit
     */
    public Optional<Duration> maxLifetime() {
        return Optional.ofNullable(maxLifetime);
    }

    /**
     * The address {@link ConnectionPool#acquire()} connects to.
     *
     * @return the default address, or empty
     */
    public Optional<InetSocketAddress> address() {
        return Optional.ofNullable(address);
    }

    /**
     * The check an idle connection passes before it is handed out.
     *
     * @return the check
     */
    public Predicate<? super PooledConnection<?>> healthCheck() {
        return healthCheck;
    }

    /**
     * Sets how connections are made.
     *
     * @param value how connections are made
     * @return a copy with it
     */
    public PoolOptions withConnect(ConnectOptions value) {
        return new PoolOptions(Objects.requireNonNull(value, "connect"), maxSize, acquireTimeout, idleTimeout, maxLifetime,
                address, healthCheck, maxWaiters);
    }

    /**
     * Limits the connections per address.
     *
     * @param value connections per address at most, positive
     * @return a copy with it
     * @throws IllegalArgumentException if not positive
     */
    public PoolOptions withMaxSize(int value) {
        if (value <= 0) {
            throw new IllegalArgumentException("maxSize must be positive, got " + value);
        }
        return new PoolOptions(connect, value, acquireTimeout, idleTimeout, maxLifetime, address, healthCheck, maxWaiters);
    }

    /**
     * Sets how long an acquire waits.
     *
     * @param value how long an acquire waits, positive
     * @return a copy with it
     * @throws IllegalArgumentException if not positive
     */
    public PoolOptions withAcquireTimeout(Duration value) {
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException("acquireTimeout must be positive, got " + value);
        }
        return new PoolOptions(connect, maxSize, value, idleTimeout, maxLifetime, address, healthCheck, maxWaiters);
    }

    /**
     * Closes connections idle for this long.
     *
     * @param value how long a connection may sit idle, or {@code null} to keep idle connections
     * @return a copy with it
     * @throws IllegalArgumentException if not positive
     */
    public PoolOptions withIdleTimeout(Duration value) {
        return new PoolOptions(connect, maxSize, acquireTimeout, positive(value, "idleTimeout"), maxLifetime, address,
                healthCheck, maxWaiters);
    }

    /**
     * Never reuses a connection older than this.
     *
     * @param value the age after which a connection is not reused, or {@code null} for no limit
     * @return a copy with it
     * @throws IllegalArgumentException if not positive
     */
    public PoolOptions withMaxLifetime(Duration value) {
        return new PoolOptions(connect, maxSize, acquireTimeout, idleTimeout, positive(value, "maxLifetime"), address,
                healthCheck, maxWaiters);
    }

    /**
     * Sets the default address.
     *
     * @param value the address {@link ConnectionPool#acquire()} connects to, or {@code null}
     * @return a copy with it
     */
    public PoolOptions withAddress(InetSocketAddress value) {
        return new PoolOptions(connect, maxSize, acquireTimeout, idleTimeout, maxLifetime, value, healthCheck, maxWaiters);
    }

    /**
     * Checks idle connections before handing them out.
     *
     * @param value a cheap, non-blocking check of an idle connection; one that fails is discarded
     * @return a copy with it
     */
    public PoolOptions withHealthCheck(Predicate<? super PooledConnection<?>> value) {
        return new PoolOptions(connect, maxSize, acquireTimeout, idleTimeout, maxLifetime, address,
                Objects.requireNonNull(value, "healthCheck"), maxWaiters);
    }

    /**
     * The acquires that may wait per address for a connection to come free; one more fails at
     * once with a {@link org.wharf.transport.api.TransportError}, so a burst is not queued
     * without bound.
     *
     * @return the limit; 0: an acquire that finds every connection taken fails at once
     * @since 0.3
     */
    public int maxWaiters() {
        return maxWaiters;
    }

    /**
     * Limits the acquires that wait per address.
     *
     * @param value acquires waiting per address at most, 0 or more
     * @return a copy with it
     * @throws IllegalArgumentException if negative
     * @since 0.3
     */
    public PoolOptions withMaxWaiters(int value) {
        if (value < 0) {
            throw new IllegalArgumentException("maxWaiters must be at least 0, got " + value);
        }
        return new PoolOptions(connect, maxSize, acquireTimeout, idleTimeout, maxLifetime, address, healthCheck, value);
    }

    private static Duration positive(Duration value, String name) {
        if (value != null && (value.isNegative() || value.isZero())) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
        return value;
    }

    @Override
    public String toString() {
        return "pool of " + maxSize + " per address, acquire within " + acquireTimeout.toMillis() + " ms, "
                + maxWaiters + " waiting at most"
                + (idleTimeout == null ? "" : ", idle " + idleTimeout.toMillis() + " ms")
                + (maxLifetime == null ? "" : ", lifetime " + maxLifetime.toMillis() + " ms");
    }
}
