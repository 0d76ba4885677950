package org.wharf.protocol.http.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.wharf.endpoints.api.ConnectionDTO;
import org.wharf.endpoints.api.EndpointRuntime;
import org.wharf.endpoints.api.MetricDTO;
import org.wharf.endpoints.api.RuntimeDTO;
import org.wharf.protocol.api.ConnectionHooks;
import org.wharf.protocol.http.HttpLimits;
import org.wharf.protocol.http.HttpProtocol;
import org.wharf.transport.tck.LogCapture;
import org.wharf.transport.tck.ManualEventLoop;
import org.wharf.transport.tck.MemoryTransport;

/** The status page against what any client may send it. */
class StatusPageTest {

    /** A runtime with no endpoints whose open connections are what {@code connections} gives. */
    private static EndpointRuntime listing(java.util.function.Supplier<ConnectionDTO[]> connections) {
        return new EndpointRuntime() {
            @Override
            public RuntimeDTO getRuntimeDTO() {
                return new RuntimeDTO();
            }

            @Override
            public ConnectionDTO[] getConnectionDTOs(String endpoint) {
                return connections.get();
            }

            @Override
            public MetricDTO[] getMetricDTOs() {
                return new MetricDTO[0];
            }
        };
    }

    private static final EndpointRuntime EMPTY = listing(() -> new ConnectionDTO[0]);

    @Test
    void aMalformedQueryIs400AndLeavesNoLinePerRequest() {
        List<String> refused = new ArrayList<>();
        try (LogCapture log = new LogCapture()) {
            ManualEventLoop loop = new ManualEventLoop();
            MemoryTransport t = new MemoryTransport(loop).start(HttpProtocol.create(
                    new StatusPage(EMPTY), HttpLimits.DEFAULT, new ConnectionHooks() {
                        @Override
                        public void requestRefused(org.wharf.protocol.api.Connection connection, String why) {
                            refused.add(why);
                        }
                    }));
            t.receive("GET /connections?endpoint=%zz HTTP/1.1\r\nHost: x\r\n\r\n".repeat(100));
            loop.advance(java.time.Duration.ZERO); // the turns the pipelined requests take
            String answers = t.writtenText();
            assertEquals(100, answers.split("HTTP/1.1 400 Bad Request\r\n").length - 1, answers.substring(0, 200));
            assertTrue(log.lines().isEmpty(), "no line per request: " + log.lines().size() + " lines");
            assertTrue(refused.isEmpty(), "a 400 of the page's own is an answer, not a refusal: " + refused);
        }
    }

    @Test
    void theConnectionsAreReadAtMostOnceASecondHoweverOftenTheyAreAskedFor() {
        java.util.concurrent.atomic.AtomicInteger reads = new java.util.concurrent.atomic.AtomicInteger();
        ConnectionDTO one = new ConnectionDTO();
        one.endpoint = "web";
        one.peer = "10.0.0.1:5000";
        one.local = "127.0.0.1:8080";
        EndpointRuntime counting = listing(() -> {
            reads.incrementAndGet(); // each read walks every open connection
            return new ConnectionDTO[] {one};
        });
        long[] now = {0};
        ManualEventLoop loop = new ManualEventLoop();
        MemoryTransport t = new MemoryTransport(loop).start(HttpProtocol.create(
                new StatusPage(counting, () -> now[0]), HttpLimits.DEFAULT, ConnectionHooks.NONE));
        t.receive("GET /connections?endpoint=web HTTP/1.1\r\nHost: x\r\n\r\n".repeat(200));
        loop.advance(java.time.Duration.ZERO); // the turns the pipelined requests take
        assertEquals(200, t.writtenText().split("HTTP/1.1 200 OK\r\n").length - 1);
        assertTrue(t.writtenText().contains("\"client\":\"10.0.0.1:5000\""));
        assertEquals(1, reads.get(), "200 pipelined requests, one read of the connections");
        t.clearWritten();
        t.receive("GET /connections HTTP/1.1\r\nHost: x\r\n\r\n");
        assertTrue(t.writtenText().startsWith("HTTP/1.1 503 "), "another question within the second waits");
        assertTrue(t.writtenText().contains("Retry-After: 1\r\n"), t.writtenText());
        now[0] += StatusPage.CONNECTIONS_EVERY_NANOS;
        t.clearWritten();
        t.receive("GET /connections HTTP/1.1\r\nHost: x\r\n\r\n");
        assertTrue(t.writtenText().startsWith("HTTP/1.1 200 OK"), t.writtenText());
        assertEquals(2, reads.get());
    }
}
