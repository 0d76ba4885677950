package org.wharf.protocol.proxy.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.wharf.endpoints.ProxyProtocolAcceptance;
import org.wharf.endpoints.Server;
import org.wharf.protocol.api.ConnectionHooks;
import org.wharf.protocol.api.ProtocolContext;
import org.wharf.transport.tck.EchoProtocol;
import org.wharf.transport.tck.LogCapture;

/**
 * The gateway's access log: one line per connection in {@code org.wharf.access}, with the
 * client (a PROXY header's when there was one), upstream, bytes each way, duration and how it
 * ended; switched off by {@code proxy.accessLog = false}; and a wrk run through the gateway to
 * a real HAProxy, one line per wrk connection.
 */
class AccessLogTest {

    /** One pool service, as a framework has: a route makes its pool anew when the service is another. */
    private static final org.wharf.endpoints.api.ConnectionPools POOLS =
            new org.wharf.endpoints.internal.ConnectionPoolsProvider();

    @TempDir
    static Path dir;
    private static Legs legs;
    private static final Pattern LINE = Pattern.compile("client=(\\S+)( via=\\S+)? endpoint=(\\S+) upstream=(\\S+) "
            + "bytes_in=(\\d+) bytes_out=(\\d+) duration_ms=\\d+\\.\\d end=(.+)");

    @BeforeAll
    static void start() throws Exception {
        legs = new Legs();
    }

    @AfterAll
    static void stop() throws Exception {
        legs.close();
    }

    private static List<String> access(LogCapture log) {
        return log.lines().stream().filter(l -> l.logger().equals("org.wharf.access")).map(LogCapture.Line::message)
                .toList();
    }

    private static int exchange(InetAddress from, InetSocketAddress to, byte[] send, int expect) throws IOException {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(from, 0));
            s.setSoTimeout(20_000);
            s.connect(to, 5000);
            s.getOutputStream().write(send);
            s.getOutputStream().flush();
            assertEquals(expect, s.getInputStream().readNBytes(expect).length);
            return s.getLocalPort();
        }
    }

    @Test
    void oneLinePerConnectionWithClientUpstreamBytesAndEnd() throws Exception {
        try (LogCapture log = new LogCapture()) {
            Legs.Server<EchoProtocol> upstream = legs.serve("tcp", EchoProtocol::new);
            Legs.Proxy proxy = legs.proxy("tcp", Map.of(Route.UPSTREAMS, Legs.hostPort(upstream.address())));
            int port = exchange(InetAddress.getByName("127.0.0.7"), proxy.address(), new byte[10], 10);
            Legs.awaitTrue(() -> access(log).size() == 1, "one access line");
            String line = access(log).get(0);
            assertTrue(line.matches("client=127\\.0\\.0\\.7:" + port + " endpoint=gw upstream=127\\.0\\.0\\.1:"
                    + upstream.address().getPort() + " bytes_in=10 bytes_out=10 duration_ms=\\d+\\.\\d end=client-eof"),
                    line);
        }
    }

    @Test
    void aConnectionNoUpstreamTookIsLoggedAsSuch() throws Exception {
        try (LogCapture log = new LogCapture()) {
            InetSocketAddress dead = Legs.refusing();
            Legs.Proxy proxy = legs.proxy("tcp", Map.of(Route.UPSTREAMS, Legs.hostPort(dead)));
            exchange(InetAddress.getByName("127.0.0.1"), proxy.address(), new byte[1], 0);
            Legs.awaitTrue(() -> access(log).size() == 1, "one access line");
            String line = access(log).get(0);
            assertTrue(line.contains(" upstream=127.0.0.1:" + dead.getPort() + " bytes_in=") && line.endsWith(
                    " end=no-upstream"), line);
        }
    }

    @Test
    void switchedOff() throws Exception {
        try (LogCapture log = new LogCapture()) {
            Legs.Server<EchoProtocol> upstream = legs.serve("tcp", EchoProtocol::new);
            Legs.Proxy proxy = legs.proxy("tcp", Map.of(Route.UPSTREAMS, Legs.hostPort(upstream.address()),
                    Route.ACCESS_LOG, "false"));
            exchange(InetAddress.getByName("127.0.0.1"), proxy.address(), new byte[3], 3);
            Legs.awaitTrue(() -> proxy.route().counters.active.get() == 0, "the connection is gone");
            assertEquals(List.of(), access(log));
        }
    }

    @Test
    void behindABalancerTheHeadersClientAndTheBalancer() throws Exception {
        Legs.Server<EchoProtocol> upstream = legs.serve("tcp", EchoProtocol::new);
        ProxyFactory factory = new ProxyFactory(new ProxyServices(Map.of("tcp", legs.tcp, "ssl", legs.ssl)::get,
                org.wharf.transport.ssl.internal.TlsPropertiesFactory::new,
                () -> POOLS));
        ProtocolContext context = new ProtocolContext("gw-pp", "tcp", Map.of(Route.UPSTREAMS,
                Legs.hostPort(upstream.address())), ConnectionHooks.NONE);
        Server gateway = Legs.await(Server.builder(legs.tcp).name("gw-pp")
                .address(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .proxyProtocol(ProxyProtocolAcceptance.of(ProxyProtocolAcceptance.Versions.EITHER, List.of("127.0.0.1"),
                        Duration.ofSeconds(5)))
                .protocol(() -> factory.newProtocol(context)).start());
        try (LogCapture log = new LogCapture()) {
            int balancerPort = exchange(InetAddress.getByName("127.0.0.1"), gateway.addresses().get(0),
                    "PROXY TCP6 2001:db8::7 2001:db8::1 5555 443\r\nhello".getBytes(StandardCharsets.US_ASCII), 5);
            Legs.awaitTrue(() -> access(log).size() == 1, "one access line");
            String line = access(log).get(0);
            assertTrue(line.startsWith("client=[2001:db8:0:0:0:0:0:7]:5555 via=127.0.0.1:" + balancerPort
                    + " endpoint=gw-pp upstream="), line);
            assertTrue(line.contains(" bytes_in=5 bytes_out=5 "), "the header is not the client's data: " + line);
        } finally {
            Legs.await(gateway.close(Duration.ZERO));
        }
    }

    @Test
    void behindHaproxySendingV2TheLineNamesTheRealClient() throws Exception {
        Legs.Server<EchoProtocol> upstream = legs.serve("tcp", EchoProtocol::new);
        ProxyFactory factory = new ProxyFactory(new ProxyServices(Map.of("tcp", legs.tcp, "ssl", legs.ssl)::get,
                org.wharf.transport.ssl.internal.TlsPropertiesFactory::new,
                () -> POOLS));
        ProtocolContext context = new ProtocolContext("gw-haproxy", "tcp", Map.of(Route.UPSTREAMS,
                Legs.hostPort(upstream.address())), ConnectionHooks.NONE);
        Server gateway = Legs.await(Server.builder(legs.tcp).name("gw-haproxy")
                .address(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .proxyProtocol(ProxyProtocolAcceptance.of(ProxyProtocolAcceptance.Versions.V2, List.of("127.0.0.1"),
                        Duration.ofSeconds(5)))
                .protocol(() -> factory.newProtocol(context)).start());
        int port = PeerProcess.freePort();
        Files.writeString(dir.resolve("haproxy-v2.cfg"), """
                global
                  maxconn 100
                defaults
                  mode tcp
                  timeout connect 5s
                  timeout client 30s
                  timeout server 30s
                frontend front
                  bind 127.0.0.1:%d
                  default_backend wharf
                backend wharf
                  server w 127.0.0.1:%d send-proxy-v2
                """.formatted(port, gateway.addresses().get(0).getPort()));
        try (PeerProcess haproxy = new PeerProcess(dir, "haproxy-v2", List.of("haproxy", "-db", "-f",
                dir.resolve("haproxy-v2.cfg").toString()), port); LogCapture log = new LogCapture()) {
            int clientPort = exchange(InetAddress.getByName("127.0.0.7"), new InetSocketAddress(
                    InetAddress.getLoopbackAddress(), port), "hello".getBytes(StandardCharsets.US_ASCII), 5);
            Legs.awaitTrue(() -> access(log).stream().anyMatch(l -> l.startsWith("client=127.0.0.7:")), "its line");
            String line = access(log).stream().filter(l -> l.startsWith("client=127.0.0.7:")).findFirst().orElseThrow();
            assertTrue(line.startsWith("client=127.0.0.7:" + clientPort + " via=127.0.0.1:"), line);
            assertTrue(line.contains(" endpoint=gw-haproxy upstream=" + Legs.hostPort(upstream.address())
                    + " bytes_in=5 bytes_out=5 "), line);
        } finally {
            Legs.await(gateway.close(Duration.ZERO));
        }
    }

    @Test
    void aWrkRunThroughTheGatewayGivesOneLinePerConnection() throws Exception {
        int port = PeerProcess.freePort();
        Files.writeString(dir.resolve("haproxy.cfg"), """
                global
                  maxconn 100
                defaults
                  timeout connect 5s
                  timeout client 30s
                  timeout server 30s
                frontend web
                  mode http
                  bind 127.0.0.1:%d
                  http-request return status 200 content-type text/plain string "hello from haproxy"
                """.formatted(port));
        try (PeerProcess haproxy = new PeerProcess(dir, "haproxy", List.of("haproxy", "-db", "-f",
                dir.resolve("haproxy.cfg").toString()), port); LogCapture log = new LogCapture()) {
            Legs.Proxy proxy = legs.proxy("tcp", Map.of(Route.UPSTREAMS, "127.0.0.1:" + port));
            log.clear(); // the readiness probe went to haproxy directly, but start clean
            Process wrk = new ProcessBuilder("wrk", "-t1", "-c4", "-d1s", "http://127.0.0.1:" + proxy.address().getPort()
                    + "/").redirectErrorStream(true).start();
            String out = new String(wrk.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, wrk.waitFor(), out);
            // A connection leaves the open count just before its line is written: wait for both.
            Legs.awaitTrue(() -> proxy.route().counters.active.get() == 0
                    && access(log).size() == proxy.route().counters.connections.sum(),
                    "wrk's connections are gone, each with its line");
            List<String> lines = access(log);
            Files.write(Path.of("target", "access-log-wrk.txt"), (String.join("\n", lines) + "\n\n" + out)
                    .getBytes(StandardCharsets.UTF_8));
            assertEquals(proxy.route().counters.connections.sum(), lines.size(), "one line per connection: " + lines);
            long total = 0;
            for (String line : lines) {
                var m = LINE.matcher(line);
                assertTrue(m.matches(), line);
                assertTrue(m.group(1).startsWith("127.0.0.1:"), line);
                assertEquals("127.0.0.1:" + port, m.group(4), line);
                total += Long.parseLong(m.group(6));
            }
            assertEquals(proxy.route().counters.bytesToClient.sum(), total, "bytes to the clients add up");
        }
    }
}
