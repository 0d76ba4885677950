package org.wharf.transport.core;

import java.lang.System.Logger.Level;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;

import org.osgi.annotation.versioning.ConsumerType;
import org.wharf.transport.api.BaseProtocol;
import org.wharf.transport.api.BaseTransport;
import org.wharf.transport.api.EventLoop;
import org.wharf.transport.api.TransportClosedError;
import org.wharf.transport.api.WriteBufferLimits;

/**
 * The lifecycle, read control and write flow control every transport shares; a transport
 * implementation adds its channel (a socket, a TLS engine over another transport, memory).
 *
 * <p>A connection goes <em>created</em> (no protocol yet) &rarr; <em>open</em> (its protocol made
 * and told {@code connectionMade}) &rarr; <em>closing</em> &rarr; <em>closed</em>. Only the loop
 * moves it to open and to closed. {@link #close()} and {@link #abort(Throwable)} may come from
 * any thread: they win one compare-and-set and hand the work to the loop, which runs the close
 * path once; {@link #closed(Throwable)} then schedules {@code connectionLost} exactly once for a
 * protocol that was created. A protocol is created only in {@link #start(Supplier)}, on the
 * loop, so a connection that fails before (a TLS handshake) never creates one.
 *
 * <p>Writes are counted in an {@link OutboundBuffer} when they are submitted, on any thread;
 * its crossings come back to {@link #writabilityChanged(boolean)} on the loop, which calls
 * {@code pauseWriting}/{@code resumeWriting} once per crossing while the connection is open.
 *
 * <p>A protocol callback that throws is reported to {@link #callbackFailed(String, Throwable)}:
 * logged, and the connection aborted with the exception; the loop runs on. Only
 * {@linkplain #isFatal fatal} errors propagate.
 *
 * @param <P> the protocol type
 */
@ConsumerType
public abstract class AbstractTransport<P extends BaseProtocol<?>> implements BaseTransport {

    private static final int CREATED = 0;
    private static final int OPEN = 1;
    private static final int CLOSING = 2;
    private static final int CLOSED = 3;
    /** Stands for an abort without a cause in the abort field. */
    private static final Throwable NO_CAUSE = new Throwable("no cause", null, false, false) {
        private static final long serialVersionUID = 1L;
    };
    private static final System.Logger LOG = System.getLogger("org.wharf.transport");
    /**
     * Malformed input is the client's to make: per protocol, callback and error type, one line
     * per window and a count of the rest.
     */
    private static final LogLimiter FAILURES = new LogLimiter(LOG, java.time.Duration.ofSeconds(10));

    private static final VarHandle STATE;

    /** Set by the caller that won the abort slot, before the loop reads it in {@link #abortNow}. */
    private volatile boolean resetRequested;
    private static final VarHandle ABORT;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            STATE = lookup.findVarHandle(AbstractTransport.class, "state", int.class);
            ABORT = lookup.findVarHandle(AbstractTransport.class, "abortCause", Throwable.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final EventLoop loop;
    private final OutboundBuffer outbound;
    private volatile int state = CREATED;
    /** The first abort asked for, until the loop runs it; {@link #NO_CAUSE} for one without a cause. */
    @SuppressWarnings("unused") // through ABORT
    private volatile Throwable abortCause;
    private volatile P protocol;
    private volatile boolean reading = true;
    private volatile Throwable closedWith;
    /** The loop ran the graceful close path (flush, then close). */
    private boolean closingGracefully;
    /** How long a graceful close or a waiting writeEof may go without the peer taking a byte; null for ever. */
    private java.time.Duration closeTimeout;
    /** The bytes still to write when the close deadline was last armed. */
    private long closeDeadlineSize;
    /** The close's or a waiting writeEof's deadline, while armed. */
    private org.wharf.transport.api.TimerHandle closeDeadline;
    /** pauseWriting was delivered and resumeWriting not yet. */
    private boolean writingPaused;
    /** The buffer the protocol was last lent in a receive callback. */
    private ByteBuffer lent;
    private final Runnable readingTask = this::applyReading;

    /**
     * A transport with an outbound buffer of its own.
     *
     * @param loop the loop that runs its callbacks
     * @param limits the write-buffer marks
     */
    protected AbstractTransport(EventLoop loop, WriteBufferLimits limits) {
        this.loop = Objects.requireNonNull(loop, "loop");
        this.outbound = new OutboundBuffer(loop, limits, this::writabilityChanged);
    }

    /**
     * A transport layered over another one (TLS over TCP): it counts its writes in the outbound
     * buffer of the one below, so both report one size and one writability, and it hears of
     * crossings through its own role as the protocol of the one below, which should call
     * {@link #writabilityChanged(boolean)}.
     *
     * @param below the transport it runs on
     */
    protected AbstractTransport(AbstractTransport<?> below) {
        this.loop = below.loop();
        this.outbound = below.outboundBuffer();
        this.closeTimeout = below.closeTimeout;
    }

    /**
     * Bounds a graceful close: once {@link #close()} is under way, a connection whose peer
     * takes none of what is still to be written (or that is not closed for another reason)
     * for this long is aborted, so a peer that stops reading cannot hold a closing connection
     * open. A peer that takes bytes, however slowly, keeps it going: each period with progress
     * starts another. A {@code writeEof} that waits for queued bytes is bounded the same way
     * ({@link #boundEofFlush()}). Set by the implementation before the connection starts, or
     * later on the loop (a change applies from the next period); a layered transport takes the
     * one of the transport below.
     *
     * @param timeout the period without progress after which the close becomes an abort; null or zero for none
     */
    protected final void closeTimeout(java.time.Duration timeout) {
        this.closeTimeout = timeout == null || timeout.isZero() || timeout.isNegative() ? null : timeout;
    }

    // ---- the lifecycle ----

    /**
     * Creates the protocol and makes the connection: {@code connectionMade}, then
     * {@code pauseWriting} if the buffer is above its mark already. On the loop, once. A
     * factory that fails or returns null is logged and the connection aborted without a
     * protocol; one closed before this (an abort while a TLS handshake ran) creates none.
     *
     * @param <Q> the protocol type made
     * @param factory makes the protocol
     * @return the protocol, or {@code null} if none was made
     */
    protected final <Q extends P> Q start(Supplier<Q> factory) {
        if (state != CREATED) {
            return null;
        }
        Q p;
        try {
            p = Objects.requireNonNull(factory.get(), "the protocol factory returned null");
        } catch (Throwable e) {
            rethrowIfFatal(e);
            LOG.log(Level.WARNING, "protocol factory for " + this + " failed; connection closed: " + e, e);
            abort(e);
            return null;
        }
        protocol = p;
        if (!STATE.compareAndSet(this, CREATED, OPEN)) {
            // Closed while the factory ran (from its own code): the protocol exists, so it hears of it.
            return p;
        }
        try {
            p.connectionMade(cast(this));
        } catch (Throwable e) {
            callbackFailed("connectionMade", e);
            return p;
        }
        if (!outbound.isWritable()) {
            writabilityChanged(false);
        }
        return p;
    }

    @SuppressWarnings("unchecked")
    private static <T> T cast(Object o) {
        return (T) o;
    }

    @Override
    public final void close() {
        while (true) {
            int s = state;
            if (s >= CLOSING) {
                return;
            }
            if (STATE.compareAndSet(this, s, CLOSING)) {
                break;
            }
        }
        onLoop(this::closeOnLoop);
    }

    private void closeOnLoop() {
        if (state == CLOSED || closingGracefully) {
            return;
        }
        closingGracefully = true;
        closeGracefully();
        if (closeDeadline != null) {
            closeDeadline.cancel(); // a waiting writeEof's: the close starts a period of its own
            closeDeadline = null;
        }
        if (state != CLOSED && closeTimeout != null) {
            armCloseDeadline(closeTimeout);
        }
    }

    /**
     * A {@code writeEof} has to wait for queued bytes before the write side can be shut: the
     * wait is bounded as a graceful close is ({@link #closeTimeout(java.time.Duration)}). A
     * peer that takes none of what is still to be written for that long has the connection
     * aborted; each period with progress starts another; the bound ends once nothing is left
     * to write (the EOF went out: the half-closed connection may then wait for its peer as long
     * as it likes). An implementation's {@code writeEof} calls this on the loop, only when it
     * has to wait; a {@link #close()} that follows replaces the bound with its own.
     *
     * @since 0.3
     */
    protected final void boundEofFlush() {
        java.time.Duration timeout = closeTimeout;
        if (timeout != null && state == OPEN && closeDeadline == null && outbound.size() > 0) {
            armCloseDeadline(timeout);
        }
    }

    private void armCloseDeadline(java.time.Duration timeout) {
        closeDeadlineSize = outbound.size();
        closeDeadline = loop.schedule(this::closeDeadline, timeout.toNanos(),
                java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    /**
     * The close timeout passed since the close (or a waiting writeEof) began, or since the peer
     * last took bytes. On the loop.
     */
    private void closeDeadline() {
        closeDeadline = null;
        java.time.Duration timeout = closeTimeout;
        if (state == CLOSED || timeout == null) {
            return; // closed, or the timeout was turned off meanwhile
        }
        boolean closing = closingGracefully;
        long left = outbound.size();
        if (!closing && (left == 0 || state != OPEN)) {
            return; // the EOF went out, or a close or abort on its way takes over
        }
        if (left < closeDeadlineSize) {
            armCloseDeadline(timeout); // the peer is taking it: another period
            return;
        }
        String why = this + " aborted: its " + (closing ? "close" : "writeEof") + " took " + timeout.toMillis()
                + " ms without the peer taking any of " + left + " bytes still to write";
        FAILURES.log(Level.INFO, "close-timeout", () -> why, null);
        abort(new org.wharf.transport.api.TransportError(why));
    }

    @Override
    public final void abort() {
        abort(null);
    }

    @Override
    public final void abort(Throwable cause) {
        abort(cause, false);
    }

    private void abort(Throwable cause, boolean reset) {
        if (state == CLOSED) {
            return;
        }
        if (!ABORT.compareAndSet(this, null, cause == null ? NO_CAUSE : cause)) {
            return; // an abort is on its way already
        }
        resetRequested = reset; // before the hand-over to the loop, which reads it
        while (true) {
            int s = state;
            if (s >= CLOSING || STATE.compareAndSet(this, s, CLOSING)) {
                break;
            }
        }
        onLoop(this::abortOnLoop);
    }

    /**
     * Aborts with a reset of the connection ({@link org.wharf.transport.api.Transport#reset()}):
     * {@link #abortNow} then finds {@link #resetRequested()} true.
     */
    public final void reset() {
        abort(null, true);
    }

    /**
     * Tells whether the abort under way was asked for as a reset.
     *
     * @return whether {@link #abortNow} should make the peer see a reset
     */
    protected final boolean resetRequested() {
        return resetRequested;
    }

    private void abortOnLoop() {
        if (state == CLOSED) {
            return;
        }
        Throwable cause = (Throwable) ABORT.getVolatile(this);
        abortNow(cause == NO_CAUSE ? null : cause);
    }

    /**
     * The channel is gone: the connection is closed and, for a protocol that was created,
     * {@code connectionLost(cause)} follows on a later turn of the loop. On the loop; only the
     * first call counts.
     *
     * @param cause why, or {@code null} for a clean close
     */
    protected final void closed(Throwable cause) {
        if (state == CLOSED) {
            return;
        }
        // Other threads only ever move the state from CREATED or OPEN: none can undo this.
        state = CLOSED;
        closedWith = cause;
        if (closeDeadline != null) {
            closeDeadline.cancel();
            closeDeadline = null;
        }
        P p = protocol;
        if (p == null) {
            return;
        }
        Runnable lost = () -> {
            try {
                p.connectionLost(cause);
            } catch (Throwable e) {
                rethrowIfFatal(e);
                LOG.log(Level.WARNING, "protocol " + describe(p) + " of " + this
                        + " failed in connectionLost: " + e, e);
            }
        };
        try {
            loop.execute(lost);
        } catch (RejectedExecutionException loopEnding) {
            lost.run(); // the loop is closing its channels: this is its last turn
        }
    }

    /**
     * Starts the graceful close on the loop, once: stop reading, write what is queued, then
     * close the channel and call {@link #closed(Throwable)}.
     */
    protected abstract void closeGracefully();

    /**
     * Closes at once on the loop: drop what is queued (uncounting it), close the channel and
     * call {@link #closed(Throwable)}, now or when the channel below reports it.
     *
     * @param cause why, or {@code null}
     */
    protected abstract void abortNow(Throwable cause);

    /**
     * Tells whether the loop runs the graceful close path: the transport closes once its
     * queue is empty. On the loop.
     *
     * @return {@code true} after {@link #closeGracefully()} was called
     */
    protected final boolean isClosingGracefully() {
        return closingGracefully && state != CLOSED;
    }

    @Override
    public final boolean isClosing() {
        return state >= CLOSING;
    }

    /**
     * Tells whether the connection is closed ({@code connectionLost} was or is about to be
     * called).
     *
     * @return {@code true} once {@link #closed(Throwable)} ran
     */
    public final boolean isClosed() {
        return state == CLOSED;
    }

    /**
     * Tells whether the protocol was made and the connection is neither closing nor closed.
     *
     * @return {@code true} while open
     */
    protected final boolean isOpen() {
        return state == OPEN;
    }

    /**
     * Tells whether no protocol was made yet (a TLS handshake runs).
     *
     * @return {@code true} before {@link #start(Supplier)}
     */
    protected final boolean isCreated() {
        return state == CREATED;
    }

    /**
     * What the connection was closed with.
     *
     * @return the cause given to {@link #closed(Throwable)}, or {@code null}
     */
    protected final Throwable closedWith() {
        return closedWith;
    }

    /**
     * Throws unless the connection may be written to: open, or created (a layer writing
     * before its protocol exists).
     *
     * @throws TransportClosedError naming whether it is closing or closed
     */
    protected final void checkWritable() {
        int s = state;
        if (s >= CLOSING) {
            throw new TransportClosedError("write to a " + (s == CLOSING ? "closing" : "closed") + " transport (" + this
                    + ")", s == CLOSED ? closedWith : null);
        }
    }

    // ---- protocol callbacks ----

    @Override
    public P protocol() {
        return protocol;
    }

    /**
     * Switches the protocol that gets the next callbacks (protocol upgrades such as HTTP
     * {@code Upgrade}); its {@code connectionMade} is not called. Any thread; takes effect for
     * the next callback.
     *
     * @param p the new protocol
     */
    public void setProtocol(P p) {
        protocol = Objects.requireNonNull(p, "protocol");
    }

    /**
     * A protocol callback threw: logged, and the connection aborted with the exception (which
     * {@code connectionLost} receives). A fatal error is rethrown. On the loop.
     *
     * @param callback the callback's name, for the log
     * @param error what it threw
     */
    protected final void callbackFailed(String callback, Throwable error) {
        rethrowIfFatal(error);
        P p = protocol;
        String name = p == null ? "(none)" : describe(p);
        FAILURES.log(Level.WARNING, name + "/" + callback + "/" + error.getClass().getName(), () -> "protocol " + name
                + " of " + this + " failed in " + callback + "; connection aborted: " + error, error);
        abort(error);
    }

    /**
     * How logs name a protocol: by its {@code toString} if it has one of its own (a wrapper such
     * as an endpoint's says which protocol it wraps and where), else by its class name.
     *
     * @param protocol the protocol
     * @return its name
     */
    public static String describe(Object protocol) {
        try {
            if (protocol.getClass().getMethod("toString").getDeclaringClass() != Object.class) {
                return protocol.toString();
            }
        } catch (NoSuchMethodException | RuntimeException e) {
            // a toString that cannot be looked up or fails: the class name says enough
        }
        return protocol.getClass().getName();
    }

    /**
     * Marks the buffer lent to the protocol in a receive callback: {@link #checkOwned} refuses
     * it, since the transport reuses it once the callback returns.
     *
     * @param buffer the buffer about to be handed to the protocol
     */
    protected final void lend(ByteBuffer buffer) {
        lent = buffer;
    }

    /**
     * Refuses a buffer the transport lent to a receive callback, for {@code write}, which takes
     * ownership: writing it would send whatever the next read put there.
     *
     * @param data the buffer handed to {@code write}
     * @throws IllegalArgumentException if it is the lent buffer
     */
    protected final void checkOwned(ByteBuffer data) {
        if (data == lent || isLent(data)) {
            throw new IllegalArgumentException("write(ByteBuffer) takes ownership of its buffer, but this one was lent to "
                    + "dataReceived and is reused after the call: use writeCopy(ByteBuffer) to send received bytes ("
                    + this + ")");
        }
    }

    /**
     * Tells whether a buffer is one the transport lends to its callbacks besides the last one
     * marked by {@link #lend}; for a transport whose read buffer is shared (one per loop).
     *
     * @param data a buffer
     * @return {@code false} by default
     */
    protected boolean isLent(ByteBuffer data) {
        return false;
    }

    // ---- reading ----

    @Override
    public final void pauseReading() {
        if (!reading) {
            return;
        }
        reading = false;
        if (loop.inEventLoop()) {
            applyReading();
        } else {
            post(readingTask);
        }
    }

    @Override
    public final void resumeReading() {
        if (reading) {
            return;
        }
        reading = true;
        // Always on a later turn: what was held back is never delivered inside the callback
        // that resumed.
        post(readingTask);
    }

    @Override
    public final boolean isReading() {
        return reading && state == OPEN;
    }

    /**
     * Tells whether data should reach the protocol now: open, and reading not paused.
     *
     * @return {@code true} if the transport should read and deliver
     */
    protected final boolean wantsToRead() {
        return reading && state == OPEN;
    }

    private void applyReading() {
        if (state != CLOSED) {
            readingChanged();
        }
    }

    /**
     * Reading was paused or resumed, or the connection started closing: apply
     * {@link #wantsToRead()} to the channel (and deliver what was held back). On the loop,
     * never inside a callback for a resume.
     */
    protected abstract void readingChanged();

    // ---- writing ----

    /**
     * The outbound buffer writes are counted in (shared with a layer above).
     *
     * @return the buffer
     */
    public final OutboundBuffer outboundBuffer() {
        return outbound;
    }

    @Override
    public final long writeBufferSize() {
        return outbound.size();
    }

    @Override
    public final WriteBufferLimits writeBufferLimits() {
        return outbound.limits();
    }

    @Override
    public final void setWriteBufferLimits(WriteBufferLimits limits) {
        outbound.setLimits(limits);
    }

    @Override
    public final boolean isWritable() {
        return outbound.isWritable();
    }

    /**
     * Counts a write made on another thread at once (so writability is right there) and hands
     * it to the loop, where {@code write} runs with its bytes still counted: it uncounts what it
     * sends or drops, and leaves counted what it queues. Crossings are delivered after it.
     *
     * @param bytes the bytes written
     * @param write what the loop does with them
     * @throws TransportClosedError if the loop has ended (the connection was closed with it)
     */
    protected final void submitWrite(long bytes, Runnable write) {
        outbound.add(bytes);
        try {
            loop.execute(() -> {
                write.run();
                outbound.settle(true);
            });
        } catch (RejectedExecutionException e) {
            outbound.count(-bytes);
            throw new TransportClosedError("write to a closed transport (" + this + "): its event loop has ended", e);
        }
    }

    /**
     * A crossing of the outbound buffer, on the loop: {@code pauseWriting} or
     * {@code resumeWriting} to an open connection's protocol, paired (a resume only after a
     * pause it got). A layer forwards the crossings it hears as the protocol below here.
     *
     * @param writable the new writability
     */
    protected void writabilityChanged(boolean writable) {
        P p = protocol;
        if (p == null || state != OPEN || writable != writingPaused) {
            return;
        }
        writingPaused = !writable;
        try {
            if (writable) {
                p.resumeWriting();
            } else {
                p.pauseWriting();
            }
        } catch (Throwable e) {
            callbackFailed(writable ? "resumeWriting" : "pauseWriting", e);
        }
    }

    // ---- the loop ----

    @Override
    public EventLoop loop() {
        return loop;
    }

    /**
     * Runs an action on the loop: now when called there, else on a later turn. A loop that
     * has ended refuses it: the transport was closed with it.
     *
     * @param action what to run
     */
    protected final void onLoop(Runnable action) {
        if (loop.inEventLoop()) {
            action.run();
        } else {
            post(action);
        }
    }

    private void post(Runnable action) {
        try {
            loop.execute(action);
        } catch (RejectedExecutionException loopGone) {
            // The loop ended and closed its connections; there is nothing left to change.
        }
    }

    /**
     * Tells whether an error must not be caught: the virtual machine can no longer be trusted
     * (out of memory, an internal error). A stack overflow is not: it unwinds, and costs only
     * the connection whose callback recursed.
     *
     * @param error a throwable
     * @return {@code true} for errors that end the loop
     */
    public static boolean isFatal(Throwable error) {
        return error instanceof VirtualMachineError && !(error instanceof StackOverflowError);
    }

    /**
     * Rethrows a {@linkplain #isFatal fatal} error; does nothing for any other.
     *
     * @param error a throwable caught from a callback or task
     */
    public static void rethrowIfFatal(Throwable error) {
        if (isFatal(error)) {
            throw (VirtualMachineError) error;
        }
    }
}
