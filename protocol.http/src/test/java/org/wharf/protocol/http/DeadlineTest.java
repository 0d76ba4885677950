package org.wharf.protocol.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.wharf.protocol.api.ConnectionHooks;
import org.wharf.transport.tck.ManualEventLoop;
import org.wharf.transport.tck.MemoryTransport;

/** The header and body deadlines, on the virtual clock of a manual event loop. */
class DeadlineTest {

    private static final String TIMEOUT_408 = "HTTP/1.1 408 Request Timeout\r\n";

    private final ManualEventLoop loop = new ManualEventLoop();

    /** What the endpoint heard refused (it logs each, rate-limited). */
    private final java.util.List<String> refused = new java.util.ArrayList<>();

    private MemoryTransport open(HttpLimits limits) {
        return new MemoryTransport(loop).start(HttpProtocol.create(
                request -> HttpResponse.text(200, "x".repeat(request.path().equals("/big") ? 20_000 : 1)), limits,
                new ConnectionHooks() {
                    @Override
                    public void requestRefused(org.wharf.protocol.api.Connection connection, String why) {
                        refused.add(why);
                    }
                }));
    }

    private MemoryTransport open() {
        return open(HttpLimits.DEFAULT);
    }

    private static HttpLimits timeouts(Duration header, Duration body) {
        HttpLimits d = HttpLimits.DEFAULT;
        return new HttpLimits(d.maxRequestLine(), d.maxHeaderBytes(), d.maxBody(), d.maxHeaderFields(),
                d.maxEmptyLines(), header, body);
    }

    @Test
    void aHeaderTrickledOneByteEveryNineSecondsIsAnswered408AtTheDeadline() {
        MemoryTransport t = open();
        byte[] request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes();
        t.receive(new byte[] {request[0]});
        loop.advance(Duration.ofSeconds(9));
        t.receive(new byte[] {request[1]});
        assertFalse(t.isClosing(), "9 s in, within the deadline");
        loop.advance(Duration.ofMillis(999));
        assertFalse(t.isClosing());
        loop.advance(Duration.ofMillis(1));
        assertTrue(t.writtenText().startsWith(TIMEOUT_408), t.writtenText());
        assertTrue(t.writtenText().contains("Connection: close"));
        assertTrue(t.isClosed(), "closed at 10 s, however slowly the bytes still come");
        assertEquals(java.util.List.of("HTTP 408: the request header did not come within 10000 ms (http.headerTimeout)"),
                refused, "a slowloris is refused as any bad request: the endpoint logs and counts it");
    }

    @Test
    void aConnectionThatSendsNothingClosesSilentlyAtTheHeaderDeadline() {
        MemoryTransport t = open();
        loop.advance(Duration.ofMillis(9_999));
        assertFalse(t.isClosing());
        loop.advance(Duration.ofMillis(1));
        assertTrue(t.isClosed());
        assertEquals("", t.writtenText(), "no request began: nothing to answer");
        assertEquals(java.util.List.of(), refused, "an idle connection is no refused request");
    }

    @Test
    void anIdleKeepAliveConnectionClosesAtTheHeaderDeadlineAfterItsLastAnswer() {
        MemoryTransport t = open();
        loop.advance(Duration.ofSeconds(9));
        t.receive("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        t.clearWritten();
        loop.advance(Duration.ofSeconds(9));
        assertFalse(t.isClosing(), "the deadline runs again from the answer");
        loop.advance(Duration.ofSeconds(1));
        assertTrue(t.isClosed());
        assertEquals("", t.writtenText());
    }

    @Test
    void aCompleteHeaderSectionStopsTheHeaderDeadlineAndStartsTheBodyDeadline() {
        MemoryTransport t = open();
        t.receive("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello");
        loop.advance(Duration.ofSeconds(29));
        assertFalse(t.isClosing(), "the body has 30 s");
        t.receive("wor");
        loop.advance(Duration.ofSeconds(1));
        assertTrue(t.writtenText().startsWith(TIMEOUT_408), t.writtenText());
        assertTrue(t.isClosed());
        assertEquals(java.util.List.of("HTTP 408: the request body did not come within 30000 ms (http.bodyTimeout)"),
                refused);
    }

    @Test
    void aChunkedBodyHasTheSameDeadline() {
        MemoryTransport t = open();
        t.receive("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
        loop.advance(Duration.ofSeconds(30));
        assertTrue(t.writtenText().startsWith(TIMEOUT_408), t.writtenText());
        assertTrue(t.isClosed());
    }

    @Test
    void aBodyInTimeIsAnsweredAndTheNextRequestGetsItsOwnHeaderDeadline() {
        MemoryTransport t = open();
        t.receive("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhel");
        loop.advance(Duration.ofSeconds(25));
        t.receive("lo");
        assertTrue(t.writtenText().startsWith("HTTP/1.1 200 OK"), t.writtenText());
        loop.advance(Duration.ofSeconds(9));
        assertFalse(t.isClosing());
        assertEquals(1, loop.activeTimers(), "one deadline at a time");
    }

    @Test
    void zeroMeansNoDeadline() {
        MemoryTransport t = open(timeouts(Duration.ZERO, Duration.ZERO));
        t.receive("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhel");
        loop.advance(Duration.ofDays(1));
        assertFalse(t.isClosing());
        assertEquals(0, loop.activeTimers());
    }

    private static HttpLimits writeTimeout(Duration write) {
        HttpLimits d = HttpLimits.DEFAULT;
        return new HttpLimits(d.maxRequestLine(), d.maxHeaderBytes(), d.maxBody(), d.maxHeaderFields(),
                d.maxEmptyLines(), d.headerTimeout(), d.bodyTimeout(), write);
    }

    @Test
    void aClientThatPipelinesAndReadsNothingIsDroppedAtTheWriteDeadline() {
        MemoryTransport t = new MemoryTransport(loop);
        t.setAutoFlush(false);
        t.start(HttpProtocol.create(request -> HttpResponse.text(200, "x".repeat(40_000)), HttpLimits.DEFAULT,
                ConnectionHooks.NONE));
        t.receive("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n".repeat(50));
        assertFalse(t.isWritable(), "two answers of 40 KB are past the 64 KiB mark");
        loop.advance(HttpLimits.DEFAULT.writeTimeout().minusMillis(1));
        assertFalse(t.isClosing(), "within http.writeTimeout");
        loop.advance(Duration.ofMillis(1));
        assertTrue(t.isClosed(), "dropped: it took none of its answers for http.writeTimeout");
        assertEquals(0, loop.activeTimers());
    }

    @Test
    void aClientThatTakesItsAnswersInTimeIsNotDropped() {
        MemoryTransport t = new MemoryTransport(loop);
        t.setAutoFlush(false);
        t.start(HttpProtocol.create(request -> HttpResponse.text(200, "x".repeat(40_000)), HttpLimits.DEFAULT,
                ConnectionHooks.NONE));
        t.receive("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n".repeat(8));
        // Two answers of 40 KB pass the 64 KiB mark: each round the client takes them just in time.
        for (int i = 0; i < 3; i++) {
            loop.advance(HttpLimits.DEFAULT.writeTimeout().minusSeconds(1));
            assertFalse(t.isClosing(), "it takes its answers within each period");
            t.flush(Integer.MAX_VALUE);
            loop.runPending();
        }
        t.flush(Integer.MAX_VALUE);
        assertEquals(8, t.writtenText().split("HTTP/1.1 200 OK").length - 1);
        assertFalse(t.isClosing());
    }

    @Test
    void aSlowButSteadyReaderOfOneLargeAnswerIsNotDropped() {
        MemoryTransport t = new MemoryTransport(loop);
        t.setAutoFlush(false);
        t.start(HttpProtocol.create(request -> HttpResponse.text(200, "x".repeat(1 << 20)), HttpLimits.DEFAULT,
                ConnectionHooks.NONE));
        t.receive("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        int taken = 0;
        while (taken < (1 << 20)) {
            loop.advance(Duration.ofSeconds(1));
            assertFalse(t.isClosing(), "it takes 16 KiB a second: after " + taken + " bytes");
            taken += t.flush(16 * 1024);
            loop.runPending();
        }
        t.flush(Integer.MAX_VALUE);
        assertTrue(t.writtenText().endsWith("x"));
    }

    @Test
    void anAnswerThatClosesTheConnectionIsDroppedAtTheCloseTimeoutIfTheClientTakesNothing() {
        MemoryTransport t = new MemoryTransport(loop);
        t.setAutoFlush(false);
        t.setCloseTimeout(Duration.ofSeconds(30));
        t.start(HttpProtocol.create(request -> HttpResponse.text(200, "x".repeat(100_000)), HttpLimits.DEFAULT,
                ConnectionHooks.NONE));
        t.receive("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertTrue(t.isClosing());
        loop.advance(Duration.ofSeconds(29));
        assertFalse(t.isClosed(), "the close waits for the answer to be taken");
        t.flush(1000); // a little of it: another period
        loop.advance(Duration.ofSeconds(29));
        assertFalse(t.isClosed(), "it took some within the period");
        loop.advance(Duration.ofSeconds(2));
        assertTrue(t.isClosed(), "then nothing for 30 s: dropped");
        assertEquals(0, loop.activeTimers());
    }

    @Test
    void theHeaderDeadlineWaitsWhileTheClientDoesNotReadItsAnswers() {
        MemoryTransport t = new MemoryTransport(loop);
        t.setAutoFlush(false);
        t.start(HttpProtocol.create(request -> HttpResponse.text(200, "x".repeat(40_000)), writeTimeout(Duration.ZERO),
                ConnectionHooks.NONE));
        t.receive("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\nGET /3 HTTP/1.1\r\nHost: x\r\n\r\n");
        assertFalse(t.isWritable(), "two answers of 40 KB are past the 64 KiB mark");
        loop.advance(Duration.ofMinutes(5));
        assertFalse(t.isClosing(), "the server is not waiting for a request: no header deadline (and no write "
                + "deadline here)");
        t.flush(Integer.MAX_VALUE);
        loop.runPending(); // resumeWriting: the third request is answered
        t.flush(Integer.MAX_VALUE);
        assertEquals(3, t.writtenText().split("HTTP/1.1 200 OK").length - 1);
        loop.advance(Duration.ofSeconds(10));
        assertTrue(t.isClosed(), "ready for a request again: the deadline ran");
    }

    @Test
    void aPeerThatReadsNothingIsDroppedWhenTheDeadlinePassesAgain() {
        MemoryTransport t = new MemoryTransport(loop);
        t.setAutoFlush(false);
        t.start(HttpProtocol.create(request -> HttpResponse.text(200, "x"), HttpLimits.DEFAULT, ConnectionHooks.NONE));
        t.receive("GET / HTT");
        loop.advance(Duration.ofSeconds(10));
        assertTrue(t.isClosing(), "answered 408 and closing");
        assertFalse(t.isClosed(), "the 408 is not taken: close waits for it");
        loop.advance(Duration.ofSeconds(10));
        assertTrue(t.isClosed(), "dropped");
    }
}
