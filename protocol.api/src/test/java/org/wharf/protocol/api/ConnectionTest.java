package org.wharf.protocol.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import org.junit.jupiter.api.Test;
import org.wharf.transport.tck.ManualEventLoop;
import org.wharf.transport.tck.MemoryTransport;

/** The request cycle: one consumer per request, leftovers to the next, counters and hooks. */
class ConnectionTest {

    private final ManualEventLoop loop = new ManualEventLoop();

    /**
     * Consumes one line; answers it with a prefix. Finishes at once, or when told to
     * ({@code deferred}), as a consumer waiting for a backend would.
     */
    static class LineConsumer implements ProtocolConsumer {
        static final List<LineConsumer> WAITING = new ArrayList<>();
        final String prefix;
        final boolean deferred;
        final StringBuilder line = new StringBuilder();
        Connection connection;
        boolean complete;
        Throwable lostWith;
        boolean lost;

        LineConsumer(String prefix, boolean deferred) {
            this.prefix = prefix;
            this.deferred = deferred;
        }

        @Override
        public void start(Connection c) {
            connection = c;
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            while (data.hasRemaining() && !complete) {
                char ch = (char) data.get();
                if (ch == '\n') {
                    complete = true;
                } else {
                    line.append(ch);
                }
            }
            if (complete && !deferred) {
                answer();
            } else if (complete) {
                WAITING.add(this);
            }
        }

        @Override
        public boolean eofReceived() {
            return complete; // a complete request still gets its answer
        }

        @Override
        public void connectionLost(Throwable cause) {
            lost = true;
            lostWith = cause;
        }

        void answer() {
            connection.transport().write(ByteBuffer.wrap((prefix + line + "\n").getBytes(StandardCharsets.UTF_8)));
            connection.finished(this);
        }
    }

    /** Hooks that log every event in order. */
    static final class EventLog implements ConnectionHooks {
        final List<String> events = new ArrayList<>();

        @Override
        public void connectionMade(Connection c) {
            events.add("made");
        }

        @Override
        public void connectionLost(Connection c, Throwable cause) {
            events.add("lost");
        }

        @Override
        public void preRequest(Connection c, ProtocolConsumer consumer) {
            events.add("pre");
        }

        @Override
        public void postRequest(Connection c, ProtocolConsumer consumer) {
            events.add("post");
        }
    }

    @Test
    void eachRequestGetsItsOwnConsumerAndLeftoversGoToTheNext() {
        EventLog log = new EventLog();
        List<LineConsumer> consumers = new ArrayList<>();
        Connection connection = new Connection(() -> {
            LineConsumer c = new LineConsumer("> ", false);
            consumers.add(c);
            return c;
        }, log);
        MemoryTransport transport = new MemoryTransport(loop).start(connection);

        transport.receive("one\ntwo\nthr");
        transport.receive("ee\n");
        assertEquals("> one\n> two\n> three\n", transport.writtenText());
        assertEquals(3, consumers.size());
        assertEquals(3, connection.requestsProcessed());
        assertNull(connection.currentConsumer());
        assertEquals(List.of("made", "pre", "post", "pre", "post", "pre", "post"), log.events);
    }

    @Test
    void everySplitOfPipelinedRequestsGivesTheSameAnswers() {
        byte[] stream = "alpha\nbeta\n\ngamma\n".getBytes(StandardCharsets.US_ASCII);
        for (int cut = 0; cut <= stream.length; cut++) {
            ManualEventLoop l = new ManualEventLoop();
            Connection connection = new Connection(() -> new LineConsumer("> ", false));
            MemoryTransport transport = new MemoryTransport(l).start(connection);
            transport.receive(java.util.Arrays.copyOfRange(stream, 0, cut));
            transport.receive(java.util.Arrays.copyOfRange(stream, cut, stream.length));
            assertEquals("> alpha\n> beta\n> \n> gamma\n", transport.writtenText(), "split at " + cut);
            assertEquals(4, connection.requestsProcessed());
        }
    }

    @Test
    void pipelinedBytesWaitWithReadingPausedUntilTheRequestFinishes() {
        LineConsumer.WAITING.clear();
        Connection connection = new Connection(() -> new LineConsumer("> ", true));
        MemoryTransport transport = new MemoryTransport(loop).start(connection);

        transport.receive("first\nsecond\nthi");
        assertEquals(1, LineConsumer.WAITING.size(), "only the first request is being served");
        assertFalse(transport.isReading(), "reading pauses while pipelined bytes wait");
        assertEquals(1, transport.readingPauses());
        transport.receive("rd\n");
        assertEquals(3, transport.heldBytes(), "the transport holds back what arrives meanwhile");

        LineConsumer.WAITING.remove(0).answer();
        assertEquals("> first\n", transport.writtenText());
        assertEquals(1, LineConsumer.WAITING.size(), "the second request started on the leftover bytes");
        assertFalse(transport.isReading(), "the partial third request still waits");

        LineConsumer.WAITING.remove(0).answer();
        assertTrue(transport.isReading());
        loop.runPending(); // the transport delivers what it held
        assertEquals(1, LineConsumer.WAITING.size());
        LineConsumer.WAITING.remove(0).answer();
        assertEquals("> first\n> second\n> third\n", transport.writtenText());
        assertEquals(3, connection.requestsProcessed());
        assertEquals(transport.readingPauses(), transport.readingResumes());
    }

    /** 200 pipelined one-line requests, each answered with {@code ANSWER} bytes: 2 MB of answers. */
    private static final int PIPELINED = 200;
    private static final int ANSWER = 10_000;

    private static String pipelined(int from, int to) {
        StringBuilder b = new StringBuilder();
        for (int i = from; i < to; i++) {
            b.append("r").append(i).append('\n');
        }
        return b.toString();
    }

    @Test
    void noRequestStartsWhileAnswersArePausedSoAClientThatNeverReadsCostsOneAnswerPastTheMark() {
        Connection connection = new Connection(() -> new LineConsumer("x".repeat(ANSWER), false));
        MemoryTransport transport = new MemoryTransport(loop);
        transport.setAutoFlush(false); // the peer reads nothing until the test flushes
        transport.start(connection);
        int high = transport.writeBufferLimits().high();

        transport.receive(pipelined(0, PIPELINED));
        long answered = connection.requestsProcessed();
        assertTrue(answered < PIPELINED, "all " + PIPELINED + " answered into a buffer nobody reads");
        assertTrue(transport.writeBufferSize() <= high + ANSWER + 16,
                "write buffer " + transport.writeBufferSize() + " > high-water mark " + high + " + one answer");
        assertEquals(1, transport.writingPauses());
        assertFalse(transport.isReading(), "the next request is not read while answers wait");

        // Data that arrives meanwhile stays with the transport: the connection holds one read at most.
        transport.receive(pipelined(PIPELINED, PIPELINED + 10));
        assertEquals(answered, connection.requestsProcessed());

        // The peer reads: each drain lets the waiting requests through, a buffer's worth at a time.
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < PIPELINED + 10; i++) {
            expected.append("x".repeat(ANSWER)).append('r').append(i).append('\n');
        }
        for (int turns = 0; connection.requestsProcessed() < PIPELINED + 10; turns++) {
            assertTrue(turns < 1000, "no progress after " + turns + " drains: " + connection.requestsProcessed());
            transport.flush(Integer.MAX_VALUE);
            loop.runPending();
            assertTrue(transport.writeBufferSize() <= high + ANSWER + 16, "write buffer " + transport.writeBufferSize());
        }
        transport.flush(Integer.MAX_VALUE);
        loop.runPending();
        assertEquals(expected.toString(), transport.writtenText(), "every answer, in order");
        assertTrue(transport.isReading());
        assertEquals(transport.readingPauses(), transport.readingResumes());
        assertEquals(transport.writingPauses(), transport.writingResumes());
    }

    @Test
    void requestsThatWaitForTheWriteBufferAreStillAnsweredAfterEndOfInput() {
        Connection connection = new Connection(() -> new LineConsumer("x".repeat(ANSWER), false));
        MemoryTransport transport = new MemoryTransport(loop);
        transport.setAutoFlush(false);
        transport.start(connection);
        transport.receive(pipelined(0, 20));
        transport.receiveEof(); // nc -N: sent everything, then half-closed
        assertTrue(connection.requestsProcessed() < 20);
        assertFalse(transport.isClosing(), "the waiting requests are still owed an answer");
        for (int turns = 0; !transport.isClosed(); turns++) {
            assertTrue(turns < 100, "not closed after " + turns + " drains");
            transport.flush(Integer.MAX_VALUE);
            loop.runPending();
        }
        assertEquals(20, connection.requestsProcessed());
        assertTrue(transport.writtenText().endsWith("r19\n"), "the last answer went out before the close");
        assertNull(transport.failure());
    }

    @Test
    void upgradeSwitchesConsumersAfterTheCurrentRequest() {
        Connection[] self = new Connection[1];
        Supplier<ProtocolConsumer> upgraded = () -> new LineConsumer("v2 ", false);
        Connection connection = new Connection(() -> new LineConsumer("v1 ", false) {
            @Override
            void answer() {
                if (line.toString().equals("upgrade")) {
                    self[0].upgrade(upgraded);
                }
                super.answer();
            }
        });
        self[0] = connection;
        MemoryTransport transport = new MemoryTransport(loop).start(connection);
        transport.receive("hello\nupgrade\nafter\nagain\n");
        assertEquals("v1 hello\nv1 upgrade\nv2 after\nv2 again\n", transport.writtenText());
    }

    @Test
    void countersAddUpOverConnections() {
        RequestCounters counters = new RequestCounters();
        MemoryTransport a = new MemoryTransport(loop).start(new Connection(() -> new LineConsumer("", false), counters));
        MemoryTransport b = new MemoryTransport(loop).start(new Connection(() -> new LineConsumer("", false), counters));
        a.receive("1\n2\n");
        b.receive("3\n");
        assertEquals(2, counters.sessions());
        assertEquals(2, counters.open());
        assertEquals(3, counters.requests());
        assertEquals(6, counters.bytesReceived());
        a.close();
        loop.runPending();
        assertEquals(1, counters.open());
        assertEquals(2, counters.sessions());
    }

    @Test
    void endOfInputBetweenRequestsClosesAndDuringOneWaitsForIt() {
        Connection idle = new Connection(() -> new LineConsumer("", false));
        MemoryTransport t1 = new MemoryTransport(loop).start(idle);
        t1.receive("a\n");
        t1.receiveEof();
        assertTrue(t1.isClosing());

        LineConsumer.WAITING.clear();
        Connection busy = new Connection(() -> new LineConsumer("", true));
        MemoryTransport t2 = new MemoryTransport(loop).start(busy);
        t2.receive("slow\n");
        t2.receiveEof();
        assertFalse(t2.isClosing(), "the request in progress still answers");
        LineConsumer.WAITING.remove(0).answer();
        assertEquals("slow\n", t2.writtenText());
        assertTrue(t2.isClosing());

        Connection truncated = new Connection(() -> new LineConsumer("", false));
        MemoryTransport t3 = new MemoryTransport(loop).start(truncated);
        t3.receive("no newline");
        t3.receiveEof();
        assertTrue(t3.isClosing(), "an incomplete request is abandoned");
        assertEquals("", t3.writtenText());
    }

    @Test
    void theCurrentConsumerHearsOfTheLostConnection() {
        LineConsumer.WAITING.clear();
        LineConsumer[] current = new LineConsumer[1];
        Connection connection = new Connection(() -> current[0] = new LineConsumer("", true));
        MemoryTransport transport = new MemoryTransport(loop).start(connection);
        transport.receive("partial");
        IllegalStateException reset = new IllegalStateException("connection reset");
        transport.fail(reset);
        loop.runPending();
        assertTrue(current[0].lost);
        assertEquals(reset, current[0].lostWith);
        assertNull(connection.currentConsumer());
        connection.finished(current[0]); // late finish after loss: ignored
    }

    @Test
    void finishingARequestThatIsNotCurrentIsAnError() {
        Connection connection = new Connection(() -> new LineConsumer("", true));
        new MemoryTransport(loop).start(connection);
        assertThrows(IllegalStateException.class, () -> connection.finished(new LineConsumer("", false)));
    }

    @Test
    void finishFromAnotherThreadTakesEffectOnTheLoop() throws Exception {
        LineConsumer.WAITING.clear();
        Connection connection = new Connection(() -> new LineConsumer("", true));
        MemoryTransport transport = new MemoryTransport(loop).start(connection);
        transport.receive("x\n");
        LineConsumer waiting = LineConsumer.WAITING.remove(0);
        Thread other = new Thread(() -> connection.finished(waiting));
        other.start();
        other.join();
        assertEquals(0, connection.requestsProcessed(), "not counted before the loop runs it");
        loop.runPending();
        assertEquals(1, connection.requestsProcessed());
    }

    @Test
    void aConsumerThatThrowsAbortsTheConnection() {
        Connection connection = new Connection(() -> data -> {
            throw new ProtocolError("bad request line");
        });
        MemoryTransport transport = new MemoryTransport(loop).start(connection);
        transport.receive("garbage\n");
        assertInstanceOf(ProtocolError.class, transport.failure());
    }

    @Test
    void aBurstOfPipelinedRequestsIsServedSomeRequestsPerTurnWithReadingPausedBetween() {
        Connection connection = new Connection(() -> new LineConsumer("> ", false));
        MemoryTransport transport = new MemoryTransport(loop).start(connection);

        transport.receive(pipelined(0, 100));
        assertEquals(Connection.REQUESTS_PER_TURN, connection.requestsProcessed(), "one turn's worth of requests");
        assertFalse(transport.isReading(), "the rest of the burst waits with reading paused");
        transport.receive(pipelined(100, 110)); // in flight when reading paused
        int turns = 1;
        while (connection.requestsProcessed() < 110) {
            long before = connection.requestsProcessed();
            loop.turn(); // the loop's next turn
            turns++;
            assertTrue(connection.requestsProcessed() - before <= Connection.REQUESTS_PER_TURN,
                    (connection.requestsProcessed() - before) + " requests in one turn");
            assertTrue(connection.requestsProcessed() > before, "no progress in turn " + turns);
        }
        assertEquals(110 / Connection.REQUESTS_PER_TURN + 1, turns);
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < 110; i++) {
            expected.append("> r").append(i).append('\n');
        }
        assertEquals(expected.toString(), transport.writtenText(), "every answer, in order");
        assertTrue(transport.isReading());
        assertEquals(transport.readingPauses(), transport.readingResumes());
    }

    @Test
    void theRequestsPerTurnAndTheHeldBytesAreTheConnectionsSettings() {
        Connection connection = new Connection(() -> new LineConsumer("> ", false));
        connection.setRequestsPerTurn(3);
        connection.setMaxHeldBytes(16);
        MemoryTransport transport = new MemoryTransport(loop).start(connection);
        transport.receive(pipelined(0, 5));
        assertEquals(3, connection.requestsProcessed());
        loop.turn();
        assertEquals(5, connection.requestsProcessed());

        // 17 bytes wait behind a request that does not finish: past the held bytes' bound.
        Connection waiting = new Connection(() -> new LineConsumer("> ", true));
        waiting.setMaxHeldBytes(16);
        MemoryTransport other = new MemoryTransport(loop).start(waiting);
        other.receive("first\n" + "x".repeat(16) + "\n");
        assertInstanceOf(ProtocolError.class, other.failure());
        assertThrows(IllegalArgumentException.class, () -> connection.setRequestsPerTurn(0));
        assertThrows(IllegalArgumentException.class, () -> connection.setMaxHeldBytes(0));
    }

    @Test
    void endOfInputAfterABurstClosesOnceTheLastHeldRequestIsAnswered() {
        Connection connection = new Connection(() -> new LineConsumer("> ", false));
        MemoryTransport transport = new MemoryTransport(loop).start(connection);
        transport.receive(pipelined(0, 40));
        transport.receiveEof();
        assertFalse(transport.isClosing(), "the held requests are still owed their answers");
        for (int turns = 0; !transport.isClosed(); turns++) {
            assertTrue(turns < 10, "not closed after " + turns + " turns");
            loop.turn();
        }
        assertEquals(40, connection.requestsProcessed());
        assertTrue(transport.writtenText().endsWith("> r39\n"));
        assertNull(transport.failure());
    }

    @Test
    void aConsumerThatThrowsAfterAYieldAbortsOnlyItsConnection() {
        int[] n = {0};
        Connection connection = new Connection(() -> {
            if (++n[0] > Connection.REQUESTS_PER_TURN) {
                return data -> {
                    throw new ProtocolError("bad request line");
                };
            }
            return new LineConsumer("> ", false);
        });
        MemoryTransport transport = new MemoryTransport(loop).start(connection);
        transport.receive(pipelined(0, Connection.REQUESTS_PER_TURN + 2));
        assertNull(transport.failure());
        loop.turn();
        assertInstanceOf(ProtocolError.class, transport.failure());
        assertTrue(transport.isClosed());
    }

    @Test
    void aConsumerThatThrowsWhenAnotherThreadFinishedTheRequestBeforeAbortsOnlyItsConnection() throws Exception {
        LineConsumer.WAITING.clear();
        List<String> refused = new ArrayList<>();
        int[] n = {0};
        Connection connection = new Connection(() -> {
            if (++n[0] == 2) {
                return data -> {
                    throw new ProtocolError("bad request line");
                };
            }
            return new LineConsumer("", true);
        }, new ConnectionHooks() {
            @Override
            public void requestRefused(Connection c, String why) {
                refused.add(why);
            }
        });
        MemoryTransport transport = new MemoryTransport(loop).start(connection);
        transport.receive("first\nsecond\n");
        LineConsumer waiting = LineConsumer.WAITING.remove(0);
        Thread other = new Thread(() -> connection.finished(waiting)); // as a backend's answer would
        other.start();
        other.join();
        loop.runPending(); // the finish, then the second request's consumer throws: nothing escapes
        assertInstanceOf(ProtocolError.class, transport.failure());
        assertTrue(transport.isClosed());
        assertEquals(1, refused.size(), refused.toString());
    }
}
