package org.wharf.protocol.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.wharf.transport.api.Transport;
import org.wharf.transport.api.WriteBufferLimits;
import org.wharf.transport.tck.Await;
import org.wharf.transport.tck.LogCapture;

/**
 * The HTTP protocol on a real NIO endpoint against real clients: every malformed request of
 * issue 14 item 11 from a python3 socket, curl and nc for what they can send, a trickled header
 * section, and a client that pipelines thousands of requests and never reads.
 */
class RealClientsTest {

    private static final HttpHandler MIRROR = request -> HttpResponse.text(200, request.method() + " "
            + request.target() + " [" + request.bodyText() + "]" + "x".repeat(request.path().equals("/big") ? 16_000 : 0));

    private static RealServer server;
    /** What a python3 socket got for each malformed request, each on its own connection. */
    private static java.util.List<String> answers;
    /** What Wharf logged meanwhile. */
    private static java.util.List<LogCapture.Line> logged;

    @BeforeAll
    static void start() throws Exception {
        server = new RealServer(MIRROR, HttpLimits.DEFAULT);
        try (LogCapture log = new LogCapture()) {
            answers = server.raw(MalformedRequests.CASES.stream()
                    .map(c -> c.request().getBytes(StandardCharsets.ISO_8859_1)).toList());
            logged = log.lines();
        }
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    static Stream<MalformedRequests.Case> cases() {
        return MalformedRequests.CASES.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void aPythonSocketSendingItIsAnsweredAndTheServerCloses(MalformedRequests.Case c) {
        String answer = answers.get(MalformedRequests.CASES.indexOf(c));
        assertFalse(answer.endsWith(RealServer.STILL_OPEN), c + ": the server kept the connection: " + answer);
        assertTrue(answer.matches("(?s)HTTP/1\\.[01] " + c.status() + "\r\n.*"), c + ": " + answer);
        assertTrue(answer.contains("\r\nConnection: close\r\n"), c + ": " + answer);
        assertTrue(answer.contains(c.reason()), c + ": " + answer);
    }

    @Test
    void malformedRequestsLeaveOnlyRateLimitedLogLines() {
        // Issue 14 item 10: a line per bad request let any client fill the log. The endpoint says
        // them rate-limited: one INFO line per endpoint in 10 s, the rest counted into the next.
        java.util.List<String> lines = logged.stream().map(LogCapture.Line::text).toList();
        assertTrue(lines.size() <= 2, MalformedRequests.CASES.size() + " malformed requests: " + lines);
        assertTrue(logged.stream().allMatch(l -> l.level() == java.util.logging.Level.INFO
                && l.message().startsWith("server http-test: closing ") && l.message().contains(
                        ", its request refused: HTTP ")), lines.toString());
    }

    @Test
    void curlIsServed() throws Exception {
        String answer = server.run("curl", "-s", "-i", "--http1.1", server.url("/hello?x=1"));
        assertTrue(answer.startsWith("HTTP/1.1 200 OK\r\n"), answer);
        assertTrue(answer.endsWith("GET /hello?x=1 []"), answer);
    }

    @Test
    void curlWithoutAHostIsAnswered400() throws Exception {
        String answer = server.run("curl", "-s", "-i", "--http1.1", "-H", "Host:", server.url("/"));
        assertTrue(answer.startsWith("HTTP/1.1 400 Bad Request\r\n"), answer);
        assertTrue(answer.contains("no Host header field"), answer);
    }

    @Test
    void curlSendingAChunkedBodyIsServed() throws Exception {
        String answer = server.run("hello chunks".getBytes(StandardCharsets.US_ASCII), "curl", "-s", "-i", "--http1.1",
                "-H", "Transfer-Encoding: chunked", "-H", "Expect:", "--data-binary", "@-", server.url("/up"));
        assertTrue(answer.startsWith("HTTP/1.1 200 OK\r\n"), answer);
        assertTrue(answer.endsWith("POST /up [hello chunks]"), answer);
    }

    @Test
    void curlWaitingFor100ContinueGetsIt() throws Exception {
        long started = System.nanoTime();
        String answer = server.run("curl", "-s", "-i", "--http1.1", "-H", "Expect: 100-continue", "--expect100-timeout",
                "30", "--data-binary", "body", server.url("/up"));
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertTrue(answer.startsWith("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"), answer);
        assertTrue(answer.endsWith("POST /up [body]"), answer);
        assertTrue(millis < 10_000, "curl waited " + millis + " ms: the 100 did not come");
    }

    @Test
    void curlSendingContentLengthPlus3IsAnswered400() throws Exception {
        String answer = server.run("curl", "-s", "-i", "--http1.1", "-H", "Content-Length: +3", "--data-binary", "abc",
                server.url("/"));
        assertTrue(answer.startsWith("HTTP/1.1 400 Bad Request\r\n"), answer);
        assertTrue(answer.contains("digits only"), answer);
    }

    @Test
    void ncWithBareLineFeedsIsAnswered400() throws Exception {
        String answer = server.run("GET / HTTP/1.1\nHost: x\n\n".getBytes(StandardCharsets.US_ASCII), "nc", "-N",
                "127.0.0.1", String.valueOf(server.port));
        assertTrue(answer.startsWith("HTTP/1.1 400 Bad Request\r\n"), answer);
        assertTrue(answer.contains("bare LF"), answer);
    }

    @Test
    void ncPipeliningValidRequestsIsAnsweredInOrder() throws Exception {
        String answer = server.run(("GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 2"
                + "\r\n\r\nhiGET /c HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII), "nc", "-N",
                "127.0.0.1", String.valueOf(server.port));
        assertEquals(3, answer.split("HTTP/1.1 200 OK\r\n", -1).length - 1, answer);
        assertTrue(answer.indexOf("GET /a []") < answer.indexOf("POST /b [hi]")
                && answer.indexOf("POST /b [hi]") < answer.indexOf("GET /c []"), answer);
    }

    /** Sends one byte, then one every {@code argv[3]} seconds; prints the answer and when it came. */
    private static final String TRICKLE = String.join("\n",
            "import socket, sys, time, select",
            "s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))",
            "data, every, t0 = bytes.fromhex(sys.argv[2]), float(sys.argv[3]), time.monotonic()",
            "out = b''",
            "for i in range(len(data)):",
            "    try:",
            "        s.send(data[i:i + 1])",
            "    except OSError:",
            "        break",
            "    r, _, _ = select.select([s], [], [], every)",
            "    if r:",
            "        break",
            "s.settimeout(30)",
            "while True:",
            "    try:",
            "        b = s.recv(65536)",
            "    except OSError:",
            "        break",
            "    if not b:",
            "        break",
            "    out += b",
            "print('%.3f' % (time.monotonic() - t0))",
            "print(out.decode('latin-1'))");

    @Test
    void aTrickledHeaderSectionIsAnswered408AndClosedAtTheDeadline() throws Exception {
        HttpLimits oneSecond = new HttpLimits(8192, 16384, 1 << 20, 100, 4, Duration.ofSeconds(1),
                Duration.ofSeconds(1));
        try (RealServer strict = new RealServer(MIRROR, oneSecond)) {
            byte[] request = "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: yes\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
            String out = strict.run("python3", "-c", TRICKLE, String.valueOf(strict.port),
                    java.util.HexFormat.of().formatHex(request), "0.25");
            double seconds = Double.parseDouble(out.substring(0, out.indexOf('\n')));
            String answer = out.substring(out.indexOf('\n') + 1);
            assertTrue(answer.startsWith("HTTP/1.1 408 Request Timeout\r\n"), answer);
            assertTrue(seconds >= 0.9 && seconds < 5, "closed after " + seconds + " s, the deadline is 1 s");
        }
    }

    @Test
    void aBodyThatDoesNotComeIsAnswered408AtItsDeadline() throws Exception {
        HttpLimits oneSecond = new HttpLimits(8192, 16384, 1 << 20, 100, 4, Duration.ofSeconds(10),
                Duration.ofSeconds(1));
        try (RealServer strict = new RealServer(MIRROR, oneSecond)) {
            long started = System.nanoTime();
            String answer = strict.raw("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhalf"
                    .getBytes(StandardCharsets.US_ASCII));
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            assertTrue(answer.startsWith("HTTP/1.1 408 Request Timeout\r\n"), answer);
            assertTrue(millis < 8_000, "took " + millis + " ms");
        }
    }

    /** Pipelines {@code argv[2]} requests for /big at once, says so, then never reads. */
    private static final String STALLED = String.join("\n",
            "import socket, sys",
            "s = socket.socket()",
            "s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)",
            "s.connect(('127.0.0.1', int(sys.argv[1])))",
            "s.settimeout(10)",
            "try:",
            "    s.sendall(b'GET /big HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' * int(sys.argv[2]))",
            "except socket.timeout:",
            "    pass",
            "print('sent', flush=True)",
            "sys.stdin.read()");

    @Test
    void aClientThatPipelinesAndNeverReadsCostsOneAnswerPastTheMarkAndOthersAreServed() throws Exception {
        int requests = 2000; // 32 MB of answers
        int answer = MIRROR.handle(new HttpRequest("GET", "/big", "HTTP/1.1", java.util.Map.of(), new byte[0]))
                .body().length + 100;
        long bound = WriteBufferLimits.DEFAULT.high() + answer;
        try (RealServer fresh = new RealServer(MIRROR, HttpLimits.DEFAULT)) {
            Process stalled = fresh.start("python3", "-c", STALLED, String.valueOf(fresh.port), String.valueOf(requests));
            BufferedReader said = new BufferedReader(new InputStreamReader(stalled.getInputStream(),
                    StandardCharsets.UTF_8));
            assertEquals("sent", said.readLine());
            long[] most = {0};
            Await.awaitTrue(() -> {
                long size = fresh.connections().stream().mapToLong(Transport::writeBufferSize).max().orElse(0);
                most[0] = Math.max(most[0], size);
                return size > WriteBufferLimits.DEFAULT.high();
            }, "the server's write buffer past its high-water mark");

            // curl's own clock: from its connect to the end of the answer, without its start-up.
            String other = fresh.run("curl", "-s", "-i", "--http1.1", "-w", "\n%{time_total}", fresh.url("/other"));
            double seconds = Double.parseDouble(other.substring(other.lastIndexOf('\n') + 1));
            assertTrue(other.startsWith("HTTP/1.1 200 OK\r\n"), other);
            assertTrue(seconds < 1, "curl waited " + seconds + " s behind the stalled client");

            long now = fresh.connections().stream().mapToLong(Transport::writeBufferSize).max().orElse(0);
            most[0] = Math.max(most[0], now);
            assertTrue(most[0] <= bound, "the server held up to " + most[0] + " bytes (now " + now + ") for a "
                    + "client that reads nothing; high-water mark + one answer = " + bound);
        }
    }
}
