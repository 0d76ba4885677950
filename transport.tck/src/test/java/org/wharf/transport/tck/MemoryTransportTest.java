package org.wharf.transport.tck;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.wharf.transport.api.Transport;
import org.wharf.transport.api.TransportClosedError;
import org.wharf.transport.api.WriteBufferLimits;

/** The in-memory transport keeps the same contract the real ones must. */
class MemoryTransportTest {

    private final ManualEventLoop loop = new ManualEventLoop();
    private final MemoryTransport transport = new MemoryTransport(loop);

    @Test
    void callbacksComeInContractOrder() {
        RecordingProtocol p = new RecordingProtocol();
        transport.start(p);
        transport.receive("ab");
        transport.receive("cd");
        transport.receiveEof();
        loop.runPending();
        assertEquals(List.of("connectionMade", "dataReceived", "eofReceived", "connectionLost"), p.events());
        assertArrayEquals("abcd".getBytes(), p.received());
        assertTrue(p.lost().isDone());
        assertNull(p.lost().join());
        assertEquals(List.of(), p.violations());
    }

    @Test
    void startingTwiceIsAnError() {
        transport.start(new RecordingProtocol());
        assertThrows(IllegalStateException.class, () -> transport.start(new RecordingProtocol()));
    }

    @Test
    void writeFlowControlPausesAndResumesOncePerCrossing() {
        RecordingProtocol p = new RecordingProtocol();
        transport.start(p);
        transport.setAutoFlush(false);
        transport.setWriteBufferLimits(new WriteBufferLimits(100, 20));
        transport.write(ByteBuffer.allocate(100));
        assertEquals(0, transport.writingPauses(), "at the mark is not above it");
        transport.write(ByteBuffer.allocate(1));
        transport.write(ByteBuffer.allocate(50));
        assertEquals(1, transport.writingPauses(), "once per crossing");
        transport.flush(130);
        assertEquals(0, transport.writingResumes(), "21 bytes left: above the low mark");
        transport.flush(1);
        assertEquals(1, transport.writingResumes(), "20 bytes left: at the low mark");
        transport.flush(100);
        assertEquals(1, transport.writingResumes());
        assertEquals(List.of("connectionMade", "pauseWriting", "resumeWriting"), p.events());
        assertEquals(151, transport.written().length);
    }

    @Test
    void closeFlushesAndAbortDrops() {
        RecordingProtocol p = new RecordingProtocol();
        transport.start(p);
        transport.setAutoFlush(false);
        transport.write(ByteBuffer.wrap("queued".getBytes(StandardCharsets.UTF_8)));
        transport.close();
        assertTrue(transport.isClosing());
        assertFalse(transport.isClosed(), "close waits for the buffer");
        TransportClosedError e = assertThrows(TransportClosedError.class, () -> transport.write(ByteBuffer.allocate(1)));
        assertTrue(e.getMessage().contains("closing"), e.getMessage());
        transport.flush(Integer.MAX_VALUE);
        loop.runPending();
        assertEquals("queued", transport.writtenText());
        assertTrue(p.lost().isDone());

        ManualEventLoop l2 = new ManualEventLoop();
        MemoryTransport t2 = new MemoryTransport(l2);
        RecordingProtocol p2 = new RecordingProtocol();
        t2.start(p2);
        t2.setAutoFlush(false);
        t2.write(ByteBuffer.wrap("dropped".getBytes(StandardCharsets.UTF_8)));
        t2.abort();
        l2.runPending();
        assertEquals(0, t2.written().length);
        assertEquals(0, t2.writeBufferSize());
        assertTrue(p2.lost().isDone());
        TransportClosedError closed = assertThrows(TransportClosedError.class, () -> t2.write(ByteBuffer.allocate(1)));
        assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
    }

    @Test
    void aResetIsAnAbortThatSaysSo() {
        RecordingProtocol p = new RecordingProtocol();
        transport.start(p);
        transport.setAutoFlush(false);
        transport.write(ByteBuffer.wrap("dropped".getBytes(StandardCharsets.UTF_8)));
        transport.reset();
        loop.runPending();
        assertTrue(transport.wasReset());
        assertEquals(0, transport.written().length, "what was queued is dropped");
        assertTrue(p.lost().isDone());
        assertEquals(null, p.lost().join(), "connectionLost(null), as after abort()");

        ManualEventLoop l2 = new ManualEventLoop();
        MemoryTransport aborted = new MemoryTransport(l2);
        aborted.start(new RecordingProtocol());
        aborted.abort();
        aborted.reset(); // an abort is on its way already: it stays a plain abort
        l2.runPending();
        assertFalse(aborted.wasReset());
    }

    @Test
    void aThrowingCallbackAbortsWithItsExceptionAndConnectionLostComesOnce() {
        IllegalStateException boom = new IllegalStateException("boom");
        AtomicInteger lost = new AtomicInteger();
        transport.start(new RecordingProtocol() {
            @Override
            protected void onDataReceived(ByteBuffer data) {
                throw boom;
            }

            @Override
            public void connectionLost(Throwable cause) {
                lost.incrementAndGet();
                super.connectionLost(cause);
            }
        });
        transport.receive("x");
        transport.abort();
        loop.runPending();
        assertSame(boom, transport.failure());
        assertEquals(1, lost.get());
    }

    @Test
    void receivedBuffersAreOnlyValidDuringTheCall() {
        ByteBuffer[] kept = new ByteBuffer[1];
        transport.start(new RecordingProtocol() {
            @Override
            protected void onDataReceived(ByteBuffer data) {
                kept[0] = data;
            }
        });
        transport.receive("secret");
        byte[] after = new byte[kept[0].remaining()];
        kept[0].get(after);
        assertFalse(new String(after, StandardCharsets.UTF_8).equals("secret"),
                "a protocol that keeps the buffer must see it reused");
    }

    @Test
    void pausedReadingHoldsDataAndResumeDeliversItOnTheNextTurn() {
        RecordingProtocol p = new RecordingProtocol();
        transport.start(p);
        transport.pauseReading();
        transport.pauseReading();
        transport.receive("held");
        transport.receiveEof();
        assertEquals(0, p.received().length);
        assertEquals(1, transport.readingPauses(), "idempotent");
        transport.resumeReading();
        assertEquals(0, p.received().length);
        loop.runPending();
        assertArrayEquals("held".getBytes(), p.received());
        assertTrue(p.eof().isDone());
    }

    @Test
    void halfCloseKeepsTheWriteSideWhenTheProtocolAsks() {
        RecordingProtocol p = new RecordingProtocol().keepOpenOnEof(true);
        transport.start(p);
        transport.receiveEof();
        assertFalse(transport.isClosing());
        Transport t = p.transport();
        t.write(ByteBuffer.wrap("late".getBytes(StandardCharsets.UTF_8)));
        t.writeEof();
        assertTrue(transport.eofWritten());
        assertThrows(TransportClosedError.class, () -> t.write(ByteBuffer.allocate(1)));
    }

    @Test
    void aWriteEofThatWaitsForAPeerTakingNothingIsAbortedAtTheCloseTimeoutAndProgressStartsAnotherPeriod() {
        RecordingProtocol p = new RecordingProtocol();
        transport.setAutoFlush(false);
        transport.setCloseTimeout(Duration.ofSeconds(30));
        transport.start(p);
        p.transport().write(ByteBuffer.wrap(new byte[1000]));
        p.transport().writeEof();
        assertEquals(1, loop.activeTimers(), "the waiting EOF is bounded");
        loop.advance(Duration.ofSeconds(29));
        transport.flush(10); // the peer takes a little: another period
        loop.advance(Duration.ofSeconds(29));
        assertFalse(transport.isClosing(), "it took some within the period");
        loop.advance(Duration.ofSeconds(2));
        assertTrue(transport.isClosed(), "a whole period without progress");
        assertFalse(transport.eofWritten());
        assertTrue(transport.failure().getMessage().contains("writeEof took 30000 ms without the peer taking any of 990"),
                transport.failure().getMessage());
        loop.runPending();
        assertSame(transport.failure(), p.lost().join());
    }

    @Test
    void aWriteEofBoundEndsOnceTheEofIsOutAndNoneIsArmedWhenNothingWaits() {
        RecordingProtocol p = new RecordingProtocol();
        transport.setCloseTimeout(Duration.ofSeconds(30));
        transport.start(p);
        p.transport().write(ByteBuffer.wrap(new byte[10]));
        p.transport().writeEof(); // auto-flush: the EOF goes at once
        assertTrue(transport.eofWritten());
        assertEquals(0, loop.activeTimers(), "a writeEof that need not wait arms nothing");

        MemoryTransport waiting = new MemoryTransport(loop);
        RecordingProtocol q = new RecordingProtocol();
        waiting.setAutoFlush(false);
        waiting.setCloseTimeout(Duration.ofSeconds(30));
        waiting.start(q);
        q.transport().write(ByteBuffer.wrap(new byte[10]));
        q.transport().writeEof();
        waiting.flush(Integer.MAX_VALUE);
        assertTrue(waiting.eofWritten());
        loop.advance(Duration.ofMinutes(10));
        assertFalse(waiting.isClosing(), "half-closed with nothing left to write: it waits for its peer");
        assertEquals(0, loop.activeTimers());
    }

    @Test
    void theCloseTimeoutIsSetOnTheLoopThreadOnlyAsTheOtherSettersAre() throws Exception {
        transport.start(new RecordingProtocol());
        java.util.concurrent.CompletableFuture<Throwable> offLoop = new java.util.concurrent.CompletableFuture<>();
        Thread other = new Thread(() -> {
            try {
                transport.setCloseTimeout(Duration.ofSeconds(1));
                offLoop.complete(null);
            } catch (Throwable e) {
                offLoop.complete(e);
            }
        });
        other.start();
        other.join();
        assertTrue(offLoop.join() instanceof IllegalStateException, "refused off the loop: " + offLoop.join());
        assertTrue(offLoop.join().getMessage().contains("loop thread"), offLoop.join().getMessage());
    }

    @Test
    void turningTheCloseTimeoutOffWhileACloseWaitsEndsItsDeadline() {
        RecordingProtocol p = new RecordingProtocol();
        transport.setAutoFlush(false);
        transport.setCloseTimeout(Duration.ofSeconds(30));
        transport.start(p);
        p.transport().write(ByteBuffer.wrap(new byte[100]));
        p.transport().close();
        transport.setCloseTimeout(null); // while the close's deadline is armed
        loop.advance(Duration.ofMinutes(5));
        assertTrue(transport.isClosing());
        assertFalse(transport.isClosed(), "no deadline any more");
        transport.flush(Integer.MAX_VALUE);
        assertTrue(transport.isClosed());
        assertNull(transport.failure());
    }

    @Test
    void writesFromOtherThreadsAreQueuedToTheLoop() throws Exception {
        transport.start(new RecordingProtocol());
        Thread writer = new Thread(() -> transport.write(ByteBuffer.wrap("from afar".getBytes(StandardCharsets.UTF_8))));
        writer.start();
        writer.join();
        assertEquals(0, transport.written().length);
        loop.awaitAndRun(Duration.ofSeconds(5));
        assertEquals("from afar", transport.writtenText());
    }

    @Test
    void timersRunInDueOrderOnTheVirtualClockAndCancelledOnesDoNot() {
        StringBuilder ran = new StringBuilder();
        loop.schedule(() -> ran.append("b"), 20, TimeUnit.MILLISECONDS);
        loop.schedule(() -> ran.append("a"), 10, TimeUnit.MILLISECONDS);
        var c = loop.schedule(() -> ran.append("x"), 15, TimeUnit.MILLISECONDS);
        loop.schedule(() -> ran.append("c"), 20, TimeUnit.MILLISECONDS);
        assertTrue(c.cancel());
        assertFalse(c.cancel());
        loop.advance(Duration.ofMillis(19));
        assertEquals("a", ran.toString());
        loop.advance(Duration.ofMillis(1));
        assertEquals("abc", ran.toString());
        assertEquals(0, loop.activeTimers());
        assertEquals(Duration.ofMillis(20).toNanos(), loop.nanoTime());
    }

    @Test
    void closeAndAbortFromAnotherThreadRacingAResetOrEndOfInputLoseEachConnectionOnce() throws Exception {
        // The loop thread (this one) plays a peer that resets or ends its input while a racer
        // thread closes or aborts the same transport: connectionLost comes exactly once.
        java.util.concurrent.ExecutorService racer = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            for (int i = 0; i < 50_000; i++) {
                MemoryTransport t = new MemoryTransport(loop);
                RecordingProtocol p = new RecordingProtocol();
                t.start(p);
                boolean abort = i % 2 == 1;
                java.util.concurrent.Future<?> race = racer.submit(abort ? () -> t.abort() : t::close);
                if (i % 4 < 2) {
                    t.fail(new java.io.IOException("connection reset by peer"));
                } else {
                    t.receiveEof();
                }
                race.get(10, TimeUnit.SECONDS);
                loop.runPending();
                assertTrue(p.lost().isDone(), "connection " + i + " was lost");
                assertEquals(List.of(), p.violations(), "connection " + i);
            }
        } finally {
            racer.shutdownNow();
        }
    }

    @Test
    void writesFromAnotherThreadCountAtOnceAndTheCrossingComesOnTheLoop() throws Exception {
        RecordingProtocol p = new RecordingProtocol();
        transport.start(p);
        transport.setAutoFlush(false);
        transport.setWriteBufferLimits(new WriteBufferLimits(4096, 1024));
        int chunk = 1000;
        long[] seen = new long[1];
        Thread producer = new Thread(() -> {
            while (transport.isWritable()) {
                transport.write(ByteBuffer.allocate(chunk));
                seen[0] = transport.writeBufferSize();
            }
        });
        producer.start();
        producer.join(10_000);
        assertTrue(seen[0] > 4096 && seen[0] <= 4096 + chunk, "stopped within one write of the mark: " + seen[0]);
        assertEquals(seen[0], transport.writeBufferSize(), "counted before the loop ran a single write");
        assertEquals(0, transport.writingPauses(), "the crossing is delivered on the loop");
        loop.runPending();
        assertEquals(1, transport.writingPauses());
        transport.flush(Integer.MAX_VALUE);
        assertEquals(1, transport.writingResumes());
        assertTrue(transport.isWritable());
        assertEquals(List.of("connectionMade", "pauseWriting", "resumeWriting"), p.events());
    }

    @Test
    void writingTheBufferLentToDataReceivedFailsAndNamesWriteCopy() {
        IllegalArgumentException[] refused = new IllegalArgumentException[1];
        transport.start(new RecordingProtocol() {
            @Override
            protected void onDataReceived(ByteBuffer data) {
                try {
                    transport().write(data);
                } catch (IllegalArgumentException e) {
                    refused[0] = e;
                    transport().writeCopy(data);
                }
            }
        });
        transport.receive("echo");
        assertTrue(refused[0] != null && refused[0].getMessage().contains("writeCopy"), String.valueOf(refused[0]));
        assertEquals("echo", transport.writtenText());
    }
}
