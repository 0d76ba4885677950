package org.wharf.transport.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;

import org.osgi.annotation.versioning.ProviderType;
import org.wharf.transport.api.EventLoop;
import org.wharf.transport.api.WriteBufferLimits;

/**
 * The write accounting of one connection: how many bytes were submitted for writing and not
 * yet handed to the operating system, and whether that is above the high-water mark.
 *
 * <p>Counting happens where a write is submitted, on any thread, with one atomic add, so
 * {@link #size()} and {@link #isWritable()} are right on every thread at once (a producer on
 * another thread that stops when {@code isWritable()} turns false overshoots by at most one
 * write). A crossing of a mark is decided where the count changes, by one compare-and-set of
 * a crossing counter whose parity is the writability; every crossing is then delivered to the
 * {@link Listener} exactly once, in order, on the loop, so pauses and resumes alternate.
 *
 * <p>A layer over a transport (TLS) counts its bytes here too, so the application above it
 * sees one buffer: plaintext waiting to be encrypted and records waiting for the socket.
 */
@ProviderType
public final class OutboundBuffer {

    /** Hears of crossings, on the loop, in order: false, true, false, ... */
    @FunctionalInterface
    public interface Listener {
        /**
         * The buffer crossed a mark.
         *
         * @param writable {@code false} when it rose above the high-water mark, {@code true}
         *        when it drained to the low-water mark
         */
        void writabilityChanged(boolean writable);
    }

    private static final VarHandle SIZE;
    private static final VarHandle CROSSINGS;
    private static final VarHandle POSTED;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            SIZE = lookup.findVarHandle(OutboundBuffer.class, "size", long.class);
            CROSSINGS = lookup.findVarHandle(OutboundBuffer.class, "crossings", long.class);
            POSTED = lookup.findVarHandle(OutboundBuffer.class, "posted", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final EventLoop loop;
    private final Listener listener;
    private volatile WriteBufferLimits limits;
    @SuppressWarnings("unused") // through SIZE
    private volatile long size;
    /** Crossings decided so far: odd while above the high-water mark. */
    @SuppressWarnings("unused") // through CROSSINGS
    private volatile long crossings;
    /** 1 while a delivery task is queued on the loop. */
    @SuppressWarnings("unused") // through POSTED
    private volatile int posted;
    /** Crossings delivered to the listener; the loop's alone. */
    private long delivered;

    /**
     * An empty buffer.
     *
     * @param loop the loop crossings are delivered on
     * @param limits the marks
     * @param listener told of crossings, on the loop
     */
    public OutboundBuffer(EventLoop loop, WriteBufferLimits limits, Listener listener) {
        this.loop = Objects.requireNonNull(loop, "loop");
        this.limits = Objects.requireNonNull(limits, "limits");
        this.listener = Objects.requireNonNull(listener, "listener");
    }

    /**
     * Bytes submitted and not yet handed to the operating system. Right on any thread.
     *
     * @return the count, zero or more
     */
    public long size() {
        return (long) SIZE.getVolatile(this);
    }

    /**
     * Whether the buffer is below the high-water mark, or has drained to the low one since it
     * rose above it. Right on any thread.
     *
     * @return {@code false} from a rise above the high-water mark until the drain to the low one
     */
    public boolean isWritable() {
        return ((long) CROSSINGS.getVolatile(this) & 1) == 0;
    }

    /**
     * The marks in force.
     *
     * @return the limits
     */
    public WriteBufferLimits limits() {
        return limits;
    }

    /**
     * Changes the marks; a crossing they cause is decided at once and delivered like any
     * other. Any thread.
     *
     * @param value the new marks
     */
    public void setLimits(WriteBufferLimits value) {
        limits = Objects.requireNonNull(value, "limits");
        settle(false);
    }

    /**
     * Counts bytes submitted for writing and decides a crossing of the high-water mark. Any
     * thread. On the loop a pause is delivered before this returns (as asyncio pauses inside
     * {@code write}); a resume never is, so a protocol is not called back from inside its own
     * write.
     *
     * @param bytes how many bytes, zero or more
     */
    public void add(long bytes) {
        count(bytes);
        settle(false);
    }

    /**
     * Uncounts bytes handed to the operating system (or dropped) and decides a crossing of the
     * low-water mark, delivering it at once when on the loop. For the loop's flush, outside
     * any protocol callback.
     *
     * @param bytes how many bytes, zero or more
     */
    public void remove(long bytes) {
        count(-bytes);
        settle(true);
    }

    /**
     * Changes the count without deciding anything yet, for a transport that moves bytes in
     * several steps (a TLS record replacing its plaintext, a drain during a write); it calls
     * {@link #settle(boolean)} before returning to its caller. Any thread.
     *
     * @param delta bytes added (positive) or removed (negative)
     */
    public void count(long delta) {
        SIZE.getAndAdd(this, delta);
    }

    /**
     * Decides the crossings the count calls for and delivers them: on the loop at once (a
     * resume only if {@code resumeNow}), else on a later turn of the loop.
     *
     * @param resumeNow whether a resume may be delivered before this returns (true only where
     *        no protocol callback is on the stack)
     */
    public void settle(boolean resumeNow) {
        boolean crossed = decide();
        if (loop.inEventLoop()) {
            if (crossed || delivered != (long) CROSSINGS.getVolatile(this)) {
                deliver(resumeNow);
            }
        } else if (crossed) {
            post();
        }
    }

    /** Moves the crossing counter until it agrees with the count; true if it moved. */
    private boolean decide() {
        boolean crossed = false;
        while (true) {
            long c = (long) CROSSINGS.getVolatile(this);
            long s = size();
            WriteBufferLimits l = limits;
            boolean writable = (c & 1) == 0;
            if (writable ? s <= l.high() : s > l.low()) {
                return crossed;
            }
            // Another thread may change the count meanwhile; the loop looks again after a
            // successful move, so a crossing decided on a stale count is undone at once.
            if (CROSSINGS.compareAndSet(this, c, c + 1)) {
                crossed = true;
            }
        }
    }

    /**
     * Delivers undelivered crossings in order; on the loop. A listener's callback may write
     * and cross again: that pause is delivered inside it (as asyncio pauses a protocol that
     * writes from {@code resume_writing}), since each crossing is claimed before it is told.
     */
    private void deliver(boolean resumeNow) {
        while (true) {
            long target = (long) CROSSINGS.getVolatile(this);
            if (delivered == target) {
                return;
            }
            boolean writable = (delivered & 1) == 1; // the next crossing: odd->even is a resume
            if (writable && !resumeNow) {
                post();
                return;
            }
            delivered++;
            listener.writabilityChanged(writable);
        }
    }

    private void post() {
        if (POSTED.compareAndSet(this, 0, 1)) {
            try {
                loop.execute(this::deliverPosted);
            } catch (RejectedExecutionException loopGone) {
                posted = 0; // the loop has ended and closed its connections: nobody to tell
            }
        }
    }

    private void deliverPosted() {
        posted = 0;
        deliver(true);
    }

    @Override
    public String toString() {
        return "outbound " + size() + " bytes (" + (isWritable() ? "writable" : "above the mark") + ", " + limits + ")";
    }
}
