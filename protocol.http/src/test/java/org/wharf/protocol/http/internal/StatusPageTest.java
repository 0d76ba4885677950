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
import org.wharf.protocol.http.HttpResponse;
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

    /** The status line the page gives a {@code GET} of a page it does not have (404) with this {@code Host}. */
    private static String statusFor(AllowedHosts hosts, String host) {
        MemoryTransport t = new MemoryTransport(new ManualEventLoop()).start(HttpProtocol.create(
                new StatusPage(EMPTY, hosts), HttpLimits.DEFAULT, ConnectionHooks.NONE));
        t.receive("GET /none HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
        String answer = t.writtenText();
        return answer.substring(0, answer.indexOf("\r\n"));
    }

    @Test
    void onLoopbackThePagesAnswerLocalhostAndAddressesButNoOtherNameAgainstDnsRebinding() {
        for (String loopback : new String[] {"127.0.0.1", "::1", "[::1]", "127.1", "localhost", " localhost "}) {
            AllowedHosts hosts = AllowedHosts.fromProperties(java.util.Map.of("host", loopback));
            for (String ok : new String[] {"localhost", "localhost:8080", "LOCALHOST.", "a.localhost:8080",
                    "127.0.0.1:8080", "127.0.0.1", "[::1]:8080", "10.1.2.3"}) {
                assertTrue(statusFor(hosts, ok).startsWith("HTTP/1.1 404 "), loopback + ", Host " + ok);
            }
            for (String rebound : new String[] {"attacker.example", "attacker.example:8080", "localhost.attacker.example",
                    "127.0.0.1.nip.io", "1.2.3", "localhostx"}) {
                assertEquals("HTTP/1.1 403 Forbidden", statusFor(hosts, rebound), loopback + ", Host " + rebound);
            }
        }
    }

    @Test
    void theProbesAnswerAnyHostAsBalancersNameWhatTheyAreTold() {
        AllowedHosts hosts = AllowedHosts.fromProperties(java.util.Map.of("host", "127.0.0.1"));
        for (String path : new String[] {"/ready", "/live"}) {
            MemoryTransport t = new MemoryTransport(new ManualEventLoop()).start(HttpProtocol.create(
                    new StatusPage(EMPTY, hosts), HttpLimits.DEFAULT, ConnectionHooks.NONE));
            t.receive("GET " + path + " HTTP/1.1\r\nHost: node\r\n\r\n");
            assertTrue(!t.writtenText().startsWith("HTTP/1.1 403 "), path + ": " + t.writtenText());
        }
        assertEquals("HTTP/1.1 403 Forbidden", statusFor(hosts, "node"), "the other pages do not");
    }

    @Test
    void anAbsoluteFormTargetsHostIsTheOneCheckedNotOnlyTheHostField() {
        AllowedHosts hosts = AllowedHosts.fromProperties(java.util.Map.of("host", "127.0.0.1"));
        for (String[] c : new String[][] {{"http://attacker.example/none", "403"}, {"http://u@attacker.example:80/none", "403"},
                {"http://localhost:8080/none", "404"}, {"http://127.0.0.1/none?x", "404"}}) {
            MemoryTransport t = new MemoryTransport(new ManualEventLoop()).start(HttpProtocol.create(
                    new StatusPage(EMPTY, hosts), HttpLimits.DEFAULT, ConnectionHooks.NONE));
            t.receive("GET " + c[0] + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
            assertTrue(t.writtenText().startsWith("HTTP/1.1 " + c[1] + " "), c[0] + ": " + t.writtenText());
            assertTrue(!t.writtenText().contains("localhost"), "the refusal does not list the allowed names");
        }
    }

    @Test
    void onANetworkThePagesAnswerAnyNameUnlessTheAllowedHostsAreNamed() {
        assertTrue(statusFor(AllowedHosts.fromProperties(java.util.Map.of("host", "0.0.0.0")), "status.example.com")
                .startsWith("HTTP/1.1 404 "));
        assertTrue(statusFor(AllowedHosts.fromProperties(java.util.Map.of()), "status.example.com")
                .startsWith("HTTP/1.1 404 "));
        AllowedHosts named = AllowedHosts.fromProperties(java.util.Map.of("host", "0.0.0.0",
                "status.allowedHosts", "status.example.com, *.internal"));
        assertTrue(statusFor(named, "status.example.com:8080").startsWith("HTTP/1.1 404 "));
        assertTrue(statusFor(named, "node1.internal").startsWith("HTTP/1.1 404 "));
        assertTrue(statusFor(named, "192.0.2.7:8080").startsWith("HTTP/1.1 404 "));
        assertEquals("HTTP/1.1 403 Forbidden", statusFor(named, "internal"));
        assertEquals("HTTP/1.1 403 Forbidden", statusFor(named, "localhost"));
        assertTrue(statusFor(AllowedHosts.fromProperties(java.util.Map.of("host", "127.0.0.1",
                "status.allowedHosts", "*")), "anything.example").startsWith("HTTP/1.1 404 "));
        for (String wrong : new String[] {"a.example:80", "", "a,,b", "ex*ample", "*example.com", "http://a"}) {
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> AllowedHosts.fromProperties(java.util.Map.of("status.allowedHosts", wrong)), wrong);
            assertTrue(e.getMessage().startsWith("status.allowedHosts = '" + wrong + "': "), e.getMessage());
        }
    }
}
