package org.wharf.transport.tck;

import java.net.SocketAddress;
import java.nio.ByteBuffer;

/** The datagram echo of the tests: each datagram goes back to its sender, and is recorded. */
public class DatagramEchoProtocol extends RecordingDatagramProtocol {

    /** An echo that records what it receives too. */
    public DatagramEchoProtocol() {
    }

    @Override
    protected void onDatagram(byte[] data, SocketAddress sender) {
        transport().sendTo(ByteBuffer.wrap(data), sender);
    }
}
