package org.wharf.protocol.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.wharf.protocol.api.ConnectionHooks;
import org.wharf.protocol.api.MemoryBudget;
import org.wharf.protocol.api.ProtocolContext;
import org.wharf.protocol.api.RequestCounters;
import org.wharf.transport.tck.ManualEventLoop;
import org.wharf.transport.tck.MemoryTransport;

/** The HTTP/1.1 protocol against an in-memory transport: parsing, keep-alive, pipelining, limits. */
class HttpProtocolTest {

    /** Answers with what it saw: method, path, body. */
    private static final HttpHandler MIRROR = request -> HttpResponse.text(200,
            request.method() + " " + request.path() + " [" + request.bodyText() + "]");

    private final List<HttpRequest> seen = new ArrayList<>();

    private MemoryTransport open(HttpLimits limits, ConnectionHooks hooks) {
        return new MemoryTransport(new ManualEventLoop()).start(HttpProtocol.create(request -> {
            seen.add(request);
            return MIRROR.handle(request);
        }, limits, hooks));
    }

    private MemoryTransport open() {
        return open(HttpLimits.DEFAULT, ConnectionHooks.NONE);
    }

    private static String response(String status, String body, boolean close) {
        return "HTTP/1.1 " + status + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "
                + body.getBytes(StandardCharsets.UTF_8).length + "\r\n" + (close ? "Connection: close\r\n" : "") + "\r\n"
                + body;
    }

    @Test
    void keepAliveServesRequestsInTurnAndCountsThem() {
        RequestCounters counters = new RequestCounters();
        MemoryTransport t = open(HttpLimits.DEFAULT, counters);
        t.receive("GET /one HTTP/1.1\r\nHost: x\r\n\r\n");
        t.receive("GET /two?q=1 HTTP/1.1\r\nHost: x\r\n\r\n");
        assertEquals(response("200 OK", "GET /one []", false) + response("200 OK", "GET /two []", false), t.writtenText());
        assertFalse(t.isClosing(), "HTTP/1.1 keeps the connection");
        assertEquals(2, counters.requests());
        assertEquals("q=1", seen.get(1).query().orElseThrow());
        assertEquals("x", seen.get(0).header("HOST").orElseThrow());
    }

    @Test
    void everySplitOfPipelinedRequestsWithBodiesGivesTheSameResponses() {
        String stream = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                + "POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: t\r\n\r\n"
                + "GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        String expected = response("200 OK", "POST /a [hello]", false) + response("200 OK", "POST /b [abcde]", false)
                + response("200 OK", "GET /c []", true);
        byte[] bytes = stream.getBytes(StandardCharsets.US_ASCII);
        for (int cut = 0; cut <= bytes.length; cut++) {
            MemoryTransport t = open();
            t.receive(java.util.Arrays.copyOfRange(bytes, 0, cut));
            t.loop().runPending();
            if (cut < bytes.length) { // all of it in the first part: the connection has closed
                t.receive(java.util.Arrays.copyOfRange(bytes, cut, bytes.length));
            }
            for (int i = 0; i < 10; i++) {
                t.loop().runPending(); // held pipelined bytes are delivered on later turns
            }
            assertEquals(expected, t.writtenText(), "split at " + cut);
            assertTrue(t.isClosing(), "Connection: close ends it after the answer");
        }
    }

    @Test
    void headAnswersWithoutTheBodyAndHttp10ClosesUnlessKeptAlive() {
        MemoryTransport head = open();
        head.receive("HEAD /x HTTP/1.1\r\nHost: x\r\n\r\n");
        String text = head.writtenText();
        assertTrue(text.startsWith("HTTP/1.1 200 OK\r\n") && text.contains("Content-Length: 10\r\n") && text.endsWith("\r\n\r\n"),
                text);

        MemoryTransport old = open();
        old.receive("GET / HTTP/1.0\r\n\r\n");
        assertTrue(old.writtenText().startsWith("HTTP/1.0 200 OK"), old.writtenText());
        assertTrue(old.isClosing());

        MemoryTransport kept = open();
        kept.receive("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        assertTrue(kept.writtenText().contains("Connection: keep-alive"), kept.writtenText());
        assertFalse(kept.isClosing());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "malformed request line|GARBAGE\\r\\n\\r\\n|400 Bad Request",
        "unknown version|GET / HTTP/2.0\\r\\n\\r\\n|505 HTTP Version Not Supported",
        "malformed header|GET / HTTP/1.1\\r\\nHost: x\\r\\nno colon here\\r\\n\\r\\n|400 Bad Request",
        "bad content length|POST / HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: ten\\r\\n\\r\\n|400 Bad Request",
        "body too large|POST / HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 2000\\r\\n\\r\\n|413 Content Too Large",
        "chunked too large|POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n7d0\\r\\n|413 Content Too Large",
        "bad chunk size|POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\nzz\\r\\n|400 Bad Request",
        "coding before chunked|POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: gzip, chunked\\r\\n\\r\\n|501 Not Implemented",
        "chunked not final|POST / HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: gzip\\r\\n\\r\\n|400 Bad Request",
    })
    void badInputIsAnsweredWithItsStatusAndTheConnectionCloses(String what, String input, String status) {
        MemoryTransport t = open(new HttpLimits(64, 256, 1000), ConnectionHooks.NONE);
        t.receive(input.replace("\\r\\n", "\r\n"));
        assertTrue(t.writtenText().startsWith("HTTP/1.1 " + status + "\r\n"), what + ": " + t.writtenText());
        assertTrue(t.writtenText().contains("Connection: close"), what);
        assertTrue(t.isClosing(), what + ": the connection closes");
        assertTrue(seen.isEmpty(), "the handler never saw it");
    }

    @Test
    void overlongRequestLinesAndHeadersAreRefusedBeforeTheyEnd() {
        MemoryTransport line = open(new HttpLimits(64, 256, 1000), ConnectionHooks.NONE);
        line.receive("GET /" + "a".repeat(100));
        assertTrue(line.writtenText().startsWith("HTTP/1.1 414 URI Too Long"), line.writtenText());
        assertTrue(line.isClosing());

        MemoryTransport headers = open(new HttpLimits(64, 256, 1000), ConnectionHooks.NONE);
        headers.receive("GET / HTTP/1.1\r\nHost: x\r\n");
        for (int i = 0; i < 20 && !headers.isClosing(); i++) {
            headers.receive("X-Filler-" + i + ": " + "v".repeat(20) + "\r\n");
        }
        assertTrue(headers.writtenText().startsWith("HTTP/1.1 431 Request Header Fields Too Large"),
                headers.writtenText());
        assertTrue(headers.isClosing());
    }

    @Test
    void aHandlerThatFailsAnswers500AndTheConnectionGoesOn() {
        MemoryTransport t = new MemoryTransport(new ManualEventLoop()).start(HttpProtocol.create(request -> {
            if (request.path().equals("/boom")) {
                throw new IllegalStateException("on purpose");
            }
            return HttpResponse.text(200, "fine");
        }, HttpLimits.DEFAULT, ConnectionHooks.NONE));
        t.receive("GET /boom HTTP/1.1\r\nHost: x\r\n\r\n");
        assertTrue(t.writtenText().startsWith("HTTP/1.1 500 Internal Server Error"), t.writtenText());
        t.clearWritten();
        t.receive("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
        assertTrue(t.writtenText().startsWith("HTTP/1.1 200 OK") && t.writtenText().endsWith("fine"), t.writtenText());
    }

    @Test
    void aHandlerAClientMakesFailOverAndOverLeavesATraceAtMostOnceAndTellsTheEndpointEachTime() {
        List<String> refused = new ArrayList<>();
        try (org.wharf.transport.tck.LogCapture log = new org.wharf.transport.tck.LogCapture()) {
            ManualEventLoop loop = new ManualEventLoop();
            MemoryTransport t = new MemoryTransport(loop).start(HttpProtocol.create(request -> {
                throw new IllegalStateException("on purpose");
            }, HttpLimits.DEFAULT, new ConnectionHooks() {
                @Override
                public void requestRefused(org.wharf.protocol.api.Connection connection, String why) {
                    refused.add(why);
                }
            }));
            t.receive("GET /boom HTTP/1.1\r\nHost: x\r\n\r\n".repeat(100));
            loop.advance(java.time.Duration.ZERO); // the turns the pipelined requests take
            assertEquals(100, t.writtenText().split("HTTP/1.1 500 ").length - 1);
            assertEquals(100, refused.size());
            assertTrue(refused.get(0).startsWith("HTTP 500: the handler failed on GET /boom"), refused.get(0));
            assertTrue(log.warnings().size() <= 1, "one trace at most: " + log.warnings().size());
        }
    }

    /** Bodies are reserved in the connection's memory budget before they are read, and given back. */
    @Test
    void aBodyTheBudgetCannotHoldIsRefusedWith503BeforeItIsReadAndHeldBodiesAreGivenBack() {
        MemoryBudget endpoint = MemoryBudget.of("endpoint", 100);
        MemoryTransport first = new MemoryTransport(new ManualEventLoop()).start(HttpProtocol.create(MIRROR,
                HttpLimits.DEFAULT, new ProtocolContext("e", "tcp", java.util.Map.of(), ConnectionHooks.NONE,
                        endpoint.connection(100))));
        first.receive("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 80\r\n\r\n" + "a".repeat(40));
        assertEquals(80, endpoint.used(), "the whole declared body is reserved at once");
        MemoryTransport second = new MemoryTransport(new ManualEventLoop()).start(HttpProtocol.create(MIRROR,
                HttpLimits.DEFAULT, new ProtocolContext("e", "tcp", java.util.Map.of(), ConnectionHooks.NONE,
                        endpoint.connection(100))));
        second.receive("POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n" + "b".repeat(16)
                + "\r\n10\r\n");
        assertTrue(second.writtenText().startsWith("HTTP/1.1 503 "), second.writtenText());
        assertTrue(second.isClosing(), "refused and closed");
        assertEquals(80, endpoint.used(), "the refused chunks hold nothing");
        assertEquals(1, endpoint.refusals(), "the refusal is counted for the endpoint's metrics");
        first.receive("a".repeat(40));
        assertTrue(first.writtenText().startsWith("HTTP/1.1 200 "), first.writtenText());
        assertEquals(0, endpoint.used(), "answered: the body is given back");
    }

    @Test
    void aHandlersHeadersCannotSplitTheAnswerNorFrameItTwice() {
        // A handler that copies a client's text into a header must not let it add lines.
        IllegalArgumentException split = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> HttpResponse.text(200, "x").withHeader("Location", "/a\r\nSet-Cookie: evil=1"));
        assertTrue(split.getMessage().contains("Location"), split.getMessage());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> HttpResponse.text(200, "x").withHeader("X A", "1"));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> HttpResponse.text(200, "x").withHeader("content-length", "0"));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> HttpResponse.text(200, "x").withHeader("Transfer-Encoding", "chunked"));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> HttpResponse.text(101, "x"), "not a final answer");
        assertEquals("Service Unavailable", HttpResponse.reason(503));
        assertEquals("Request Timeout", HttpResponse.reason(408));
    }

    @Test
    void aHandlersConnectionCloseClosesAfterItsAnswerWithOneConnectionHeader() {
        MemoryTransport t = new MemoryTransport(new ManualEventLoop()).start(HttpProtocol.create(
                request -> HttpResponse.text(200, "bye").withHeader("Connection", "close"), HttpLimits.DEFAULT,
                ConnectionHooks.NONE));
        t.receive("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n");
        String answer = t.writtenText();
        assertEquals(1, answer.split("HTTP/1.1 200 OK").length - 1, "the second request is not answered: " + answer);
        assertEquals(1, answer.split("(?i)connection:").length - 1, "one Connection header: " + answer);
        assertTrue(t.isClosing());
    }
}
