package org.wharf.protocol.api;

import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * Splits a stream at a delimiter, such as {@code \0} or {@code \r\n}. A frame longer than the
 * maximum (not counting the delimiter) is a {@link ProtocolError} as soon as it is known to be
 * too long, without waiting for its end.
 */
public final class DelimiterFrameDecoder implements FrameDecoder<ByteBuffer> {

    private final byte[] delimiter;
    private final int maxFrameLength;
    private final boolean stripDelimiter;
    private final Accumulator partial = new Accumulator();

    /**
     * A decoder for one delimiter.
     *
     * @param delimiter the delimiter bytes, at least one
     * @param maxFrameLength the longest frame in bytes, not counting the delimiter
     * @param stripDelimiter {@code true} to leave the delimiter out of the messages
     * @throws IllegalArgumentException if the delimiter is empty or the maximum negative
     */
    public DelimiterFrameDecoder(byte[] delimiter, int maxFrameLength, boolean stripDelimiter) {
        if (delimiter.length == 0) {
            throw new IllegalArgumentException("delimiter must not be empty");
        }
        if (maxFrameLength < 0 || maxFrameLength > Integer.MAX_VALUE - delimiter.length) {
            throw new IllegalArgumentException("maxFrameLength out of range: " + maxFrameLength);
        }
        this.delimiter = delimiter.clone();
        this.maxFrameLength = maxFrameLength;
        this.stripDelimiter = stripDelimiter;
    }

    /**
     * The longest frame accepted.
     *
     * @return bytes, not counting the delimiter
     */
    public int maxFrameLength() {
        return maxFrameLength;
    }

    @Override
    public void decode(ByteBuffer data, Consumer<? super ByteBuffer> out) {
        int dlen = delimiter.length;
        while (data.hasRemaining()) {
            if (partial.isEmpty()) {
                // Nothing carried over: cut frames straight out of the input.
                int start = data.position();
                int at = indexOf(data, start);
                if (at >= 0) {
                    checkLength(at - start);
                    out.accept(copy(data, start, (at - start) + (stripDelimiter ? 0 : dlen)));
                    data.position(at + dlen);
                    continue;
                }
                int rest = data.remaining();
                if (rest > maxFrameLength + dlen - 1) {
                    throw tooLong(rest - dlen + 1);
                }
                partial.append(data, rest);
            } else {
                // Complete the carried-over frame with no more input than a frame may hold.
                int before = partial.size();
                int n = Math.min(maxFrameLength + dlen - before, data.remaining());
                partial.append(data, n);
                int at = partial.indexOf(delimiter, before - dlen + 1);
                if (at >= 0) {
                    checkLength(at);
                    out.accept(partial.copy(0, at + (stripDelimiter ? 0 : dlen)));
                    // Give back the bytes after the delimiter: they start the next frame.
                    data.position(data.position() - (partial.size() - at - dlen));
                    partial.clear();
                } else if (partial.size() >= maxFrameLength + dlen) {
                    throw tooLong(partial.size() - dlen + 1);
                }
            }
        }
    }

    @Override
    public int buffered() {
        return partial.size();
    }

    private int indexOf(ByteBuffer data, int from) {
        int last = data.limit() - delimiter.length;
        byte first = delimiter[0];
        outer:
        for (int i = from; i <= last; i++) {
            if (data.get(i) != first) {
                continue;
            }
            for (int j = 1; j < delimiter.length; j++) {
                if (data.get(i + j) != delimiter[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private void checkLength(int length) {
        if (length > maxFrameLength) {
            throw tooLong(length);
        }
    }

    private ProtocolError tooLong(int atLeast) {
        return new ProtocolError("frame of at least " + atLeast + " bytes exceeds the maximum of "
                + maxFrameLength + " bytes before a delimiter");
    }

    static ByteBuffer copy(ByteBuffer data, int from, int length) {
        byte[] frame = new byte[length];
        data.get(from, frame);
        return ByteBuffer.wrap(frame);
    }
}
