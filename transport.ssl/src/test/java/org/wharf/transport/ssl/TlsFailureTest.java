package org.wharf.transport.ssl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Supplier;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.wharf.transport.api.ConnectOptions;
import org.wharf.transport.api.Connected;
import org.wharf.transport.api.Listener;
import org.wharf.transport.api.TlsError;
import org.wharf.transport.api.TlsOptions;
import org.wharf.transport.api.Transport;
import org.wharf.transport.api.TransportTimeoutError;
import org.wharf.transport.tck.RecordingProtocol;

/**
 * What goes wrong fails clearly: a TLS-specific error, a log line, and the server serves the
 * next good client as before.
 */
class TlsFailureTest {

    private static TestPki pki;
    private static TlsFixture fixture;

    @BeforeAll
    static void start() throws Exception {
        pki = TestPki.create();
        fixture = new TlsFixture(pki);
    }

    @AfterAll
    static void stop() throws Exception {
        fixture.close();
    }

    @BeforeEach
    void clearLog() {
        fixture.log.clear();
        fixture.ssl = new org.wharf.transport.ssl.internal.SslTransportProvider(fixture.tcp);
    }

    @ParameterizedTest(name = "server certificate {0}")
    @ValueSource(strings = {"untrusted", "wronghost", "expired"})
    void aServerCertificateTheClientCannotAcceptFailsTheConnectWithATlsError(String name) throws Exception {
        TlsOptions bad = TlsOptions.of(TlsContextBuilder.create().certificate(pki.file(name + ".pem"),
                pki.file(name + ".key")).build());
        Listener listener = fixture.listen(bad, () -> new TlsFixture.Echo(1), new LinkedBlockingQueue<>());
        Throwable e = TlsFixture.failure(fixture.ssl.connect(localhost(listener), ConnectOptions.DEFAULT
                .withTls(fixture.client()), RecordingProtocol::new));
        assertInstanceOf(TlsError.class, e);
        String expected = switch (name) {
            case "untrusted" -> "PKIX";
            case "wronghost" -> "localhost";
            default -> "validity";
        };
        assertTrue(e.getMessage().contains(expected) || String.valueOf(e.getCause()).contains(expected), e.toString());
        // The same server still serves a client that accepts its certificate.
        TlsOptions accepting = TlsOptions.of(TlsContextBuilder.create().trustAll().build()).withVerifyHostName(false);
        assertServes(listener, accepting);
        listener.close();
    }

    @Test
    void aRequiredClientCertificateThatIsMissingEndsTheConnectionAndIsLogged() throws Exception {
        TlsOptions tls = TlsOptions.of(TlsContextBuilder.create().certificate(pki.file("server.pem"), pki.file("server.key"))
                .trustCertificates(pki.file("ca.pem")).build()).withClientAuth(TlsOptions.ClientAuth.REQUIRED);
        Listener listener = fixture.listen(tls, () -> new TlsFixture.Echo(1), new LinkedBlockingQueue<>());
        RecordingProtocol client = new RecordingProtocol();
        // With TLS 1.3 the client may finish its side before the server refuses: then the
        // connection ends with the server's alert instead of the connect failing.
        Throwable e = fixture.ssl.connect(localhost(listener), ConnectOptions.DEFAULT.withTls(fixture.client()),
                () -> client).handle((c, x) -> x).toCompletableFuture().get();
        if (e == null) {
            e = TlsFixture.await(client.lost()); // the server's alert ends it
        }
        assertInstanceOf(TlsError.class, e);
        awaitWarning("TLS handshake with");
        TlsOptions withCertificate = TlsOptions.of(TlsContextBuilder.create().certificate(pki.file("client.pem"),
                pki.file("client.key")).trustCertificates(pki.file("ca.pem")).build());
        assertServes(listener, withCertificate);
        listener.close();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"-tls1", "-tls1_1"})
    void oldProtocolVersionsAreRefused(String flag) throws Exception {
        Listener listener = fixture.listen(fixture.server(), () -> new TlsFixture.Echo(1), new LinkedBlockingQueue<>());
        OpenSsl.Result r = OpenSsl.run(pki.dir, "hello\n".getBytes(StandardCharsets.US_ASCII), "s_client", "-connect",
                "127.0.0.1:" + listener.localAddress().getPort(), flag, "-cipher", "DEFAULT@SECLEVEL=0", "-quiet",
                "-nocommands");
        assertNotEquals(0, r.exit(), "openssl " + flag + " must fail: " + r.err());
        assertTrue(r.err().contains("alert") || r.err().contains("protocol"), r.err());
        awaitWarning("TLS handshake with");
        assertServes(listener, fixture.client());
        listener.close();
    }

    @Test
    void plainTextSentToATlsPortClosesThatConnection() throws Exception {
        assertRawInputIsRefused("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII), false);
    }

    @Test
    void garbageClosesThatConnection() throws Exception {
        byte[] garbage = new byte[1000];
        new Random(1).nextBytes(garbage);
        garbage[0] = 0x16; // looks like a handshake record, is not one
        assertRawInputIsRefused(garbage, false);
    }

    @Test
    void aRecordCutShortByTheEndOfTheStreamIsATlsError() throws Exception {
        // A record header that announces 16,000 bytes, ten of them, then end of input.
        byte[] truncated = {0x16, 0x03, 0x03, 0x3e, (byte) 0x80, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        assertRawInputIsRefused(truncated, true);
    }

    @Test
    void anEncryptedStreamThatEndsWithoutCloseNotifyIsATlsError() throws Exception {
        BlockingQueue<TlsFixture.Echo> made = new LinkedBlockingQueue<>();
        Listener listener = fixture.listen(fixture.server(), () -> new TlsFixture.Echo(Integer.MAX_VALUE), made);
        RecordingProtocol client = new RecordingProtocol();
        Connected<Transport, RecordingProtocol> c = TlsFixture.await(fixture.ssl.connect(localhost(listener),
                ConnectOptions.DEFAULT.withTls(fixture.client()), () -> client));
        c.transport().write(ByteBuffer.wrap("x".getBytes(StandardCharsets.US_ASCII)));
        TlsFixture.Echo echo = TlsFixture.take(made);
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (client.receivedCount() < 1 && System.nanoTime() < deadline) {
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
        // Close the TCP connection under TLS, nothing unread (a reset would be an I/O error):
        // no close_notify goes out.
        c.transport().extraInfo(org.wharf.transport.api.ExtraInfo.CHANNEL).orElseThrow().close();
        Throwable lost = TlsFixture.await(echo.lost());
        assertInstanceOf(TlsError.class, lost);
        assertTrue(lost.getMessage().contains("close_notify"), lost.getMessage());
        assertServes(listener, fixture.client());
        listener.close();
    }

    @Test
    void recordsThatArriveAfterTheApplicationClosedAreNotDelivered() throws Exception {
        // Echo(1) closes after its first data: a second record read in the same segment
        // must not reach it (it would write to a closing transport and fail the connection).
        BlockingQueue<TlsFixture.Echo> made = new LinkedBlockingQueue<>();
        Listener listener = fixture.listen(fixture.server(), () -> (TlsFixture.Echo) new TlsFixture.Echo(1).keepBytes(true),
                made);
        try (SocketChannel channel = SocketChannel.open(listener.localAddress())) {
            SSLEngine engine = fixture.client().context().get().createSSLEngine();
            engine.setUseClientMode(true);
            handshake(channel, engine);
            ByteBuffer out = ByteBuffer.allocate(2 * engine.getSession().getPacketBufferSize());
            engine.wrap(ByteBuffer.wrap("first".getBytes(StandardCharsets.US_ASCII)), out);
            engine.wrap(ByteBuffer.wrap("second".getBytes(StandardCharsets.US_ASCII)), out);
            out.flip();
            channel.write(out); // both records in one segment, read by the server at once
            TlsFixture.Echo echo = TlsFixture.take(made);
            assertEquals(null, TlsFixture.await(echo.lost()), "a clean close, not a failure");
            assertEquals("first", new String(echo.received(), StandardCharsets.US_ASCII));
            assertEquals(List.of(), echo.violations());
        }
        listener.close();
    }

    /** A blocking client handshake on the JDK's engine, so the test controls every record sent after it. */
    private static void handshake(SocketChannel channel, SSLEngine engine) throws Exception {
        ByteBuffer netIn = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        ByteBuffer netOut = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        ByteBuffer app = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize());
        engine.beginHandshake();
        SSLEngineResult.HandshakeStatus status = engine.getHandshakeStatus();
        while (status != SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING
                && status != SSLEngineResult.HandshakeStatus.FINISHED) {
            switch (status) {
                case NEED_WRAP -> {
                    netOut.clear();
                    status = engine.wrap(ByteBuffer.allocate(0), netOut).getHandshakeStatus();
                    netOut.flip();
                    while (netOut.hasRemaining()) {
                        channel.write(netOut);
                    }
                }
                case NEED_TASK -> {
                    for (Runnable task; (task = engine.getDelegatedTask()) != null;) {
                        task.run();
                    }
                    status = engine.getHandshakeStatus();
                }
                default -> {
                    netIn.flip();
                    SSLEngineResult r = engine.unwrap(netIn, app);
                    netIn.compact();
                    if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW && channel.read(netIn) < 0) {
                        throw new java.io.EOFException("the server closed during the handshake");
                    }
                    status = r.getHandshakeStatus();
                }
            }
        }
    }

    @Test
    void aHandshakeThatNeverCompletesTimesOutOnTheServer() throws Exception {
        TlsOptions quick = fixture.server().withHandshakeTimeout(Duration.ofMillis(300));
        LinkedBlockingQueue<TlsFixture.Echo> made = new LinkedBlockingQueue<>();
        Listener listener = fixture.listen(quick, () -> new TlsFixture.Echo(1), made);
        try (Socket silent = new Socket(InetAddress.getLoopbackAddress(), listener.localAddress().getPort())) {
            silent.setSoTimeout(10_000);
            InputStream in = silent.getInputStream();
            int b;
            do {
                b = in.read(); // an alert first, then the end
            } while (b >= 0);
            assertEquals(-1, b, "the server closes a connection that never handshakes");
        }
        awaitWarning("did not complete within 300 ms");
        assertTrue(made.isEmpty(), "a handshake that timed out makes no application protocol");
        assertServes(listener, fixture.client());
        listener.close();
    }

    @Test
    void aHandshakeThatNeverCompletesTimesOutOnTheClient() throws Exception {
        try (ServerSocket mute = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            Throwable e = TlsFixture.failure(fixture.ssl.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(),
                    mute.getLocalPort()), ConnectOptions.DEFAULT.withTls(fixture.client()
                    .withHandshakeTimeout(Duration.ofMillis(300))), RecordingProtocol::new));
            assertInstanceOf(TransportTimeoutError.class, e);
            assertTrue(e.getMessage().contains("300 ms"), e.getMessage());
        }
    }

    private void assertRawInputIsRefused(byte[] input, boolean thenEndOfInput) throws Exception {
        LinkedBlockingQueue<TlsFixture.Echo> made = new LinkedBlockingQueue<>();
        Listener listener = fixture.listen(fixture.server(), () -> new TlsFixture.Echo(1), made);
        try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), listener.localAddress().getPort())) {
            raw.setSoTimeout(10_000);
            raw.getOutputStream().write(input);
            if (thenEndOfInput) {
                raw.shutdownOutput();
            }
            InputStream in = raw.getInputStream();
            try {
                while (in.read() >= 0) {
                    // an alert may come first; then the end
                }
            } catch (java.net.SocketException reset) {
                // closed with unread input: a reset is as good as an end
            }
        }
        awaitWarning("TLS handshake with");
        assertTrue(made.isEmpty(), "a failed handshake makes no application protocol");
        assertServes(listener, fixture.client());
        assertEquals(1, made.size(), "the good client's protocol is the first one made");
        listener.close();
    }

    private static void assertServes(Listener listener, TlsOptions clientTls) {
        RecordingProtocol client = new RecordingProtocol();
        Connected<Transport, RecordingProtocol> c = TlsFixture.await(fixture.ssl.connect(localhost(listener),
                ConnectOptions.DEFAULT.withTls(clientTls), () -> client));
        c.transport().write(ByteBuffer.wrap("ok?".getBytes(StandardCharsets.US_ASCII)));
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (client.receivedCount() < 1 && System.nanoTime() < deadline) {
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
        assertTrue(client.receivedCount() >= 1, "the server still serves good clients");
        c.transport().close();
    }

    private static void awaitWarning(String text) {
        Supplier<Boolean> seen = () -> fixture.log.warnings().stream().anyMatch(w -> w.contains(text));
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!seen.get() && System.nanoTime() < deadline) {
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
        assertTrue(seen.get(), "a warning containing '" + text + "' was logged: " + fixture.log.warnings());
    }

    private static InetSocketAddress localhost(Listener listener) {
        return InetSocketAddress.createUnresolved("localhost", listener.localAddress().getPort());
    }
}
