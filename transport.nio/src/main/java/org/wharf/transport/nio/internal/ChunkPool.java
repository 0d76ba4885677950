package org.wharf.transport.nio.internal;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * The direct buffers into which a loop's TCP transports copy what
 * {@link org.wharf.transport.api.Transport#writeCopy} could not send at once. Taken and given
 * back on the loop's thread only; a few are kept for reuse, the rest left to the collector.
 * Direct, so the kernel reads them without the JDK's copy into a temporary buffer.
 */
final class ChunkPool {

    /** Bytes per chunk: one full read of the default read buffer. */
    static final int CHUNK = 64 * 1024;
    /** Chunks kept free for reuse (1 MiB). */
    private static final int MAX_FREE = 16;

    private final ArrayDeque<ByteBuffer> free = new ArrayDeque<>(MAX_FREE);
    private int inUse;

    /** An empty chunk (position and limit 0, capacity {@link #CHUNK}). */
    ByteBuffer take() {
        ByteBuffer chunk = free.pollLast();
        if (chunk == null) {
            chunk = ByteBuffer.allocateDirect(CHUNK);
        }
        inUse++;
        return chunk.limit(0);
    }

    /** Gives back a chunk taken from this pool; it must not be used afterwards. */
    void give(ByteBuffer chunk) {
        inUse--;
        if (free.size() < MAX_FREE) {
            free.addLast(chunk);
        }
    }

    /** Chunks taken and not given back: the write queues hold them. */
    int inUse() {
        return inUse;
    }

    /** Chunks free for reuse. */
    int free() {
        return free.size();
    }
}
