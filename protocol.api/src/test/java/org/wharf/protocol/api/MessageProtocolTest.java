package org.wharf.protocol.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.wharf.transport.tck.ManualEventLoop;
import org.wharf.transport.tck.MemoryTransport;

class MessageProtocolTest {

    private final ManualEventLoop loop = new ManualEventLoop();
    private final MemoryTransport transport = new MemoryTransport(loop);

    /** An executor that runs nothing until the test says so. */
    static final class StepExecutor implements Executor {
        final ArrayDeque<Runnable> tasks = new ArrayDeque<>();

        @Override
        public void execute(Runnable command) {
            tasks.add(command);
        }

        /** Runs one handler call; its completion then waits on the event loop. */
        void runOne() {
            tasks.remove().run();
        }
    }

    @Test
    void handlesEachMessageInOrderOnTheLoop() {
        List<String> handled = new ArrayList<>();
        transport.start(new MessageProtocol<>(new LineFrameDecoder(100), (line, t) -> {
            assertTrue(loop.inEventLoop());
            handled.add(line);
            t.write(ByteBuffer.wrap(("echo " + line + "\n").getBytes(StandardCharsets.UTF_8)));
        }));
        transport.receive("one\ntw");
        transport.receive("o\nthree\n");
        assertEquals(List.of("one", "two", "three"), handled);
        assertEquals("echo one\necho two\necho three\n", transport.writtenText());
        assertEquals(0, transport.readingPauses(), "a handler on the loop never lets the queue fill");
    }

    @Test
    void queueFullPausesReadingAndDrainingToHalfResumesIt() {
        StepExecutor executor = new StepExecutor();
        List<String> handled = new ArrayList<>();
        MessageProtocol<String> protocol = new MessageProtocol<>(new LineFrameDecoder(100),
                (line, t) -> handled.add(line), executor, 10);
        transport.start(protocol);

        // The first message goes to the executor at once; nine more wait: not full yet.
        transport.receive(lines(0, 10));
        assertEquals(9, protocol.queued());
        assertTrue(transport.isReading());
        assertEquals(0, transport.readingPauses());

        // The tenth waiting message fills the queue: reading pauses, once.
        transport.receive(lines(10, 11));
        assertEquals(10, protocol.queued());
        assertFalse(transport.isReading());
        assertEquals(1, transport.readingPauses());

        // Data sent meanwhile is held back by the transport, not decoded.
        transport.receive(lines(11, 20));
        assertEquals(10, protocol.queued());
        assertTrue(transport.heldBytes() > 0);

        // Draining: still paused while more than half the bound waits...
        for (int waiting = 9; waiting >= 6; waiting--) {
            step(executor);
            assertEquals(waiting, protocol.queued());
            assertFalse(transport.isReading(), "paused with " + waiting + " queued");
        }
        // ...and resumed, once, when five wait; the held data is then decoded.
        step(executor);
        assertEquals(1, transport.readingResumes());
        assertEquals(14, protocol.queued(), "5 waiting + 9 held lines decoded");
        assertEquals(2, transport.readingPauses(), "the held lines fill the queue again");

        while (!executor.tasks.isEmpty()) {
            step(executor);
        }
        assertEquals(lineList(0, 20), handled);
        assertEquals(0, protocol.queued());
        assertTrue(transport.isReading());
        assertEquals(transport.readingPauses(), transport.readingResumes());
    }

    /** Replies of 10,000 bytes: 200 of them are 2 MB nobody reads. */
    private static final int REPLY = 10_000;

    private static void reply(String line, org.wharf.transport.api.Transport t) {
        t.write(ByteBuffer.wrap(("x".repeat(REPLY - line.length() - 1) + line + "\n").getBytes(StandardCharsets.UTF_8)));
    }

    private static String replies(int from, int to) {
        StringBuilder b = new StringBuilder();
        for (String line : lineList(from, to)) {
            b.append("x".repeat(REPLY - line.length() - 1)).append(line).append('\n');
        }
        return b.toString();
    }

    @Test
    void onTheLoopNoMessageIsHandledWhileRepliesArePaused() {
        List<String> handled = new ArrayList<>();
        MessageProtocol<String> protocol = new MessageProtocol<>(new LineFrameDecoder(100), (line, t) -> {
            handled.add(line);
            reply(line, t);
        });
        transport.setAutoFlush(false); // the peer reads nothing until the test flushes
        transport.start(protocol);
        int high = transport.writeBufferLimits().high();

        transport.receive(lines(0, 200));
        assertTrue(handled.size() < 200, "all 200 replies written into a buffer nobody reads");
        assertTrue(transport.writeBufferSize() <= high + REPLY,
                "write buffer " + transport.writeBufferSize() + " > high-water mark " + high + " + one reply");
        assertFalse(transport.isReading(), "nothing more is read while replies wait");
        assertEquals(200 - handled.size(), protocol.queued(), "the rest of that read waits, decoded");

        transport.receiveEof(); // the peer sent everything; the queued messages are still owed replies
        assertFalse(transport.isClosing());
        for (int turns = 0; !transport.isClosed(); turns++) {
            assertTrue(turns < 1000, "no progress after " + turns + " drains: " + handled.size());
            transport.flush(Integer.MAX_VALUE);
            loop.runPending();
            assertTrue(transport.writeBufferSize() <= high + REPLY, "write buffer " + transport.writeBufferSize());
        }
        assertEquals(lineList(0, 200), handled);
        assertEquals(replies(0, 200), transport.writtenText());
        assertNull(transport.failure());
    }

    @Test
    void onTheLoopReadingResumesOnceTheWaitingMessagesAreHandled() {
        MessageProtocol<String> protocol = new MessageProtocol<>(new LineFrameDecoder(100), MessageProtocolTest::reply);
        transport.setAutoFlush(false);
        transport.start(protocol);
        transport.receive(lines(0, 20));
        assertFalse(transport.isReading());
        transport.receive(lines(20, 40)); // held by the transport, not decoded
        assertTrue(transport.heldBytes() > 0);
        for (int turns = 0; transport.heldBytes() > 0 || protocol.queued() > 0; turns++) {
            assertTrue(turns < 100, "stuck");
            transport.flush(Integer.MAX_VALUE);
            loop.runPending();
        }
        transport.flush(Integer.MAX_VALUE);
        loop.runPending();
        assertEquals(replies(0, 40), transport.writtenText());
        assertTrue(transport.isReading());
        assertEquals(transport.readingPauses(), transport.readingResumes());
    }

    @Test
    void onAnExecutorNoMessageIsHandedOverWhileRepliesArePaused() {
        StepExecutor executor = new StepExecutor();
        List<String> handled = new ArrayList<>();
        MessageProtocol<String> protocol = new MessageProtocol<>(new LineFrameDecoder(100), (line, t) -> {
            handled.add(line);
            reply(line, t);
        }, executor, 10);
        transport.setAutoFlush(false);
        transport.start(protocol);
        int high = transport.writeBufferLimits().high();
        transport.receive(lines(0, 50));
        while (!executor.tasks.isEmpty()) {
            step(executor);
        }
        int done = handled.size();
        assertTrue(done < 50, "all 50 replies written into a buffer nobody reads");
        assertTrue(transport.writeBufferSize() <= high + REPLY, "write buffer " + transport.writeBufferSize());
        assertFalse(transport.isReading(), "the queue is full of messages that wait for the buffer");

        for (int turns = 0; handled.size() < 50; turns++) {
            assertTrue(turns < 1000, "stuck at " + handled.size());
            transport.flush(Integer.MAX_VALUE);
            loop.runPending();
            while (!executor.tasks.isEmpty()) {
                step(executor);
            }
            assertTrue(transport.writeBufferSize() <= high + REPLY, "write buffer " + transport.writeBufferSize());
        }
        transport.flush(Integer.MAX_VALUE);
        assertEquals(replies(0, 50), transport.writtenText());
    }

    @Test
    void oneMessageAtATimePerConnectionEvenOnAThreadPool() throws InterruptedException {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<String> handled = Collections.synchronizedList(new ArrayList<>());
            AtomicReference<String> overlap = new AtomicReference<>();
            int[] inHandler = {0};
            MessageProtocol<String> protocol = new MessageProtocol<>(new LineFrameDecoder(100), (line, t) -> {
                synchronized (inHandler) {
                    if (++inHandler[0] > 1) {
                        overlap.set(line);
                    }
                }
                handled.add(line);
                synchronized (inHandler) {
                    inHandler[0]--;
                }
            }, pool, 10);
            transport.start(protocol);
            int n = 1000;
            for (int i = 0; i < n; i += 50) {
                transport.receive(lines(i, i + 50));
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (handled.size() < n && System.nanoTime() < deadline) {
                loop.awaitAndRun(Duration.ofSeconds(10));
            }
            assertEquals(lineList(0, n), handled);
            assertNull(overlap.get(), "two messages of one connection were handled at once");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void failingHandlerAbortsTheConnectionWithItsException() {
        List<String> handled = new ArrayList<>();
        IllegalStateException boom = new IllegalStateException("handler failed on purpose");
        transport.start(new MessageProtocol<>(new LineFrameDecoder(100), (line, t) -> {
            handled.add(line);
            if (line.equals("bad")) {
                throw boom;
            }
        }));
        transport.receive("ok\nbad\nnever\n");
        assertEquals(List.of("ok", "bad"), handled, "nothing is handled after the failure");
        assertTrue(transport.isClosed());
        assertSame(boom, transport.failure());
    }

    @Test
    void failingHandlerOnTheExecutorAbortsToo() {
        StepExecutor executor = new StepExecutor();
        IllegalStateException boom = new IllegalStateException("handler failed on purpose");
        List<String> handled = new ArrayList<>();
        MessageProtocol<String> protocol = new MessageProtocol<>(new LineFrameDecoder(100), (line, t) -> {
            handled.add(line);
            throw boom;
        }, executor, 10);
        transport.start(protocol);
        transport.receive("a\nb\nc\n");
        step(executor);
        assertTrue(transport.isClosed());
        assertSame(boom, transport.failure());
        assertEquals(0, protocol.queued());
        assertEquals(List.of("a"), handled);
    }

    @Test
    void malformedInputAbortsWithProtocolError() {
        List<String> handled = new ArrayList<>();
        transport.start(new MessageProtocol<>(new LineFrameDecoder(4), (line, t) -> handled.add(line)));
        transport.receive("fine\nfar too long\n");
        assertEquals(List.of("fine"), handled);
        assertInstanceOf(ProtocolError.class, transport.failure());
    }

    @Test
    void endOfInputHandlesWhatIsQueuedThenCloses() {
        StepExecutor executor = new StepExecutor();
        List<String> handled = new ArrayList<>();
        MessageProtocol<String> protocol = new MessageProtocol<>(new LineFrameDecoder(100), (line, t) -> {
            handled.add(line);
            t.write(ByteBuffer.wrap((line + "!").getBytes(StandardCharsets.UTF_8)));
        }, executor, 10);
        transport.start(protocol);
        transport.receive("a\nb\nc\n");
        transport.receiveEof();
        assertFalse(transport.isClosing(), "the write side stays open for the queued replies");
        while (!executor.tasks.isEmpty()) {
            step(executor);
        }
        assertEquals(List.of("a", "b", "c"), handled);
        assertEquals("a!b!c!", transport.writtenText());
        assertTrue(transport.isClosed());
        assertNull(transport.failure());
    }

    @Test
    void endOfInputInsideAMessageIsAProtocolError() {
        transport.start(new MessageProtocol<>(new LineFrameDecoder(100), (line, t) -> { }));
        transport.receive("incomplete");
        transport.receiveEof();
        assertInstanceOf(ProtocolError.class, transport.failure());
    }

    @Test
    void rejectsInconsistentQueueBounds() {
        Executor direct = Runnable::run;
        LineFrameDecoder d = new LineFrameDecoder(10);
        MessageHandler<String> h = (m, t) -> { };
        assertThrows(IllegalArgumentException.class, () -> new MessageProtocol<>(d, h, direct, 0));
        assertThrows(IllegalArgumentException.class, () -> new MessageProtocol<>(d, h, direct, 5, 5));
        assertThrows(IllegalArgumentException.class, () -> new MessageProtocol<>(d, h, direct, 5, -1));
    }

    private void step(StepExecutor executor) {
        executor.runOne();
        loop.runPending();
    }

    private static String lines(int from, int to) {
        return String.join("", lineList(from, to).stream().map(l -> l + "\n").toList());
    }

    private static List<String> lineList(int from, int to) {
        List<String> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            out.add("m" + i);
        }
        return out;
    }

}
