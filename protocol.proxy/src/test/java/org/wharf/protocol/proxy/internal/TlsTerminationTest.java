package org.wharf.protocol.proxy.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Terminating TLS by server name inside a route ({@code proxy.sni.NAME.tls.*}): real
 * {@code openssl s_client} and {@code curl} clients verify the certificate of the name they asked
 * for against a test CA; the upstream gets plain bytes (or TLS again with
 * {@code proxy.upstream.transport = ssl}); a name without a certificate still passes through to
 * an {@code openssl s_server}, on the same port.
 */
class TlsTerminationTest {

    @TempDir
    static Path dir;
    private static Legs legs;
    private static final List<PeerProcess> peers = new ArrayList<>();
    /** openssl s_server (passthrough) for b.example, with b's certificate. */
    private static int bServer;
    /** openssl s_server -www with up.example's certificate: the upstream of a re-encrypting route. */
    private static int tlsUpstream;

    @BeforeAll
    static void start() throws Exception {
        legs = new Legs();
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
                "-subj", "/CN=Wharf test CA", "-keyout", file("ca.key"), "-out", file("ca.pem"));
        for (String name : List.of("a.example", "b.example", "up.example")) {
            openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
                    "-subj", "/CN=" + name, "-addext", "subjectAltName=DNS:" + name, "-CA", file("ca.pem"), "-CAkey",
                    file("ca.key"), "-keyout", file(name + ".key"), "-out", file(name + ".pem"));
        }
        bServer = PeerProcess.freePort();
        peers.add(new PeerProcess(dir, "b.example", List.of("openssl", "s_server", "-accept", "127.0.0.1:" + bServer,
                "-cert", file("b.example.pem"), "-key", file("b.example.key"), "-www"), bServer));
        tlsUpstream = PeerProcess.freePort();
        peers.add(new PeerProcess(dir, "up.example", List.of("openssl", "s_server", "-accept", "127.0.0.1:"
                + tlsUpstream, "-cert", file("up.example.pem"), "-key", file("up.example.key"), "-www"), tlsUpstream));
    }

    @AfterAll
    static void stop() throws Exception {
        for (PeerProcess p : peers) {
            p.close();
        }
        legs.close();
    }

    private static String file(String name) {
        return dir.resolve(name).toString();
    }

    private static void openssl(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
    }

    /** Runs a client to its end (bounded), its input from {@code input}: exit code and output. */
    private static Result run(List<String> command, String input) throws Exception {
        Path in = Files.writeString(Files.createTempFile(dir, "in", ".txt"), input);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectInput(in.toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the client ended");
        return new Result(p.exitValue(), out);
    }

    record Result(int exit, String output) {
    }

    /**
     * {@code openssl s_client -servername NAME}, verifying against the test CA and the name
     * (failing on a bad certificate), sending {@code input} and reading until the server closes.
     */
    private static Result sClient(InetSocketAddress gateway, String name, String input, String... more)
            throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:"
                + gateway.getPort(), "-servername", name, "-verify_return_error", "-CAfile", file("ca.pem"),
                "-verify_hostname", name, "-ign_eof"));
        command.addAll(List.of(more));
        return run(command, input);
    }

    /** {@code proxy.sni.NAME.tls.*}: NAME's certificate and key. */
    private static Map<String, Object> certificateOf(String name) {
        return Map.of("proxy.sni." + name + ".tls.certificate", file(name + ".pem"),
                "proxy.sni." + name + ".tls.key", file(name + ".key"));
    }

    @Test
    void aNameWithACertificateIsTerminatedAndItsUpstreamGetsPlainText() throws Exception {
        try (LineUpstream plain = new LineUpstream()) {
            Map<String, Object> config = new HashMap<>(certificateOf("a.example"));
            config.put("proxy.sni.a.example", Legs.hostPort(plain.address()));
            config.put("proxy.sni.b.example", "127.0.0.1:" + bServer);
            Legs.Proxy proxy = legs.proxy("tcp", config);

            Result a = sClient(proxy.address(), "a.example", "hello a\n");
            assertEquals(0, a.exit(), a.output());
            assertTrue(a.output().contains("subject=CN = a.example"), a.output());
            assertTrue(a.output().contains("Verify return code: 0 (ok)"), a.output());
            assertTrue(a.output().contains("upstream got: hello a"), a.output());
            assertEquals("hello a\n", plain.next(), "the upstream got the client's bytes in plain text");

            // A name without a certificate on the same port: passed through to b's own server.
            Result b = sClient(proxy.address(), "b.example", "GET / HTTP/1.0\r\n\r\n");
            assertTrue(b.output().contains("subject=CN = b.example"), b.output());
            assertTrue(b.output().contains("Verify return code: 0 (ok)"), b.output());
            assertTrue(b.output().contains("HTTP/1.0 200 ok"), b.output());
            assertEquals(1, plain.accepted(), "b.example did not go to a's upstream");

            Legs.awaitTrue(() -> accessLines().stream().anyMatch(l -> l.contains("sni=a.example")
                    && l.contains("tls=terminated")), "the access log says a.example was terminated");
            assertTrue(accessLines().stream().filter(l -> l.contains("sni=b.example"))
                    .noneMatch(l -> l.contains("tls=terminated")), String.valueOf(accessLines()));
        }
    }

    @Test
    void aTerminatedNameNegotiatesAlpnWithItsOwnSettings() throws Exception {
        try (LineUpstream plain = new LineUpstream()) {
            Map<String, Object> config = new HashMap<>(certificateOf("a.example"));
            config.put("proxy.sni.a.example", Legs.hostPort(plain.address()));
            config.put("proxy.sni.a.example.tls.alpn", "http/1.1");
            Legs.Proxy proxy = legs.proxy("tcp", config);
            Result a = sClient(proxy.address(), "a.example", "hi\n", "-alpn", "h2,http/1.1");
            assertTrue(a.output().contains("ALPN protocol: http/1.1"), a.output());
            assertEquals("hi\n", plain.next());
        }
    }

    @Test
    void aTerminatedConnectionSendsItsPROXYHeaderBeforeTheDecryptedBytes() throws Exception {
        try (LineUpstream plain = new LineUpstream()) {
            Map<String, Object> config = new HashMap<>(certificateOf("a.example"));
            config.put("proxy.sni.a.example", Legs.hostPort(plain.address()));
            config.put(Route.SEND_PROXY_PROTOCOL, "v1");
            Legs.Proxy proxy = legs.proxy("tcp", config);
            sClient(proxy.address(), "a.example", "hello\n");
            String header = plain.next();
            assertTrue(header.startsWith("PROXY TCP4 127.0.0.1 127.0.0.1 ") && header.endsWith(" "
                    + proxy.address().getPort() + "\r\n"), header);
        }
    }

    /**
     * A terminated connection cut without close_notify ends as TLS says it did: a truncated
     * stream, a client error. The plain socket's loss (no error) reached the access log first
     * for a moment, and the line said it closed.
     */
    @Test
    void aTerminatedConnectionCutWithoutCloseNotifyIsLoggedAsTruncated() throws Exception {
        try (LineUpstream plain = new LineUpstream()) {
            Map<String, Object> config = new HashMap<>(certificateOf("a.example"));
            config.put("proxy.sni.a.example", Legs.hostPort(plain.address()));
            Legs.Proxy proxy = legs.proxy("tcp", config);
            java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            try (java.io.InputStream ca = Files.newInputStream(dir.resolve("ca.pem"))) {
                trust.setCertificateEntry("ca", java.security.cert.CertificateFactory.getInstance("X.509")
                        .generateCertificate(ca));
            }
            javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance("PKIX");
            tmf.init(trust);
            javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
            context.init(null, tmf.getTrustManagers(), null);
            String client;
            try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), proxy.address().getPort())) {
                client = "client=127.0.0.1:" + raw.getLocalPort() + " ";
                javax.net.ssl.SSLSocket tls = (javax.net.ssl.SSLSocket) context.getSocketFactory().createSocket(raw,
                        "a.example", proxy.address().getPort(), false);
                javax.net.ssl.SSLParameters parameters = tls.getSSLParameters();
                parameters.setServerNames(List.of(new javax.net.ssl.SNIHostName("a.example")));
                tls.setSSLParameters(parameters);
                tls.startHandshake();
                tls.getOutputStream().write("no end of line".getBytes(StandardCharsets.US_ASCII));
                tls.getOutputStream().flush();
                Legs.awaitTrue(() -> plain.accepted() == 1, "the upstream is connected");
            } // the plain socket closes under the TLS one: no close_notify
            Legs.awaitTrue(() -> accessLines().stream().anyMatch(l -> l.startsWith(client)), "the connection's line");
            String line = accessLines().stream().filter(l -> l.startsWith(client)).findFirst().orElseThrow();
            assertTrue(line.contains("end=client-error") && line.contains("truncated TLS stream"), line);
        }
    }

    @Test
    void aFailedHandshakeReachesNoUpstream() throws Exception {
        try (LineUpstream plain = new LineUpstream()) {
            Map<String, Object> config = new HashMap<>(certificateOf("a.example"));
            config.put("proxy.sni.a.example", Legs.hostPort(plain.address()));
            Legs.Proxy proxy = legs.proxy("tcp", config);
            // TLS 1.1, which the gateway's TLS settings do not enable: the handshake fails at the gateway.
            Result old = sClient(proxy.address(), "a.example", "hello\n", "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0");
            assertNotEquals(0, old.exit(), old.output());
            Legs.awaitTrue(() -> accessLines().stream().anyMatch(l -> l.contains("sni=a.example")
                    && l.contains("end=client-error: TLS handshake failed")), "the failed handshake was logged");
            assertEquals(0, plain.accepted(), "no upstream connection for a failed handshake");
            assertEquals(0, proxy.route().counters.upstreamFailures.sum());
        }
    }

    @Test
    void curlThroughATerminatingRouteToAPlainHttpServer() throws Exception {
        Path site = Files.createDirectories(dir.resolve("site"));
        Files.writeString(site.resolve("hello.txt"), "hello from python\n");
        int port = PeerProcess.freePort();
        try (PeerProcess http = new PeerProcess(dir, "http.server", List.of("python3", "-m", "http.server", "--bind",
                "127.0.0.1", "--directory", site.toString(), String.valueOf(port)), port)) {
            Map<String, Object> config = new HashMap<>(certificateOf("a.example"));
            config.put("proxy.sni.a.example", "127.0.0.1:" + port);
            Legs.Proxy proxy = legs.proxy("tcp", config);
            int gw = proxy.address().getPort();
            Result curl = run(List.of("curl", "-sS", "--max-time", "20", "--resolve", "a.example:" + gw + ":127.0.0.1",
                    "--cacert", file("ca.pem"), "https://a.example:" + gw + "/hello.txt"), "");
            assertEquals(0, curl.exit(), curl.output());
            assertEquals("hello from python\n", curl.output());
        }
    }

    @Test
    void withUpstreamTransportSslTheUpstreamGetsTlsAgain() throws Exception {
        Map<String, Object> config = new HashMap<>(certificateOf("a.example"));
        config.put("proxy.sni.a.example", "127.0.0.1:" + tlsUpstream);
        config.put(Route.TRANSPORT, "ssl");
        config.put("proxy.upstream.tls.ca", file("ca.pem"));
        config.put("proxy.upstream.tls.serverName", "up.example");
        Legs.Proxy proxy = legs.proxy("tcp", config);
        Result a = sClient(proxy.address(), "a.example", "GET / HTTP/1.0\r\n\r\n");
        assertTrue(a.output().contains("subject=CN = a.example"), a.output());
        assertTrue(a.output().contains("Verify return code: 0 (ok)"), a.output());
        // s_server -www answers with its own status page: the request reached it over the gateway's TLS.
        assertTrue(a.output().contains("HTTP/1.0 200 ok"), a.output());
    }

    /** A terminating route for {@code localhost} with the test transports' certificate, to this upstream. */
    private static Legs.Proxy localhostTerminated(InetSocketAddress upstream) {
        return legs.proxy("tcp", Map.of("proxy.sni.localhost", Legs.hostPort(upstream),
                "proxy.sni.localhost.tls.certificate", legs.pki.resolve("server.pem").toString(),
                "proxy.sni.localhost.tls.key", legs.pki.resolve("server.key").toString()));
    }

    @Test
    void sixtyFourMebibytesCrossATerminatedLegByteExact() throws Exception {
        Legs.Server<org.wharf.transport.tck.EchoProtocol> upstream = legs.serve("tcp",
                () -> (org.wharf.transport.tck.EchoProtocol) new org.wharf.transport.tck.EchoProtocol().keepBytes(false));
        Legs.Proxy proxy = localhostTerminated(upstream.address());
        org.wharf.transport.tck.StreamSender sender = new org.wharf.transport.tck.StreamSender(64L << 20, 64 * 1024, 7);
        // By name, so the client's ClientHello asks for localhost.
        legs.connect("ssl", InetSocketAddress.createUnresolved("localhost", proxy.address().getPort()), sender);
        String received = Legs.await(sender.receivedHash()); // first: sentHash is only whole once all was sent
        assertEquals(sender.sentHash(), received, "SHA-256 of what was sent and what came back");
        assertEquals(64L << 20, proxy.route().counters.bytesToUpstream.sum(), "the plain bytes, not the TLS records");
        assertEquals(64L << 20, proxy.route().counters.bytesToClient.sum());
    }

    @Test
    void aSlowTlsClientKeepsTheGatewaysMemoryFlatWhenItTerminates() throws Exception {
        long total = 128L << 20;
        Legs.Server<org.wharf.transport.tck.StreamSender> upstream = legs.serve("tcp",
                () -> new org.wharf.transport.tck.StreamSender(total, 64 * 1024, 5));
        Legs.Proxy proxy = localhostTerminated(upstream.address());
        ProxyTest.SlowReader client = legs.connect("ssl", InetSocketAddress.createUnresolved("localhost",
                proxy.address().getPort()), new ProxyTest.SlowReader(total));
        ProxyConnection gateway = (ProxyConnection) proxy.accepted().next();
        long maxBuffered = 0;
        while (!client.done.isDone()) {
            maxBuffered = Math.max(maxBuffered, Legs.await(gateway.buffered()));
            java.util.concurrent.locks.LockSupport.parkNanos(2_000_000); // sampling pace, not synchronisation
        }
        assertEquals(upstream.next().sentHash(), Legs.await(client.done), "128 MiB arrived intact");
        // Write limits (64 KiB high mark) on each leg, one read in flight each, and a TLS record's overhead.
        assertTrue(maxBuffered <= 6 * 64 * 1024, "the gateway held at most " + maxBuffered + " bytes");
        assertTrue(client.pauses > 50, "the client really was slow: paused " + client.pauses + " times");
    }

    @Test
    void wrongTerminationSettingsFailTheRouteNamingThem() {
        Map<String, Object> noKey = Map.of("proxy.sni.a.example", "127.0.0.1:1",
                "proxy.sni.a.example.tls.ca", file("ca.pem"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Route.parse("gw", noKey, new org.wharf.transport.ssl.internal.TlsPropertiesFactory()));
        assertTrue(e.getMessage().contains("proxy.sni.a.example.tls.certificate"), e.getMessage());
        Map<String, Object> missing = new HashMap<>(certificateOf("a.example"));
        missing.put("proxy.sni.a.example", "127.0.0.1:1");
        missing.put("proxy.sni.a.example.tls.key", file("nothing.key"));
        e = assertThrows(IllegalArgumentException.class,
                () -> Route.parse("gw", missing, new org.wharf.transport.ssl.internal.TlsPropertiesFactory()));
        assertTrue(e.getMessage().contains("proxy.sni.a.example"), e.getMessage());
        Map<String, Object> behindProxy = new HashMap<>(certificateOf("a.example"));
        behindProxy.put("proxy.sni.a.example", "127.0.0.1:1");
        behindProxy.put("proxyProtocol", "v2");
        e = assertThrows(IllegalArgumentException.class,
                () -> Route.parse("gw", behindProxy, new org.wharf.transport.ssl.internal.TlsPropertiesFactory()));
        assertTrue(e.getMessage().contains("proxyProtocol"), e.getMessage());
        Map<String, Object> onSsl = new HashMap<>(certificateOf("a.example"));
        onSsl.put("proxy.sni.a.example", "127.0.0.1:1");
        onSsl.put("transport", "ssl");
        e = assertThrows(IllegalArgumentException.class,
                () -> Route.parse("gw", onSsl, new org.wharf.transport.ssl.internal.TlsPropertiesFactory()));
        assertTrue(e.getMessage().contains("transport = tcp"), e.getMessage());
        Map<String, Object> tlsInTls = new HashMap<>(certificateOf("a.example"));
        tlsInTls.put("proxy.sni.a.example", "127.0.0.1:1");
        tlsInTls.put("proxy.sni.b.example", "127.0.0.1:2");
        tlsInTls.put(Route.TRANSPORT, "ssl");
        e = assertThrows(IllegalArgumentException.class,
                () -> Route.parse("gw", tlsInTls, new org.wharf.transport.ssl.internal.TlsPropertiesFactory()));
        assertTrue(e.getMessage().contains("proxy.sni.b.example"), e.getMessage());
        Map<String, Object> alpnInTls = Map.of("proxy.alpn.h2", "127.0.0.1:1", Route.TRANSPORT, "ssl");
        e = assertThrows(IllegalArgumentException.class,
                () -> Route.parse("gw", alpnInTls, new org.wharf.transport.ssl.internal.TlsPropertiesFactory()));
        assertTrue(e.getMessage().contains("proxy.alpn.h2"), e.getMessage());
        Map<String, Object> alpn = Map.of("proxy.alpn.h2", "127.0.0.1:1", "proxy.alpn.h2.tls.certificate",
                file("a.example.pem"));
        e = assertThrows(IllegalArgumentException.class,
                () -> Route.parse("gw", alpn, new org.wharf.transport.ssl.internal.TlsPropertiesFactory()));
        assertTrue(e.getMessage().contains("proxy.alpn.h2.tls.certificate"), e.getMessage());
    }

    private static List<String> accessLines() {
        return legs.log.lines().stream().filter(l -> l.logger().equals("org.wharf.access"))
                .map(org.wharf.transport.tck.LogCapture.Line::message).toList();
    }

    /**
     * A plain TCP upstream: reads each connection's first line, keeps it, answers
     * {@code upstream got: LINE} and closes.
     */
    private static final class LineUpstream implements AutoCloseable {
        private final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        private final java.util.concurrent.atomic.AtomicInteger accepted = new java.util.concurrent.atomic.AtomicInteger();
        private final Thread thread = new Thread(this::serve, "line-upstream");

        LineUpstream() throws IOException {
            thread.setDaemon(true);
            thread.start();
        }

        InetSocketAddress address() {
            return (InetSocketAddress) socket.getLocalSocketAddress();
        }

        int accepted() {
            return accepted.get();
        }

        String next() throws InterruptedException {
            String line = lines.poll(30, TimeUnit.SECONDS);
            if (line == null) {
                throw new AssertionError("the upstream got no line within 30 s");
            }
            return line;
        }

        private void serve() {
            while (!socket.isClosed()) {
                try (Socket s = socket.accept()) {
                    accepted.incrementAndGet();
                    s.setSoTimeout(20_000);
                    InputStream in = s.getInputStream();
                    ByteArrayOutputStream line = new ByteArrayOutputStream();
                    for (int b; (b = in.read()) >= 0;) {
                        line.write(b);
                        if (b == '\n' || line.size() > 4096) {
                            break;
                        }
                    }
                    String text = line.toString(StandardCharsets.ISO_8859_1);
                    lines.add(text);
                    s.getOutputStream().write(("upstream got: " + text).getBytes(StandardCharsets.ISO_8859_1));
                } catch (IOException e) {
                    // closed, or a client that went away: the next accept tells
                }
            }
        }

        @Override
        public void close() throws Exception {
            socket.close();
            thread.join(10_000);
        }
    }
}
