package org.wharf.transport.nio.internal;

import java.io.IOException;
import java.net.PortUnreachableException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.util.ArrayDeque;

import org.wharf.transport.api.Addresses;
import org.wharf.transport.api.DatagramProtocol;
import org.wharf.transport.api.DatagramTransport;
import org.wharf.transport.api.TransportError;
import org.wharf.transport.api.WriteBufferLimits;

/**
 * A UDP socket on an {@link NioEventLoop}, bound or connected. Datagrams keep their
 * boundaries and senders; what the kernel cannot take at once waits in a send queue under
 * write flow control. Send and receive errors go to {@code errorReceived} and the socket
 * stays open; a datagram larger than the receive size is reported, not truncated.
 */
final class NioDatagramTransport extends NioTransportBase<DatagramChannel, DatagramProtocol>
        implements DatagramTransport {

    /** Datagrams received per readiness event before other channels get their turn. */
    private static final int MAX_RECEIVES_PER_EVENT = 64;

    private record Outgoing(ByteBuffer data, SocketAddress target) {
    }

    /** A datagram received in a batch and held back while reading is paused: a heap copy. */
    private record Held(ByteBuffer data, SocketAddress sender) {
    }

    private static final System.Logger LOG = System.getLogger("org.wharf.transport.nio");

    private final int maxDatagramSize;
    private final ArrayDeque<Outgoing> sendQueue = new ArrayDeque<>();
    /** The loop's batch I/O, or {@code null}: NIO's calls, one per datagram. */
    private final DatagramBatch batch;
    /** The socket's descriptor for the batch calls. */
    private final int fd;
    /** Whether the socket is an IPv6 one, for the batch's addresses. */
    private final boolean inet6;
    /** In a receive turn: sends gather in the batch and go out together at its end. On the loop. */
    private boolean batching;
    /** Datagrams a batch received after the protocol paused reading; delivered on resume. */
    private ArrayDeque<Held> held;
    /** A receive turn (or a delivery of held datagrams) is running its callbacks. On the loop. */
    private boolean inTurn;

    /** Made on the loop thread. */
    NioDatagramTransport(NioEventLoop loop, DatagramChannel channel, WriteBufferLimits limits, int maxDatagramSize) {
        super(loop, channel, limits, channel::getRemoteAddress);
        this.maxDatagramSize = maxDatagramSize;
        DatagramBatch found = loop.datagramBatch().orElse(null);
        int descriptor = -1;
        boolean six = false;
        if (found != null) {
            try {
                descriptor = found.descriptor(channel);
                six = found.inet6(descriptor);
            } catch (UnsupportedOperationException | java.io.UncheckedIOException e) {
                LOG.log(System.Logger.Level.DEBUG, () -> this + " takes NIO's calls: " + e.getMessage());
                found = null;
            }
        }
        this.batch = found;
        this.fd = descriptor;
        this.inet6 = six;
    }

    /** @return whether datagrams go through the batch calls (else NIO's, one per datagram) */
    boolean batched() {
        return batch != null;
    }

    @Override
    boolean hasQueuedWrites() {
        return !sendQueue.isEmpty() || (batching && batch.pending() > 0);
    }

    @Override
    void dropQueuedWrites() {
        if (batching && batch.pending() > 0 && !isClosed()) {
            // Handed over in this turn: on NIO's calls they would be in the kernel already, so
            // an abort sends them (its errors are no one's now). Only what waits for room is dropped.
            sendBatch();
        }
        long dropped = 0;
        for (Outgoing o; (o = sendQueue.poll()) != null;) {
            dropped += o.data.remaining();
        }
        outboundBuffer().count(-dropped);
        if (batching) {
            batch.drop(batch.pending());
        }
        held = null;
    }

    @Override
    public void ready(int readyOps) {
        if ((readyOps & SelectionKey.OP_WRITE) != 0) {
            flush();
        }
        if ((readyOps & SelectionKey.OP_READ) != 0) {
            if (batch != null) {
                receiveBatch();
            } else {
                receive();
            }
        }
    }

    /**
     * Receives up to {@link #MAX_RECEIVES_PER_EVENT} datagrams a batch call at a time, until a
     * call finds fewer than it could take (the socket is empty: no call is spent to learn it),
     * then sends what the protocol sent meanwhile with one call.
     */
    private void receiveBatch() {
        inTurn = true;
        try {
            receiveTurn();
        } finally {
            inTurn = false;
        }
    }

    private void receiveTurn() {
        if (!deliverHeld()) {
            return;
        }
        batching = true;
        try {
            int total = 0;
            while (total < MAX_RECEIVES_PER_EVENT && wantsToRead()) {
                int count;
                try {
                    count = batch.receive(fd, maxDatagramSize);
                } catch (PortUnreachableException e) {
                    if (peer != null) {
                        error(new TransportError("port unreachable: " + Addresses.text(peer), e));
                    }
                    total++;
                    continue; // an ICMP error was consumed; more datagrams may wait
                } catch (IOException e) {
                    error(new TransportError("receive on " + this + " failed: " + e.getMessage(), e));
                    return;
                }
                total += count;
                if (!deliver(count) || count < batch.slots()) {
                    return;
                }
            }
        } finally {
            endBatch();
        }
    }

    /** Hands the batch's datagrams to the protocol; holds the rest if it pauses reading. */
    private boolean deliver(int count) {
        for (int i = 0; i < count; i++) {
            if (!wantsToRead()) {
                // Read once: a pause and resume from another thread may come between two
                // reads of the flag. Open, the rest is held (a resume delivers it, from its
                // own task); closing, it is dropped.
                if (!isClosing() && !isClosed()) {
                    for (int j = i; j < count; j++) {
                        hold(batch.data(j), batch.sender(j), batch.truncated(j));
                    }
                }
                return false;
            }
            SocketAddress sender = batch.sender(i);
            if (batch.truncated(i)) {
                error(new TransportError("datagram from " + sender + " dropped: larger than the maximum of "
                        + maxDatagramSize + " bytes"));
                continue;
            }
            ByteBuffer data = batch.data(i);
            countReceived(data.remaining());
            try {
                protocol().datagramReceived(data, sender);
            } catch (Throwable e) {
                callbackFailed("datagramReceived", e);
                return false;
            }
        }
        return true;
    }

    private void hold(ByteBuffer data, SocketAddress sender, boolean truncated) {
        if (held == null) {
            held = new ArrayDeque<>();
        }
        // A truncated one keeps only its sender: it is reported, not delivered.
        held.add(new Held(truncated ? null : copyOf(data), sender));
    }

    /**
     * Delivers what a batch held back, while reading is wanted.
     *
     * @return whether all of it was delivered
     */
    private boolean deliverHeld() {
        while (held != null && !held.isEmpty()) {
            if (!wantsToRead()) {
                return false;
            }
            Held next = held.poll();
            if (next.data == null) {
                error(new TransportError("datagram from " + next.sender + " dropped: larger than the maximum of "
                        + maxDatagramSize + " bytes"));
                continue;
            }
            countReceived(next.data.remaining());
            try {
                protocol().datagramReceived(next.data, next.sender);
            } catch (Throwable e) {
                callbackFailed("datagramReceived", e);
                return false;
            }
        }
        held = null;
        return true;
    }

    @Override
    void readingResumed() {
        // Never inside a turn: a resume from another thread, racing a pause the protocol makes
        // in a callback, may find reading wanted there. The resume's own task comes after it.
        if (held != null && !inTurn) {
            inTurn = true;
            try {
                deliverHeld();
            } finally {
                inTurn = false;
            }
        }
    }

    /**
     * The receive turn ends: what the protocol sent goes out with one call (errors are
     * reported after it, so no callback runs while the batch is in flight); what the kernel
     * had no room for waits in the queue.
     */
    private void endBatch() {
        if (batch.pending() == 0) {
            batching = false;
            return;
        }
        java.util.List<TransportError> errors;
        try {
            errors = sendBatch();
        } finally {
            // The batch is the loop's: nothing of this transport may stay in it, whatever failed.
            batch.drop(batch.pending());
            batching = false;
        }
        reportErrors(errors);
        afterFlush(); // a close asked for in the turn waited for these sends
    }

    /** Sends the batch; on the loop, in a receive turn. @return the send errors, to report */
    private java.util.List<TransportError> sendBatch() {
        java.util.List<TransportError> errors = java.util.List.of();
        while (batch.pending() > 0) {
            if (isClosed()) {
                batch.drop(batch.pending());
                break;
            }
            int sent;
            try {
                sent = batch.send(fd);
            } catch (IOException e) {
                SocketAddress to = batch.pendingTarget(0);
                batch.drop(1);
                if (errors.isEmpty()) {
                    errors = new java.util.ArrayList<>();
                }
                errors.add(new TransportError("send to " + target(to == null ? peer : to) + " failed: "
                        + e.getMessage(), e));
                continue;
            }
            if (sent == 0) { // no room in the kernel's buffer: the rest waits for OP_WRITE
                long bytes = 0;
                for (int i = 0; i < batch.pending(); i++) {
                    ByteBuffer copy = batch.pendingCopy(i);
                    SocketAddress to = batch.pendingTarget(i);
                    bytes += copy.remaining();
                    sendQueue.add(new Outgoing(copy, to == null ? peer : to));
                }
                batch.drop(batch.pending());
                outboundBuffer().add(bytes);
                break;
            }
            long bytes = 0;
            for (int i = 0; i < sent; i++) {
                bytes += batch.pendingSize(i);
            }
            countSent(bytes);
            batch.drop(sent);
        }
        return errors;
    }

    /**
     * In a receive turn with nothing queued, copies a datagram into the batch (sending what
     * it holds first if full).
     *
     * @return whether the batch took it; else it goes out by NIO's call or waits in the queue
     */
    private boolean batchAdd(ByteBuffer data, SocketAddress target) {
        SocketAddress to = peer != null ? null : target;
        if (batch.add(data, to, inet6)) {
            return true;
        }
        if (batch.pending() == 0) {
            return false; // larger than the send area: NIO's call, in order
        }
        java.util.List<TransportError> errors = sendBatch();
        boolean added = sendQueue.isEmpty() && batch.add(data, to, inet6);
        reportErrors(errors);
        return added;
    }

    /** Reports a batch's send errors in order, until one of them had the protocol close the transport. */
    private void reportErrors(java.util.List<TransportError> errors) {
        for (TransportError e : errors) {
            if (isClosed()) {
                return; // as NIO's flush stops: an abort dropped what followed
            }
            error(e);
        }
    }

    private void receive() {
        for (int i = 0; i < MAX_RECEIVES_PER_EVENT && wantsToRead(); i++) {
            ByteBuffer buffer = loop.datagramBuffer(maxDatagramSize);
            SocketAddress sender;
            try {
                sender = channel.receive(buffer);
            } catch (PortUnreachableException e) {
                if (peer != null) {
                    error(new TransportError("port unreachable: " + Addresses.text(peer), e));
                }
                continue; // an ICMP error was consumed; more datagrams may wait
            } catch (IOException e) {
                error(new TransportError("receive on " + this + " failed: " + e.getMessage(), e));
                return;
            }
            if (sender == null) {
                return;
            }
            buffer.flip();
            if (buffer.remaining() > maxDatagramSize) {
                error(new TransportError("datagram from " + sender + " dropped: larger than the maximum of "
                        + maxDatagramSize + " bytes"));
                continue;
            }
            countReceived(buffer.remaining());
            try {
                protocol().datagramReceived(buffer, sender);
            } catch (Throwable e) {
                callbackFailed("datagramReceived", e);
                return;
            }
        }
    }

    private void flush() {
        long done = 0;
        while (!sendQueue.isEmpty()) {
            Outgoing head = sendQueue.peek();
            int size = head.data.remaining();
            int sent;
            try {
                sent = send(head.data, head.target);
            } catch (IOException e) {
                sendQueue.poll();
                done += size;
                error(new TransportError("send to " + target(head.target) + " failed: " + e.getMessage(), e));
                continue;
            }
            if (sent == 0 && size > 0) {
                break; // no room in the kernel's buffer: wait for OP_WRITE
            }
            sendQueue.poll();
            done += size;
            countSent(size);
        }
        afterFlush();
        outboundBuffer().remove(done);
    }

    private int send(ByteBuffer data, SocketAddress target) throws IOException {
        // send(), not write(): a connected channel's write() silently drops empty datagrams.
        return channel.send(data, target);
    }

    /** Receive and send errors go to the protocol; the transport stays open. */
    private void error(Exception e) {
        try {
            protocol().errorReceived(e);
        } catch (Throwable t) {
            callbackFailed("errorReceived", t);
        }
    }

    @Override
    public void sendTo(ByteBuffer data, SocketAddress target) {
        checkWritable();
        checkOwned(data);
        SocketAddress to = checkedTarget(target);
        if (loop.inEventLoop()) {
            sendOnLoop(data, to, false, false);
        } else {
            submitWrite(data.remaining(), () -> sendOnLoop(data, to, true, false));
        }
    }

    /**
     * On the loop with nothing queued, sends straight from the caller's buffer (for an echo,
     * the loop's direct receive buffer: no copy here, none in the JDK, no allocation); copies
     * only what must wait, and everything from another thread.
     */
    @Override
    public void sendCopyTo(ByteBuffer data, SocketAddress target) {
        checkWritable();
        SocketAddress to = checkedTarget(target);
        if (loop.inEventLoop()) {
            sendOnLoop(data, to, false, true);
        } else {
            ByteBuffer copy = copyOf(data);
            submitWrite(copy.remaining(), () -> sendOnLoop(copy, to, true, false));
        }
    }

    @Override
    public void send(ByteBuffer data) {
        sendTo(data, null);
    }

    /** The target a datagram goes to: the connected peer, else {@code target}. */
    private SocketAddress checkedTarget(SocketAddress target) {
        if (target == null && peer == null) {
            throw new IllegalArgumentException("no target given and the transport is not connected (" + this + ")");
        }
        if (target != null && peer != null && !target.equals(peer)) {
            throw new IllegalArgumentException("target " + target + " differs from the connected peer " + peer);
        }
        return peer != null ? peer : target;
    }

    /**
     * Sends now if nothing waits, else queues.
     *
     * @param counted whether the datagram was counted when submitted (from another thread)
     * @param borrowed whether {@code data} is the caller's ({@link #sendCopyTo}): copied if it
     *     must wait, and consumed in any case
     */
    private void sendOnLoop(ByteBuffer data, SocketAddress target, boolean counted, boolean borrowed) {
        int size = data.remaining();
        if (isClosed()) {
            uncount(counted, size);
            consume(data, borrowed);
            return;
        }
        if (!data.hasRemaining() && peer != null) {
            uncount(counted, size);
            // The JDK's connected DatagramChannel skips empty buffers on send and write.
            error(new TransportError("empty datagram to " + peer
                    + " not sent: a connected socket cannot send one on this JDK (send it from a bound transport)"));
            return;
        }
        if (batching && sendQueue.isEmpty() && batchAdd(data, target)) {
            uncount(counted, size);
            return;
        }
        if (sendQueue.isEmpty()) {
            try {
                int sent = send(data, target);
                if (sent > 0 || !data.hasRemaining()) {
                    countSent(sent);
                    uncount(counted, size);
                    return;
                }
            } catch (IOException e) {
                uncount(counted, size);
                consume(data, borrowed);
                error(new TransportError("send to " + target(target) + " failed: " + e.getMessage(), e));
                return;
            }
        }
        sendQueue.add(new Outgoing(borrowed ? copyOf(data) : data, target));
        if (!counted) {
            outboundBuffer().add(size);
        }
        updateInterest();
    }

    /** A heap copy of the remaining bytes; {@code data} is consumed. */
    private static ByteBuffer copyOf(ByteBuffer data) {
        return ByteBuffer.allocate(data.remaining()).put(data).flip();
    }

    /** A borrowed buffer is left at its limit, sent or not (the {@link #sendCopyTo} contract). */
    private static void consume(ByteBuffer data, boolean borrowed) {
        if (borrowed) {
            data.position(data.limit());
        }
    }

    private void uncount(boolean counted, long bytes) {
        if (counted) {
            outboundBuffer().count(-bytes);
        }
    }

    private static String target(SocketAddress target) {
        return Addresses.text(target);
    }



    @Override
    public String toString() {
        return "udp " + Addresses.text(local) + (peer == null ? "" : " <-> " + Addresses.text(peer));
    }
}
