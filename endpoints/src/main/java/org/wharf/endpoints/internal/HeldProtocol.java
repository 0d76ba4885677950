package org.wharf.endpoints.internal;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Set;

import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.Transport;

/**
 * Holds a connection accepted while an endpoint has no protocol for a moment (its bundle is
 * being updated): reading pauses, what arrived is kept, and once a protocol comes the
 * connection is handed to it as if it had just been made. Runs on the connection's loop.
 */
final class HeldProtocol implements Protocol {

    private final Set<HeldProtocol> held;
    /** The connection's share of the memory budget, for the protocol it is released to. */
    final org.wharf.protocol.api.MemoryBudget budget;
    private final ArrayDeque<ByteBuffer> pending = new ArrayDeque<>();
    private Transport transport;
    private Protocol target;
    private boolean eof;
    private boolean lost;

    HeldProtocol(Set<HeldProtocol> held, org.wharf.protocol.api.MemoryBudget budget) {
        this.budget = budget;
        this.held = held;
    }

    @Override
    public void connectionMade(Transport t) {
        transport = t;
        t.pauseReading();
        held.add(this);
    }

    @Override
    public void dataReceived(ByteBuffer data) {
        if (target != null) {
            target.dataReceived(data);
        } else {
            pending.add(ByteBuffer.allocate(data.remaining()).put(data).flip());
        }
    }

    @Override
    public boolean eofReceived() {
        if (target != null) {
            return target.eofReceived();
        }
        eof = true;
        return true; // decided by the protocol that takes the connection
    }

    @Override
    public void pauseWriting() {
        if (target != null) {
            target.pauseWriting();
        }
    }

    @Override
    public void resumeWriting() {
        if (target != null) {
            target.resumeWriting();
        }
    }

    @Override
    public void connectionLost(Throwable cause) {
        lost = true;
        held.remove(this);
        if (target != null) {
            target.connectionLost(cause);
        }
    }

    /** Hands the connection to a protocol; from any thread, done on the connection's loop. */
    void release(Protocol protocol) {
        transport.loop().execute(() -> {
            held.remove(this);
            if (lost) {
                return;
            }
            target = protocol;
            protocol.connectionMade(transport);
            for (ByteBuffer b; (b = pending.poll()) != null;) {
                protocol.dataReceived(b);
            }
            if (eof && !protocol.eofReceived()) {
                transport.close();
                return;
            }
            transport.resumeReading();
        });
    }

    /** For logs: the protocol it was handed to, else that it is still held. */
    @Override
    public String toString() {
        Protocol t = target;
        return t == null ? "(none: held for a protocol to come)" : t.getClass().getName();
    }

    /** No protocol came: the connection is closed. */
    void close() {
        transport.close();
    }
}
