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

/**
 * A stream transport in memory, for testing protocols without sockets. The test plays the
 * peer ({@link #receive}, {@link #receiveEof()}, {@link #fail}) and the network
 * ({@link #flush(int)}), and inspects what the protocol wrote and how it used flow control.
 *
 * <p>It keeps the transport contract: callbacks run on its {@link ManualEventLoop} (the
 * test thread), in order; {@code connectionLost} comes once, through the loop; a callback
 * that throws aborts the transport with that exception; received buffers are only valid
 * during {@code dataReceived} (they are overwritten afterwards, to catch protocols that keep
 * them); write flow control calls {@code pauseWriting}/{@code resumeWriting} once per
 * crossing. By default everything written is flushed at once; with
 * {@link #setAutoFlush(boolean) auto-flush} off, writes stay buffered until {@link #flush(int)}.
 */
public final class MemoryTransport implements Transport {

    private final ManualEventLoop loop;
    private final SocketAddress local;
    private final SocketAddress peer;
    private final ArrayDeque<byte[]> inbound = new ArrayDeque<>();
    private final ArrayDeque<ByteBuffer> outbound = new ArrayDeque<>();
    private final ByteArrayOutputStream written = new ByteArrayOutputStream();

    private Protocol protocol;
    private long delivered;
    private WriteBufferLimits limits = WriteBufferLimits.DEFAULT;
    private boolean autoFlush = true;
    private long buffered;
    private boolean writingPaused;
    private boolean reading = true;
    private boolean delivering;
    private boolean eofPending;
    private boolean eofDelivered;
    private boolean eofRequested;
    private boolean eofWritten;
    private volatile boolean closing;
    private boolean lost;
    private Throwable failure;
    private int readingPauses;
    private int readingResumes;
    private int writingPauses;
    private int writingResumes;

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
        this.loop = Objects.requireNonNull(loop, "loop");
        this.local = local;
        this.peer = peer;
    }

    /**
     * Connects a protocol: calls its {@code connectionMade}.
     *
     * @param p the protocol to drive
     * @return this transport
     * @throws IllegalStateException if started before
     */
    public MemoryTransport start(Protocol p) {
        if (protocol != null) {
            throw new IllegalStateException("transport already started with " + protocol);
        }
        protocol = Objects.requireNonNull(p, "protocol");
        guard(() -> protocol.connectionMade(this));
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
        if (lost || eofPending) {
            throw new IllegalStateException("peer cannot send: " + (lost ? "connection lost" : "peer sent EOF"));
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
     * The connection fails as by an I/O error: aborted with {@code error}.
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
        buffered -= moved;
        afterDrain();
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
     * Tells whether the write side was closed ({@link #writeEof()} and flushed).
     *
     * @return {@code true} once EOF went to the peer
     */
    public boolean eofWritten() {
        return eofWritten;
    }

    /**
     * Tells whether the connection is gone ({@code connectionLost} was or is about to be called).
     *
     * @return {@code true} once closed
     */
    public boolean isClosed() {
        return lost;
    }

    /**
     * What the transport was aborted with.
     *
     * @return the cause, or {@code null} for a clean close or while open
     */
    public Throwable failure() {
        return failure;
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
    public Protocol protocol() {
        return protocol;
    }

    @Override
    public void setProtocol(Protocol p) {
        protocol = Objects.requireNonNull(p, "protocol");
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

    @Override
    public void write(ByteBuffer data) {
        checkWritable();
        if (!data.hasRemaining()) {
            return;
        }
        byte[] copy = new byte[data.remaining()];
        data.get(copy);
        onLoop(() -> enqueue(copy));
    }

    @Override
    public void write(ByteBuffer... data) {
        checkWritable();
        int total = Arrays.stream(data).mapToInt(ByteBuffer::remaining).sum();
        ByteBuffer joined = ByteBuffer.allocate(total);
        for (ByteBuffer b : data) {
            joined.put(b);
        }
        write(joined.flip());
    }

    @Override
    public void writeEof() {
        onLoop(() -> {
            if (eofRequested || lost) {
                return;
            }
            eofRequested = true;
            afterDrain();
        });
    }

    @Override
    public boolean canWriteEof() {
        return true;
    }

    @Override
    public void close() {
        onLoop(() -> {
            if (closing) {
                return;
            }
            closing = true;
            afterDrain();
        });
    }

    @Override
    public void abort() {
        abort(null);
    }

    @Override
    public void abort(Throwable cause) {
        onLoop(() -> {
            if (lost) {
                return;
            }
            closing = true;
            outbound.clear();
            buffered = 0;
            lose(cause);
        });
    }

    @Override
    public boolean isClosing() {
        return closing || lost;
    }

    @Override
    public void pauseReading() {
        onLoop(() -> {
            if (reading && !lost) {
                reading = false;
                readingPauses++;
            }
        });
    }

    @Override
    public void resumeReading() {
        onLoop(() -> {
            if (!reading && !lost) {
                reading = true;
                readingResumes++;
                // Like a real transport: held data arrives on a later turn of the loop.
                loop.execute(this::deliver);
            }
        });
    }

    @Override
    public boolean isReading() {
        return reading && !lost;
    }

    @Override
    public long writeBufferSize() {
        return buffered;
    }

    @Override
    public WriteBufferLimits writeBufferLimits() {
        return limits;
    }

    @Override
    public void setWriteBufferLimits(WriteBufferLimits newLimits) {
        onLoop(() -> {
            limits = Objects.requireNonNull(newLimits, "limits");
            checkHigh();
            afterDrain();
        });
    }

    // ---- internals ----

    private void enqueue(byte[] copy) {
        if (lost) {
            return;
        }
        outbound.add(ByteBuffer.wrap(copy));
        buffered += copy.length;
        if (autoFlush) {
            flush(Integer.MAX_VALUE);
        } else {
            checkHigh();
        }
    }

    private void checkHigh() {
        if (!writingPaused && buffered > limits.high()) {
            writingPaused = true;
            writingPauses++;
            guard(protocol::pauseWriting);
        }
    }

    private void afterDrain() {
        if (lost) {
            return;
        }
        if (writingPaused && buffered <= limits.low()) {
            writingPaused = false;
            writingResumes++;
            guard(protocol::resumeWriting);
        }
        if (buffered == 0) {
            if (eofRequested) {
                eofWritten = true;
            }
            if (closing) {
                lose(null);
            }
        }
    }

    private void deliver() {
        if (delivering) {
            return;
        }
        delivering = true;
        try {
            while (reading && !lost && !closing && !inbound.isEmpty()) {
                byte[] chunk = inbound.poll();
                ByteBuffer view = ByteBuffer.wrap(chunk);
                delivered += chunk.length;
                guard(() -> protocol.dataReceived(view));
                Arrays.fill(chunk, (byte) 0xEE); // the buffer was only valid during the call
            }
            if (eofPending && !eofDelivered && inbound.isEmpty() && !lost && !closing) {
                eofDelivered = true;
                boolean[] keepOpen = {false};
                guard(() -> keepOpen[0] = protocol.eofReceived());
                if (!keepOpen[0]) {
                    close();
                }
            }
        } finally {
            delivering = false;
        }
    }

    private void lose(Throwable cause) {
        if (lost) {
            return;
        }
        lost = true;
        failure = cause;
        reading = false;
        Protocol p = protocol;
        // connectionLost comes on a later turn of the loop, never inside another callback.
        loop.execute(() -> p.connectionLost(cause));
    }

    private void guard(Runnable callback) {
        try {
            callback.run();
        } catch (RuntimeException | Error e) {
            abort(e);
        }
    }

    private void checkWritable() {
        if (lost) {
            throw new TransportClosedError("write to a closed transport", failure);
        }
        if (closing) {
            throw new TransportClosedError("write to a closing transport", null);
        }
        if (eofRequested) {
            throw new TransportClosedError("write after writeEof", null);
        }
    }

    private void onLoop(Runnable action) {
        if (loop.inEventLoop()) {
            action.run();
        } else {
            loop.execute(action);
        }
    }

    private void checkLoop() {
        if (!loop.inEventLoop()) {
            throw new IllegalStateException("the peer's side of a MemoryTransport is driven from its loop thread");
        }
    }
}
