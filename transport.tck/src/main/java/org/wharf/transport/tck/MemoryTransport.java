package org.wharf.transport.tck;

import java.io.ByteArrayOutputStream;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

import org.wharf.transport.api.ExtraInfo;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.Transport;
import org.wharf.transport.api.TransportClosedError;
import org.wharf.transport.api.WriteBufferLimits;
import org.wharf.transport.core.AbstractTransport;

/**
 * A stream transport in memory, for testing protocols without sockets. The test plays the
 * peer ({@link #receive}, {@link #receiveEof()}, {@link #fail}) and the network
 * ({@link #flush(int)}), and inspects what the protocol wrote and how it used flow control.
 *
 * <p>It is built on the same core as the real transports ({@link AbstractTransport}), so it
 * keeps their contract: callbacks run on its {@link ManualEventLoop} (the test thread), in
 * order; {@code connectionLost} comes once, through the loop; a callback that throws aborts
 * the transport with that exception; received buffers are only valid during
 * {@code dataReceived} (they are overwritten afterwards, to catch protocols that keep them,
 * and {@code write} refuses them); writes from any thread count at once and write flow control
 * calls {@code pauseWriting}/{@code resumeWriting} once per crossing. By default everything
 * written is flushed at once; with {@link #setAutoFlush(boolean) auto-flush} off, writes stay
 * buffered until {@link #flush(int)}.
 */
public final class MemoryTransport extends AbstractTransport<Protocol> implements Transport {

    private final ManualEventLoop loop;
    private final SocketAddress local;
    private final SocketAddress peer;
    private final ArrayDeque<byte[]> inbound = new ArrayDeque<>();
    private final ArrayDeque<ByteBuffer> outbound = new ArrayDeque<>();
    private final ByteArrayOutputStream written = new ByteArrayOutputStream();

    private long delivered;
    private boolean autoFlush = true;
    private boolean readingApplied = true;
    private boolean delivering;
    private boolean eofPending;
    private boolean eofDelivered;
    private volatile boolean eofRequested;
    private boolean wasReset;
    private boolean eofWritten;
    private int readingPauses;
    private int readingResumes;
    private int writingPauses;
    private int writingResumes;
    private boolean writingPaused;

    /**
     * A transport with no addresses.
     *
     * @param loop the loop its callbacks run on
     */
    public MemoryTransport(ManualEventLoop loop) {
        this(loop, null, null);
    }

    /**
     * A transport with the given addresses (reported as extra info).
     *
     * @param loop the loop its callbacks run on
     * @param local the local address, or {@code null}
     * @param peer the peer address, or {@code null}
     */
    public MemoryTransport(ManualEventLoop loop, SocketAddress local, SocketAddress peer) {
        super(loop, WriteBufferLimits.DEFAULT);
        this.loop = Objects.requireNonNull(loop, "loop");
        this.local = local;
        this.peer = peer;
    }

    /**
     * Connects a protocol: calls its {@code connectionMade}. From the loop thread.
     *
     * @param p the protocol to drive
     * @return this transport
     * @throws IllegalStateException if started before
     */
    public MemoryTransport start(Protocol p) {
        checkLoop();
        if (protocol() != null || !isCreated()) {
            throw new IllegalStateException("transport already started with " + protocol());
        }
        Objects.requireNonNull(p, "protocol");
        start(() -> p);
        return this;
    }

    // ---- the peer's side, for tests ----

    /**
     * The peer sends bytes: delivered to the protocol now if it is reading, or once it
     * resumes. One call is one {@code dataReceived}.
     *
     * @param data the bytes
     */
    public void receive(byte[] data) {
        checkLoop();
        if (isClosed() || eofPending) {
            throw new IllegalStateException("peer cannot send: " + (isClosed() ? "connection lost" : "peer sent EOF"));
        }
        if (data.length > 0) {
            inbound.add(data.clone());
        }
        deliver();
    }

    /**
     * The peer sends text in UTF-8.
     *
     * @param text the text
     */
    public void receive(String text) {
        receive(text.getBytes(StandardCharsets.UTF_8));
    }

    /** The peer closes its write side: {@code eofReceived} follows the data still held. */
    public void receiveEof() {
        checkLoop();
        eofPending = true;
        deliver();
    }

    /**
     * The connection fails as by an I/O error (a reset): aborted with {@code error}.
     *
     * @param error the failure handed to {@code connectionLost}
     */
    public void fail(Throwable error) {
        checkLoop();
        abort(error);
    }

    /**
     * The network takes up to {@code maxBytes} of the write buffer; {@code resumeWriting}
     * follows when it drains to the low-water mark, and a pending close completes when it is
     * empty.
     *
     * @param maxBytes how many bytes to move at most
     * @return how many moved
     */
    public int flush(int maxBytes) {
        checkLoop();
        int moved = 0;
        while (moved < maxBytes && !outbound.isEmpty()) {
            ByteBuffer head = outbound.peek();
            int n = Math.min(head.remaining(), maxBytes - moved);
            byte[] chunk = new byte[n];
            head.get(chunk);
            written.write(chunk, 0, n);
            moved += n;
            if (!head.hasRemaining()) {
                outbound.poll();
            }
        }
        afterDrain();
        outboundBuffer().remove(moved);
        return moved;
    }

    /**
     * Turns auto-flush on (the default: every write goes straight to the peer) or off.
     *
     * @param on whether writes are flushed at once
     */
    public void setAutoFlush(boolean on) {
        checkLoop();
        autoFlush = on;
        if (on) {
            flush(Integer.MAX_VALUE);
        }
    }

    /**
     * Bounds a graceful close, and a {@link #writeEof()} that waits for queued bytes, as a real
     * transport's close timeout does: a peer that takes nothing for this long (on the loop's
     * clock) has the connection aborted. From the loop thread, like the other setters; a change
     * while a close waits applies from its next period.
     *
     * @param timeout the period without progress; null or zero for none (the default)
     * @throws IllegalStateException if called from another thread
     * @since 0.3
     */
    public void setCloseTimeout(java.time.Duration timeout) {
        checkLoop();
        closeTimeout(timeout);
    }

    // ---- inspection ----

    /**
     * The bytes flushed to the peer so far.
     *
     * @return a copy
     */
    public byte[] written() {
        return written.toByteArray();
    }

    /**
     * The bytes flushed to the peer so far, as UTF-8 text.
     *
     * @return the text
     */
    public String writtenText() {
        return written.toString(StandardCharsets.UTF_8);
    }

    /** Forgets the bytes flushed so far (handy between the steps of a test). */
    public void clearWritten() {
        written.reset();
    }

    /**
     * Tells whether the connection ended with {@link #reset()}, which the peer would see as a
     * reset rather than an end.
     *
     * @return {@code true} once aborted by a reset
     */
    public boolean wasReset() {
        return wasReset;
    }

    /**
     * Tells whether the write side was closed ({@link #writeEof()} and flushed).
     *
     * @return {@code true} once EOF went to the peer
     */
    public boolean eofWritten() {
        return eofWritten;
    }

    /**
     * What the transport was aborted with.
     *
     * @return the cause, or {@code null} for a clean close or while open
     */
    public Throwable failure() {
        return closedWith();
    }

    /**
     * How often reading went from on to paused.
     *
     * @return the count
     */
    public int readingPauses() {
        return readingPauses;
    }

    /**
     * How often reading went from paused to on.
     *
     * @return the count
     */
    public int readingResumes() {
        return readingResumes;
    }

    /**
     * How often {@code pauseWriting} was called on the protocol.
     *
     * @return the count
     */
    public int writingPauses() {
        return writingPauses;
    }

    /**
     * How often {@code resumeWriting} was called on the protocol.
     *
     * @return the count
     */
    public int writingResumes() {
        return writingResumes;
    }

    /**
     * Bytes received from the peer and not yet delivered (held while reading is paused).
     *
     * @return the count
     */
    public long heldBytes() {
        return inbound.stream().mapToLong(b -> b.length).sum();
    }

    // ---- Transport ----

    @Override
    public ManualEventLoop loop() {
        return loop;
    }

    @Override
    public <T> Optional<T> extraInfo(ExtraInfo<T> key) {
        if (key.equals(ExtraInfo.PEER_ADDRESS)) {
            return Optional.ofNullable(key.type().cast(peer));
        }
        if (key.equals(ExtraInfo.LOCAL_ADDRESS)) {
            return Optional.ofNullable(key.type().cast(local));
        }
        if (key.equals(ExtraInfo.BYTES_RECEIVED)) {
            return Optional.of(key.type().cast(delivered));
        }
        if (key.equals(ExtraInfo.BYTES_SENT)) {
            return Optional.of(key.type().cast((long) written.size()));
        }
        return Optional.empty();
    }

    /** Copies the bytes (so a test's buffer may change afterwards) and queues them; any thread. */
    @Override
    public void write(ByteBuffer data) {
        checkStreamWritable();
        checkOwned(data);
        if (!data.hasRemaining()) {
            return;
        }
        byte[] copy = new byte[data.remaining()];
        data.get(copy);
        if (loop.inEventLoop()) {
            enqueue(copy, false);
        } else {
            submitWrite(copy.length, () -> enqueue(copy, true));
        }
    }

    @Override
    public void write(ByteBuffer... data) {
        checkStreamWritable();
        int total = 0;
        for (ByteBuffer b : data) {
            checkOwned(b);
            total += b.remaining();
        }
        ByteBuffer joined = ByteBuffer.allocate(total);
        for (ByteBuffer b : data) {
            joined.put(b);
        }
        write(joined.flip());
    }

    @Override
    public void writeEof() {
        if (eofRequested || isClosing()) {
            return;
        }
        eofRequested = true;
        onLoop(() -> {
            afterDrain();
            if (!eofWritten) {
                boundEofFlush(); // it waits for queued bytes: bounded by the close timeout
            }
        });
    }

    @Override
    public boolean canWriteEof() {
        return true;
    }

    // ---- the core's hooks ----

    @Override
    protected void closeGracefully() {
        afterDrain();
    }

    @Override
    protected void abortNow(Throwable cause) {
        wasReset = resetRequested();
        long dropped = 0;
        for (ByteBuffer b; (b = outbound.poll()) != null;) {
            dropped += b.remaining();
        }
        outboundBuffer().count(-dropped);
        closed(cause);
    }

    @Override
    protected void readingChanged() {
        boolean on = wantsToRead();
        if (on != readingApplied && isOpen()) {
            readingApplied = on;
            if (on) {
                readingResumes++;
                deliver();
            } else {
                readingPauses++;
            }
        }
    }

    @Override
    protected void writabilityChanged(boolean writable) {
        // Counted as the core delivers: to an open connection, a resume only after a pause.
        if (isOpen() && writable == writingPaused) {
            writingPaused = !writable;
            if (writable) {
                writingResumes++;
            } else {
                writingPauses++;
            }
        }
        super.writabilityChanged(writable);
    }

    // ---- internals ----

    private void enqueue(byte[] copy, boolean counted) {
        if (isClosed()) {
            if (counted) {
                outboundBuffer().count(-copy.length);
            }
            return;
        }
        outbound.add(ByteBuffer.wrap(copy));
        if (!counted) {
            outboundBuffer().add(copy.length);
        }
        if (autoFlush) {
            flush(Integer.MAX_VALUE);
        }
    }

    /** After the buffer drained: EOF goes out, and a close completes, once it is empty. */
    private void afterDrain() {
        if (isClosed() || !outbound.isEmpty()) {
            return;
        }
        if (eofRequested) {
            eofWritten = true;
        }
        if (isClosingGracefully()) {
            closed(null);
        }
    }

    private void deliver() {
        if (delivering) {
            return;
        }
        delivering = true;
        try {
            while (wantsToRead() && !inbound.isEmpty()) {
                byte[] chunk = inbound.poll();
                ByteBuffer view = ByteBuffer.wrap(chunk);
                delivered += chunk.length;
                lend(view);
                try {
                    protocol().dataReceived(view);
                } catch (Throwable e) {
                    callbackFailed("dataReceived", e);
                }
                Arrays.fill(chunk, (byte) 0xEE); // the buffer was only valid during the call
            }
            if (eofPending && !eofDelivered && inbound.isEmpty() && isOpen()) {
                eofDelivered = true;
                boolean keepOpen;
                try {
                    keepOpen = protocol().eofReceived();
                } catch (Throwable e) {
                    callbackFailed("eofReceived", e);
                    return;
                }
                if (!keepOpen) {
                    close();
                }
            }
        } finally {
            delivering = false;
        }
    }

    private void checkStreamWritable() {
        checkWritable();
        if (eofRequested) {
            throw new TransportClosedError("write after writeEof", null);
        }
    }

    private void checkLoop() {
        if (!loop.inEventLoop()) {
            throw new IllegalStateException("the peer's side of a MemoryTransport is driven from its loop thread");
        }
    }

    @Override
    public String toString() {
        return "memory " + local + " <-> " + peer;
    }
}
