package org.wharf.protocol.api;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.Consumer;

/**
 * Splits a stream into frames that start with a length field of 1, 2, 4 or 8 bytes, in either
 * byte order. The field holds the payload length plus {@code lengthAdjustment} subtracted
 * (for a field that counts the header too, the adjustment is minus the field length). A
 * length above the maximum, or negative, is a {@link ProtocolError} before any payload is
 * buffered. Also {@linkplain #encode(ByteBuffer) encodes} frames in the same format.
 */
public final class LengthFieldFrameDecoder implements FrameDecoder<ByteBuffer> {

    private final int fieldLength;
    private final ByteOrder order;
    private final int maxFrameLength;
    private final int lengthAdjustment;
    private final boolean stripHeader;
    private final Accumulator partial = new Accumulator();

    /**
     * A decoder whose messages are the payloads (header stripped) and whose length field
     * counts the payload only.
     *
     * @param fieldLength 1, 2, 4 or 8 bytes
     * @param order the byte order of the length field
     * @param maxFrameLength the largest payload in bytes
     */
    public LengthFieldFrameDecoder(int fieldLength, ByteOrder order, int maxFrameLength) {
        this(fieldLength, order, maxFrameLength, 0, true);
    }

    /**
     * A decoder with every option.
     *
     * @param fieldLength 1, 2, 4 or 8 bytes
     * @param order the byte order of the length field
     * @param maxFrameLength the largest payload in bytes
     * @param lengthAdjustment added to the field's value to give the payload length
     * @param stripHeader {@code true} for messages without the length field
     * @throws IllegalArgumentException if the field length is not 1, 2, 4 or 8, or the maximum is negative
     */
    public LengthFieldFrameDecoder(int fieldLength, ByteOrder order, int maxFrameLength, int lengthAdjustment,
            boolean stripHeader) {
        if (fieldLength != 1 && fieldLength != 2 && fieldLength != 4 && fieldLength != 8) {
            throw new IllegalArgumentException("length field must be 1, 2, 4 or 8 bytes, got " + fieldLength);
        }
        if (maxFrameLength < 0 || maxFrameLength > Integer.MAX_VALUE - fieldLength) {
            throw new IllegalArgumentException("maxFrameLength out of range: " + maxFrameLength);
        }
        this.fieldLength = fieldLength;
        this.order = order;
        this.maxFrameLength = maxFrameLength;
        this.lengthAdjustment = lengthAdjustment;
        this.stripHeader = stripHeader;
    }

    @Override
    public void decode(ByteBuffer data, Consumer<? super ByteBuffer> out) {
        while (data.hasRemaining()) {
            if (partial.isEmpty()) {
                int start = data.position();
                if (data.remaining() >= fieldLength) {
                    int payload = payloadLength(fieldValue(data, start));
                    int total = fieldLength + payload;
                    if (data.remaining() >= total) {
                        out.accept(stripHeader
                                ? DelimiterFrameDecoder.copy(data, start + fieldLength, payload)
                                : DelimiterFrameDecoder.copy(data, start, total));
                        data.position(start + total);
                        continue;
                    }
                }
                partial.append(data, data.remaining());
            } else {
                if (partial.size() < fieldLength) {
                    partial.append(data, Math.min(fieldLength - partial.size(), data.remaining()));
                    if (partial.size() < fieldLength) {
                        return;
                    }
                }
                int payload = payloadLength(bufferedFieldValue());
                int total = fieldLength + payload;
                partial.append(data, Math.min(total - partial.size(), data.remaining()));
                if (partial.size() == total) {
                    out.accept(stripHeader ? partial.copy(fieldLength, payload) : partial.copy(0, total));
                    partial.clear();
                }
            }
        }
    }

    @Override
    public int buffered() {
        return partial.size();
    }

    /**
     * Frames a payload in this decoder's format: length field, then the payload's remaining
     * bytes (copied; the payload's position is not moved).
     *
     * @param payload the payload
     * @return a new buffer with header and payload, ready to read
     * @throws IllegalArgumentException if the payload exceeds the maximum or the field's range
     */
    public ByteBuffer encode(ByteBuffer payload) {
        int length = payload.remaining();
        if (length > maxFrameLength) {
            throw new IllegalArgumentException("payload of " + length + " bytes exceeds the maximum of " + maxFrameLength);
        }
        long value = (long) length - lengthAdjustment;
        if (value < 0 || (fieldLength < 8 && value >= 1L << (8 * fieldLength))) {
            throw new IllegalArgumentException("length " + value + " does not fit a " + fieldLength + "-byte field");
        }
        ByteBuffer frame = ByteBuffer.allocate(fieldLength + length).order(order);
        switch (fieldLength) {
            case 1 -> frame.put((byte) value);
            case 2 -> frame.putShort((short) value);
            case 4 -> frame.putInt((int) value);
            default -> frame.putLong(value);
        }
        frame.put(payload.duplicate());
        return frame.flip().order(ByteOrder.BIG_ENDIAN);
    }

    private long fieldValue(ByteBuffer data, int at) {
        ByteOrder saved = data.order();
        data.order(order);
        try {
            return switch (fieldLength) {
                case 1 -> data.get(at) & 0xFFL;
                case 2 -> data.getShort(at) & 0xFFFFL;
                case 4 -> data.getInt(at) & 0xFFFF_FFFFL;
                default -> data.getLong(at);
            };
        } finally {
            data.order(saved);
        }
    }

    private long bufferedFieldValue() {
        long value = 0;
        for (int i = 0; i < fieldLength; i++) {
            int b = partial.get(order == ByteOrder.BIG_ENDIAN ? i : fieldLength - 1 - i) & 0xFF;
            value = (value << 8) | b;
        }
        return fieldLength == 8 ? value : value & ((1L << (8 * fieldLength)) - 1);
    }

    private int payloadLength(long fieldValue) {
        if (fieldValue < 0) {
            throw new ProtocolError("length field " + Long.toUnsignedString(fieldValue) + " exceeds the maximum frame of "
                    + maxFrameLength + " bytes");
        }
        long payload = fieldValue + lengthAdjustment;
        if (payload < 0) {
            throw new ProtocolError("length field " + fieldValue + " gives a negative frame length " + payload);
        }
        if (payload > maxFrameLength) {
            throw new ProtocolError("frame of " + payload + " bytes exceeds the maximum of " + maxFrameLength + " bytes");
        }
        return (int) payload;
    }
}
