package org.wharf.protocol.api;

import java.nio.ByteBuffer;
import java.util.function.Consumer;

/** Splits a stream into frames of one fixed size. */
public final class FixedLengthFrameDecoder implements FrameDecoder<ByteBuffer> {

    private final int frameLength;
    private final Accumulator partial = new Accumulator();

    /**
     * A decoder for frames of {@code frameLength} bytes.
     *
     * @param frameLength the size of every frame, positive
     */
    public FixedLengthFrameDecoder(int frameLength) {
        if (frameLength <= 0) {
            throw new IllegalArgumentException("frameLength must be positive, got " + frameLength);
        }
        this.frameLength = frameLength;
    }

    @Override
    public void decode(ByteBuffer data, Consumer<? super ByteBuffer> out) {
        if (!partial.isEmpty()) {
            partial.append(data, Math.min(frameLength - partial.size(), data.remaining()));
            if (partial.size() < frameLength) {
                return;
            }
            out.accept(partial.copy(0, frameLength));
            partial.clear();
        }
        while (data.remaining() >= frameLength) {
            int start = data.position();
            out.accept(DelimiterFrameDecoder.copy(data, start, frameLength));
            data.position(start + frameLength);
        }
        partial.append(data, data.remaining());
    }

    @Override
    public int buffered() {
        return partial.size();
    }
}
