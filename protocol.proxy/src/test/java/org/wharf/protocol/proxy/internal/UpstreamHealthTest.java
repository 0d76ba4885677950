package org.wharf.protocol.proxy.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.wharf.transport.tck.LogCapture;

/**
 * Passive upstream health under wrk load: one of two real HAProxy upstreams is killed and its
 * port turned into a black hole (connects time out); once it is marked down no request waits
 * for its connect timeout; it comes back when HAProxy is started again. The state changes are
 * logged once each and shown in the route's metrics.
 */
class UpstreamHealthTest {

    @TempDir
    static Path dir;
    private static Legs legs;
    private static final Pattern DURATION = Pattern.compile(" upstream=(\\S+) .* duration_ms=(\\d+)\\.\\d ");

    @BeforeAll
    static void start() throws Exception {
        legs = new Legs();
    }

    @AfterAll
    static void stop() throws Exception {
        legs.close();
    }

    private static PeerProcess haproxy(String name, int port) throws Exception {
        Path cfg = dir.resolve(name + ".cfg");
        Files.writeString(cfg, """
                global
                  maxconn 200
                defaults
                  timeout connect 5s
                  timeout client 30s
                  timeout server 30s
                frontend web
                  mode http
                  bind 127.0.0.1:%d
                  http-request return status 200 content-type text/plain string "%s"
                """.formatted(port, name));
        return new PeerProcess(dir, name, List.of("haproxy", "-db", "-f", cfg.toString()), port);
    }

    private static String wrk(InetSocketAddress gateway, int seconds) throws Exception {
        // A new connection per request, so every request chooses an upstream and connects.
        Process wrk = new ProcessBuilder("wrk", "-t1", "-c4", "-d" + seconds + "s", "--timeout", "10s", "-H",
                "Connection: close", "http://127.0.0.1:" + gateway.getPort() + "/").redirectErrorStream(true).start();
        String out = new String(wrk.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, wrk.waitFor(), out);
        return out;
    }

    /** Connects {@code clients} times, each until the gateway ends the connection (no upstream takes it). */
    private static void turnedAway(Legs.Proxy proxy, int clients) throws IOException {
        for (int i = 0; i < clients; i++) {
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), proxy.address().getPort())) {
                s.setSoTimeout(10_000);
                s.getInputStream().read();
            } catch (java.net.SocketException reset) {
                // aborted: the gateway's answer when no upstream takes a client
            }
        }
    }

    private static List<String> access(LogCapture log) {
        return log.lines().stream().filter(l -> l.logger().equals("org.wharf.access")).map(LogCapture.Line::message)
                .toList();
    }

    /**
     * An upstream that refuses every connect, never marked down (health.failures = 0): each
     * client it fails costs a warning line, so fifty clients wrote fifty. One a kind per 10 s
     * now, the rest counted into the next.
     */
    @Test
    void aFailingUpstreamIsSaidOnceAWindowNotOnceAClient() throws Exception {
        InetSocketAddress dead = Legs.refusing();
        try (LogCapture log = new LogCapture()) {
            Legs.Proxy proxy = legs.proxy("tcp", Map.of(Route.UPSTREAMS, Legs.hostPort(dead), Route.HEALTH_FAILURES, "0"));
            turnedAway(proxy, 50);
            Legs.awaitTrue(() -> proxy.factory().metrics("gw").get("proxy.upstream.failures") == 50L,
                    "fifty failed connects: " + proxy.factory().metrics("gw"));
            long lines = log.warnings().stream().filter(l -> l.contains("no upstream took the connection")).count();
            assertEquals(1, lines, "one line for fifty clients: " + log.warnings());
        }
    }

    /**
     * The gateway out of file descriptors fails every connect it tries: its own shortage, which
     * marked each healthy upstream down in turn (three clients each), so that once descriptors
     * were free again every client was still refused until the checks passed. (A transport that
     * fails connects as NIO does then: this cannot be made real without starving the test JVM.)
     */
    @Test
    void connectsFailedForWantOfDescriptorsDoNotMarkTheUpstreamDown() throws Exception {
        Legs.Server<org.wharf.transport.tck.EchoProtocol> up = legs.serve("tcp", org.wharf.transport.tck.EchoProtocol::new);
        org.wharf.transport.api.StreamTransportProvider starved = new org.wharf.transport.api.StreamTransportProvider() {
            @Override
            public String kind() {
                return "tcp";
            }

            @Override
            public java.util.concurrent.CompletionStage<org.wharf.transport.api.Listener> listen(InetSocketAddress address,
                    org.wharf.transport.api.ListenOptions options,
                    java.util.function.Supplier<? extends org.wharf.transport.api.Protocol> factory) {
                throw new UnsupportedOperationException();
            }

            @Override
            public <P extends org.wharf.transport.api.Protocol> java.util.concurrent.CompletionStage<
                    org.wharf.transport.api.Connected<org.wharf.transport.api.Transport, P>> connect(InetSocketAddress address,
                    org.wharf.transport.api.ConnectOptions options, java.util.function.Supplier<P> factory) {
                java.net.SocketException emfile = new java.net.SocketException("Too many open files");
                return java.util.concurrent.CompletableFuture.failedFuture(new org.wharf.transport.api.TransportError(
                        "connect to " + address + " failed: " + emfile.getMessage(), emfile));
            }
        };
        Legs.Proxy proxy = legs.proxy("tcp", Map.of(Route.UPSTREAMS, Legs.hostPort(up.address()), Route.HEALTH_FAILURES, "1"),
                starved);
        String upstream = Legs.hostPort(up.address());
        turnedAway(proxy, 3);
        Legs.awaitTrue(() -> proxy.factory().metrics("gw").get("proxy.connections.open") == 0L,
                "the three clients are gone: " + proxy.factory().metrics("gw"));
        Map<String, Long> figures = proxy.factory().metrics("gw");
        assertEquals(1L, figures.get("proxy.upstream." + upstream + ".up"), "not marked down: " + figures);
        assertEquals(0L, figures.get("proxy.upstream." + upstream + ".markedDown"), figures.toString());
    }

    @Test
    void activeChecksMarkAnUpstreamDownWithoutAnyClientTraffic() throws Exception {
        Legs.Server<org.wharf.transport.tck.EchoProtocol> b = legs.serve("tcp", org.wharf.transport.tck.EchoProtocol::new);
        ServerSocket a = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        int portA = a.getLocalPort();
        String upstreamA = "127.0.0.1:" + portA;
        try (LogCapture log = new LogCapture()) {
            Legs.Proxy proxy = legs.proxy("tcp", Map.of(Route.UPSTREAMS, upstreamA + ", " + Legs.hostPort(b.address()),
                    Route.HEALTH_INTERVAL, "100", Route.HEALTH_FAILURES, "2", Route.HEALTH_DOWN_TIME, "100"));
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), proxy.address().getPort())) {
                s.getOutputStream().write(1); // the route's first connection starts its checks
            }
            a.close(); // no client connects after this
            // (The state is set before its line is logged: wait for both.)
            Legs.awaitTrue(() -> proxy.factory().metrics("gw").get("proxy.upstream." + upstreamA + ".up") == 0L
                    && log.contains("upstream " + upstreamA + " marked down after 2 failed connects"),
                    "the checks found A gone, and said so");
            a = new ServerSocket();
            a.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), portA), 50);
            Legs.awaitTrue(() -> proxy.factory().metrics("gw").get("proxy.upstream." + upstreamA + ".up") == 1L,
                    "and back");
            assertEquals(1L, proxy.factory().metrics("gw").get("proxy.upstream." + upstreamA + ".markedDown"));
        } finally {
            a.close();
        }
    }

    @Test
    void aDeadUpstreamIsMarkedDownAndComesBack() throws Exception {
        int portA = PeerProcess.freePort();
        int portB = PeerProcess.freePort();
        String a = "127.0.0.1:" + portA;
        PeerProcess upstreamA = haproxy("A", portA);
        List<Socket> fillers = new ArrayList<>();
        ServerSocket blackHole = null;
        try (PeerProcess upstreamB = haproxy("B", portB); LogCapture log = new LogCapture()) {
            Legs.Proxy proxy = legs.proxy("tcp", Map.of(Route.UPSTREAMS, a + ", 127.0.0.1:" + portB,
                    Route.CONNECT_TIMEOUT, "1000", Route.HEALTH_FAILURES, "2", Route.HEALTH_DOWN_TIME, "300",
                    Route.HEALTH_MAX_DOWN_TIME, "1000"));
            wrk(proxy.address(), 1);
            assertTrue(access(log).stream().anyMatch(l -> l.contains(" upstream=" + a + " ")), "A serves at first");

            upstreamA.close();
            // A's port now takes no connection: a listener that never accepts, its queue full, so
            // connects to it wait for the gateway's connect timeout (as to a host that is gone).
            blackHole = new ServerSocket();
            blackHole.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), portA), 1);
            for (int i = 0; i < 3; i++) {
                Socket s = new Socket();
                fillers.add(s);
                try {
                    s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), portA), 300);
                } catch (IOException full) {
                    break; // the queue is full
                }
            }
            log.clear();
            String out = wrk(proxy.address(), 3);
            List<String> lines = access(log);
            int slow = 0;
            for (String line : lines) {
                Matcher m = DURATION.matcher(line);
                assertTrue(m.find(), line);
                assertEquals("127.0.0.1:" + portB, m.group(1), "every request is served by B: " + line);
                if (Long.parseLong(m.group(2)) >= 900) {
                    slow++;
                }
            }
            // Only requests that chose A within its first connect timeout, before the failures
            // marked it down, paid that timeout: wrk's four connections (and the one it opens
            // first to check the address), a few more as B answered the others quickly. Without
            // health checks every second request would, all along (9 of 21 in 3 s).
            assertTrue(slow <= 10, slow + " of " + lines.size() + " requests waited for A's connect timeout\n" + out);
            assertTrue(lines.size() > 200, "requests kept flowing: " + lines.size() + "\n" + out);
            Map<String, Long> metrics = proxy.factory().metrics("gw");
            assertEquals(0L, metrics.get("proxy.upstream." + a + ".up"));
            assertEquals(1L, metrics.get("proxy.upstream." + a + ".markedDown"));
            assertEquals(1L, metrics.get("proxy.upstream.127.0.0.1:" + portB + ".up"));
            assertEquals(1, log.lines().stream().filter(l -> l.message().contains("upstream " + a + " marked down"))
                    .count(), "marked down: said once, though its checks keep failing");

            blackHole.close();
            for (Socket s : fillers) {
                s.close();
            }
            upstreamA = haproxy("A", portA);
            Legs.awaitTrue(() -> proxy.factory().metrics("gw").get("proxy.upstream." + a + ".up") == 1L,
                    "A is checked and marked up again");
            assertTrue(log.contains("upstream " + a + " is up again"), "said once");
            log.clear();
            wrk(proxy.address(), 1);
            assertTrue(access(log).stream().anyMatch(l -> l.contains(" upstream=" + a + " ")), "A serves again");
        } finally {
            if (blackHole != null) {
                blackHole.close();
            }
            for (Socket s : fillers) {
                s.close();
            }
            upstreamA.close();
        }
    }
}
