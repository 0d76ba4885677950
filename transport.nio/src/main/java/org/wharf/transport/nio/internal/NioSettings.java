package org.wharf.transport.nio.internal;

import org.wharf.transport.api.WriteBufferLimits;

/**
 * The settings of the NIO transports (configuration PID {@code org.wharf.transport.nio}).
 *
 * @param loopThreads event loop threads; 0 for one per processor
 * @param readBufferSize bytes read from a connection at a time (one buffer per loop)
 * @param writeBufferLimits the default write-buffer limits of connections
 */
public record NioSettings(int loopThreads, int readBufferSize, WriteBufferLimits writeBufferLimits) {

    /** One loop per processor, 64 KiB reads, 64 KiB / 16 KiB write limits. */
    public static final NioSettings DEFAULT = new NioSettings(0, 64 * 1024, WriteBufferLimits.DEFAULT);

    /**
     * Checks the settings, naming the one that is wrong.
     *
     * @param loopThreads event loop threads; 0 for one per processor
     * @param readBufferSize bytes read at a time
     * @param writeBufferLimits default write-buffer limits
     */
    public NioSettings {
        if (loopThreads < 0 || loopThreads > 1024) {
            throw new IllegalArgumentException("loopThreads must be 0..1024 (0 = one per processor), got " + loopThreads);
        }
        if (readBufferSize < 512 || readBufferSize > 16 * 1024 * 1024) {
            throw new IllegalArgumentException("readBufferSize must be 512..16777216 bytes, got " + readBufferSize);
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
