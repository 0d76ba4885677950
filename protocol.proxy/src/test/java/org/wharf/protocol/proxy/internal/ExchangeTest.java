package org.wharf.protocol.proxy.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.wharf.protocol.proxy.internal.Exchange.State;

/** When an exchange over a pooled connection is complete, owed or unsafe: HTTP/1.1 and Redis. */
class ExchangeTest {

    private static final String GET = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
    private static final String OK = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

    /** Requests and their responses of every framing, pipelined on one connection. */
    private static final String REQUESTS = "\r\n" + GET
            + "HEAD /a HTTP/1.1\r\nHost: x\r\n\r\n"
            + "POST /f HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\nabc\r\nde"
            + "POST /c HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "3;ext=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nTrailer: t\r\n\r\n"
            + "DELETE /d HTTP/1.1\r\nHost: x\r\n\r\n"
            + "GET /e HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"e\"\r\n\r\n";
    private static final String RESPONSES = OK
            + "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n" // HEAD: the length of a body that is not sent
            + "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nHTTP/\r\n1\r\n\n\r\n0\r\n\r\n"
            + "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
            + "HTTP/1.1 204 No Content\r\n\r\n"
            + "HTTP/1.1 304 Not Modified\r\nETag: \"e\"\r\n\r\n";

    @Test
    void httpIsCompleteOnlyWhenEveryResponseEndedWhereverTheBytesAreSplit() {
        byte[] responses = ascii(RESPONSES);
        for (int split = 0; split <= responses.length; split++) {
            Exchange e = Exchange.of(Route.Application.HTTP);
            e.fromClient(buffer(REQUESTS));
            assertEquals(State.OWED, e.state());
            e.fromUpstream(ByteBuffer.wrap(responses, 0, split));
            assertEquals(split == responses.length ? State.COMPLETE : State.OWED, e.state(), "split at " + split
                    + ": " + e.reason());
            e.fromUpstream(ByteBuffer.wrap(responses, split, responses.length - split));
            assertEquals(State.COMPLETE, e.state(), "split at " + split + ": " + e.reason());
        }
    }

    @Test
    void httpRequestsCutAnywhereAreOwedAndAClientThatEndsThereMakesItUnsafe() {
        byte[] requests = ascii(REQUESTS);
        int requestEnds = 0;
        for (int split = 0; split <= requests.length; split++) {
            Exchange e = Exchange.of(Route.Application.HTTP);
            e.fromClient(ByteBuffer.wrap(requests, 0, split));
            if (!e.midRequest()) {
                requestEnds++;
            }
            e.clientEnded();
            // Nothing asked yet (an empty line is no request), a request cut off, or requests owed an answer.
            State expected = e.midRequest() ? State.UNSAFE : split <= 2 ? State.COMPLETE : State.OWED;
            assertEquals(expected, e.state(), "split at " + split);
        }
        assertEquals(8, requestEnds, "the start, after the leading CRLF, and after each of the six requests");
    }

    static Stream<Arguments> httpExchangesThatLeaveTheConnectionChangedOrUnreadableAreUnsafeCases() {
        return Stream.of(
                Arguments.of("request Connection: close", "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", OK),
                Arguments.of("response Connection: close", GET, "HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n"),
                Arguments.of("upgrade", "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", "HTTP/1.1 101 Switching Protocols\r\n\r\n"),
                Arguments.of("101", GET, "HTTP/1.1 101 Switching Protocols\r\n\r\n"),
                Arguments.of("close-delimited", GET, "HTTP/1.1 200 OK\r\n\r\nuntil the end"),
                Arguments.of("CONNECT", "CONNECT x:443 HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n"),
                Arguments.of("HTTP/1.0 request", "GET / HTTP/1.0\r\n\r\n", OK),
                Arguments.of("HTTP/1.0 response", GET, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"),
                Arguments.of("response nobody asked for", GET, OK + OK),
                Arguments.of("both lengths", "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", OK),
                Arguments.of("two lengths", "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", OK),
                Arguments.of("signed length", "POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\nabc", OK),
                Arguments.of("other coding", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", OK),
                Arguments.of("chunked twice", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", OK),
                Arguments.of("folded header", "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", OK),
                Arguments.of("space before colon", "GET / HTTP/1.1\r\nContent-Length : 0\r\n\r\n", OK),
                Arguments.of("chunk size +3", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n+3\r\nabc\r\n0\r\n\r\n", OK),
                Arguments.of("huge chunk size", GET, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7fffffffffffffff0\r\n"),
                Arguments.of("chunk overrun", GET, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n"),
                Arguments.of("not HTTP", GET, "SSH-2.0-OpenSSH\r\n"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("httpExchangesThatLeaveTheConnectionChangedOrUnreadableAreUnsafeCases")
    void httpExchangesThatLeaveTheConnectionChangedOrUnreadableAreUnsafe(String name, String requests, String responses) {
        Exchange e = Exchange.of(Route.Application.HTTP);
        e.fromClient(buffer(requests));
        e.fromUpstream(buffer(responses));
        assertEquals(State.UNSAFE, e.state(), name + ": " + e.reason());
    }

    @Test
    void httpPipelinesDeeperThanFollowedAndLinesLongerThanFollowedAreUnsafe() {
        Exchange deep = Exchange.of(Route.Application.HTTP);
        deep.fromClient(buffer(GET.repeat(HttpExchange.MAX_PIPELINED + 1)));
        assertEquals(State.UNSAFE, deep.state());
        Exchange longLine = Exchange.of(Route.Application.HTTP);
        longLine.fromClient(buffer("GET /" + "a".repeat(HttpExchange.MAX_LINE) + " HTTP/1.1\r\n\r\n"));
        assertEquals(State.UNSAFE, longLine.state());
    }

    @Test
    void whatAnHttpExchangeFollowsIsSetByTheRoutesConfiguration() {
        Route route = RouteTest.parse(java.util.Map.of("proxy.upstreams", "127.0.0.1:1", "proxy.protocol", "http",
                "proxy.pooled", "true", "proxy.http.maxPipelined", "2", "proxy.http.maxLine", "300",
                "proxy.http.maxHeaderFields", "3"));
        Exchange two = route.newExchange();
        two.fromClient(buffer(GET.repeat(2)));
        assertEquals(State.OWED, two.state(), two.reason());
        Exchange three = route.newExchange();
        three.fromClient(buffer(GET.repeat(3)));
        assertEquals(State.UNSAFE, three.state());
        Exchange line = route.newExchange();
        line.fromClient(buffer("GET /" + "a".repeat(300) + " HTTP/1.1\r\nHost: x\r\n\r\n"));
        assertEquals(State.UNSAFE, line.state());
        Exchange headers = route.newExchange();
        headers.fromClient(buffer("GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"));
        assertEquals(State.UNSAFE, headers.state());
        IllegalArgumentException wrong = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> RouteTest.parse(java.util.Map.of("proxy.upstreams", "127.0.0.1:1", "proxy.http.maxLine", "10")));
        org.junit.jupiter.api.Assertions.assertTrue(wrong.getMessage().contains("proxy.http.maxLine"), wrong.getMessage());
    }

    @Test
    void redisIsCompleteWhenEveryCommandHasItsReply() {
        byte[] replies = ascii("+OK\r\n$4\r\na\r\nb\r\n*2\r\n$-1\r\n*1\r\n:1\r\n-ERR x\r\n");
        for (int split = 0; split <= replies.length; split++) {
            Exchange e = Exchange.of(Route.Application.REDIS);
            e.fromClient(buffer("SET k \"a\\r\\nb\"\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\nMGET x y\r\n\r\nNOPE\r\n"));
            e.fromUpstream(ByteBuffer.wrap(replies, 0, split));
            assertEquals(split == replies.length ? State.COMPLETE : State.OWED, e.state(), "split at " + split);
        }
    }

    static Stream<Arguments> redisCommandsThatLeaveTheConnectionChangedAreUnsafeCases() {
        return Stream.of(
                Arguments.of("BLPOP", "BLPOP nokey 1\r\n", "*-1\r\n"),
                Arguments.of("blocking in any case", "*3\r\n$5\r\nbrpop\r\n$1\r\nk\r\n$1\r\n0\r\n", "*-1\r\n"),
                Arguments.of("hidden in escapes", "\"\\x42LPOP\" nokey 1\r\n", "*-1\r\n"),
                Arguments.of("XREAD BLOCK", "XREAD BLOCK 10 STREAMS s $\r\n", "*-1\r\n"),
                Arguments.of("SUBSCRIBE", "SUBSCRIBE c\r\n", "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n"),
                Arguments.of("MONITOR", "MONITOR\r\n", "+OK\r\n"),
                Arguments.of("SELECT", "SELECT 1\r\n", "+OK\r\n"),
                Arguments.of("AUTH", "AUTH user pass\r\n", "+OK\r\n"),
                Arguments.of("HELLO", "HELLO 3\r\n", "%1\r\n+server\r\n+redis\r\n"),
                Arguments.of("CLIENT REPLY", "CLIENT REPLY OFF\r\nGET a\r\n", ""),
                Arguments.of("unsolicited reply", "PING\r\n", "+PONG\r\n+PONG\r\n"),
                Arguments.of("not RESP", "PING\r\n", "HTTP/1.1 200 OK\r\n"),
                Arguments.of("protocol error", "*1\r\n+PING\r\n", "-ERR Protocol error\r\n"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("redisCommandsThatLeaveTheConnectionChangedAreUnsafeCases")
    void redisCommandsThatLeaveTheConnectionChangedAreUnsafe(String name, String requests, String replies) {
        Exchange e = Exchange.of(Route.Application.REDIS);
        e.fromClient(buffer(requests));
        e.fromUpstream(buffer(replies));
        assertEquals(State.UNSAFE, e.state(), name + ": " + e.reason());
    }

    @Test
    void aRedisTransactionOrWatchIsFineClosedAndUnsafeLeftOpen() {
        Exchange closed = Exchange.of(Route.Application.REDIS);
        closed.fromClient(buffer("WATCH k\r\nMULTI\r\nINCR k\r\nEXEC\r\n"));
        closed.fromUpstream(buffer("+OK\r\n+OK\r\n+QUEUED\r\n*1\r\n:1\r\n"));
        closed.clientEnded();
        assertEquals(State.COMPLETE, closed.state(), closed.reason());
        Exchange open = Exchange.of(Route.Application.REDIS);
        open.fromClient(buffer("MULTI\r\nINCR k\r\n"));
        open.fromUpstream(buffer("+OK\r\n+QUEUED\r\n"));
        assertEquals(State.OWED, open.state(), "every reply came, but a transaction is open: not reusable");
        open.clientEnded();
        assertEquals(State.UNSAFE, open.state());
        Exchange watching = Exchange.of(Route.Application.REDIS);
        watching.fromClient(buffer("WATCH k\r\n"));
        watching.fromUpstream(buffer("+OK\r\n"));
        assertEquals(State.OWED, watching.state());
        // EXEC or DISCARD without MULTI: Redis answers with an error and keeps the keys watched.
        for (String end : new String[] {"EXEC", "DISCARD"}) {
            Exchange stray = Exchange.of(Route.Application.REDIS);
            stray.fromClient(buffer("WATCH k\r\n" + end + "\r\n"));
            stray.fromUpstream(buffer("+OK\r\n-ERR " + end + " without MULTI\r\n"));
            assertEquals(State.OWED, stray.state(), end + " without MULTI leaves the watch on: not reusable");
            stray.clientEnded();
            assertEquals(State.UNSAFE, stray.state());
        }
    }

    @Test
    void httpFramingThatABackendMightReadOtherwiseMakesTheConnectionUnsafe() {
        // A request the gateway would count as one and a backend that ends chunk lines only at CRLF
        // reads as two: the second one's answer would reach the pool's next client.
        String smuggle = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;\nxx\r\n38\r\n0\r\n\r\n"
                + "GET /admin HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n\r\n0\r\n\r\n";
        String[] requests = {smuggle,
            "GET / HTTP/1.1\nHost: x\r\n\r\n", // a bare LF
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \u000bchunked\r\n\r\n0\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\u0000\r\n\r\nx",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2 ff\r\nxx\r\n0\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer_Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc",
            "GET / HTTP/1.1\r\nHost: x\ry\r\n\r\n"}; // a CR inside a line
        for (String request : requests) {
            Exchange e = Exchange.of(Route.Application.HTTP);
            e.fromClient(buffer(request));
            assertEquals(State.UNSAFE, e.state(), request.replace("\r", "\\r").replace("\n", "\\n"));
        }
        Exchange fine = Exchange.of(Route.Application.HTTP);
        fine.fromClient(buffer("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "2 ;ext=1\r\nxx\r\n0\r\n\r\n"));
        fine.fromUpstream(buffer("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
        assertEquals(State.COMPLETE, fine.state(), "strict framing, with a chunk extension after whitespace: " + fine.reason());
    }

    @Test
    void aMinusZeroLengthIsWhatRedisRefusesSoTheConnectionIsNotReused() {
        // Redis answers a protocol error and closes the connection: it must not go back to the pool.
        for (String request : new String[] {"*-0\r\nPING\r\n", "*1\r\n$-0\r\n"}) {
            Exchange e = Exchange.of(Route.Application.REDIS);
            e.fromClient(buffer(request));
            assertEquals(State.UNSAFE, e.state(), request.replace("\r\n", "|"));
        }
    }

    @Test
    void aRedisClientThatEndsInsideACommandMakesItUnsafe() {
        Exchange e = Exchange.of(Route.Application.REDIS);
        e.fromClient(buffer("*2\r\n$3\r\nGET\r\n$1\r\n"));
        e.clientEnded();
        assertEquals(State.UNSAFE, e.state());
        assertTrue(e.reason().contains("middle of a request"), e.reason());
    }

    private static ByteBuffer buffer(String s) {
        return ByteBuffer.wrap(ascii(s));
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }
}
