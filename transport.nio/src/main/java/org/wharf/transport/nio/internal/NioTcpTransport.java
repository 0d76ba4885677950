package org.wharf.transport.nio.internal;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Objects;

import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.Transport;
import org.wharf.transport.api.TransportClosedError;
import org.wharf.transport.api.TransportError;
import org.wharf.transport.api.WriteBufferLimits;
import org.wharf.transport.nio.internal.ChunkPool.Chunk;

/**
 * A TCP connection on an {@link NioEventLoop}.
 *
 * <p>Writes go straight to the socket when nothing is queued; only what the kernel does not
 * take is queued, and the queue is drained with gathering writes when the socket is
 * writable. Writes made while the protocol handles this connection's input (an echo, a
 * response) are collected and written together once the reads of that readiness event are
 * done, as Netty flushes on read complete (sooner once they pass the high-water mark): one
 * gathering write instead of one write per read. Flow control is unchanged: pauseWriting
 * comes only for bytes the kernel does not take. Reads use the loop's buffer, handed to the
 * protocol for the duration of {@code dataReceived}.
 */
final class NioTcpTransport extends NioTransportBase<SocketChannel, Protocol> implements Transport {

    /** Reads per readiness event before other channels get their turn. */
    private static final int MAX_READS_PER_EVENT = 16;
    /** Buffers per gathering write. */
    private static final int MAX_GATHER = 64;

    /**
     * What waits to be written, in order: the callers' buffers ({@link ByteBuffer}) and the
     * loop's chunks ({@link Chunk}) holding what writeCopy copied. A chunk goes back to the
     * pool once written or dropped.
     */
    private final ArrayDeque<Object> writeQueue = new ArrayDeque<>(4);
    private volatile boolean eofRequested;
    private boolean inputEnded;
    private boolean outputShut;
    /** True while the protocol handles this connection's input: writes wait for the end of it. */
    private boolean deferring;
    private int deferredBytes;

    NioTcpTransport(NioEventLoop loop, SocketChannel channel, WriteBufferLimits limits) {
        super(loop, channel, limits, channel::getRemoteAddress);
    }

    @Override
    boolean hasQueuedWrites() {
        return !writeQueue.isEmpty();
    }

    @Override
    void dropQueuedWrites() {
        for (Object queued; (queued = writeQueue.poll()) != null;) {
            if (queued instanceof Chunk chunk) {
                loop.chunks().give(chunk);
            }
        }
    }

    /** Takes the written buffer at the head of the queue off it; a chunk goes back to the pool. */
    private void written() {
        if (writeQueue.poll() instanceof Chunk chunk) {
            loop.chunks().give(chunk);
        }
    }

    private static ByteBuffer bytes(Object queued) {
        return queued instanceof Chunk chunk ? chunk.buffer : (ByteBuffer) queued;
    }

    @Override
    boolean canRead() {
        return !inputEnded;
    }

    @Override
    String describePeer() {
        return String.valueOf(peer);
    }

    // ---- events from the loop ----

    @Override
    public void ready(int readyOps) {
        if ((readyOps & java.nio.channels.SelectionKey.OP_WRITE) != 0) {
            flush();
        }
        if ((readyOps & java.nio.channels.SelectionKey.OP_READ) != 0) {
            read();
        }
    }

    private void read() {
        deferring = true;
        try {
            readSome();
        } finally {
            deferring = false;
            if (deferredBytes > 0) {
                flushDeferred();
            }
        }
    }

    /** Writes what the protocol wrote while handling input; what the kernel does not take waits for OP_WRITE. */
    private void flushDeferred() {
        deferredBytes = 0;
        if (state == CLOSED) {
            return;
        }
        flush();
        if (hasQueuedWrites() && state != CLOSED) {
            afterEnqueue(); // OP_WRITE, and pauseWriting above the high-water mark
        }
    }

    private void readSome() {
        for (int i = 0; i < MAX_READS_PER_EVENT && reading && state == OPEN; i++) {
            ByteBuffer buffer = loop.readBuffer();
            int n;
            try {
                n = channel.read(buffer);
            } catch (IOException e) {
                abortOnLoop(new TransportError("read from " + peer + " failed: " + e.getMessage(), e));
                return;
            }
            if (n > 0) {
                bytesReceived += n;
                buffer.flip();
                try {
                    protocol.dataReceived(buffer);
                } catch (Throwable e) {
                    callbackFailed("dataReceived", e);
                    return;
                }
                if (buffer.capacity() > n) {
                    return; // the socket is most likely drained
                }
            } else if (n < 0) {
                endOfInput();
                return;
            } else {
                return;
            }
        }
    }

    private void endOfInput() {
        inputEnded = true;
        updateInterest();
        boolean keepOpen;
        try {
            keepOpen = protocol.eofReceived();
        } catch (Throwable e) {
            callbackFailed("eofReceived", e);
            return;
        }
        if (!keepOpen || outputShut) {
            closeOnLoop();
        }
    }

    private void flush() {
        if (drainQueue()) {
            afterFlush();
        }
    }

    /**
     * Writes queued buffers until the kernel takes no more, with no callback to the
     * protocol; false if the connection failed (and was aborted).
     */
    private boolean drainQueue() {
        ByteBuffer[] gather = null;
        while (!writeQueue.isEmpty()) {
            long written;
            boolean allTaken;
            try {
                if (writeQueue.size() == 1) {
                    ByteBuffer only = bytes(writeQueue.peek());
                    written = channel.write(only);
                    allTaken = !only.hasRemaining();
                    if (allTaken) {
                        written();
                    }
                } else {
                    if (gather == null) {
                        gather = new ByteBuffer[Math.min(MAX_GATHER, writeQueue.size())];
                    }
                    int n = 0;
                    for (Object queued : writeQueue) {
                        if (n == gather.length) {
                            break;
                        }
                        gather[n++] = bytes(queued);
                    }
                    written = channel.write(gather, 0, n);
                    Arrays.fill(gather, 0, n, null);
                    int taken = 0;
                    while (taken < n && !bytes(writeQueue.peek()).hasRemaining()) {
                        written();
                        taken++;
                    }
                    allTaken = taken == n;
                }
            } catch (IOException e) {
                abortOnLoop(new TransportError("write to " + peer + " failed: " + e.getMessage(), e));
                return false;
            }
            pending -= written;
            bytesSent += written;
            if (!allTaken) {
                break; // the kernel's buffer is full: wait for OP_WRITE
            }
        }
        return true;
    }

    @Override
    void queueEmptied() {
        if (eofRequested && !outputShut && state != CLOSED) {
            shutdownOutput();
        }
    }

    private void shutdownOutput() {
        outputShut = true;
        try {
            channel.shutdownOutput();
        } catch (IOException e) {
            abortOnLoop(new TransportError("half-close to " + peer + " failed: " + e.getMessage(), e));
            return;
        }
        if (inputEnded) {
            closeNow(null); // both directions are done
        }
    }

    // ---- writing ----

    @Override
    public void write(ByteBuffer data) {
        checkStreamWritable();
        if (!data.hasRemaining()) {
            return;
        }
        if (loop.inEventLoop()) {
            writeOnLoop(data);
        } else {
            loop.execute(() -> writeOnLoop(data));
        }
    }

    @Override
    public void write(ByteBuffer... data) {
        checkStreamWritable();
        if (loop.inEventLoop()) {
            writeOnLoop(data);
        } else {
            loop.execute(() -> writeOnLoop(data));
        }
    }

    @Override
    public void writeCopy(ByteBuffer data) {
        checkStreamWritable();
        if (!data.hasRemaining()) {
            return;
        }
        if (loop.inEventLoop()) {
            writeCopyOnLoop(data);
        } else {
            Transport.super.writeCopy(data); // a copy, handed to the loop
        }
    }

    /**
     * Sends what the kernel takes at once (nothing while deferring) and copies the rest into
     * the loop's chunks, appending to the last one while it has room: many small writes
     * become one buffer.
     */
    private void writeCopyOnLoop(ByteBuffer data) {
        if (state == CLOSED) {
            data.position(data.limit());
            return;
        }
        if (!deferring && writeQueue.isEmpty() && (!sendNow(data) || !data.hasRemaining())) {
            data.position(data.limit()); // all sent, or the connection failed and was aborted
            return;
        }
        int n = data.remaining();
        while (data.hasRemaining()) {
            ByteBuffer tail = writeQueue.peekLast() instanceof Chunk last ? last.buffer : null;
            if (tail == null || tail.limit() == tail.capacity()) {
                Chunk chunk = loop.chunks().take();
                writeQueue.add(chunk);
                tail = chunk.buffer;
            }
            int end = tail.limit();
            int k = Math.min(data.remaining(), tail.capacity() - end);
            tail.limit(end + k).put(end, data, data.position(), k);
            data.position(data.position() + k);
        }
        pending += n;
        if (deferring) {
            deferred(n);
        } else {
            afterEnqueue();
        }
    }

    private void writeOnLoop(ByteBuffer data) {
        if (state == CLOSED) {
            return; // closed meanwhile by an abort or an error: dropped, as abort promises
        }
        if (deferring) {
            defer(data);
            return;
        }
        if (writeQueue.isEmpty() && (!sendNow(data) || !data.hasRemaining())) {
            return;
        }
        writeQueue.add(data);
        pending += data.remaining();
        afterEnqueue();
    }

    private void writeOnLoop(ByteBuffer[] data) {
        if (state == CLOSED) {
            return;
        }
        if (deferring) {
            for (ByteBuffer b : data) {
                if (b.hasRemaining()) {
                    defer(b);
                }
            }
            return;
        }
        if (writeQueue.isEmpty()) {
            try {
                bytesSent += channel.write(data);
            } catch (IOException e) {
                abortOnLoop(new TransportError("write to " + peer + " failed: " + e.getMessage(), e));
                return;
            }
        }
        boolean queued = false;
        for (ByteBuffer b : data) {
            if (b.hasRemaining()) {
                writeQueue.add(b);
                pending += b.remaining();
                queued = true;
            }
        }
        if (queued) {
            afterEnqueue();
        }
    }

    /** Writes what the kernel takes now; false if that failed and the connection was aborted. */
    private boolean sendNow(ByteBuffer data) {
        try {
            bytesSent += channel.write(data);
            return true;
        } catch (IOException e) {
            abortOnLoop(new TransportError("write to " + peer + " failed: " + e.getMessage(), e));
            return false;
        }
    }

    /** Queues a write made during a read event; written at the end of the event. */
    private void defer(ByteBuffer data) {
        writeQueue.add(data);
        pending += data.remaining();
        deferred(data.remaining());
    }

    /** Counts {@code n} bytes queued during a read event (already in {@code pending}). */
    private void deferred(int n) {
        deferredBytes += n;
        // Past the high-water mark, write now what the kernel takes, so pauseWriting comes
        // only for what it does not, as without deferring. No callback but that pause: a
        // resumeWriting from inside write() would let the protocol overtake its own bytes.
        if (pending > writeBufferLimits().high() && drainQueue() && pending > writeBufferLimits().high()) {
            afterEnqueue();
        }
    }

    private void checkStreamWritable() {
        checkWritable();
        if (eofRequested) {
            throw new TransportClosedError("write after writeEof (" + this + ")", null);
        }
    }

    @Override
    public void writeEof() {
        if (eofRequested || state != OPEN) {
            return;
        }
        eofRequested = true;
        onLoop(() -> {
            if (writeQueue.isEmpty() && !outputShut && state == OPEN) {
                shutdownOutput();
            }
        });
    }

    @Override
    public boolean canWriteEof() {
        return true;
    }

    // ---- the rest of Transport ----

    @Override
    public Protocol protocol() {
        return protocol;
    }

    @Override
    public void setProtocol(Protocol p) {
        protocol = Objects.requireNonNull(p, "protocol");
    }


    @Override
    public String toString() {
        return "tcp " + local + " <-> " + peer;
    }
}
