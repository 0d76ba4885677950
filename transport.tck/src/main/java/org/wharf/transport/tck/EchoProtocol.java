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

    /** An echo protocol that records its callbacks too. */
    public EchoProtocol() {
    }

    @Override
    protected void onDataReceived(ByteBuffer data) {
        ByteBuffer copy = ByteBuffer.allocate(data.remaining());
        copy.put(data).flip();
        transport().write(copy);
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
