package org.wharf.transport.nio.internal;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Datagram I/O by the batch: many datagrams per system call (Linux {@code recvmmsg} and
 * {@code sendmmsg}) where NIO makes one call per datagram and one more to find the socket
 * empty. Optional: the fragment {@code org.wharf.transport.nio.ffm} (the FFM API, Java 22+)
 * adds the implementation, {@value #IMPLEMENTATION}, to this bundle; without it, or where it
 * cannot run, datagram transports use NIO's calls as before.
 *
 * <p>One per event loop, used on its thread only. A receive fills the loop's slots, which the
 * transport hands to its protocol before the next receive; sends made meanwhile are copied
 * into the loop's send area and go out together when the transport's turn ends, so the batch
 * is empty whenever no transport is in its turn.
 */
abstract class DatagramBatch {

    /** The class the fragment adds; it has {@code public static DatagramBatch create(int slots)}. */
    static final String IMPLEMENTATION = "org.wharf.transport.nio.internal.FfmDatagramBatch";

    private static final System.Logger LOG = System.getLogger("org.wharf.transport.nio");
    private static final AtomicBoolean TOLD = new AtomicBoolean();

    /**
     * The batch I/O of a loop, if the fragment is installed and can run here; says once
     * (at INFO) which path datagrams take and why.
     *
     * @param slots datagrams per call; 0 for none
     * @return the batch, or empty
     */
    static Optional<DatagramBatch> open(int slots) {
        if (slots == 0) {
            tell("udpBatch = 0: datagrams take NIO's calls, one per datagram");
            return Optional.empty();
        }
        Class<?> type;
        try {
            type = Class.forName(IMPLEMENTATION, true, DatagramBatch.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            // Not installed (or built for a newer Java than this one): NIO, as on any machine.
            LOG.log(System.Logger.Level.DEBUG, () -> "no batch datagram I/O: " + e);
            return Optional.empty();
        }
        try {
            DatagramBatch batch = (DatagramBatch) type.getMethod("create", int.class).invoke(null, slots);
            tell("datagrams are received and sent " + slots + " per system call (recvmmsg, sendmmsg)");
            return Optional.of(batch);
        } catch (java.lang.reflect.InvocationTargetException e) {
            Throwable cause = e.getCause();
            tell("batch datagram I/O is installed but cannot run here, so datagrams take NIO's calls: "
                    + (cause instanceof UnsupportedOperationException ? cause.getMessage() : String.valueOf(cause)));
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            tell("batch datagram I/O is installed but cannot run here, so datagrams take NIO's calls: " + e);
        }
        return Optional.empty();
    }

    private static void tell(String what) {
        if (TOLD.compareAndSet(false, true)) {
            LOG.log(System.Logger.Level.INFO, "udp: " + what);
        }
    }

    /**
     * The socket of a channel, as the system calls know it.
     *
     * @param channel an open datagram channel
     * @return its file descriptor
     * @throws UnsupportedOperationException naming why it cannot be had (then NIO serves this channel)
     */
    abstract int descriptor(DatagramChannel channel);

    /**
     * @param fd a socket
     * @return whether it is an IPv6 socket (IPv4 targets then go as mapped addresses)
     * @throws java.io.UncheckedIOException if the socket cannot be asked
     */
    abstract boolean inet6(int fd);

    /** @return datagrams per call: the receive slots, and the most sends a batch holds */
    abstract int slots();

    // ---- receiving ----

    /**
     * Receives what waits on a socket, up to {@link #slots()} datagrams, into the slots.
     *
     * @param fd the socket
     * @param maxSize the transport's largest datagram (at most the slot size): a longer one is
     *     marked {@linkplain #truncated truncated}
     * @return the number received; 0 if none waited
     * @throws java.net.PortUnreachableException for an ICMP error the call consumed (nothing received)
     * @throws IOException for any other error of the call
     */
    abstract int receive(int fd, int maxSize) throws IOException;

    /**
     * @param i a slot filled by the last receive
     * @return its datagram, position 0, limit its length; lent until the next receive
     */
    abstract ByteBuffer data(int i);

    /**
     * @param i a slot filled by the last receive
     * @return whether its datagram was longer than the {@code maxSize} asked for (cut short)
     */
    abstract boolean truncated(int i);

    /**
     * @param i a slot filled by the last receive
     * @return the sender of its datagram
     */
    abstract SocketAddress sender(int i);

    /**
     * @param buffer a buffer
     * @return whether it is one of the slots (lent to a receive callback)
     */
    abstract boolean isSlot(ByteBuffer buffer);

    // ---- sending ----

    /**
     * Copies a datagram into the batch; its remaining bytes are consumed.
     *
     * @param data the datagram
     * @param target where it goes; {@code null} on a connected socket
     * @param inet6 whether the socket is an IPv6 one
     * @return {@code false}, taking nothing, when the batch has no room for it (send what it
     *     holds first); always for a datagram larger than the send area, and for a target it
     *     cannot write (unresolved, or IPv6 on an IPv4 socket: NIO's call reports those)
     */
    abstract boolean add(ByteBuffer data, SocketAddress target, boolean inet6);

    /** @return the datagrams in the batch not yet sent or dropped */
    abstract int pending();

    /**
     * @param i 0 for the first pending datagram
     * @return its size in bytes
     */
    abstract int pendingSize(int i);

    /**
     * @param i 0 for the first pending datagram
     * @return a heap copy of it
     */
    abstract ByteBuffer pendingCopy(int i);

    /**
     * @param i 0 for the first pending datagram
     * @return where it goes ({@code null} on a connected socket)
     */
    abstract SocketAddress pendingTarget(int i);

    /**
     * Sends the pending datagrams with one call; the caller then {@linkplain #drop drops} the
     * ones sent.
     *
     * @param fd the socket
     * @return how many of the first pending went out; 0 when the kernel has no room
     * @throws IOException for the first pending datagram's error (nothing was sent)
     */
    abstract int send(int fd) throws IOException;

    /**
     * Drops the first {@code count} pending datagrams (sent, failed, or queued elsewhere).
     *
     * @param count how many
     */
    abstract void drop(int count);
}
