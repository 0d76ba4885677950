package org.wharf.transport.tck;

import java.nio.ByteBuffer;

import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.Transport;

/**
 * The echo server of the contract tests: writes back what it receives, and stops reading
 * while its own writing is paused (back-pressure from a slow peer reaches the fast one).
 * Closes at end of input, once its writes are flushed.
 */
public class EchoProtocol extends RecordingProtocol {

    private volatile boolean copying;

    /** An echo protocol that records its callbacks too. */
    public EchoProtocol() {
    }

    /**
     * Echoes with {@link Transport#writeCopy} instead of copying into a buffer of its own,
     * and overwrites the received bytes right after: an echo that differs shows that the
     * transport kept a reference to a buffer it did not own.
     *
     * @param copy whether to echo with writeCopy
     * @return this protocol
     */
    public EchoProtocol copying(boolean copy) {
        this.copying = copy;
        return this;
    }

    @Override
    protected void onDataReceived(ByteBuffer data) {
        if (copying) {
            int from = data.position();
            int to = data.limit();
            transport().writeCopy(data);
            scribble(data, from, to);
            return;
        }
        ByteBuffer copy = ByteBuffer.allocate(data.remaining());
        copy.put(data).flip();
        transport().write(copy);
    }

    /** Overwrites {@code [from, to)} of a buffer that was just written with writeCopy. */
    static void scribble(ByteBuffer data, int from, int to) {
        for (int i = from; i < to; i++) {
            data.put(i, (byte) ~data.get(i));
        }
    }

    @Override
    public void pauseWriting() {
        super.pauseWriting();
        transport().pauseReading();
    }

    @Override
    public void resumeWriting() {
        super.resumeWriting();
        transport().resumeReading();
    }

    /**
     * The transport this echo answers on.
     *
     * @return the transport
     */
    @Override
    public synchronized Transport transport() {
        return super.transport();
    }
}
