package org.wharf.endpoints;

import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * Limits per client address of a server: connections open at once, and new connections over
 * time as a token bucket ({@code rate} a second, up to {@code burst} at once). Thread-safe;
 * an address is remembered only while it has connections open or its bucket is refilling, so
 * the table stays as small as the set of recent clients. A server that replaces another after
 * a change keeps the other's table, so its limits count the connections still draining.
 */
final class ClientLimits {

    /** One address: its open connections and its bucket. Guarded by the map's compute. */
    static final class Entry {
        int open;
        double tokens;
        long stamp;
    }

    /** Why a connection was refused, for the log. */
    enum Refusal {
        /** The address has its most connections open. */
        CONNECTIONS,
        /** The address made its most new connections lately. */
        RATE
    }

    private final int maxConnections;
    private final double perNano;
    private final double burst;
    private final LongSupplier clock;
    private final ConcurrentHashMap<InetAddress, Entry> clients;
    private final AtomicInteger sinceSweep = new AtomicInteger();

    /**
     * @param maxConnections most connections open at once per address; 0 for no limit
     * @param ratePerSecond new connections a second per address; 0 for no limit
     * @param burst how many new connections an address may make at once (the bucket's size)
     * @param clock nanoseconds
     */
    ClientLimits(int maxConnections, int ratePerSecond, int burst, LongSupplier clock) {
        this(maxConnections, ratePerSecond, burst, clock, new ConcurrentHashMap<>());
    }

    /**
     * Limits that count in a table shared with other servers' (a successor's with its
     * predecessor's, so the connections still draining count against the new limits).
     *
     * @param maxConnections most connections open at once per address; 0 for no limit
     * @param ratePerSecond new connections a second per address; 0 for no limit
     * @param burst how many new connections an address may make at once (the bucket's size)
     * @param clock nanoseconds
     * @param clients the table
     */
    ClientLimits(int maxConnections, int ratePerSecond, int burst, LongSupplier clock,
            ConcurrentHashMap<InetAddress, Entry> clients) {
        this.clients = clients;
        this.maxConnections = maxConnections == 0 ? Integer.MAX_VALUE : maxConnections;
        this.perNano = ratePerSecond / (double) TimeUnit.SECONDS.toNanos(1);
        this.burst = ratePerSecond == 0 ? 0 : Math.max(1, burst);
        this.clock = clock;
    }

    int maxConnections() {
        return maxConnections;
    }

    double burst() {
        return burst;
    }

    /**
     * Takes a connection for an address, if its limits allow.
     *
     * @param client the address
     * @return null if admitted (then {@link #release(InetAddress)} once it is gone), or why not
     */
    Refusal acquire(InetAddress client) {
        long now = clock.getAsLong();
        Refusal[] refusal = new Refusal[1];
        clients.compute(client, (k, e) -> {
            if (e == null) {
                e = new Entry();
                // Without a rate, a full bucket of any size: a successor with a rate reads it as full.
                e.tokens = perNano > 0 ? burst : Double.POSITIVE_INFINITY;
                e.stamp = now;
            }
            refill(e, now);
            if (e.open >= maxConnections) {
                refusal[0] = Refusal.CONNECTIONS;
            } else if (perNano > 0 && e.tokens < 1) {
                refusal[0] = Refusal.RATE;
            } else {
                e.open++;
                e.tokens -= perNano > 0 ? 1 : 0;
            }
            return forgettable(e) ? null : e;
        });
        if (sinceSweep.incrementAndGet() >= 1024) {
            sinceSweep.set(0);
            clients.forEach((k, v) -> clients.computeIfPresent(k, (a, e) -> {
                refill(e, now);
                return forgettable(e) ? null : e;
            }));
        }
        return refusal[0];
    }

    /**
     * A connection taken by {@link #acquire(InetAddress)} is gone.
     *
     * @param client its address
     */
    void release(InetAddress client) {
        long now = clock.getAsLong();
        clients.computeIfPresent(client, (k, e) -> {
            e.open--;
            refill(e, now);
            return forgettable(e) ? null : e;
        });
    }

    /** How many addresses are remembered now. */
    int size() {
        return clients.size();
    }

    private void refill(Entry e, long now) {
        if (perNano > 0) { // limits without a rate leave the time alone: one with a rate may share the entry
            e.tokens = Math.min(burst, e.tokens + (now - e.stamp) * perNano);
            e.stamp = now;
        }
    }

    /** Nothing open and a full bucket: the entry says nothing a fresh one would not. */
    private boolean forgettable(Entry e) {
        return e.open <= 0 && (perNano == 0 || e.tokens >= burst);
    }
}
