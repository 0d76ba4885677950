package org.wharf.protocol.api;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The bytes of an incomplete frame, carried over from one read to the next. It grows only
 * as far as the caller appends (decoders append at most one frame), and gives a large array
 * back when emptied so an idle connection does not keep it.
 */
final class Accumulator {

    private static final byte[] EMPTY = new byte[0];
    /** Arrays up to this size are kept for reuse when emptied. */
    private static final int KEEP = 8 * 1024;

    private byte[] bytes = EMPTY;
    private int size;

    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    /** Moves {@code n} bytes from {@code src} (advancing its position) to the end. */
    void append(ByteBuffer src, int n) {
        if (size + n > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(size + n, Math.min(Math.max(256, bytes.length * 2), size + n + KEEP)));
        }
        src.get(bytes, size, n);
        size += n;
    }

    byte get(int index) {
        return bytes[index];
    }

    /** A new buffer holding a copy of {@code length} bytes from {@code from}. */
    ByteBuffer copy(int from, int length) {
        return ByteBuffer.wrap(Arrays.copyOfRange(bytes, from, from + length));
    }

    /** The index of the first occurrence of {@code pattern} at or after {@code from}, or -1. */
    int indexOf(byte[] pattern, int from) {
        int last = size - pattern.length;
        byte first = pattern[0];
        outer:
        for (int i = Math.max(0, from); i <= last; i++) {
            if (bytes[i] != first) {
                continue;
            }
            for (int j = 1; j < pattern.length; j++) {
                if (bytes[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    void clear() {
        size = 0;
        if (bytes.length > KEEP) {
            bytes = EMPTY;
        }
    }
}
