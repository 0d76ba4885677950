package org.wharf.endpoints.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
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
}
