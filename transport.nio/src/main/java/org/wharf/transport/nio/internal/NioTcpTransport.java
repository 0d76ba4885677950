package org.wharf.transport.nio.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.Arrays;

import org.wharf.transport.api.Addresses;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.Transport;
import org.wharf.transport.api.TransportClosedError;
import org.wharf.transport.api.TransportError;
import org.wharf.transport.api.WriteBufferLimits;
import org.wharf.transport.core.OutboundBuffer;
import org.wharf.transport.nio.internal.ChunkPool.Chunk;

/**
 * A TCP connection on an {@link NioEventLoop}.
 *
 * <p>Writes go straight to the socket when nothing is queued; only what the kernel does not
 * take is queued, and the queue is drained with gathering writes when the socket is
 * writable. Writes made while the protocol handles this connection's input (an echo, a
 * response) are collected and written together once the reads of that readiness event are
 * done, as Netty flushes on read complete (sooner once they pass the high-water mark): one
 * gathering write instead of one write per read. Every byte counts in the core's
 * {@link OutboundBuffer} from the moment {@code write} returns, on any thread; what the kernel
 * takes on the loop at once never counts. Reads use the loop's buffer, lent to the protocol for
 * the duration of {@code dataReceived}.
 */
final class NioTcpTransport extends NioTransportBase<SocketChannel, Protocol> implements Transport {

    /** Reads per readiness event before other channels get their turn. */
    private static final int MAX_READS_PER_EVENT = 16;

    /**
     * What waits to be written, in order: the callers' buffers ({@link ByteBuffer}) and the
     * loop's chunks ({@link Chunk}) holding what writeCopy copied. A chunk goes back to the
     * pool once written or dropped.
     */
    private final ArrayDeque<Object> writeQueue = new ArrayDeque<>(4);
    private final OutboundBuffer outbound = outboundBuffer();
    private volatile boolean eofRequested;
    private boolean inputEnded;
    private boolean outputShut;
    /** True while the protocol handles this connection's input: writes wait for the end of it. */
    private boolean deferring;
    private boolean deferred;

    NioTcpTransport(NioEventLoop loop, SocketChannel channel, WriteBufferLimits limits) {
        super(loop, channel, limits, channel::getRemoteAddress);
    }

    @Override
    boolean hasQueuedWrites() {
        return !writeQueue.isEmpty();
    }

    @Override
    void dropQueuedWrites() {
        long dropped = 0;
        for (Object queued; (queued = writeQueue.poll()) != null;) {
            dropped += bytes(queued).remaining();
            if (queued instanceof Chunk chunk) {
                loop.chunks().give(chunk);
            }
        }
        outbound.count(-dropped);
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

    // ---- events from the loop ----

    @Override
    public void ready(int readyOps) {
        if ((readyOps & SelectionKey.OP_WRITE) != 0) {
            flush();
        }
        if ((readyOps & SelectionKey.OP_READ) != 0) {
            read();
        }
    }

    private void read() {
        deferring = true;
        try {
            readSome();
        } finally {
            deferring = false;
            if (deferred) {
                deferred = false;
                if (!isClosed()) {
                    flush(); // what the protocol wrote while handling the input, in one go
                }
            }
        }
    }

    private void readSome() {
        for (int i = 0; i < MAX_READS_PER_EVENT && wantsToRead(); i++) {
            ByteBuffer buffer = loop.readBuffer();
            int n;
            try {
                n = channel.read(buffer);
            } catch (IOException e) {
                ioFailed("read from", e);
                return;
            }
            if (n > 0) {
                countReceived(n);
                buffer.flip();
                try {
                    protocol().dataReceived(buffer);
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
            keepOpen = protocol().eofReceived();
        } catch (Throwable e) {
            callbackFailed("eofReceived", e);
            return;
        }
        if (!keepOpen || outputShut) {
            close();
        }
    }

    /** Writes what the kernel takes, then completes a close, sets interest and delivers crossings. */
    private void flush() {
        if (drainQueue()) {
            afterFlush();
            outbound.settle(true);
        }
    }

    /**
     * Writes queued buffers until the kernel takes no more, uncounting what it took, with no
     * callback to the protocol; false if the connection failed (and was aborted).
     */
    private boolean drainQueue() {
        long total = 0;
        try {
            while (!writeQueue.isEmpty()) {
                long written;
                boolean allTaken;
                if (writeQueue.size() == 1) {
                    ByteBuffer only = bytes(writeQueue.peek());
                    written = channel.write(only);
                    allTaken = !only.hasRemaining();
                    if (allTaken) {
                        written();
                    }
                } else {
                    ByteBuffer[] gather = loop.gatherArray();
                    int n = 0;
                    for (Object queued : writeQueue) {
                        if (n == gather.length) {
                            break;
                        }
                        gather[n++] = bytes(queued);
                    }
                    try {
                        written = channel.write(gather, 0, n);
                    } finally {
                        Arrays.fill(gather, 0, n, null);
                    }
                    int taken = 0;
                    while (taken < n && !bytes(writeQueue.peek()).hasRemaining()) {
                        written();
                        taken++;
                    }
                    allTaken = taken == n;
                }
                total += written;
                if (!allTaken) {
                    break; // the kernel's buffer is full: wait for OP_WRITE
                }
            }
        } catch (IOException e) {
            outbound.count(-total);
            ioFailed("write to", e);
            return false;
        } finally {
            countSent(total);
        }
        outbound.count(-total);
        return true;
    }

    @Override
    void queueEmptied() {
        shutdownOutputIfAllWritten();
    }

    /**
     * Half-closes once a requested EOF has nothing before it: nothing queued, and nothing
     * counted that another thread wrote and the loop has still to take (a write that returned
     * before the loop made the {@code writeEof} goes first). On the loop.
     */
    private void shutdownOutputIfAllWritten() {
        if (eofRequested && !outputShut && !isClosed() && writeQueue.isEmpty() && outbound.size() == 0) {
            shutdownOutput();
        }
    }

    private void shutdownOutput() {
        outputShut = true;
        try {
            channel.shutdownOutput();
        } catch (IOException e) {
            ioFailed("half-close to", e);
            return;
        }
        if (inputEnded) {
            closeChannel(null); // both directions are done
        }
    }

    // ---- writing ----

    @Override
    public void write(ByteBuffer data) {
        checkStreamWritable();
        checkOwned(data);
        int n = data.remaining();
        if (n == 0) {
            return;
        }
        if (loop.inEventLoop()) {
            writeOnLoop(data);
        } else {
            submitWrite(n, () -> {
                writeOnLoop(data, true);
                shutdownOutputIfAllWritten(); // a writeEof made meanwhile waited for it
            });
        }
    }

    @Override
    public void write(ByteBuffer... data) {
        checkStreamWritable();
        long n = 0;
        for (ByteBuffer b : data) {
            checkOwned(b);
            n += b.remaining();
        }
        if (n == 0) {
            return;
        }
        if (loop.inEventLoop()) {
            writeOnLoop(data);
        } else {
            submitWrite(n, () -> {
                writeOnLoop(data, true);
                shutdownOutputIfAllWritten(); // a writeEof made meanwhile waited for it
            });
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
            int n = data.remaining();
            ByteBuffer copy = ByteBuffer.allocate(n).put(data).flip();
            submitWrite(n, () -> {
                writeOnLoop(copy, true);
                shutdownOutputIfAllWritten();
            });
        }
    }

    /**
     * Sends what the kernel takes at once (nothing while deferring) and copies the rest into
     * the loop's chunks, appending to the last one while it has room: many small writes
     * become one buffer.
     */
    private void writeCopyOnLoop(ByteBuffer data) {
        if (isClosed()) {
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
        queued(n);
    }

    private void writeOnLoop(ByteBuffer data) {
        writeOnLoop(data, false);
    }

    /**
     * Sends what the kernel takes now unless something waits, and queues the rest.
     *
     * @param counted whether the bytes were counted when submitted (from another thread)
     */
    private void writeOnLoop(ByteBuffer data, boolean counted) {
        int before = data.remaining();
        if (isClosed()) {
            uncount(counted, before); // closed meanwhile by an abort or an error: dropped, as abort promises
            return;
        }
        if (!deferring && writeQueue.isEmpty()) {
            boolean ok = sendNow(data);
            uncount(counted, ok ? before - data.remaining() : before);
            if (!ok || !data.hasRemaining()) {
                return;
            }
        }
        writeQueue.add(data);
        queued(counted ? 0 : data.remaining());
    }

    private void writeOnLoop(ByteBuffer[] data) {
        writeOnLoop(data, false);
    }

    private void writeOnLoop(ByteBuffer[] data, boolean counted) {
        long before = 0;
        for (ByteBuffer b : data) {
            before += b.remaining();
        }
        if (isClosed()) {
            uncount(counted, before);
            return;
        }
        if (!deferring && writeQueue.isEmpty()) {
            long sent;
            try {
                sent = channel.write(data);
            } catch (IOException e) {
                uncount(counted, before);
                ioFailed("write to", e);
                return;
            }
            countSent(sent);
            uncount(counted, sent);
        }
        long n = 0;
        for (ByteBuffer b : data) {
            if (b.hasRemaining()) {
                writeQueue.add(b);
                n += b.remaining();
            }
        }
        if (n > 0) {
            queued(counted ? 0 : n);
        }
    }

    private void uncount(boolean counted, long bytes) {
        if (counted) {
            outbound.count(-bytes);
        }
    }

    /**
     * Counts bytes just queued on the loop. While deferring they wait for the end of the read
     * event, unless they pass the high-water mark: then what the kernel takes goes now, so
     * {@code pauseWriting} comes only for what it does not, as without deferring.
     */
    private void queued(long n) {
        outbound.count(n);
        if (deferring) {
            deferred = true;
            if (outbound.size() > outbound.limits().high() && !drainQueue()) {
                return;
            }
        } else {
            updateInterest();
        }
        // A pause is delivered here; a resume never is (it would call the protocol back from
        // inside its own write).
        outbound.settle(false);
    }

    /** Writes what the kernel takes now; false if that failed and the connection was aborted. */
    private boolean sendNow(ByteBuffer data) {
        try {
            countSent(channel.write(data));
            return true;
        } catch (IOException e) {
            ioFailed("write to", e);
            return false;
        }
    }

    /**
     * Aborts after a failed read or write. Kept out of line: the message (a string
     * concatenation, linked on first use) and the error's class are resolved only when a
     * connection first fails, and inlined into the read and write paths they made the compiled
     * loop fall back to the interpreter then (the first reset after a warm-up, in the gateway
     * bench), to be compiled again while it carried the load.
     */
    private void ioFailed(String what, IOException e) {
        abortNow(new TransportError(what + " " + Addresses.text(peer) + " failed: " + e.getMessage(), e));
    }

    private void checkStreamWritable() {
        checkWritable();
        if (eofRequested) {
            throw new TransportClosedError("write after writeEof (" + this + ")", null);
        }
    }

    @Override
    public void writeEof() {
        if (eofRequested || isClosing()) {
            return;
        }
        eofRequested = true;
        onLoop(() -> {
            if (!writeQueue.isEmpty() || outbound.size() != 0) {
                boundEofFlush(); // a peer that takes none of it cannot hold the connection for ever
            } else if (!outputShut && isOpen()) {
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
    public String toString() {
        return "tcp " + Addresses.text(local) + " <-> " + Addresses.text(peer);
    }
}
