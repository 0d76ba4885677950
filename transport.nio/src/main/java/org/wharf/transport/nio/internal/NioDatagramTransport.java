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

    private final int maxDatagramSize;
    private final ArrayDeque<Outgoing> sendQueue = new ArrayDeque<>();

    NioDatagramTransport(NioEventLoop loop, DatagramChannel channel, WriteBufferLimits limits, int maxDatagramSize) {
        super(loop, channel, limits, channel::getRemoteAddress);
        this.maxDatagramSize = maxDatagramSize;
    }

    @Override
    boolean hasQueuedWrites() {
        return !sendQueue.isEmpty();
    }

    @Override
    void dropQueuedWrites() {
        long dropped = 0;
        for (Outgoing o; (o = sendQueue.poll()) != null;) {
            dropped += o.data.remaining();
        }
        outboundBuffer().count(-dropped);
    }

    @Override
    public void ready(int readyOps) {
        if ((readyOps & SelectionKey.OP_WRITE) != 0) {
            flush();
        }
        if ((readyOps & SelectionKey.OP_READ) != 0) {
            receive();
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
