package org.wharf.endpoints.internal;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

import org.wharf.protocol.api.Drainable;
import org.wharf.protocol.api.MemoryBudget;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.Transport;

/**
 * Holds a connection accepted while an endpoint has no protocol for a moment (its bundle is
 * being updated): reading pauses, what arrived is kept, and once a protocol comes the
 * connection is handed to it as if it had just been made. Runs on the connection's loop.
 *
 * <p>Drainable: a later upgrade asks the protocol it was handed to to end at its next clean
 * boundary, as it asks a connection made by that protocol's factory.
 */
final class HeldProtocol implements Protocol, Drainable {

    /**
     * One absence of an endpoint's protocol: the connections held for it and, once decided,
     * what every one of them gets, those held now and those whose {@code connectionMade} comes
     * later. A connection's protocol is made on its loop (the factory, then
     * {@code connectionMade}) while the decision is taken on the whiteboard's thread: a
     * connection made from the holding factory just before the decision joins just after it,
     * and must get the decision rather than wait for one that was already taken.
     */
    static final class Hold {
        private final Set<HeldProtocol> waiting = new HashSet<>();
        /** Makes the protocol of a held connection from its budget share ({@code null}: close it); null while undecided. */
        private Function<MemoryBudget, Protocol> decision;

        /** The decision if taken (the connection gets it now), else null and the connection waits for it. */
        private synchronized Function<MemoryBudget, Protocol> join(HeldProtocol h) {
            if (decision == null) {
                waiting.add(h);
            }
            return decision;
        }

        private synchronized void leave(HeldProtocol h) {
            waiting.remove(h);
        }

        /**
         * Hands every connection held, now or later, to the protocol {@code maker} makes for it;
         * one for which it makes none ({@code null}) is closed. Only the first decision counts.
         *
         * @param maker called on each connection's loop with its share of the memory budget
         */
        void release(Function<MemoryBudget, Protocol> maker) {
            List<HeldProtocol> now;
            synchronized (this) {
                if (decision != null) {
                    return;
                }
                decision = maker;
                now = new ArrayList<>(waiting);
                waiting.clear();
            }
            now.forEach(h -> h.transport.loop().execute(() -> h.handTo(maker)));
        }

        /** No protocol comes: every connection held, now or later, is closed. */
        void close() {
            release(budget -> null);
        }

        /** Whether a decision was taken. */
        synchronized boolean decided() {
            return decision != null;
        }
    }

    private final Hold hold;
    /** The connection's share of the memory budget, for the protocol it is released to. */
    private final MemoryBudget budget;
    private final ArrayDeque<ByteBuffer> pending = new ArrayDeque<>();
    private Transport transport;
    /** The protocol it was handed to, set on the connection's loop; read by the whiteboard too. */
    private volatile Protocol target;
    private boolean eof;
    private boolean lost;
    /** Asked to drain while held: the protocol it is handed to is asked once it has the connection. */
    private boolean drainPending;
    /** Drainable's contract: the protocol is asked at most once. */
    private boolean drainAsked;

    /** @return whether the connection was held for this absence of its endpoint's protocol */
    boolean heldBy(Hold h) {
        return hold == h;
    }

    /** @return whether the connection still waits for a protocol (it was not handed on yet) */
    boolean waiting() {
        return target == null;
    }

    HeldProtocol(Hold hold, MemoryBudget budget) {
        this.budget = budget;
        this.hold = hold;
    }

    @Override
    public void connectionMade(Transport t) {
        transport = t;
        t.pauseReading();
        Function<MemoryBudget, Protocol> decided = hold.join(this);
        if (decided != null) {
            handTo(decided);
        }
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
        hold.leave(this);
        if (target != null) {
            target.connectionLost(cause);
        }
    }

    /** Hands the connection to the protocol {@code maker} makes, or closes it; on the connection's loop. */
    private void handTo(Function<MemoryBudget, Protocol> maker) {
        if (lost || target != null) {
            return;
        }
        Protocol protocol;
        try {
            protocol = maker.apply(budget);
        } catch (Throwable e) {
            org.wharf.transport.core.AbstractTransport.rethrowIfFatal(e);
            System.getLogger(HeldProtocol.class.getName()).log(System.Logger.Level.WARNING,
                    "the protocol that came failed to take a held connection; closed: " + e, e);
            protocol = null;
        }
        if (protocol == null) {
            transport.close();
            return;
        }
        target = protocol;
        try {
            // A task of the loop, not a transport callback: what the protocol throws must end the
            // connection here, or it would sit paused until its idle timeout.
            protocol.connectionMade(transport);
            for (ByteBuffer b; (b = pending.poll()) != null;) {
                protocol.dataReceived(b);
            }
            if (eof && !protocol.eofReceived()) {
                transport.close();
                return;
            }
        } catch (Throwable e) {
            // Errors too: during a bundle update a stale or new protocol may fail to link.
            org.wharf.transport.core.AbstractTransport.rethrowIfFatal(e);
            System.getLogger(HeldProtocol.class.getName()).log(System.Logger.Level.WARNING,
                    "the protocol that took a held connection failed; aborted: " + e, e);
            transport.abort(e);
            return;
        }
        transport.resumeReading();
        if (drainPending) {
            drain();
        }
    }

    /**
     * Asks the protocol the connection was handed to to end at its next clean boundary; a
     * connection still held is asked once a protocol takes it (the hold's decision bounds the
     * wait). On the connection's loop.
     */
    @Override
    public void drain() {
        Protocol p = target;
        if (p == null) {
            drainPending = true;
        } else if (p instanceof Drainable d && !drainAsked && !transport.isClosing()) {
            drainAsked = true;
            d.drain();
        }
    }

    /** For logs: the protocol it was handed to, else that it is still held. */
    @Override
    public String toString() {
        Protocol t = target;
        return t == null ? "(none: held for a protocol to come)" : t.getClass().getName();
    }
}
