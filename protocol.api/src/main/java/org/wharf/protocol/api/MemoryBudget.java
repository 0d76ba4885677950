package org.wharf.protocol.api;

import java.lang.System.Logger.Level;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How many bytes a protocol may hold for its clients (request bodies, decoded messages not
 * yet handled), set by configuration, never by the clients: a connection's budget is a share
 * of its endpoint's, which is a share of the platform's. A reservation succeeds at every level
 * or at none; past the budget, a protocol refuses the work (HTTP answers 503) or stops
 * reading, and the level that was spent says so once in the log, and again once it has room.
 *
 * <p>The shared levels are thread-safe; a connection's budget is used on its event loop only.
 * Its endpoint {@linkplain #close() closes} it when the connection is lost, which gives back
 * whatever it still holds, so a protocol that forgets a release leaks nothing past its
 * connection.
 */
public final class MemoryBudget {

    private static final System.Logger LOG = System.getLogger("org.wharf.protocol.api");
    /** A budget that runs out again and again says so at most once a minute, with a count. */
    private static final long QUIET_NANOS = java.util.concurrent.TimeUnit.MINUTES.toNanos(1);

    /** No limit at any level: what a protocol sees outside an endpoint. */
    public static final MemoryBudget UNLIMITED = new MemoryBudget("unlimited", Long.MAX_VALUE, null, false);

    private final String name;
    private final long limit;
    private final MemoryBudget parent;
    /** Whether running out is said in the log: the shared levels, not each connection. */
    private final boolean logged;
    private final AtomicLong used = new AtomicLong();
    private final AtomicBoolean spent = new AtomicBoolean();
    /** When running out was last said (nanoTime), and how often it ran out since, unsaid. */
    private final AtomicLong lastSaid = new AtomicLong(System.nanoTime() - QUIET_NANOS);
    private final AtomicLong unsaid = new AtomicLong();
    /** Reservations refused here or below: work refused for want of memory. */
    private final java.util.concurrent.atomic.LongAdder refusals = new java.util.concurrent.atomic.LongAdder();
    private volatile boolean closed;

    private MemoryBudget(String name, long limit, MemoryBudget parent, boolean logged) {
        this.name = Objects.requireNonNull(name, "name");
        if (limit < 0) {
            throw new IllegalArgumentException(name + ": a budget of " + limit + " bytes");
        }
        this.limit = limit;
        this.parent = parent;
        this.logged = logged;
    }

    /**
     * A budget of its own, such as the platform's.
     *
     * @param name what the log calls it: say which property sets it
     * @param limit the most bytes held at once
     * @return the budget
     */
    public static MemoryBudget of(String name, long limit) {
        return new MemoryBudget(name, limit, null, true);
    }

    /**
     * A share of this budget, such as an endpoint's; running out of it is logged.
     *
     * @param name what the log calls it: say which property sets it
     * @param limit the most bytes held at once at the new level (this level bounds it too)
     * @return the share
     */
    public MemoryBudget share(String name, long limit) {
        return new MemoryBudget(name, limit, this, true);
    }

    /**
     * A connection's share of this budget: running out of it is the connection's own affair
     * and is not logged (its protocol refuses the work).
     *
     * @param limit the most bytes the connection holds at once
     * @return the share, to be {@linkplain #close() closed} when the connection is lost
     */
    public MemoryBudget connection(long limit) {
        if (this == UNLIMITED && limit == Long.MAX_VALUE) {
            return UNLIMITED; // nothing to count: no object per connection
        }
        return new MemoryBudget(name + " (a connection)", limit, this, false);
    }

    /**
     * Reserves bytes at this level and every level above, or at none.
     *
     * @param bytes how many, at least 0
     * @return whether they were reserved; false once closed
     */
    public boolean tryReserve(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("a reservation of " + bytes + " bytes");
        }
        if (bytes == 0 || this == UNLIMITED) {
            return true;
        }
        for (MemoryBudget b = this; b != null && b != UNLIMITED; b = b.parent) {
            if (!b.add(bytes)) {
                for (MemoryBudget undo = this; undo != b; undo = undo.parent) {
                    undo.used.addAndGet(-bytes);
                }
                for (MemoryBudget counted = this; counted != null && counted != UNLIMITED; counted = counted.parent) {
                    counted.refusals.increment();
                }
                b.refused(bytes);
                return false;
            }
        }
        return true;
    }

    /**
     * Gives back bytes reserved earlier. Nothing happens once closed (closing gave them back).
     *
     * @param bytes how many
     */
    public void release(long bytes) {
        if (bytes <= 0 || this == UNLIMITED || closed) {
            return;
        }
        for (MemoryBudget b = this; b != null && b != UNLIMITED; b = b.parent) {
            b.freed(b.used.addAndGet(-bytes));
        }
    }

    /** Gives back all this budget still holds and refuses every later reservation. */
    public void close() {
        if (this == UNLIMITED || closed) {
            return;
        }
        closed = true;
        long held = used.getAndSet(0);
        for (MemoryBudget b = parent; b != null && b != UNLIMITED && held > 0; b = b.parent) {
            b.freed(b.used.addAndGet(-held));
        }
    }

    /**
     * Bytes held now.
     *
     * @return them
     */
    public long used() {
        return used.get();
    }

    /**
     * Reservations refused at this level or below it (a connection's share refusing counts for
     * its endpoint and the platform too): work refused for want of memory.
     *
     * @return how many so far
     */
    public long refusals() {
        return refusals.sum();
    }

    /**
     * The most bytes held at once at this level.
     *
     * @return them; {@link Long#MAX_VALUE} for no limit
     */
    public long limit() {
        return limit;
    }

    /**
     * What the log calls this budget.
     *
     * @return its name
     */
    public String name() {
        return name;
    }

    private boolean add(long bytes) {
        while (true) {
            long u = used.get();
            if (closed || u + bytes > limit || u + bytes < 0) {
                return false;
            }
            if (used.compareAndSet(u, u + bytes)) {
                return true;
            }
        }
    }

    private void refused(long bytes) {
        if (!logged || !spent.compareAndSet(false, true)) {
            return;
        }
        long now = System.nanoTime();
        long last = lastSaid.get();
        if (now - last < QUIET_NANOS || !lastSaid.compareAndSet(last, now)) {
            unsaid.incrementAndGet();
            return;
        }
        long again = unsaid.getAndSet(0);
        LOG.log(Level.WARNING, "memory budget " + name + " is spent (" + used.get() + " of " + limit
                + " bytes held, " + bytes + " more asked): new work is refused until it frees"
                + (again == 0 ? "" : "; it ran out " + again + " more times since the last such line"));
    }

    private void freed(long now) {
        if (logged && now <= limit / 2 && spent.compareAndSet(true, false) && unsaid.get() == 0) {
            LOG.log(Level.INFO, "memory budget " + name + " has room again (" + now + " of " + limit + " bytes held)");
        }
    }

    @Override
    public String toString() {
        return "MemoryBudget[" + name + ", " + used.get() + " of " + limit + " bytes]";
    }
}
