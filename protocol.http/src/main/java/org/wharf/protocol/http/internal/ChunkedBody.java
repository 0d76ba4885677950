package org.wharf.protocol.http.internal;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A chunked body as it comes, in segments of at most {@value #SEGMENT} bytes, so what it holds
 * is its bytes plus at most one segment's room: a {@code ByteArrayOutputStream} doubles its
 * array as it grows and copies it once more at the end, briefly three times what the memory
 * budget reserved. {@link #toArray()} copies once, into an array of the body's length.
 */
final class ChunkedBody {

    static final int SEGMENT = 16 * 1024;
    private static final int SMALLEST = 256;

    private final List<byte[]> full = new ArrayList<>();
    private byte[] last;
    private int lastSize;
    private long size;
    private long fullBytes;

    long size() {
        return size;
    }

    /**
     * Appends {@code n} bytes from {@code src}'s position (advancing it).
     *
     * @param expected how many bytes of this chunk are still to come, {@code n} among them: a
     *        new segment need not be larger
     */
    void write(ByteBuffer src, int n, long expected) {
        while (n > 0) {
            if (last == null || lastSize == last.length) {
                if (last != null) {
                    full.add(last);
                    fullBytes += last.length;
                }
                last = new byte[(int) Math.min(SEGMENT, Math.max(expected, SMALLEST))];
                lastSize = 0;
            }
            int k = Math.min(n, last.length - lastSize);
            src.get(last, lastSize, k);
            lastSize += k;
            size += k;
            n -= k;
            expected -= k;
        }
    }

    /** The bytes held now, the unused room of the last segment included, for tests. */
    long held() {
        return fullBytes + (last == null ? 0 : last.length);
    }

    /** The body in one array of its length; this one is emptied. */
    byte[] toArray() {
        byte[] out;
        if (full.isEmpty() && last != null && lastSize == last.length) {
            out = last;
        } else {
            out = new byte[Math.toIntExact(size)];
            int at = 0;
            for (byte[] b : full) {
                System.arraycopy(b, 0, out, at, b.length);
                at += b.length;
            }
            if (last != null) {
                System.arraycopy(last, 0, out, at, lastSize);
            }
        }
        full.clear();
        fullBytes = 0;
        last = null;
        lastSize = 0;
        size = 0;
        return out;
    }
}
