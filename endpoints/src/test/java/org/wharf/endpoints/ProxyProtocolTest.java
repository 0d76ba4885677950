package org.wharf.endpoints;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.wharf.endpoints.ProxyProtocolAcceptance.Versions;
import org.wharf.transport.api.ExtraInfo;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.Transport;
import org.wharf.transport.tck.LogCapture;

/**
 * PROXY protocol acceptance against a real HAProxy sending v1 and v2 headers (with CRC32C and
 * the TLS facts of a client it terminated), and the refusals with raw sockets: untrusted
 * sources, malformed headers, a header that never completes.
 */
class ProxyProtocolTest {

    private static final Loops LOOPS = new Loops();
    private static final InetAddress CLIENT = address("127.0.0.7");
    private static final InetAddress STRANGER = address("127.0.0.9");

    @TempDir
    static Path dir;
    private static Server server;
    private static Server checked;
    private static Server tls;
    private static final List<String> checks = new java.util.concurrent.CopyOnWriteArrayList<>();
    private static Haproxy haproxy;

    /** Tells the client what it saw of the connection, in one line, and closes. */
    static final class Reporter implements Protocol {
        @Override
        public void connectionMade(Transport t) {
            String line = "peer=" + t.extraInfo(ExtraInfo.PEER_ADDRESS).orElse(null)
                    + " by=" + t.extraInfo(ExtraInfo.PROXIED_BY).orElse(null)
                    + " alpn=" + t.extraInfo(ExtraInfo.PROXY_ALPN).orElse(null)
                    + " authority=" + t.extraInfo(ExtraInfo.PROXY_AUTHORITY).orElse(null)
                    + " ssl=" + t.extraInfo(ExtraInfo.PROXY_SSL_VERSION).orElse(null)
                    + " tlvs=" + t.extraInfo(ExtraInfo.PROXY_TLVS).map(Map::keySet).map(TreeSet::new).orElse(null)
                    + "\n";
            t.write(ByteBuffer.wrap(line.getBytes(StandardCharsets.US_ASCII)));
            t.close();
        }

        @Override
        public void dataReceived(ByteBuffer data) {
        }

        @Override
        public void connectionLost(Throwable cause) {
        }
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @BeforeAll
    static void start() throws Exception {
        server = start("pp-either", Versions.EITHER, Duration.ofSeconds(5));
        int port = server.addresses().get(0).getPort();
        Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                dir.resolve("key.pem").toString(), "-out", dir.resolve("cert.pem").toString(), "-days", "1", "-subj",
                "/CN=a.example").redirectErrorStream(true).start();
        openssl.getInputStream().transferTo(OutputStream.nullOutputStream());
        assertEquals(0, openssl.waitFor());
        Files.writeString(dir.resolve("both.pem"), Files.readString(dir.resolve("cert.pem"))
                + Files.readString(dir.resolve("key.pem")));
        String wharf = "127.0.0.1:" + port;
        tls = Loops.await(Server.builder(new org.wharf.transport.ssl.internal.SslTransportProvider(LOOPS.tcp)).name("pp-tls")
                .address(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .options(org.wharf.transport.api.ListenOptions.DEFAULT.withTls(org.wharf.transport.api.TlsOptions.of(
                        org.wharf.transport.ssl.TlsContextBuilder.create().certificate(dir.resolve("cert.pem"),
                                dir.resolve("key.pem")).build())))
                .proxyProtocol(ProxyProtocolAcceptance.of(Versions.EITHER, List.of("127.0.0.1"), Duration.ofSeconds(5)))
                .protocol(Reporter::new).start());
        checked = Loops.await(Server.builder(LOOPS.tcp).name("pp-checks")
                .address(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .proxyProtocol(ProxyProtocolAcceptance.of(Versions.V2, List.of("127.0.0.1"), Duration.ofSeconds(5)))
                .onConnectionMade(t -> checks.add(t.extraInfo(ExtraInfo.PEER_ADDRESS).orElse(null) + " by "
                        + t.extraInfo(ExtraInfo.PROXIED_BY).orElse(null)))
                .protocol(Reporter::new).start());
        haproxy = new Haproxy(dir, List.of(
                new String[] {"", wharf + " send-proxy"},
                new String[] {"", wharf + " send-proxy-v2 proxy-v2-options crc32c"},
                new String[] {"ssl crt " + dir.resolve("both.pem") + " alpn h2,http/1.1",
                    wharf + " send-proxy-v2-ssl proxy-v2-options ssl,authority,crc32c"},
                // A balancer Wharf does not trust: it connects from 127.0.0.5.
                new String[] {"", wharf + " send-proxy-v2 source 127.0.0.5"},
                // Its health checks send v2 LOCAL headers.
                new String[] {"", "127.0.0.1:" + checked.addresses().get(0).getPort() + " send-proxy-v2 check inter 100"},
                // TLS passed through to a Wharf endpoint that terminates it after the header.
                new String[] {"", "127.0.0.1:" + tls.addresses().get(0).getPort() + " send-proxy-v2"}));
    }

    private static Server start(String name, Versions versions, Duration headerTimeout) {
        return Loops.await(Server.builder(LOOPS.tcp).name(name)
                .address(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .proxyProtocol(ProxyProtocolAcceptance.of(versions, List.of("127.0.0.1", "::1/128"), headerTimeout))
                .protocol(Reporter::new).start());
    }

    @AfterAll
    static void stop() throws Exception {
        if (haproxy != null) {
            haproxy.close();
        }
        Loops.await(server.close(Duration.ZERO));
        Loops.await(checked.close(Duration.ZERO));
        Loops.await(tls.close(Duration.ZERO));
        LOOPS.close();
    }

    /** Connects from a given local address, sends bytes, and reads until the end. */
    private static String exchange(InetAddress from, int port, byte[] send, Socket[] used) throws IOException {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(from, 0));
            s.setSoTimeout(20_000);
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
            if (used != null) {
                used[0] = s;
            }
            s.getOutputStream().write(send);
            s.getOutputStream().flush();
            return read(s.getInputStream());
        }
    }

    private static String read(InputStream in) throws IOException {
        try {
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (java.net.SocketException e) {
            return ""; // a reset: nothing was sent
        }
    }

    private static String throughHaproxy(int frontend) throws IOException {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(CLIENT, 0));
            s.setSoTimeout(20_000);
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), haproxy.ports.get(frontend)), 5000);
            String seen = read(s.getInputStream());
            return seen + "|" + s.getLocalSocketAddress();
        }
    }

    @Test
    void haproxyV1GivesTheClientsAddress() throws Exception {
        String[] r = throughHaproxy(0).split("\\|");
        assertEquals("peer=" + r[1], r[0].substring(0, r[0].indexOf(' ')), r[0]);
        assertTrue(r[0].contains(" by=/127.0.0.1:"), r[0]);
        assertTrue(r[0].contains(" tlvs=null"), r[0]);
    }

    @Test
    void haproxyV2WithChecksumGivesTheClientsAddress() throws Exception {
        String[] r = throughHaproxy(1).split("\\|");
        assertEquals("peer=" + r[1], r[0].substring(0, r[0].indexOf(' ')), r[0]);
        assertTrue(r[0].contains(" by=/127.0.0.1:"), r[0]);
        assertTrue(r[0].contains(" tlvs=[3]"), r[0]); // the CRC32C, checked
    }

    @Test
    void haproxyV2TellsWhatItsTlsClientNegotiated() throws Exception {
        SSLContext trustAll = SSLContext.getInstance("TLS");
        trustAll.init(null, new TrustManager[] {new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        try (SSLSocket s = (SSLSocket) trustAll.getSocketFactory().createSocket()) {
            s.bind(new InetSocketAddress(CLIENT, 0));
            s.setSoTimeout(20_000);
            SSLParameters p = s.getSSLParameters();
            p.setServerNames(List.of(new SNIHostName("a.example")));
            p.setApplicationProtocols(new String[] {"h2"});
            s.setSSLParameters(p);
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), haproxy.ports.get(2)), 5000);
            s.startHandshake();
            String seen = read(s.getInputStream());
            assertTrue(seen.startsWith("peer=" + s.getLocalSocketAddress() + " by=/127.0.0.1:"), seen);
            assertTrue(seen.contains(" alpn=h2 authority=a.example ssl=" + s.getSession().getProtocol() + " "), seen);
            assertTrue(seen.contains(" tlvs=[1, 2, 3, 32]"), seen);
        }
    }

    @Test
    void anUntrustedBalancerIsRefusedWithOneLine() throws Exception {
        try (LogCapture log = new LogCapture()) {
            long before = server.counters().sessions();
            for (int i = 0; i < 5; i++) {
                try (Socket s = new Socket()) {
                    s.bind(new InetSocketAddress(CLIENT, 0));
                    s.setSoTimeout(20_000);
                    s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), haproxy.ports.get(3)), 5000);
                    assertEquals("", read(s.getInputStream()), "haproxy's connection from 127.0.0.5 is closed");
                }
            }
            // And a raw socket from an untrusted address with a valid header.
            byte[] header = "PROXY TCP4 192.0.2.1 192.0.2.2 1234 80\r\n".getBytes(StandardCharsets.US_ASCII);
            assertEquals("", exchange(STRANGER, server.addresses().get(0).getPort(), header, null));
            assertEquals(before, server.counters().sessions(), "no protocol was made for them");
            Loops.awaitTrue(() -> server.counters().refused().getOrDefault(ServerCounters.REFUSED_PROXY_PROTOCOL, 0L) >= 6,
                    "the six refusals are counted: " + server.counters().refused());
            Loops.awaitTrue(() -> log.contains("not a trusted source"), "the refusal is logged");
            List<LogCapture.Line> lines = log.lines().stream().filter(l -> l.message().contains("not a trusted source"))
                    .toList();
            assertEquals(1, lines.size(), "one line for the burst: " + lines);
            assertTrue(lines.get(0).message().contains("server pp-either: closing the connection from 127.0.0.5:"),
                    lines.get(0).message());
        }
    }

    @Test
    void malformedHeadersAreRefused() throws Exception {
        Server s = start("pp-malformed", Versions.EITHER, Duration.ofSeconds(5));
        try (LogCapture log = new LogCapture()) {
            int port = s.addresses().get(0).getPort();
            InetAddress lo = InetAddress.getByName("127.0.0.1");
            List<byte[]> bad = List.of(
                    "GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
                    "PROXY TCP4 192.0.2.1 192.0.2.2 1234\r\n".getBytes(StandardCharsets.US_ASCII),
                    "PROXY TCP4 localhost 192.0.2.2 1234 80\r\n".getBytes(StandardCharsets.US_ASCII),
                    "PROXY TCP4 192.0.2.01 192.0.2.2 1234 80\r\n".getBytes(StandardCharsets.US_ASCII),
                    "PROXY TCP6 192.0.2.1 192.0.2.2 1234 80\r\n".getBytes(StandardCharsets.US_ASCII),
                    "PROXY TCP4 192.0.2.1 192.0.2.2 1234 65536\r\n".getBytes(StandardCharsets.US_ASCII),
                    "PROXY TCP4 192.0.2.1 192.0.2.2 1234 80\n".getBytes(StandardCharsets.US_ASCII),
                    ("PROXY TCP4 " + "1".repeat(120)).getBytes(StandardCharsets.US_ASCII),
                    ProxyHeaderTest.v2(0x21, 0x11, ProxyHeaderTest.ipv4Block(), new byte[] {3, 0, 4, 1, 2, 3, 4}),
                    ProxyHeaderTest.v2(0x11, 0x11, ProxyHeaderTest.ipv4Block(), new byte[0]),
                    ProxyHeaderTest.v2(0x21, 0x21, ProxyHeaderTest.ipv4Block(), new byte[0]));
            for (byte[] b : bad) {
                assertEquals("", exchange(lo, port, b, null), new String(b, StandardCharsets.ISO_8859_1));
            }
            assertEquals(0, s.counters().sessions(), "no protocol was made");
            assertEquals(bad.size(), s.counters().refused().getOrDefault(ServerCounters.REFUSED_PROXY_PROTOCOL, 0L)
                    .longValue(), "each refusal is counted: " + s.counters().refused());
            Loops.awaitTrue(() -> log.contains("server pp-malformed: closing the connection from 127.0.0.1:"),
                    "logged");
            long lines = log.lines().stream().filter(l -> l.message().contains("pp-malformed")).count();
            assertEquals(1, lines, "one line for the burst: " + log.lines());
            // A good header on the same server still works.
            String ok = exchange(lo, port, "PROXY TCP4 192.0.2.1 192.0.2.2 1234 80\r\n".getBytes(StandardCharsets.US_ASCII),
                    null);
            assertTrue(ok.startsWith("peer=/192.0.2.1:1234 by=/127.0.0.1:"), ok);
        } finally {
            Loops.await(s.close(Duration.ZERO));
        }
    }

    private static SSLContext trustAll() throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[] {new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        return context;
    }

    @Test
    void aTlsEndpointReadsTheHeaderThenHandshakes() throws Exception {
        try (SSLSocket s = (SSLSocket) trustAll().getSocketFactory().createSocket()) {
            s.bind(new InetSocketAddress(CLIENT, 0));
            s.setSoTimeout(20_000);
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), haproxy.ports.get(5)), 5000);
            s.startHandshake();
            assertEquals("CN=a.example", ((X509Certificate) s.getSession().getPeerCertificates()[0])
                    .getSubjectX500Principal().getName(), "Wharf terminated the TLS");
            String seen = read(s.getInputStream());
            assertTrue(seen.startsWith("peer=" + s.getLocalSocketAddress() + " by=/127.0.0.1:"), seen);
        }
        // A TLS client with no header in front: its ClientHello is no PROXY header.
        try (SSLSocket s = (SSLSocket) trustAll().getSocketFactory().createSocket()) {
            s.setSoTimeout(20_000);
            s.connect(tls.addresses().get(0), 5000);
            assertThrows(IOException.class, s::startHandshake);
        }
    }

    @Test
    void haproxysHealthChecksSendLocalHeadersThatKeepTheBalancerAsThePeer() {
        Loops.awaitTrue(() -> checks.size() >= 3, "HAProxy's checks arrive");
        for (String c : checks) {
            assertTrue(c.matches("/127\\.0\\.0\\.1:\\d+ by null"), "LOCAL: the balancer speaks for itself: " + c);
        }
    }

    @Test
    void closingTheServerClosesConnectionsWaitingForTheirHeader() throws Exception {
        Server s = start("pp-closing", Versions.V1, Duration.ofSeconds(60));
        try (Socket waiting = new Socket()) {
            waiting.setSoTimeout(20_000);
            waiting.connect(s.addresses().get(0), 5000);
            waiting.getOutputStream().write("PROXY TCP4 ".getBytes(StandardCharsets.US_ASCII));
            // One listener accepts in order: once a later connection is served, this one was accepted.
            String later = exchange(InetAddress.getByName("127.0.0.1"), s.addresses().get(0).getPort(),
                    "PROXY TCP4 192.0.2.1 192.0.2.2 1 2\r\n".getBytes(StandardCharsets.US_ASCII), null);
            assertTrue(later.startsWith("peer=/192.0.2.1:1 "), later);
            long t0 = System.nanoTime();
            Loops.await(s.close(Duration.ofSeconds(1)));
            long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(took < 10_000, "closed without waiting for the 60 s header timeout: " + took + " ms");
            assertEquals("", read(waiting.getInputStream()));
            assertEquals(1L, s.counters().refused().get(ServerCounters.REFUSED_SHUTDOWN),
                    "the connection closed unserved counts as refused: " + s.counters().refused());
            assertEquals(1L, s.counters().sessions(), "only the served one is a session");
        }
    }

    /**
     * A drain (a protocol gone for good, the node's graceful shutdown) stops accepting but lets
     * accepted connections finish: one whose PROXY header was still on its way is one of them. It
     * was closed at once, losing the request a balancer had sent behind the header.
     */
    @Test
    void aDrainServesAConnectionWhoseHeaderComesAfterItBegan() throws Exception {
        Server s = start("pp-draining", Versions.V1, Duration.ofSeconds(60));
        try (Socket late = new Socket()) {
            late.setSoTimeout(20_000);
            late.connect(s.addresses().get(0), 5000);
            late.getOutputStream().write("PROXY TCP4 ".getBytes(StandardCharsets.US_ASCII));
            Loops.awaitTrue(() -> s.waitingForHeader() == 1, "accepted, waiting for the rest of its header");
            java.util.concurrent.CompletionStage<Void> drained = s.drain(Duration.ofSeconds(30));
            assertTrue(!s.isListening());
            late.getOutputStream().write("192.0.2.1 192.0.2.2 1 2\r\n".getBytes(StandardCharsets.US_ASCII));
            String seen = read(late.getInputStream());
            assertTrue(seen.startsWith("peer=/192.0.2.1:1 "), "served after the drain began, got '" + seen + "'");
            Loops.await(drained); // its protocol closed it after its line: nothing is left
        }
    }

    /**
     * A connection served after its drain began, whose protocol never ends by itself, is closed
     * at the drain's end like the others, and the drain completes: also when it was the only
     * connection, still waiting for its header, when the drain began.
     */
    @Test
    void aConnectionServedAfterTheDrainBeganIsClosedAtItsEnd() throws Exception {
        Server s = Loops.await(Server.builder(LOOPS.tcp).name("pp-drain-end")
                .address(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .proxyProtocol(ProxyProtocolAcceptance.of(Versions.V1, List.of("127.0.0.1"), Duration.ofSeconds(60)))
                .protocol(org.wharf.transport.tck.EchoProtocol::new).start());
        try (Socket late = new Socket()) {
            late.setSoTimeout(20_000);
            late.connect(s.addresses().get(0), 5000);
            late.getOutputStream().write("PROXY TCP4 ".getBytes(StandardCharsets.US_ASCII));
            Loops.awaitTrue(() -> s.waitingForHeader() == 1, "accepted, waiting for the rest of its header");
            java.util.concurrent.CompletionStage<Void> drained = s.drain(Duration.ofMillis(500));
            // The header completes only once the listener is closed, so the drain began with this
            // connection still waiting, and nothing open.
            Loops.awaitTrue(() -> refused(s.addresses().get(0)), "the listener closes");
            late.getOutputStream().write("192.0.2.1 192.0.2.2 1 2\r\nhello".getBytes(StandardCharsets.US_ASCII));
            assertEquals("hello", new String(late.getInputStream().readNBytes(5), StandardCharsets.US_ASCII),
                    "served after the drain began");
            assertEquals(-1, late.getInputStream().read(), "closed at the drain's end");
            Loops.await(drained);
        }
    }

    /** Whether a connect to the address is refused now. */
    private static boolean refused(InetSocketAddress address) {
        try (Socket probe = new Socket()) {
            probe.connect(address, 5000);
            return false;
        } catch (java.net.ConnectException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * A header cut short by the client's end (FIN) or a reset is a header that does not
     * complete: refused, counted and logged as the timeout is, not only freed (HAProxy logs
     * "Connection closed while waiting for PROXY protocol header").
     */
    @Test
    void aHeaderCutShortByTheClientsEndOrAResetIsRefusedCountedAndLogged() throws Exception {
        Server s = start("pp-cut", Versions.EITHER, Duration.ofSeconds(60));
        try (LogCapture log = new LogCapture()) {
            int port = s.addresses().get(0).getPort();
            try (Socket c = new Socket(InetAddress.getByName("127.0.0.1"), port)) {
                c.setSoTimeout(20_000);
                c.getOutputStream().write("PROXY TCP4 10.1".getBytes(StandardCharsets.US_ASCII));
                c.shutdownOutput();
                assertEquals("", read(c.getInputStream()), "closed at once, not at the 60 s header timeout");
            }
            Loops.awaitTrue(() -> s.counters().refused().getOrDefault(ServerCounters.REFUSED_PROXY_PROTOCOL, 0L) == 1,
                    "the cut header is counted: " + s.counters().refused());
            Loops.awaitTrue(() -> log.contains("server pp-cut: closing the connection from 127.0.0.1:")
                    && log.contains("it ended its input before its PROXY protocol header was complete (15 byte(s) of it)"),
                    "logged");
            try (Socket c = new Socket(InetAddress.getByName("127.0.0.1"), port)) {
                c.getOutputStream().write(ProxyHeaderTest.v2(0x21, 0x11, ProxyHeaderTest.ipv4Block(), new byte[0]), 0, 20);
                c.getOutputStream().flush();
                Loops.awaitTrue(() -> s.counters().open() == 0 && s.waitingForHeader() == 1, "waiting for the rest");
                c.setSoLinger(true, 0); // a reset
            }
            Loops.awaitTrue(() -> s.counters().refused().getOrDefault(ServerCounters.REFUSED_PROXY_PROTOCOL, 0L) == 2,
                    "the reset one is counted: " + s.counters().refused());
            Loops.awaitTrue(() -> s.waitingForHeader() == 0, "its slot is free");
            assertEquals(0, s.counters().sessions(), "no protocol was made for either");
            // A connection that sends nothing and closes (a balancer's TCP check) is neither.
            try (Socket c = new Socket(InetAddress.getByName("127.0.0.1"), port)) {
                Loops.awaitTrue(() -> s.waitingForHeader() == 1, "accepted");
            }
            Loops.awaitTrue(() -> s.waitingForHeader() == 0, "its slot is free");
            assertEquals(2L, s.counters().refused().getOrDefault(ServerCounters.REFUSED_PROXY_PROTOCOL, 0L),
                    "an empty connection is no refused header");
        } finally {
            Loops.await(s.close(Duration.ZERO));
        }
    }

    @Test
    void aHeaderThatDoesNotCompleteInTimeIsRefused() throws Exception {
        Server s = start("pp-slow", Versions.V1, Duration.ofMillis(300));
        try (LogCapture log = new LogCapture()) {
            int port = s.addresses().get(0).getPort();
            long t0 = System.nanoTime();
            assertEquals("", exchange(InetAddress.getByName("127.0.0.1"), port,
                    "PROXY TCP4 192.0.2.1 ".getBytes(StandardCharsets.US_ASCII), null));
            long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(took >= 290, "closed after the deadline, not before: " + took + " ms");
            Loops.awaitTrue(() -> log.contains("no complete PROXY protocol header within 300 ms"), "logged");
            Loops.awaitTrue(() -> s.counters().open() == 0, "nothing open");
            assertEquals(0, s.counters().sessions());
            // v1 only: a v2 header is refused.
            assertEquals("", exchange(InetAddress.getByName("127.0.0.1"), port,
                    ProxyHeaderTest.v2(0x21, 0x11, ProxyHeaderTest.ipv4Block(), new byte[0]), null));
            // The header split over many writes is read whole.
            try (Socket c = new Socket()) {
                c.setSoTimeout(20_000);
                c.setTcpNoDelay(true);
                c.connect(s.addresses().get(0), 5000);
                for (byte b : "PROXY TCP6 2001:db8::1 2001:db8::2 4321 443\r\n".getBytes(StandardCharsets.US_ASCII)) {
                    c.getOutputStream().write(b);
                    c.getOutputStream().flush();
                }
                String seen = read(c.getInputStream());
                assertTrue(seen.startsWith("peer=/[2001:db8:0:0:0:0:0:1]:4321 by=/127.0.0.1:"), seen);
            }
        } finally {
            Loops.await(s.close(Duration.ZERO));
        }
    }
}
