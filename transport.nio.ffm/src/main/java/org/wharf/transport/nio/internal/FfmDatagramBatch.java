package org.wharf.transport.nio.internal;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.DatagramChannel;
import java.util.Locale;

/**
 * {@link DatagramBatch} on Linux's {@code recvmmsg} and {@code sendmmsg}, called through the
 * FFM API (Java 22+). The socket is NIO's own (its descriptor read from the channel), so the
 * event loop, its selector and the transport's life stay NIO's; only the receive and send
 * calls change. Needs the JVM to export {@code sun.nio.ch} to this bundle (for the
 * descriptor) and to allow native access:
 * {@code --add-exports java.base/sun.nio.ch=ALL-UNNAMED --enable-native-access=ALL-UNNAMED}.
 *
 * <p>Memory, allocated once per loop: {@code slots} receive slots of 64 KiB, a 256 KiB send
 * area, and their message headers. Nothing is allocated per datagram but the senders'
 * addresses, and those come from a small cache while the same peers keep sending.
 */
public final class FfmDatagramBatch extends DatagramBatch {

    /** A receive slot: the largest datagram a transport may take ({@code maxDatagramSize} is at most 64 KiB). */
    static final int SLOT = 64 * 1024;
    /** The send area: what a batch of sends may hold, and so the largest datagram it takes. */
    static final int SEND_AREA = 256 * 1024;

    // struct mmsghdr { struct msghdr msg_hdr; unsigned msg_len; } on LP64 Linux (x86-64, aarch64).
    private static final int MMSGHDR = 64;
    private static final int MSG_NAME = 0;
    private static final int MSG_NAMELEN = 8;
    private static final int MSG_IOV = 16;
    private static final int MSG_IOVLEN = 24;
    private static final int MSG_FLAGS = 48;
    private static final int MSG_LEN = 56;
    private static final int IOVEC = 16;
    /** Room per address: a sockaddr_in6 is 28 bytes. */
    private static final int NAME = 32;
    private static final int SOCKADDR_IN6 = 28;
    private static final int SOCKADDR_IN = 16;

    private static final int AF_INET = 2;
    private static final int AF_INET6 = 10;
    private static final int MSG_TRUNC = 0x20;
    private static final int EINTR = 4;
    private static final int EAGAIN = 11;
    private static final int ECONNREFUSED = 111;

    private static final ValueLayout.OfShort SHORT_BE = JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt INT_BE = JAVA_INT.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong LONG_BE = JAVA_LONG.withOrder(ByteOrder.BIG_ENDIAN);

    private static final MethodHandle RECVMMSG;
    private static final MethodHandle SENDMMSG;
    private static final MethodHandle GETSOCKNAME;
    private static final MethodHandle STRERROR;
    private static final MethodHandle FD_VAL;
    private static final MemoryLayout CAPTURE;
    private static final VarHandle ERRNO;
    /** Why the path cannot run here, or {@code null}. */
    private static final String UNAVAILABLE;

    static {
        MethodHandle recv = null;
        MethodHandle send = null;
        MethodHandle name = null;
        MethodHandle error = null;
        MethodHandle fd = null;
        MemoryLayout capture = null;
        VarHandle errno = null;
        String unavailable = null;
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (!os.startsWith("linux")) {
            unavailable = "recvmmsg and sendmmsg are Linux calls, and this is " + System.getProperty("os.name");
        } else if (!arch.equals("amd64") && !arch.equals("x86_64") && !arch.equals("aarch64")) {
            unavailable = "the message layouts are known for x86-64 and aarch64, and this is " + arch;
        } else {
            try {
                Class<?> selChImpl = Class.forName("sun.nio.ch.SelChImpl", false, null); // the boot loader's, in any framework
                fd = MethodHandles.lookup().findVirtual(selChImpl, "getFDVal", MethodType.methodType(int.class));
            } catch (ReflectiveOperationException | RuntimeException e) {
                unavailable = "a socket's descriptor cannot be read (" + e
                        + "): start the JVM with --add-exports java.base/sun.nio.ch=ALL-UNNAMED";
            }
        }
        if (unavailable == null) {
            try {
                Linker linker = Linker.nativeLinker();
                SymbolLookup libc = linker.defaultLookup();
                capture = Linker.Option.captureStateLayout();
                errno = capture.varHandle(MemoryLayout.PathElement.groupElement("errno"));
                Linker.Option state = Linker.Option.captureCallState("errno");
                recv = downcall(linker, libc, "recvmmsg",
                        FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS), state);
                send = downcall(linker, libc, "sendmmsg",
                        FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), state);
                name = downcall(linker, libc, "getsockname",
                        FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), state);
                error = linker.downcallHandle(libc.find("strerror").orElseThrow(),
                        FunctionDescriptor.of(ADDRESS, JAVA_INT));
            } catch (RuntimeException | LinkageError e) {
                unavailable = "the native calls cannot be linked: " + e;
            }
        }
        RECVMMSG = recv;
        SENDMMSG = send;
        GETSOCKNAME = name;
        STRERROR = error;
        FD_VAL = fd;
        CAPTURE = capture;
        ERRNO = errno;
        UNAVAILABLE = unavailable;
    }

    /**
     * A call that neither blocks (the sockets are non-blocking) nor calls back runs as a
     * critical one: no thread-state change around it, which is most of a short downcall's cost.
     */
    private static MethodHandle downcall(Linker linker, SymbolLookup libc, String function, FunctionDescriptor type,
            Linker.Option state) {
        MemorySegment address = libc.find(function)
                .orElseThrow(() -> new UnsatisfiedLinkError(function + " is not in the C library"));
        try {
            return linker.downcallHandle(address, type, state, Linker.Option.critical(false));
        } catch (IllegalArgumentException e) {
            return linker.downcallHandle(address, type, state);
        }
    }

    /**
     * The batch of an event loop.
     *
     * @param slots datagrams per call, 1..64
     * @return a batch
     * @throws UnsupportedOperationException saying why the path cannot run here
     */
    public static DatagramBatch create(int slots) {
        if (UNAVAILABLE != null) {
            throw new UnsupportedOperationException(UNAVAILABLE);
        }
        if (slots < 1 || slots > 64) {
            throw new IllegalArgumentException("slots must be 1..64, got " + slots);
        }
        return new FfmDatagramBatch(slots);
    }

    private final int slots;
    private final MemorySegment errnoState;
    private final MemorySegment recvMessages;
    private final MemorySegment recvNames;
    private final ByteBuffer[] recvViews;
    private final MemorySegment sendMessages;
    private final MemorySegment sendVectors;
    private final MemorySegment sendNames;
    private final MemorySegment sendData;
    private final ByteBuffer sendView;
    private final MemorySegment scratchName;
    /** What the last receive got: count, and the size asked for. */
    private int received;
    private int maxSize;
    /** The pending sends: {@code head} is the first not yet sent, {@code count} the next free entry. */
    private int head;
    private int count;
    private int used;
    private final int[] sendOffset;
    private final int[] sendSize;
    private final SocketAddress[] sendTarget;
    /** Calls made and datagrams they moved, for tests and diagnostics; on the loop thread. */
    long receiveCalls;
    long datagramsReceived;
    long sendCalls;
    long datagramsSent;
    /** Senders seen lately, by a hash of their address: most datagrams come from peers seen before. */
    private final long[] cachedKeys = new long[64];
    private final InetSocketAddress[] cachedSenders = new InetSocketAddress[64];

    private FfmDatagramBatch(int slots) {
        this.slots = slots;
        Arena arena = Arena.ofAuto(); // one per loop, for the loop's life: freed with the loop
        errnoState = arena.allocate(CAPTURE);
        recvMessages = arena.allocate((long) MMSGHDR * slots, 8);
        MemorySegment recvVectors = arena.allocate((long) IOVEC * slots, 8);
        recvNames = arena.allocate((long) NAME * slots, 8);
        MemorySegment recvData = arena.allocate((long) SLOT * slots, 64);
        recvViews = new ByteBuffer[slots];
        for (int i = 0; i < slots; i++) {
            MemorySegment slot = recvData.asSlice((long) SLOT * i, SLOT);
            recvViews[i] = slot.asByteBuffer();
            recvVectors.set(JAVA_LONG, (long) IOVEC * i, slot.address());
            recvVectors.set(JAVA_LONG, (long) IOVEC * i + 8, SLOT);
            long m = (long) MMSGHDR * i;
            recvMessages.set(JAVA_LONG, m + MSG_NAME, recvNames.address() + (long) NAME * i);
            recvMessages.set(JAVA_LONG, m + MSG_IOV, recvVectors.address() + (long) IOVEC * i);
            recvMessages.set(JAVA_LONG, m + MSG_IOVLEN, 1);
        }
        sendMessages = arena.allocate((long) MMSGHDR * slots, 8);
        sendVectors = arena.allocate((long) IOVEC * slots, 8);
        sendNames = arena.allocate((long) NAME * slots, 8);
        sendData = arena.allocate(SEND_AREA, 64);
        sendView = sendData.asByteBuffer();
        for (int i = 0; i < slots; i++) {
            long m = (long) MMSGHDR * i;
            sendMessages.set(JAVA_LONG, m + MSG_IOV, sendVectors.address() + (long) IOVEC * i);
            sendMessages.set(JAVA_LONG, m + MSG_IOVLEN, 1);
        }
        scratchName = arena.allocate(NAME + 8, 8);
        sendOffset = new int[slots];
        sendSize = new int[slots];
        sendTarget = new SocketAddress[slots];
    }

    @Override
    int descriptor(DatagramChannel channel) {
        try {
            return (int) FD_VAL.invoke(channel);
        } catch (Throwable e) {
            throw new UnsupportedOperationException("the descriptor of " + channel + " cannot be read: " + e, e);
        }
    }

    @Override
    boolean inet6(int fd) {
        MemorySegment length = scratchName.asSlice(NAME, 4);
        length.set(JAVA_INT, 0, NAME);
        int result;
        try {
            result = (int) GETSOCKNAME.invokeExact(errnoState, fd, scratchName, length);
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
        if (result < 0) {
            throw new UncheckedIOException(error("getsockname", errno()));
        }
        return (scratchName.get(JAVA_SHORT, 0) & 0xffff) == AF_INET6;
    }

    @Override
    int slots() {
        return slots;
    }

    // ---- receiving ----

    @Override
    int receive(int fd, int maxSize) throws IOException {
        for (int i = 0; i < slots; i++) {
            recvMessages.set(JAVA_INT, (long) MMSGHDR * i + MSG_NAMELEN, NAME); // the kernel writes it back
        }
        this.maxSize = maxSize;
        while (true) {
            int n;
            try {
                n = (int) RECVMMSG.invokeExact(errnoState, fd, recvMessages, slots, 0, MemorySegment.NULL);
            } catch (Throwable e) {
                throw new IllegalStateException(e);
            }
            receiveCalls++;
            if (n >= 0) {
                datagramsReceived += n;
                received = n;
                return n;
            }
            received = 0;
            int errno = errno();
            switch (errno) {
                case EAGAIN:
                    return 0;
                case EINTR:
                    continue;
                case ECONNREFUSED:
                    throw new PortUnreachableException();
                default:
                    throw error("recvmmsg", errno);
            }
        }
    }

    @Override
    ByteBuffer data(int i) {
        check(i);
        int length = Math.min(recvMessages.get(JAVA_INT, (long) MMSGHDR * i + MSG_LEN), SLOT);
        return recvViews[i].clear().limit(length);
    }

    @Override
    boolean truncated(int i) {
        check(i);
        long m = (long) MMSGHDR * i;
        return (recvMessages.get(JAVA_INT, m + MSG_FLAGS) & MSG_TRUNC) != 0
                || recvMessages.get(JAVA_INT, m + MSG_LEN) > maxSize;
    }

    @Override
    SocketAddress sender(int i) {
        check(i);
        long at = (long) NAME * i;
        int family = recvNames.get(JAVA_SHORT, at) & 0xffff;
        int port = recvNames.get(SHORT_BE, at + 2) & 0xffff;
        if (family == AF_INET) {
            return inet4(recvNames.get(INT_BE, at + 4), port);
        }
        if (family == AF_INET6) {
            long high = recvNames.get(LONG_BE, at + 8);
            long low = recvNames.get(LONG_BE, at + 16);
            int scope = recvNames.get(JAVA_INT, at + 24);
            if (high == 0 && (low >>> 32) == 0xffffL) { // IPv4-mapped: the JDK says Inet4Address too
                return inet4((int) low, port);
            }
            byte[] address = new byte[16];
            MemorySegment.copy(recvNames, JAVA_BYTE_LAYOUT, at + 8, address, 0, 16);
            try {
                return new InetSocketAddress(scope != 0 ? Inet6Address.getByAddress(null, address, scope)
                        : InetAddress.getByAddress(address), port);
            } catch (UnknownHostException e) {
                throw new IllegalStateException(e); // 16 bytes are always an address
            }
        }
        throw new IllegalStateException("a datagram from an address of family " + family);
    }

    private static final ValueLayout.OfByte JAVA_BYTE_LAYOUT = ValueLayout.JAVA_BYTE;

    private InetSocketAddress inet4(int address, int port) {
        long key = ((address & 0xffffffffL) << 16) | port | (1L << 48);
        int index = (int) ((key * 0x9E3779B97F4A7C15L) >>> 58);
        if (cachedKeys[index] == key) {
            return cachedSenders[index];
        }
        byte[] bytes = {(byte) (address >>> 24), (byte) (address >>> 16), (byte) (address >>> 8), (byte) address};
        InetSocketAddress sender;
        try {
            sender = new InetSocketAddress(InetAddress.getByAddress(bytes), port);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // 4 bytes are always an address
        }
        cachedKeys[index] = key;
        cachedSenders[index] = sender;
        return sender;
    }

    @Override
    boolean isSlot(ByteBuffer buffer) {
        for (ByteBuffer view : recvViews) {
            if (view == buffer) {
                return true;
            }
        }
        return false;
    }

    private void check(int i) {
        if (i < 0 || i >= received) {
            throw new IndexOutOfBoundsException("slot " + i + " of " + received + " received");
        }
    }

    // ---- sending ----

    @Override
    boolean add(ByteBuffer data, SocketAddress target, boolean inet6) {
        int size = data.remaining();
        if (count == slots || size > SEND_AREA - used) {
            return false;
        }
        long name = (long) NAME * count;
        int nameLength = 0;
        if (target != null) {
            nameLength = writeAddress(target, inet6, name);
            if (nameLength < 0) {
                return false;
            }
        }
        sendView.clear().position(used);
        sendView.put(data);
        long v = (long) IOVEC * count;
        sendVectors.set(JAVA_LONG, v, sendData.address() + used);
        sendVectors.set(JAVA_LONG, v + 8, size);
        long m = (long) MMSGHDR * count;
        sendMessages.set(JAVA_LONG, m + MSG_NAME, target == null ? 0L : sendNames.address() + name);
        sendMessages.set(JAVA_INT, m + MSG_NAMELEN, nameLength);
        sendOffset[count] = used;
        sendSize[count] = size;
        sendTarget[count] = target;
        count++;
        used += size;
        return true;
    }

    /** Writes a socket address for the socket's family; -1 if it cannot be written. */
    private int writeAddress(SocketAddress target, boolean inet6, long at) {
        if (!(target instanceof InetSocketAddress socket) || socket.isUnresolved()) {
            return -1;
        }
        InetAddress address = socket.getAddress();
        int port = socket.getPort();
        if (port == 0) {
            return -1; // NIO's call refuses it in its own words
        }
        if (address instanceof Inet4Address) {
            byte[] b = address.getAddress();
            int bits = (b[0] & 0xff) << 24 | (b[1] & 0xff) << 16 | (b[2] & 0xff) << 8 | (b[3] & 0xff);
            if (!inet6) {
                sendNames.set(JAVA_SHORT, at, (short) AF_INET);
                sendNames.set(SHORT_BE, at + 2, (short) port);
                sendNames.set(INT_BE, at + 4, bits);
                sendNames.set(JAVA_LONG, at + 8, 0L);
                return SOCKADDR_IN;
            }
            sendNames.set(JAVA_SHORT, at, (short) AF_INET6);
            sendNames.set(SHORT_BE, at + 2, (short) port);
            sendNames.set(JAVA_INT, at + 4, 0);
            sendNames.set(LONG_BE, at + 8, 0L);
            sendNames.set(LONG_BE, at + 16, 0xffff_0000_0000L | (bits & 0xffffffffL));
            sendNames.set(JAVA_INT, at + 24, 0);
            return SOCKADDR_IN6;
        }
        if (!inet6 || !(address instanceof Inet6Address six)) {
            return -1;
        }
        byte[] bytes = six.getAddress();
        sendNames.set(JAVA_SHORT, at, (short) AF_INET6);
        sendNames.set(SHORT_BE, at + 2, (short) port);
        sendNames.set(JAVA_INT, at + 4, 0);
        MemorySegment.copy(bytes, 0, sendNames, JAVA_BYTE_LAYOUT, at + 8, 16);
        sendNames.set(JAVA_INT, at + 24, six.getScopeId());
        return SOCKADDR_IN6;
    }

    @Override
    int pending() {
        return count - head;
    }

    @Override
    int pendingSize(int i) {
        return sendSize[pendingIndex(i)];
    }

    @Override
    ByteBuffer pendingCopy(int i) {
        int at = pendingIndex(i);
        ByteBuffer copy = ByteBuffer.allocate(sendSize[at]);
        copy.put(sendView.clear().position(sendOffset[at]).limit(sendOffset[at] + sendSize[at]));
        return copy.flip();
    }

    @Override
    SocketAddress pendingTarget(int i) {
        return sendTarget[pendingIndex(i)];
    }

    private int pendingIndex(int i) {
        if (i < 0 || i >= count - head) {
            throw new IndexOutOfBoundsException("pending datagram " + i + " of " + (count - head));
        }
        return head + i;
    }

    @Override
    int send(int fd) throws IOException {
        MemorySegment first = head == 0 ? sendMessages : sendMessages.asSlice((long) MMSGHDR * head);
        while (true) {
            int n;
            try {
                n = (int) SENDMMSG.invokeExact(errnoState, fd, first, count - head, 0);
            } catch (Throwable e) {
                throw new IllegalStateException(e);
            }
            sendCalls++;
            if (n >= 0) {
                datagramsSent += n;
                return n;
            }
            int errno = errno();
            if (errno == EAGAIN) {
                return 0;
            }
            if (errno == ECONNREFUSED) { // an ICMP error for an earlier datagram, as NIO reports it
                throw new PortUnreachableException();
            }
            if (errno != EINTR) {
                throw error("sendmmsg", errno);
            }
        }
    }

    @Override
    void drop(int n) {
        if (n < 0 || n > count - head) {
            throw new IndexOutOfBoundsException("drop " + n + " of " + (count - head));
        }
        head += n;
        for (int i = head - n; i < head; i++) {
            sendTarget[i] = null;
        }
        if (head == count) {
            head = 0;
            count = 0;
            used = 0;
        }
    }

    // ---- errors ----

    private int errno() {
        return (int) ERRNO.get(errnoState, 0L);
    }

    /** An error as the JDK words them: the C library's text, and the call. */
    private static IOException error(String call, int errno) {
        String text;
        try {
            MemorySegment message = (MemorySegment) STRERROR.invokeExact(errno);
            text = message.reinterpret(256).getString(0);
        } catch (Throwable e) {
            text = "errno " + errno;
        }
        return new IOException(text + " (" + call + ", errno " + errno + ")");
    }
}
