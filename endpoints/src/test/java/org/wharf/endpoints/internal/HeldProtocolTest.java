package org.wharf.endpoints.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
import org.wharf.protocol.api.Drainable;
import org.wharf.protocol.api.MemoryBudget;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.Transport;
import org.wharf.transport.tck.ManualEventLoop;
import org.wharf.transport.tck.MemoryTransport;

/**
 * A connection held while its endpoint has no protocol gets the one that comes, whichever of
 * its loop and the whiteboard's thread is first.
 */
class HeldProtocolTest {

    private final ManualEventLoop loop = new ManualEventLoop();

    /** Answers each read with what it read, prefixed: shows which protocol took the connection. */
    private static Protocol echo(String prefix) {
        return new Protocol() {
            private Transport transport;

            @Override
            public void connectionMade(Transport t) {
                transport = t;
            }

            @Override
            public void dataReceived(ByteBuffer data) {
                transport.write(ByteBuffer.wrap((prefix + StandardCharsets.UTF_8.decode(data)).getBytes(
                        StandardCharsets.UTF_8)));
            }

            @Override
            public void connectionLost(Throwable cause) {
            }
        };
    }

    @Test
    void aConnectionHeldBeforeTheProtocolCameGetsItWithWhatArrivedMeanwhile() {
        HeldProtocol.Hold hold = new HeldProtocol.Hold();
        MemoryTransport t = new MemoryTransport(loop).start(new HeldProtocol(hold, MemoryBudget.UNLIMITED));
        t.receive("early");
        assertEquals("", t.writtenText(), "nothing is read while held");

        hold.release(budget -> echo("v2: "));
        loop.runPending();
        assertEquals("v2: early", t.writtenText());
        t.receive("later");
        assertEquals("v2: earlyv2: later", t.writtenText());
    }

    /**
     * The race of a loaded machine: the loop made the connection's protocol from the holding
     * factory, then was descheduled; the replacement came and released the connections held
     * then; only now does the loop call connectionMade. The connection gets the replacement
     * rather than being held for a decision already taken (it was, until the next restart
     * closed it: WhiteboardIT's "EOF, held during each restart").
     */
    @Test
    void aConnectionMadeFromTheHoldJustBeforeTheProtocolCameButStartedAfterGetsItToo() {
        HeldProtocol.Hold hold = new HeldProtocol.Hold();
        HeldProtocol made = new HeldProtocol(hold, MemoryBudget.UNLIMITED); // the factory ran
        hold.release(budget -> echo("v2: "));                              // the whiteboard decided
        MemoryTransport t = new MemoryTransport(loop).start(made);          // connectionMade, later
        t.receive("hello");
        loop.runPending();
        assertEquals("v2: hello", t.writtenText(), "the connection was left held");
    }

    @Test
    void noProtocolCameSoHeldAndLateConnectionsAreClosedAndOnlyTheFirstDecisionCounts() {
        HeldProtocol.Hold hold = new HeldProtocol.Hold();
        MemoryTransport before = new MemoryTransport(loop).start(new HeldProtocol(hold, MemoryBudget.UNLIMITED));
        HeldProtocol late = new HeldProtocol(hold, MemoryBudget.UNLIMITED);
        hold.close();
        hold.release(budget -> echo("too late: "));
        loop.runPending();
        assertTrue(before.isClosed(), "a held connection no protocol took is closed");
        MemoryTransport after = new MemoryTransport(loop).start(late);
        loop.runPending();
        assertTrue(after.isClosed(), "a connection that joined after the hold was closed is closed");
        assertEquals("", before.writtenText() + after.writtenText());
    }

    /** Counts the asks to drain; closes its connection on the first when {@code closes}. */
    private static final class Draining implements Protocol, Drainable {
        private final boolean closes;
        private Transport transport;
        int drains;

        @Override
        public void connectionMade(Transport t) {
            transport = t;
        }

        @Override
        public void dataReceived(ByteBuffer data) {
        }

        @Override
        public void connectionLost(Throwable cause) {
        }

        Draining(boolean closes) {
            this.closes = closes;
        }

        @Override
        public void drain() {
            drains++;
            if (closes) {
                transport.close();
            }
        }
    }

    /**
     * A held connection handed on is a connection of that version like any other: the next
     * upgrade drains it at its protocol's clean boundary instead of cutting it at the drain
     * timeout (the server asks only a Drainable protocol, and the connection's protocol, as
     * its factory made it, is the hold).
     */
    @Test
    void aConnectionHandedOnIsDrainedByItsProtocolAndOnlyOnce() {
        HeldProtocol.Hold hold = new HeldProtocol.Hold();
        HeldProtocol held = new HeldProtocol(hold, MemoryBudget.UNLIMITED);
        MemoryTransport t = new MemoryTransport(loop).start(held);
        Draining v2 = new Draining(false); // a request in progress: it ends later
        hold.release(budget -> v2);
        loop.runPending();
        drainable(held).drain();
        drainable(held).drain();
        assertEquals(1, v2.drains, "its protocol is asked once");
        assertTrue(!t.isClosed());
    }

    @Test
    void aConnectionAskedToDrainWhileHeldIsDrainedOnceAProtocolTakesIt() {
        HeldProtocol.Hold hold = new HeldProtocol.Hold();
        HeldProtocol held = new HeldProtocol(hold, MemoryBudget.UNLIMITED);
        MemoryTransport t = new MemoryTransport(loop).start(held);
        drainable(held).drain();
        assertTrue(!t.isClosed(), "still held: it waits for the protocol that comes");
        Draining v2 = new Draining(true);
        hold.release(budget -> v2);
        loop.runPending();
        assertEquals(1, v2.drains, "the protocol that took it is asked to drain");
        assertTrue(t.isClosed());
    }

    /** The connection's protocol as the server sees it, which asks only a Drainable one to drain. */
    private static Drainable drainable(Protocol asMade) {
        assertTrue(asMade instanceof Drainable, "a held connection can be drained");
        return (Drainable) asMade;
    }

    /**
     * A protocol that fails as it takes a held connection aborts it. It is started by a task of
     * the loop, not a transport callback, so nothing else would: the connection sat paused until
     * its idle timeout.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"connectionMade", "eofReceived"})
    void aProtocolThatFailsAsItTakesAHeldConnectionAbortsIt(String failingIn) {
        HeldProtocol.Hold hold = new HeldProtocol.Hold();
        MemoryTransport t = new MemoryTransport(loop).start(new HeldProtocol(hold, MemoryBudget.UNLIMITED));
        t.receiveEof(); // the client sent its request and its end while held
        LinkageError failure = new LinkageError("cannot start: " + failingIn); // a bundle update's kind of failure
        hold.release(budget -> new Protocol() {
            @Override
            public void connectionMade(Transport transport) {
                if (failingIn.equals("connectionMade")) {
                    throw failure;
                }
            }

            @Override
            public void dataReceived(ByteBuffer data) {
            }

            @Override
            public boolean eofReceived() {
                throw failure;
            }

            @Override
            public void connectionLost(Throwable cause) {
            }
        });
        try (org.wharf.transport.tck.LogCapture log = new org.wharf.transport.tck.LogCapture()) {
            loop.runPending();
            assertTrue(t.isClosed(), "aborted");
            assertTrue(t.failure() == failure, "with what the protocol threw: " + t.failure());
            assertTrue(log.contains("failed; aborted"), "and said so");
        }
    }
}
