package org.wharf.transport.nio.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link DatagramBatch} on NIO's own calls, one per datagram, whose "kernel" can be told to
 * take only so many sends: the transport's batch logic (holds, turns, kernel full, close and
 * abort) runs on any JVM, where the real one (recvmmsg, Java 22+) may not. On the loop thread.
 */
final class NioBackedBatch extends DatagramBatch {

    private final int slots;
    private final Map<Integer, DatagramChannel> channels = new HashMap<>();
    private final ByteBuffer[] slotBuffers;
    private final SocketAddress[] senders;
    private final int[] lengths;
    private int received;
    private int maxSize;
    private final List<ByteBuffer> pendingData = new ArrayList<>();
    private final List<SocketAddress> pendingTargets = new ArrayList<>();
    /** Sends the "kernel" takes from now on, -1 for all; each send call takes from it. */
    volatile int room = -1;
    volatile int sendCalls;
    /** Send calls still to fail (each with an IOException, dropping the first pending datagram). */
    volatile int failures;
    volatile int fullCalls;

    NioBackedBatch(int slots) {
        this.slots = slots;
        slotBuffers = new ByteBuffer[slots];
        senders = new SocketAddress[slots];
        lengths = new int[slots];
        for (int i = 0; i < slots; i++) {
            slotBuffers[i] = ByteBuffer.allocateDirect(64 * 1024 + 1);
        }
    }

    @Override
    int descriptor(DatagramChannel channel) {
        int fd = 1000 + channels.size();
        channels.put(fd, channel);
        return fd;
    }

    @Override
    boolean inet6(int fd) {
        try {
            return ((InetSocketAddress) channels.get(fd).getLocalAddress()).getAddress() instanceof Inet6Address;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    int slots() {
        return slots;
    }

    @Override
    int receive(int fd, int maxSize) throws IOException {
        this.maxSize = maxSize;
        received = 0;
        DatagramChannel channel = channels.get(fd);
        while (received < slots) {
            ByteBuffer slot = slotBuffers[received].clear().limit(Math.min(maxSize + 1, 64 * 1024 + 1));
            SocketAddress sender = channel.receive(slot);
            if (sender == null) {
                break;
            }
            lengths[received] = slot.position();
            senders[received] = sender;
            received++;
        }
        return received;
    }

    @Override
    ByteBuffer data(int i) {
        check(i);
        return slotBuffers[i].clear().limit(Math.min(lengths[i], maxSize));
    }

    @Override
    boolean truncated(int i) {
        check(i);
        return lengths[i] > maxSize;
    }

    @Override
    SocketAddress sender(int i) {
        check(i);
        return senders[i];
    }

    private void check(int i) {
        if (i < 0 || i >= received) {
            throw new IndexOutOfBoundsException(i);
        }
    }

    @Override
    boolean isSlot(ByteBuffer buffer) {
        for (ByteBuffer b : slotBuffers) {
            if (b == buffer) {
                return true;
            }
        }
        return false;
    }

    @Override
    boolean add(ByteBuffer data, SocketAddress target, boolean inet6) {
        if (pendingData.size() == slots) {
            return false;
        }
        pendingData.add(ByteBuffer.allocate(data.remaining()).put(data).flip());
        pendingTargets.add(target);
        return true;
    }

    @Override
    int pending() {
        return pendingData.size();
    }

    @Override
    int pendingSize(int i) {
        return pendingData.get(i).remaining();
    }

    @Override
    ByteBuffer pendingCopy(int i) {
        return pendingData.get(i).duplicate();
    }

    @Override
    SocketAddress pendingTarget(int i) {
        return pendingTargets.get(i);
    }

    @Override
    int send(int fd) throws IOException {
        sendCalls++;
        if (failures > 0) {
            failures--;
            throw new IOException("an injected send failure");
        }
        DatagramChannel channel = channels.get(fd);
        if (!channel.isOpen()) {
            throw new AssertionError("a send on a closed socket");
        }
        int sent = 0;
        for (int i = 0; i < pendingData.size(); i++) {
            if (room == 0) {
                break;
            }
            SocketAddress target = pendingTargets.get(i);
            channel.send(pendingData.get(i).duplicate(), target != null ? target : channel.getRemoteAddress());
            sent++;
            if (room > 0) {
                room--;
            }
        }
        if (sent == 0) {
            fullCalls++;
        }
        return sent;
    }

    @Override
    void drop(int count) {
        for (int i = 0; i < count; i++) {
            pendingData.remove(0);
            pendingTargets.remove(0);
        }
    }
}
