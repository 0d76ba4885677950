package org.wharf.protocol.api;

import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * Splits a stream into text lines ended by {@code \n} or {@code \r\n}; the line ending is not
 * part of the message. A line longer than the maximum is a {@link ProtocolError}.
 */
public final class LineFrameDecoder implements FrameDecoder<String> {

    private static final byte[] LF = {'\n'};

    private final int maxLineLength;
    private final Charset charset;
    private final DelimiterFrameDecoder frames;

    /**
     * A decoder for UTF-8 lines.
     *
     * @param maxLineLength the longest line in bytes, without its line ending
     */
    public LineFrameDecoder(int maxLineLength) {
        this(maxLineLength, StandardCharsets.UTF_8);
    }

    /**
     * A decoder for lines in a given character set.
     *
     * @param maxLineLength the longest line in bytes, without its line ending
     * @param charset the encoding of the lines (one where {@code \r} and {@code \n} are single bytes)
     */
    public LineFrameDecoder(int maxLineLength, Charset charset) {
        if (maxLineLength < 0 || maxLineLength == Integer.MAX_VALUE) {
            throw new IllegalArgumentException("maxLineLength out of range: " + maxLineLength);
        }
        this.maxLineLength = maxLineLength;
        this.charset = charset;
        // One byte more than the longest line, for a \r before the \n.
        this.frames = new DelimiterFrameDecoder(LF, maxLineLength + 1, true);
    }

    @Override
    public void decode(ByteBuffer data, Consumer<? super String> out) {
        frames.decode(data, line -> out.accept(toLine(line)));
    }

    @Override
    public int buffered() {
        return frames.buffered();
    }

    private String toLine(ByteBuffer line) {
        int length = line.remaining();
        if (length > 0 && line.get(line.limit() - 1) == '\r') {
            length--;
        }
        if (length > maxLineLength) {
            throw new ProtocolError("line of " + length + " bytes exceeds the maximum of " + maxLineLength);
        }
        return new String(line.array(), line.arrayOffset() + line.position(), length, charset);
    }
}
