package org.wharf.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.wharf.transport.tck.Peers;
import org.wharf.transport.tck.RedisServer;

/**
 * One port, several protocols, chosen by the first bytes, in a real Felix: curl reaches the
 * status page (HTTP) and redis-cli a real redis-server through the gateway (RESP, a route with
 * {@code proxy.protocol = redis}) on the same port of the same endpoint, over plain TCP and
 * over TLS; garbage and silence are closed within the endpoint's bounds and counted; a
 * protocol bundle that stops is no longer detected while its open connections go on, and is
 * detected again once it starts.
 */
class DetectIT {

    private static RedisServer redis;
    private static int redisPort;

    private Felix felix;
    private EndpointsInFelix endpoints;
    private Bundle proxy;
    private Bundle http;

    @BeforeAll
    static void startRedis() throws Exception {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            redisPort = probe.getLocalPort();
        }
        redis = RedisServer.start(redisPort);
    }

    @AfterAll
    static void stopRedis() throws Exception {
        if (redis != null) {
            redis.close();
        }
    }

    @BeforeEach
    void start() throws Exception {
        felix = new Felix("detect");
        felix.startPlatformServices();
        felix.start("protocol.api");
        felix.start("transport.core");
        felix.start("transport.nio");
        felix.start("transport.ssl");
        felix.start("endpoints.api");
        felix.start("endpoints");
        http = felix.start("protocol.http");
        proxy = felix.start("protocol.proxy");
        endpoints = new EndpointsInFelix(felix);
    }

    @AfterEach
    void stop() throws Exception {
        felix.close();
    }

    /** status (HTTP) and the gateway to Redis (RESP) on one endpoint, detection bounded by 300 ms. */
    private Map<String, Object> onePort() {
        Map<String, Object> p = new HashMap<>();
        p.put("host", "127.0.0.1");
        p.put("port", 0);
        p.put("protocol", "status, proxy");
        p.put("proxy.upstreams", "127.0.0.1:" + redisPort);
        p.put("proxy.protocol", "redis");
        p.put("detect.timeout", 300);
        p.put("detect.maxBytes", 64);
        return p;
    }

    @Test
    void curlAndRedisCliReachTheirProtocolsOnOnePortAndGarbageAndSilenceAreClosedWithinTheBounds() throws Exception {
        endpoints.configure("one", onePort());
        endpoints.awaitState("one", "LISTENING");
        int port = endpoints.port("one");

        String status = run(List.of("curl", "-sS", "--max-time", "20", "http://127.0.0.1:" + port + "/status"));
        assertTrue(status.contains("\"one\""), "the status page, over HTTP on the shared port: " + status);
        assertEquals("OK", cli(port, "SET", "detected", "resp").trim());
        assertEquals("resp", cli(port, "GET", "detected").trim(), "redis-server answered through the gateway");

        // Garbage: no listed protocol claims it; closed at once, long before the timeout.
        try (Socket garbage = new Socket(InetAddress.getLoopbackAddress(), port)) {
            garbage.setSoTimeout(20_000);
            long t0 = System.nanoTime();
            garbage.getOutputStream().write(new byte[] {0, 1, 2, 3, 'x', '\r', '\n'});
            assertEquals(-1, garbage.getInputStream().read(), "closed without an answer");
            assertTrue(System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(300), "closed before detect.timeout");
        }
        // Silence: closed once detect.timeout is over, not before.
        try (Socket silent = new Socket(InetAddress.getLoopbackAddress(), port)) {
            silent.setSoTimeout(20_000);
            long t0 = System.nanoTime();
            assertEquals(-1, silent.getInputStream().read(), "closed without an answer");
            long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(took >= 250 && took < 10_000, "closed after detect.timeout (300 ms), took " + took + " ms");
        }
        // A request line longer than detect.maxBytes whose protocol is still undecided: refused for its size.
        try (Socket endless = new Socket(InetAddress.getLoopbackAddress(), port)) {
            endless.setSoTimeout(20_000);
            endless.getOutputStream().write(("PROPFIND " + "a".repeat(100)).getBytes(StandardCharsets.US_ASCII));
            assertEquals(-1, endless.getInputStream().read(), "closed without an answer");
        }

        String metrics = run(List.of("curl", "-sS", "--max-time", "20", "http://127.0.0.1:" + port + "/metrics"));
        for (String reason : List.of("no_match", "detect_timeout", "detect_size")) {
            assertTrue(metrics.contains("wharf_connections_refused_total{endpoint=\"one\",reason=\"" + reason
                    + "\"} 1\n"), reason + " counted once: " + metrics.lines().filter(l -> l.contains("refused"))
                            .toList());
        }
    }

    @Test
    void overTlsAndInClearTextOnTheSamePort() throws Exception {
        TestCertificate certificate = TestCertificate.create();
        Map<String, Object> p = onePort();
        p.put("transport", "ssl");
        p.put("tls.keystore", certificate.store.toString());
        p.put("tls.keystore.password", new String(TestCertificate.PASSWORD));
        endpoints.configure("both", p);
        endpoints.awaitState("both", "LISTENING");
        int port = endpoints.port("both");

        String secure = run(List.of("curl", "-sS", "--insecure", "--max-time", "20", "https://127.0.0.1:" + port
                + "/status"));
        assertTrue(secure.contains("\"both\""), "the status page over TLS: " + secure);
        assertEquals("PONG", run(List.of("redis-cli", "--tls", "--insecure", "-h", "127.0.0.1", "-p",
                Integer.toString(port), "PING")).trim(), "redis-cli over TLS reaches redis-server");
        String clear = run(List.of("curl", "-sS", "--max-time", "20", "http://127.0.0.1:" + port + "/status"));
        assertTrue(clear.contains("\"both\""), "and in clear text, on the same port: " + clear);
        assertEquals("PONG", cli(port, "PING").trim());
    }

    @Test
    void aStoppedProtocolBundleIsNoLongerDetectedItsOpenConnectionsGoOnAndItIsDetectedAgainOnceStarted()
            throws Exception {
        endpoints.configure("one", onePort());
        endpoints.awaitState("one", "LISTENING");
        int port = endpoints.port("one");
        try (Socket open = new Socket(InetAddress.getLoopbackAddress(), port)) {
            open.setSoTimeout(20_000);
            assertEquals("+PONG", ping(open));

            proxy.stop();
            // At once: the bundle's unregistration closed its gate before stop() returned.
            Process refused = Peers.process("redis-cli", "-h", "127.0.0.1", "-p", Integer.toString(port), "PING")
                    .redirectErrorStream(true).start();
            String answer = new String(refused.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(refused.waitFor(60, TimeUnit.SECONDS));
            assertFalse(answer.contains("PONG"), "RESP is no longer claimed: " + answer);
            assertTrue(run(List.of("curl", "-sS", "--max-time", "20", "http://127.0.0.1:" + port + "/status"))
                    .contains("\"one\""), "HTTP still is, on the same port");
            assertEquals("LISTENING", endpoints.state("one"));
            assertEquals("+PONG", ping(open), "the open RESP connection keeps its protocol (drainTimeout)");

            proxy.start();
            // Until the endpoint has taken the new registration (on the whiteboard's thread, after
            // start() returned) a RESP connection is unclaimed: once the replace window since the
            // stop is over it is refused ("Server closed the connection", exit 1). Polled, not fatal.
            Felix.awaitTrue(() -> {
                try {
                    Process p = Peers.process("redis-cli", "-h", "127.0.0.1", "-p", Integer.toString(port), "PING")
                            .redirectErrorStream(true).start();
                    p.getOutputStream().close();
                    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                    return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0 && out.contains("PONG");
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError(e);
                }
            }, "RESP is claimed again once the gateway bundle is back");
        }
    }

    @Test
    void withEveryListedProtocolGoneThePortClosesAndTheFirstToComeBackOpensIt() throws Exception {
        Map<String, Object> p = onePort();
        p.put("replaceWindow", 0);
        p.put("drainTimeout", 300);
        endpoints.configure("one", p);
        endpoints.awaitState("one", "LISTENING");
        int port = endpoints.port("one");
        http.stop();
        assertEquals("+PONG", ping(port), "RESP still served with HTTP gone");
        assertEquals("LISTENING", endpoints.state("one"));
        proxy.stop();
        Felix.awaitTrue(() -> {
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                return false;
            } catch (IOException refused) {
                return true;
            }
        }, "the port closes once no listed protocol is left");
        endpoints.awaitState("one", "WAITING");
        proxy.start();
        endpoints.awaitState("one", "LISTENING");
        assertEquals("+PONG", ping(endpoints.port("one")), "the gateway alone serves the endpoint again");
    }

    @Test
    void aProtocolBundleUpdatedUnderTrafficLosesNoConnection() throws Exception {
        endpoints.configure("one", onePort()); // replaceWindow: the default, 2000 ms
        endpoints.awaitState("one", "LISTENING");
        int port = endpoints.port("one");
        java.util.concurrent.atomic.AtomicBoolean updated = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicInteger served = new java.util.concurrent.atomic.AtomicInteger();
        List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        // One connection after another, each a PING, until the update is over and three more have been served.
        Thread client = new Thread(() -> {
            int after = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (after < 3 && System.nanoTime() < deadline) {
                boolean done = updated.get();
                try {
                    String answer = ping(port);
                    if ("+PONG".equals(answer)) {
                        served.incrementAndGet();
                    } else {
                        failures.add("answered " + answer);
                    }
                } catch (IOException e) {
                    failures.add(e.toString());
                }
                after += done ? 1 : 0;
            }
        }, "resp-client");
        client.start();
        Felix.awaitTrue(() -> served.get() >= 3, "RESP served before the update");
        int before = served.get();
        proxy.update(); // stopped, unregistered, started again from its jar: a new registration
        updated.set(true);
        client.join(TimeUnit.SECONDS.toMillis(90));
        assertFalse(client.isAlive());
        assertTrue(failures.isEmpty(), "connections made during the update wait for the new registration: " + failures);
        assertTrue(served.get() >= before + 3, "served after the update: " + served.get());
    }

    private static String ping(int port) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(20_000);
            return ping(s);
        }
    }

    private static String ping(Socket s) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write("*1\r\n$4\r\nPING\r\n".getBytes(StandardCharsets.US_ASCII));
        BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
        return in.readLine();
    }

    private static String cli(int port, String... command) throws Exception {
        List<String> line = new ArrayList<>(List.of("redis-cli", "-h", "127.0.0.1", "-p", Integer.toString(port)));
        line.addAll(List.of(command));
        return run(line);
    }

    private static String run(List<String> command) throws Exception {
        Process p = Peers.process(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), command + " did not finish");
        assertEquals(0, p.exitValue(), command.get(0) + " failed: " + output);
        return output;
    }
}
