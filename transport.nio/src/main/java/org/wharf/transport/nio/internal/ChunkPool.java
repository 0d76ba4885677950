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

    /**
     * A chunk as it sits in a write queue: the type tells it from the callers' own buffers,
     * so a transport knows what to give back without keeping a list of its own.
     */
    static final class Chunk {
        /** Bytes from position to limit wait to be written; more may be appended up to capacity. */
        final ByteBuffer buffer = ByteBuffer.allocateDirect(CHUNK);
    }

    private final ArrayDeque<Chunk> free = new ArrayDeque<>(MAX_FREE);
    private int inUse;

    /** An empty chunk (position and limit 0). */
    Chunk take() {
        Chunk chunk = free.pollLast();
        if (chunk == null) {
            chunk = new Chunk();
        }
        chunk.buffer.limit(0);
        inUse++;
        return chunk;
    }

    /** Gives back a chunk taken from this pool; it must not be used afterwards. */
    void give(Chunk chunk) {
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
