package org.wharf.transport.api;

import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.Optional;

/**
 * How a datagram transport provider binds or connects: local address (for connect),
 * socket options, the largest datagram it receives, write-buffer limits. Immutable; each
 * {@code with...} method returns a changed copy.
 */
public final class DatagramOptions {

    /** Any local address, no socket options, datagrams up to 65,536 bytes, the provider's default write-buffer limits. */
    public static final DatagramOptions DEFAULT = new DatagramOptions(null, SocketOptions.NONE, 65536,
            null);

    private final InetSocketAddress localAddress;
    private final SocketOptions socketOptions;
    private final int maxDatagramSize;
    private final WriteBufferLimits writeBufferLimits;

    private DatagramOptions(InetSocketAddress localAddress, SocketOptions socketOptions, int maxDatagramSize,
            WriteBufferLimits writeBufferLimits) {
        this.localAddress = localAddress;
        this.socketOptions = socketOptions;
        this.maxDatagramSize = maxDatagramSize;
        this.writeBufferLimits = writeBufferLimits;
    }

    /**
     * The local address to bind when connecting.
     *
     * @return the address, or empty to let the operating system choose
     */
    public Optional<InetSocketAddress> localAddress() {
        return Optional.ofNullable(localAddress);
    }

    /**
     * Options of the socket, such as {@code SO_BROADCAST}.
     *
     * @return the options
     */
    public SocketOptions socketOptions() {
        return socketOptions;
    }

    /**
     * The largest datagram received whole; a larger one is reported to
     * {@link DatagramProtocol#errorReceived(Exception)}, not silently truncated.
     *
     * @return the size in bytes
     */
    public int maxDatagramSize() {
        return maxDatagramSize;
    }

    /**
     * The write-buffer limits of the queue of datagrams waiting to be sent.
     *
     * @return the limits, or empty for the provider's configured default (64 KiB / 16 KiB
     *         unless configured otherwise)
     */
    public Optional<WriteBufferLimits> writeBufferLimits() {
        return Optional.ofNullable(writeBufferLimits);
    }

    /**
     * A copy with a local address to bind when connecting.
     *
     * @param value the address, or {@code null} to let the operating system choose
     * @return the changed options
     */
    public DatagramOptions withLocalAddress(InetSocketAddress value) {
        return new DatagramOptions(value, socketOptions, maxDatagramSize, writeBufferLimits);
    }

    /**
     * A copy with other socket options.
     *
     * @param value the options
     * @return the changed options
     */
    public DatagramOptions withSocketOptions(SocketOptions value) {
        return new DatagramOptions(localAddress, Objects.requireNonNull(value), maxDatagramSize, writeBufferLimits);
    }

    /**
     * A copy with another largest datagram size.
     *
     * @param value the size in bytes, from 1 to 65,536
     * @return the changed options
     */
    public DatagramOptions withMaxDatagramSize(int value) {
        if (value < 1 || value > 65536) {
            throw new IllegalArgumentException("max datagram size must be 1..65536, got " + value);
        }
        return new DatagramOptions(localAddress, socketOptions, value, writeBufferLimits);
    }

    /**
     * A copy with other write-buffer limits.
     *
     * @param value the limits, or {@code null} for the provider's default
     * @return the changed options
     */
    public DatagramOptions withWriteBufferLimits(WriteBufferLimits value) {
        return new DatagramOptions(localAddress, socketOptions, maxDatagramSize, value);
    }
}
