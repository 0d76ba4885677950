package org.wharf.endpoints;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.wharf.endpoints.api.ConnectionPool;
import org.wharf.endpoints.api.PoolExhaustedError;
import org.wharf.endpoints.api.PoolOptions;
import org.wharf.endpoints.api.PooledConnection;
import org.wharf.endpoints.internal.PoolTimers;
import org.wharf.transport.api.Addresses;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.StreamTransportProvider;
import org.wharf.transport.api.TransportClosedError;
import org.wharf.transport.api.TransportTimeoutError;

/**
 * Connections kept for reuse, per address (the seeds' {@code Pool}).
 *
 * <p>{@link #acquire(InetSocketAddress)} takes an idle connection if there is one (and it
 * passes the health check and is within its lifetime), else makes one while fewer than
 * {@code maxSize} exist for that address, else waits up to the acquire timeout, unless
 * {@link PoolOptions#maxWaiters()} acquires wait for that address already: then it fails at once. A
 * connection goes back with {@link PoolConnection#release()} or {@link PoolConnection#discard()},
 * once. An idle connection that closes, outlives its idle timeout or its lifetime is dropped,
 * and its slot serves the next waiter. A timed-out or cancelled acquire gives its slot back.
 * {@link #close()} closes idle and in-use connections alike.
 *
 * @param <P> the protocol type
 */
public final class Pool<P extends Protocol> implements ConnectionPool<P> {

    private static final System.Logger LOG = System.getLogger("org.wharf.endpoints");

    private final StreamTransportProvider provider;
    private final Supplier<P> factory;
    private final PoolOptions config;
    private final Map<InetSocketAddress, Entry> entries = new HashMap<>();
    private final CompletableFuture<Void> closedFuture = new CompletableFuture<>();
    private long sessions;
    private int alive;
    private boolean closed;

    /** The connections of one address. */
    private final class Entry {
        final InetSocketAddress address;
        final ArrayDeque<PoolConnection<P>> idle = new ArrayDeque<>();
        final Set<PoolConnection<P>> inUse = new HashSet<>();
        final ArrayDeque<CompletableFuture<PooledConnection<P>>> waiters = new ArrayDeque<>();
        int connecting;

        Entry(InetSocketAddress address) {
            this.address = address;
        }

        int size() {
            return idle.size() + inUse.size() + connecting;
        }
    }

    /** @return the addresses the pool keeps state for now, for tests */
    synchronized int addressesKnown() {
        return entries.size();
    }

    /**
     * An address with no connection, connect or waiter left is forgotten, so a caller that
     * uses many addresses leaves nothing behind for each; under the lock.
     */
    private void forgetIfUnused(Entry e) {
        if (e.size() == 0 && e.waiters.isEmpty() && entries.get(e.address) == e) {
            entries.remove(e.address);
        }
    }

    private Pool(StreamTransportProvider provider, Supplier<P> factory, PoolOptions options) {
        this.provider = Objects.requireNonNull(provider, "provider");
        this.factory = Objects.requireNonNull(factory, "factory");
        this.config = Objects.requireNonNull(options, "options");
    }

    /**
     * Makes an empty pool.
     *
     * @param <P> the protocol type
     * @param provider the transport of the connections
     * @param factory makes the protocol of each new connection
     * @param options sizes, timeouts, connect options, default address
     * @return the pool
     */
    public static <P extends Protocol> Pool<P> create(StreamTransportProvider provider, Supplier<P> factory,
            PoolOptions options) {
        return new Pool<>(provider, factory, options);
    }

    @Override
    public CompletionStage<PooledConnection<P>> acquire() {
        return acquire(config.address().orElseThrow(() -> new IllegalStateException(
                "this pool has no default address: acquire(address)")));
    }

    /**
     * Takes a connection to an address: an idle one, a new one, or the next one given back.
     *
     * @param address the server
     * @return completes with the connection, or fails with a
     *         {@link org.wharf.transport.api.TransportError} (connect failed),
     *         {@link TransportTimeoutError} (none within the acquire timeout: a
     *         {@link PoolExhaustedError} when every connection was in use, which is also the
     *         answer at once when {@link PoolOptions#maxWaiters()} acquires wait already) or
     *         {@link TransportClosedError} (the pool is closed, or, in a framework, the endpoints
     *         bundle stopped while the acquire waited, or is stopped and it would wait)
     */
    @Override
    public CompletionStage<PooledConnection<P>> acquire(InetSocketAddress address) {
        Objects.requireNonNull(address, "address");
        CompletableFuture<PooledConnection<P>> result = new CompletableFuture<>();
        acquireInto(address, result);
        return result;
    }

    private void acquireInto(InetSocketAddress address, CompletableFuture<PooledConnection<P>> result) {
        PoolConnection<P> candidate = null;
        boolean connect = false;
        boolean refused = false;
        synchronized (this) {
            if (closed) {
                result.completeExceptionally(new TransportClosedError("pool closed", null));
                return;
            }
            Entry e = entries.computeIfAbsent(address, Entry::new);
            while ((candidate = e.idle.pollLast()) != null) {
                if (fresh(candidate)) {
                    cancelIdleTimer(candidate);
                    e.inUse.add(candidate);
                    break;
                }
                drop(candidate); // closed or too old: its slot is free again
            }
            if (candidate == null) {
                if (e.size() < config.maxSize()) {
                    e.connecting++;
                    connect = true;
                } else if (e.waiters.size() >= config.maxWaiters()) {
                    refused = true; // a burst past the limit is not queued: it would only grow
                } else {
                    waitFor(e, result);
                }
            }
        }
        if (refused) {
            result.completeExceptionally(new PoolExhaustedError("no connection to " + describe(address) + " is free (pool of "
                    + config.maxSize() + ") and " + config.maxWaiters() + " acquires wait for one already (maxWaiters): refused",
                    true));
        } else if (candidate != null) {
            hand(candidate, result);
        } else if (connect) {
            // The acquire timeout bounds the connect too; a connection that comes after it goes to the pool.
            if (timeOut(result, () -> "no connection to " + describe(address) + " within "
                    + config.acquireTimeout().toMillis() + " ms (connecting)")) {
                connect(address, result);
            } else {
                notConnecting(address); // failed at once (the endpoints bundle stopped): no connection for it
            }
        }
    }

    /** A connect counted in {@link #acquireInto} is not made after all: its slot is free again. */
    private void notConnecting(InetSocketAddress address) {
        List<Runnable> after = new ArrayList<>();
        synchronized (this) {
            Entry e = entries.get(address); // kept while it counts a connect
            e.connecting--;
            serveWaiter(e, after);
            forgetIfUnused(e);
        }
        after.forEach(Runnable::run);
    }

    /**
     * Fails the acquire after the acquire timeout unless it completed by then. The timer is
     * cancelled, and leaves the queue with what it holds, as soon as the acquire completes
     * (served, failed or cancelled): an acquire holds nothing for the rest of its timeout.
     *
     * @return false if the acquire failed at once instead (the endpoints bundle stopped)
     */
    private boolean timeOut(CompletableFuture<PooledConnection<P>> result, Supplier<String> why) {
        // Every pool's timers, made on first use and ended when the endpoints bundle stops
        // (then, until it starts again, this acquire fails at once instead, as a closed pool's
        // waiters do).
        return PoolTimers.get().timeOut(result, config.acquireTimeout().toNanos(), why);
    }

    /** Checks a connection taken from idle and hands it over, or drops it and tries again. */
    private void hand(PoolConnection<P> c, CompletableFuture<PooledConnection<P>> result) {
        boolean healthy;
        try {
            healthy = config.healthCheck().test(c);
        } catch (RuntimeException e) {
            healthy = false;
        }
        if (!healthy) {
            discard(c);
            acquireInto(c.address(), result);
        } else if (!result.complete(c)) {
            release(c); // the acquire was cancelled meanwhile: the connection goes back
        }
    }

    private void waitFor(Entry e, CompletableFuture<PooledConnection<P>> result) {
        e.waiters.add(result);
        // Timed out in the queue, or given a slot to connect with only near its end: either way the
        // pool had none for it in time. A connect that fails by itself fails the acquire with its own error.
        PoolTimers.get().timeOutWith(result, config.acquireTimeout().toNanos(), () -> new PoolExhaustedError(
                "no connection to " + describe(e.address) + " came free within " + config.acquireTimeout().toMillis()
                        + " ms (pool of " + config.maxSize() + ")", false));
        // Timed out or cancelled: the waiter leaves the queue, so it holds nothing.
        result.whenComplete((c, error) -> {
            if (error != null) {
                synchronized (this) {
                    e.waiters.remove(result);
                    forgetIfUnused(e);
                }
            }
        });
    }

    private void connect(InetSocketAddress address, CompletableFuture<PooledConnection<P>> result) {
        var made = new Object() {
            Pooled pooled;
        };
        provider.connect(address, config.connect(), () -> made.pooled = new Pooled(factory.get()))
                .whenComplete((connected, error) -> {
                    PoolConnection<P> c = null;
                    List<Runnable> after = new ArrayList<>();
                    synchronized (this) {
                        Entry e = entries.computeIfAbsent(address, Entry::new);
                        e.connecting--;
                        if (error == null) {
                            sessions++;
                            alive++;
                            c = new PoolConnection<>(this, address, connected.transport(), made.pooled.user);
                            made.pooled.connection = c;
                            if (closed) {
                                after.add(connected.transport()::close);
                            } else {
                                e.inUse.add(c);
                            }
                        } else {
                            serveWaiter(e, after); // the slot this connect held is free again
                            forgetIfUnused(e);
                        }
                    }
                    after.forEach(Runnable::run);
                    if (error != null) {
                        result.completeExceptionally(error instanceof java.util.concurrent.CompletionException
                                && error.getCause() != null ? error.getCause() : error);
                    } else if (closed) {
                        result.completeExceptionally(new TransportClosedError("pool closed", null));
                    } else if (!result.complete(c)) {
                        release(c); // timed out or cancelled meanwhile: keep it for the next
                    }
                });
    }

    void release(PoolConnection<P> c) {
        List<Runnable> after = new ArrayList<>();
        synchronized (this) {
            Entry e = entries.get(c.address());
            if (e == null || !e.inUse.remove(c)) {
                throw new IllegalStateException(c + " was released or discarded already");
            }
            if (closed || !fresh(c)) {
                drop(c);
                serveWaiter(e, after);
                forgetIfUnused(e);
            } else if (!handToWaiter(e, c, after)) {
                c.idleSinceNanos = System.nanoTime();
                e.idle.addLast(c);
                if (config.idleTimeout().isPresent()) {
                    c.idleTimer = c.transport.loop().schedule(() -> evictIfIdle(c), config.idleTimeout().get().toNanos(),
                            TimeUnit.NANOSECONDS);
                }
            }
        }
        after.forEach(Runnable::run);
    }

    void discard(PoolConnection<P> c) {
        List<Runnable> after = new ArrayList<>();
        synchronized (this) {
            Entry e = entries.get(c.address());
            if (e == null || !e.inUse.remove(c)) {
                throw new IllegalStateException(c + " was released or discarded already");
            }
            drop(c);
            serveWaiter(e, after);
            forgetIfUnused(e);
        }
        after.forEach(Runnable::run);
    }

    /** Gives a connection straight to the first waiter still waiting; under the lock. */
    private boolean handToWaiter(Entry e, PoolConnection<P> c, List<Runnable> after) {
        CompletableFuture<PooledConnection<P>> waiter;
        while ((waiter = e.waiters.poll()) != null) {
            if (!waiter.isDone()) {
                e.inUse.add(c);
                CompletableFuture<PooledConnection<P>> w = waiter;
                after.add(() -> {
                    if (!w.complete(c)) {
                        release(c); // it timed out in between
                    }
                });
                return true;
            }
        }
        return false;
    }

    /** A slot came free: the first waiter gets a new connection; under the lock. */
    private void serveWaiter(Entry e, List<Runnable> after) {
        if (closed) {
            return;
        }
        CompletableFuture<PooledConnection<P>> waiter;
        while ((waiter = e.waiters.poll()) != null) {
            if (!waiter.isDone() && e.size() < config.maxSize()) {
                e.connecting++;
                CompletableFuture<PooledConnection<P>> w = waiter;
                after.add(() -> connect(e.address, w));
                return;
            }
        }
    }

    private void evictIfIdle(PoolConnection<P> c) {
        List<Runnable> after = new ArrayList<>();
        synchronized (this) {
            Entry e = entries.get(c.address());
            if (e != null && e.idle.remove(c)) {
                drop(c);
                serveWaiter(e, after);
                forgetIfUnused(e);
            }
        }
        after.forEach(Runnable::run);
    }

    /**
     * Bytes or an end of input came on an idle connection: they answer nothing anyone asked,
     * and the next user would read them as its own answer, so the connection leaves the pool
     * and closes. False if the connection is not idle (its user reads them).
     */
    private boolean unsolicited(PoolConnection<P> c) {
        List<Runnable> after = new ArrayList<>();
        synchronized (this) {
            Entry e = entries.get(c.address());
            if (e == null || !e.idle.remove(c)) {
                return false;
            }
            drop(c);
            serveWaiter(e, after);
            forgetIfUnused(e);
        }
        after.forEach(Runnable::run);
        LOG.log(System.Logger.Level.DEBUG, () -> "pool: " + c + " got bytes or an end while idle: closed, not reused");
        return true;
    }

    /** The connection was lost: an idle one leaves the pool at once. */
    private void lost(PoolConnection<P> c) {
        List<Runnable> after = new ArrayList<>();
        synchronized (this) {
            alive--;
            Entry e = c == null ? null : entries.get(c.address());
            if (e != null && e.idle.remove(c)) {
                cancelIdleTimer(c);
                serveWaiter(e, after);
                forgetIfUnused(e);
            }
            if (closed && alive == 0) {
                after.add(() -> closedFuture.complete(null));
            }
        }
        after.forEach(Runnable::run);
    }

    private boolean fresh(PoolConnection<P> c) {
        return !c.transport.isClosing() && (config.maxLifetime().isEmpty()
                || System.nanoTime() - c.createdNanos < config.maxLifetime().get().toNanos());
    }

    private void drop(PoolConnection<P> c) {
        cancelIdleTimer(c);
        c.transport.close();
    }

    private static void cancelIdleTimer(PoolConnection<?> c) {
        if (c.idleTimer != null) {
            c.idleTimer.cancel();
            c.idleTimer = null;
        }
    }

    /**
     * Connections handed out and not yet given back.
     *
     * @return the count over all addresses
     */
    @Override
    public synchronized int inUse() {
        return entries.values().stream().mapToInt(e -> e.inUse.size()).sum();
    }

    /**
     * Idle connections ready for reuse.
     *
     * @return the count over all addresses
     */
    @Override
    public synchronized int available() {
        return entries.values().stream().mapToInt(e -> e.idle.size()).sum();
    }

    /**
     * Connections in use to one address.
     *
     * @param address the address
     * @return the count
     */
    public synchronized int inUse(InetSocketAddress address) {
        Entry e = entries.get(address);
        return e == null ? 0 : e.inUse.size();
    }

    /**
     * Idle connections to one address.
     *
     * @param address the address
     * @return the count
     */
    public synchronized int available(InetSocketAddress address) {
        Entry e = entries.get(address);
        return e == null ? 0 : e.idle.size();
    }

    /**
     * Acquires waiting for a connection to come free.
     *
     * @return the count over all addresses
     */
    @Override
    public synchronized int waiting() {
        return entries.values().stream().mapToInt(e -> (int) e.waiters.stream().filter(w -> !w.isDone()).count()).sum();
    }

    /**
     * Connections made since the pool was created.
     *
     * @return the count
     */
    @Override
    public synchronized long sessions() {
        return sessions;
    }

    /**
     * Closes the pool: waiting acquires fail, idle and in-use connections are closed.
     *
     * @return completes when every connection of the pool is gone
     */
    @Override
    public CompletionStage<Void> close() {
        List<CompletableFuture<PooledConnection<P>>> waiters = new ArrayList<>();
        List<PoolConnection<P>> all = new ArrayList<>();
        synchronized (this) {
            if (!closed) {
                closed = true;
                for (Entry e : entries.values()) {
                    waiters.addAll(e.waiters);
                    e.waiters.clear();
                    all.addAll(e.idle);
                    all.addAll(e.inUse);
                    e.idle.clear();
                    e.inUse.clear();
                }
            }
            if (alive == 0) {
                closedFuture.complete(null);
            }
        }
        waiters.forEach(w -> w.completeExceptionally(new TransportClosedError("pool closed", null)));
        all.forEach(this::drop);
        return closedFuture;
    }

    private static String describe(InetSocketAddress a) {
        return Addresses.text(a);
    }

    /** Forwards the callbacks to the protocol and tells the pool when the connection is lost. */
    private final class Pooled extends ForwardingProtocol {
        final P user;
        volatile PoolConnection<P> connection;

        Pooled(P protocol) {
            super(protocol);
            this.user = protocol;
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            PoolConnection<P> c = connection;
            if (c != null && unsolicited(c)) {
                data.position(data.limit()); // nobody's
                return;
            }
            super.dataReceived(data);
        }

        @Override
        public boolean eofReceived() {
            PoolConnection<P> c = connection;
            if (c != null && unsolicited(c)) {
                return false;
            }
            return super.eofReceived();
        }

        @Override
        public void connectionLost(Throwable cause) {
            try {
                super.connectionLost(cause);
            } finally {
                lost(connection);
            }
        }
    }
}
