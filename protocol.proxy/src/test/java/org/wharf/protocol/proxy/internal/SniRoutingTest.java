package org.wharf.protocol.proxy.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;


import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.wharf.transport.tck.EchoProtocol;

/**
 * Routing on the first bytes: two (three) real {@code openssl s_server} upstreams with their own
 * certificates behind one gateway port, reached by {@code openssl s_client -servername}; the
 * TLS passes through untouched (the gateway holds no key). An unknown name goes to the default
 * route, or is refused when there is none; plain text on the same port goes to the default.
 */
class SniRoutingTest {

    @TempDir
    static Path dir;
    private static Legs legs;
    private static final List<PeerProcess> servers = new ArrayList<>();
    private static final Map<String, Integer> ports = new java.util.HashMap<>();

    @BeforeAll
    static void start() throws Exception {
        legs = new Legs();
        for (String name : List.of("a.example", "b.example", "default.example", "h2.example", "http1.example")) {
            Process req = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=" + name, "-keyout",
                    dir.resolve(name + ".key").toString(), "-out", dir.resolve(name + ".pem").toString())
                    .redirectErrorStream(true).start();
            req.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
            assertEquals(0, req.waitFor());
            int port = PeerProcess.freePort();
            ports.put(name, port);
            servers.add(new PeerProcess(dir, name, List.of("openssl", "s_server", "-accept", "127.0.0.1:" + port,
                    "-cert", dir.resolve(name + ".pem").toString(), "-key", dir.resolve(name + ".key").toString(),
                    "-www"), port));
        }
    }

    @AfterAll
    static void stop() throws Exception {
        for (PeerProcess p : servers) {
            p.close();
        }
        legs.close();
    }

    /** {@code openssl s_client -servername NAME}: the subject of the certificate it got, or its failure. */
    private static String subject(InetSocketAddress gateway, String serverName) throws Exception {
        return subject(gateway, serverName, null);
    }

    /** {@code openssl s_client -servername NAME -alpn LIST}: the subject of the certificate it got, or its failure. */
    private static String subject(InetSocketAddress gateway, String serverName, String alpn) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + gateway.getPort()));
        if (alpn != null) {
            command.addAll(List.of("-alpn", alpn));
        }
        if (serverName != null) {
            command.addAll(List.of("-servername", serverName));
        } else {
            command.add("-noservername");
        }
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        for (String line : out.split("\n")) {
            if (line.startsWith("subject=")) {
                return line.substring("subject=".length()).trim();
            }
        }
        return "failed (exit " + p.exitValue() + ")";
    }

    @Test
    void eachNameReachesItsServerAndAnUnknownOneTheDefault() throws Exception {
        Legs.Proxy proxy = legs.proxy("tcp", Map.of(
                "proxy.sni.a.example", "127.0.0.1:" + ports.get("a.example"),
                "proxy.sni.B.Example", "127.0.0.1:" + ports.get("b.example"),
                Route.UPSTREAMS, "127.0.0.1:" + ports.get("default.example")));
        assertEquals("CN = a.example", subject(proxy.address(), "a.example"));
        assertEquals("CN = b.example", subject(proxy.address(), "b.example"), "names match in any case");
        assertEquals("CN = a.example", subject(proxy.address(), "a.example"));
        assertEquals("CN = default.example", subject(proxy.address(), "unknown.example"));
        assertEquals("CN = default.example", subject(proxy.address(), null), "no server name: the default");
    }

    @Test
    void withoutADefaultAnUnknownNameIsRefused() throws Exception {
        Legs.Proxy proxy = legs.proxy("tcp", Map.of(
                "proxy.sni.a.example", "127.0.0.1:" + ports.get("a.example"),
                "proxy.sni.b.example", "127.0.0.1:" + ports.get("b.example")));
        assertEquals("CN = b.example", subject(proxy.address(), "b.example"));
        assertTrue(subject(proxy.address(), "unknown.example").startsWith("failed"));
        assertEquals(0, proxy.route().counters.upstreamFailures.sum(), "refused without trying any upstream");
    }

    @Test
    void tlsAndPlainTextOnOnePort() throws Exception {
        Legs.Server<EchoProtocol> echo = legs.serve("tcp", EchoProtocol::new);
        Legs.Proxy proxy = legs.proxy("tcp", Map.of(
                "proxy.sni.a.example", "127.0.0.1:" + ports.get("a.example"),
                Route.UPSTREAMS, Legs.hostPort(echo.address())));
        assertEquals("CN = a.example", subject(proxy.address(), "a.example"));
        try (Socket s = new Socket()) {
            s.setSoTimeout(20_000);
            s.connect(proxy.address(), 5000);
            s.getOutputStream().write("hello\n".getBytes(StandardCharsets.US_ASCII));
            assertEquals("hello\n", new String(s.getInputStream().readNBytes(6), StandardCharsets.US_ASCII));
        }
        try (Socket s = new Socket()) {
            // A client that waits for the server to speak first goes to the default route after the timeout.
            s.setSoTimeout(20_000);
            s.connect(proxy.address(), 5000);
            Legs.awaitTrue(() -> echo.accepted().size() > 1, "the silent client reached the default route");
        }
    }

    @Test
    void alpnPicksARouteAfterTheServerName() throws Exception {
        Legs.Proxy proxy = legs.proxy("tcp", Map.of(
                "proxy.alpn.h2", "127.0.0.1:" + ports.get("h2.example"),
                "proxy.alpn.http/1.1", "127.0.0.1:" + ports.get("http1.example"),
                "proxy.sni.a.example", "127.0.0.1:" + ports.get("a.example"),
                Route.UPSTREAMS, "127.0.0.1:" + ports.get("default.example")));
        assertEquals("CN = h2.example", subject(proxy.address(), "x.example", "h2"));
        assertEquals("CN = http1.example", subject(proxy.address(), "x.example", "http/1.1"));
        assertEquals("CN = h2.example", subject(proxy.address(), null, "h2,http/1.1"), "no name: by ALPN");
        assertEquals("CN = http1.example", subject(proxy.address(), "x.example", "http/1.1,h2"),
                "the client's order decides between two routed protocols");
        assertEquals("CN = h2.example", subject(proxy.address(), "x.example", "spdy/3,h2"),
                "a protocol without a route is skipped");
        assertEquals("CN = a.example", subject(proxy.address(), "a.example", "h2"), "a server name's route comes first");
        assertEquals("CN = default.example", subject(proxy.address(), "x.example", "imap"), "none routed: the default");
        assertEquals("CN = default.example", subject(proxy.address(), "x.example"), "no ALPN: the default");
        Legs.awaitTrue(() -> legs.log.lines().stream().anyMatch(l -> l.logger().equals("org.wharf.access")
                && l.message().contains("alpn=http/1.1")), "the access log names the ALPN route");
    }

    @Test
    void withoutADefaultAConnectionNoRouteTakesIsRefused() throws Exception {
        Legs.Proxy proxy = legs.proxy("tcp", Map.of("proxy.alpn.h2", "127.0.0.1:" + ports.get("h2.example")));
        assertEquals("CN = h2.example", subject(proxy.address(), "x.example", "http/1.1,h2"));
        assertTrue(subject(proxy.address(), "x.example", "http/1.1").startsWith("failed"));
        assertTrue(subject(proxy.address(), "x.example").startsWith("failed"));
    }

    /** The JDK's ClientHello for a server name, offering these application protocols. */
    private static byte[] jdkHello(String serverName, String... alpn) throws Exception {
        SSLEngine engine = SSLContext.getDefault().createSSLEngine("ignored", 443);
        engine.setUseClientMode(true);
        SSLParameters p = engine.getSSLParameters();
        p.setServerNames(List.of(new SNIHostName(serverName)));
        if (alpn.length > 0) {
            p.setApplicationProtocols(alpn);
        }
        engine.setSSLParameters(p);
        ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        engine.wrap(ByteBuffer.allocate(0), out);
        return java.util.Arrays.copyOf(out.array(), out.position());
    }

    @Test
    void theClientHelloIsReadWhateverTheSplit() throws Exception {
        byte[] hello = jdkHello("Split.Example", "h2", "http/1.1");
        for (int n = 0; n < hello.length; n++) {
            assertEquals(ClientHello.Kind.MORE, ClientHello.read(ByteBuffer.wrap(hello, 0, n)).kind, "after " + n);
        }
        ClientHello h = ClientHello.read(ByteBuffer.wrap(hello));
        assertEquals(ClientHello.Kind.TLS, h.kind);
        assertEquals("split.example", h.serverName);
        assertEquals(List.of("h2", "http/1.1"), h.applicationProtocols);
        // Split over two records, as a client may send it.
        int body = hello.length - 5;
        ByteBuffer two = ByteBuffer.allocate(hello.length + 5);
        two.put(hello, 0, 3).putShort((short) 40).put(hello, 5, 40);
        two.put(hello, 0, 3).putShort((short) (body - 40)).put(hello, 45, body - 40);
        assertEquals("split.example", ClientHello.read(two.flip()).serverName);
        assertEquals(ClientHello.Kind.PLAIN, ClientHello.read(ByteBuffer.wrap("GET /".getBytes(StandardCharsets.US_ASCII)))
                .kind);
        byte[] bad = hello.clone();
        bad[5] = 2; // a ServerHello where the ClientHello should be
        assertEquals(ClientHello.Kind.MALFORMED, ClientHello.read(ByteBuffer.wrap(bad)).kind);
        byte[] cut = hello.clone();
        cut[8] = (byte) 0x7f; // a handshake length beyond the bound
        assertNotEquals(ClientHello.Kind.TLS, ClientHello.read(ByteBuffer.wrap(cut)).kind);
        assertFalse(ClientHello.read(ByteBuffer.wrap(new byte[] {22, 3, 1, 0, 0})).kind == ClientHello.Kind.TLS);
    }

    @Test
    void aClientHelloLongerThanTheConfiguredMostIsRefusedAndOneWithinItRouted() throws Exception {
        byte[] hello = jdkHello("a.example");
        Legs.Server<EchoProtocol> echo = legs.serve("tcp", EchoProtocol::new);
        Legs.Proxy small = legs.proxy("tcp", Map.of("proxy.sni.a.example", Legs.hostPort(echo.address()),
                Route.SNI_MAX_BYTES, String.valueOf(hello.length - 1)));
        Legs.Proxy enough = legs.proxy("tcp", Map.of("proxy.sni.a.example", Legs.hostPort(echo.address()),
                Route.SNI_MAX_BYTES, String.valueOf(hello.length)));
        try (Socket s = new Socket()) {
            s.setSoTimeout(20_000);
            s.connect(small.address(), 5000);
            s.getOutputStream().write(hello);
            assertEquals(-1, s.getInputStream().read(), "closed: the hello is one byte longer than allowed");
        }
        Legs.awaitTrue(() -> legs.log.lines().stream().anyMatch(l -> l.logger().equals("org.wharf.access")
                && l.message().contains("no ClientHello within " + (hello.length - 1) + " bytes (proxy.sniMaxBytes)")),
                "the access log says why");
        try (Socket s = new Socket()) {
            s.setSoTimeout(20_000);
            s.connect(enough.address(), 5000);
            s.getOutputStream().write(hello);
            assertEquals(hello[0], (byte) s.getInputStream().read(), "routed by its name, echoed");
        }
    }

}
