package org.wharf.transport.nio.internal;

import org.wharf.transport.api.WriteBufferLimits;

/**
 * The settings of the NIO transports (configuration PID {@code org.wharf.transport.nio}).
 *
 * @param loopThreads event loop threads; 0 for one per processor
 * @param readBufferSize bytes read from a connection at a time (one buffer per loop)
 * @param writeBufferLimits the default write-buffer limits of connections
 * @param udpBatch datagrams per system call on the native batch path (the optional
 *     {@code org.wharf.transport.nio.ffm} fragment; Linux, Java 22+); 0 turns it off. Each loop
 *     keeps this many receive slots of 64 KiB: the bound on its native memory.
 * @param closeTimeout how long a closing TCP connection, or a writeEof waiting for queued bytes,
 *     may go without its peer taking a byte of what is still to be written before it is
 *     aborted; zero for never
 * @param busyPollMicros how long a loop that was busy a moment ago polls for I/O before it sleeps
 *     in its selector (adaptive; see {@link BusyPoll}); 0, the default, never polls
 */
public record NioSettings(int loopThreads, int readBufferSize, WriteBufferLimits writeBufferLimits, int udpBatch,
        java.time.Duration closeTimeout, int busyPollMicros) {

    /** The longest busy poll that may be configured: 10 ms. */
    public static final int MAX_BUSY_POLL_MICROS = 10_000;

    /** Datagrams per batch call unless configured: Netty's epoll transport reads 16 too. */
    public static final int DEFAULT_UDP_BATCH = 16;

    /** How long a close waits for a peer that takes nothing unless configured: nginx's lingering_time. */
    public static final java.time.Duration DEFAULT_CLOSE_TIMEOUT = java.time.Duration.ofSeconds(30);

    /** One loop per processor, 64 KiB reads, 64 KiB / 16 KiB write limits, 16 datagrams per batch. */
    public static final NioSettings DEFAULT = new NioSettings(0, 64 * 1024, WriteBufferLimits.DEFAULT);

    /** The {@code writeBufferLow} that says "unset": a quarter of the high mark. */
    static final int UNSET_LOW = -1;

    /**
     * The configured low mark, or, if it is {@link #UNSET_LOW}, a quarter of the high one, as
     * {@link WriteBufferLimits#ofHigh(int)} makes it (so the defaults, 64 KiB and 16 KiB): one
     * rule for ConfigAdmin and the system properties.
     */
    static int lowMark(int high, int low) {
        return low == UNSET_LOW ? WriteBufferLimits.ofHigh(high).low() : low;
    }

    /**
     * Settings with the default batch size.
     *
     * @param loopThreads event loop threads; 0 for one per processor
     * @param readBufferSize bytes read at a time
     * @param writeBufferLimits default write-buffer limits
     */
    public NioSettings(int loopThreads, int readBufferSize, WriteBufferLimits writeBufferLimits) {
        this(loopThreads, readBufferSize, writeBufferLimits, DEFAULT_UDP_BATCH);
    }

    /**
     * Settings with the default close timeout.
     *
     * @param loopThreads event loop threads; 0 for one per processor
     * @param readBufferSize bytes read at a time
     * @param writeBufferLimits default write-buffer limits
     * @param udpBatch datagrams per batch call, 0 for none
     */
    public NioSettings(int loopThreads, int readBufferSize, WriteBufferLimits writeBufferLimits, int udpBatch) {
        this(loopThreads, readBufferSize, writeBufferLimits, udpBatch, DEFAULT_CLOSE_TIMEOUT);
    }

    /**
     * Settings without busy polling.
     *
     * @param loopThreads event loop threads; 0 for one per processor
     * @param readBufferSize bytes read at a time
     * @param writeBufferLimits default write-buffer limits
     * @param udpBatch datagrams per batch call, 0 for none
     * @param closeTimeout a closing connection's longest wait for its peer to take a byte; zero for ever
     */
    public NioSettings(int loopThreads, int readBufferSize, WriteBufferLimits writeBufferLimits, int udpBatch,
            java.time.Duration closeTimeout) {
        this(loopThreads, readBufferSize, writeBufferLimits, udpBatch, closeTimeout, 0);
    }

    /**
     * Checks the settings, naming the one that is wrong.
     *
     * @param loopThreads event loop threads; 0 for one per processor
     * @param readBufferSize bytes read at a time
     * @param writeBufferLimits default write-buffer limits
     * @param udpBatch datagrams per batch call, 0 for none
     * @param closeTimeout a closing connection's longest wait for its peer to take a byte; zero for ever
     * @param busyPollMicros the longest poll before a loop sleeps, 0 for none
     */
    public NioSettings {
        if (loopThreads < 0 || loopThreads > 1024) {
            throw new IllegalArgumentException("loopThreads must be 0..1024 (0 = one per processor), got " + loopThreads);
        }
        if (readBufferSize < 512 || readBufferSize > 16 * 1024 * 1024) {
            throw new IllegalArgumentException("readBufferSize must be 512..16777216 bytes, got " + readBufferSize);
        }
        if (udpBatch < 0 || udpBatch > 64) {
            throw new IllegalArgumentException("udpBatch must be 0..64 datagrams (0 = no batch calls), got " + udpBatch);
        }
        if (closeTimeout == null || closeTimeout.isNegative()) {
            throw new IllegalArgumentException("closeTimeout must be 0 (never) or more milliseconds, got " + (closeTimeout
                    == null ? null : closeTimeout.toMillis()));
        }
        if (busyPollMicros < 0 || busyPollMicros > MAX_BUSY_POLL_MICROS) {
            throw new IllegalArgumentException("busyPollMicros must be 0.." + MAX_BUSY_POLL_MICROS
                    + " microseconds (0 = never poll), got " + busyPollMicros);
        }
        if (writeBufferLimits == null) {
            throw new IllegalArgumentException("writeBufferLimits must be set");
        }
    }

    /** The number of loops to start. */
    int threads() {
        return loopThreads == 0 ? Runtime.getRuntime().availableProcessors() : loopThreads;
    }
}
