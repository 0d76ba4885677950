package org.wharf.protocol.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.wharf.protocol.api.ConnectionHooks;
import org.wharf.protocol.api.ProtocolContext;
import org.wharf.protocol.http.internal.StatusFactoryAccess;

/** The limits an endpoint's configuration sets, and what is refused. */
class HttpLimitsTest {

    @Test
    void defaultsAreWhatAGatewayFacingTheInternetWouldUse() {
        HttpLimits d = HttpLimits.DEFAULT;
        assertEquals(8192, d.maxRequestLine());
        assertEquals(16384, d.maxHeaderBytes());
        assertEquals(1 << 20, d.maxBody());
        assertEquals(100, d.maxHeaderFields());
        assertEquals(4, d.maxEmptyLines());
        assertEquals(Duration.ofSeconds(10), d.headerTimeout());
        assertEquals(Duration.ofSeconds(30), d.bodyTimeout());
        assertEquals(d, HttpLimits.fromProperties(Map.of()));
        assertEquals(d, new HttpLimits(8192, 16384, 1 << 20));
    }

    @Test
    void everyLimitIsReadFromItsPropertyAsNumberOrText() {
        HttpLimits l = HttpLimits.fromProperties(Map.of("http.maxRequestLine", "100", "http.maxHeaderBytes", 200,
                "http.maxBody", 300L, "http.maxHeaderFields", " 4 ", "http.maxEmptyLines", "0",
                "http.headerTimeout", "1500", "http.bodyTimeout", 0, "port", 8080, "name", "web"));
        assertEquals(new HttpLimits(100, 200, 300, 4, 0, Duration.ofMillis(1500), Duration.ZERO), l);
    }

    @Test
    void aWrongValueNamesThePropertyAndTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HttpLimits.fromProperties(Map.of("http.maxBody", "1MB")));
        assertEquals("http.maxBody = '1MB': not a whole number", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> HttpLimits.fromProperties(Map.of("http.headerTimeout", -1)));
        assertEquals("http.headerTimeout = -1: at least 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> HttpLimits.fromProperties(Map.of("http.maxHeaderFields", "0")));
        assertEquals("http.maxHeaderFields = '0': at least 1", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> HttpLimits.fromProperties(Map.of("http.maxRequestLine", 3_000_000_000L)));
        assertEquals("http.maxRequestLine = 3000000000: at most 2147483647", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> HttpLimits.fromProperties(Map.of("http.maxBody", 1.5)));
        assertEquals("http.maxBody = 1.5: not a whole number", e.getMessage());
    }

    @Test
    void theHttpProtocolRefusesAWrongValueBeforeTheEndpointListens() {
        ProtocolContext wrong = new ProtocolContext("web", "tcp", Map.of("http.maxEmptyLines", "many"),
                ConnectionHooks.NONE);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StatusFactoryAccess.checkSettings(wrong));
        assertEquals("http.maxEmptyLines = 'many': not a whole number", e.getMessage());
        StatusFactoryAccess.checkSettings(new ProtocolContext("web", "tcp", Map.of("http.maxEmptyLines", "2"),
                ConnectionHooks.NONE));
    }

    @Test
    void thePipeliningBoundsAreReadFromTheirPropertiesAndGivenToEachConnection() {
        HttpLimits l = HttpLimits.fromProperties(Map.of("http.requestsPerTurn", "2", "http.maxPipelinedBytes", 4096));
        assertEquals(2, l.requestsPerTurn());
        assertEquals(4096, l.maxPipelinedBytes());
        assertEquals(HttpLimits.DEFAULT.withPipelining(4096, 2), l);
        assertEquals(16, HttpLimits.DEFAULT.requestsPerTurn());
        assertEquals(1 << 20, HttpLimits.DEFAULT.maxPipelinedBytes());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HttpLimits.fromProperties(Map.of("http.requestsPerTurn", "0")));
        assertEquals("http.requestsPerTurn = '0': at least 1", e.getMessage());

        org.wharf.transport.tck.ManualEventLoop loop = new org.wharf.transport.tck.ManualEventLoop();
        org.wharf.transport.tck.MemoryTransport t = new org.wharf.transport.tck.MemoryTransport(loop)
                .start(HttpProtocol.create(request -> HttpResponse.text(200, "ok"), l, ConnectionHooks.NONE));
        t.receive("GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(5));
        assertEquals(2, t.writtenText().split("HTTP/1.1 200 OK").length - 1, "two requests in the first turn");
        loop.turn();
        assertEquals(4, t.writtenText().split("HTTP/1.1 200 OK").length - 1, "two more in the next");

        // More than http.maxPipelinedBytes wait for a later turn: the connection closes.
        org.wharf.transport.tck.MemoryTransport held = new org.wharf.transport.tck.MemoryTransport(loop)
                .start(HttpProtocol.create(request -> HttpResponse.text(200, "ok"),
                        HttpLimits.DEFAULT.withPipelining(64, 1), ConnectionHooks.NONE));
        held.receive("GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(4)); // 87 bytes wait after the first
        org.junit.jupiter.api.Assertions.assertInstanceOf(org.wharf.protocol.api.ProtocolError.class, held.failure());
    }
}
