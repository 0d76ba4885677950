package org.wharf.transport.ssl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

import javax.net.ssl.SSLContext;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.wharf.transport.api.ConnectOptions;
import org.wharf.transport.api.Connected;
import org.wharf.transport.api.ExtraInfo;
import org.wharf.transport.api.Listener;
import org.wharf.transport.api.SslTransport;
import org.wharf.transport.api.TlsOptions;
import org.wharf.transport.api.Transport;
import org.wharf.transport.tck.RecordingProtocol;

/** Hot reload, STARTTLS and unwrap, ALPN, the key formats, and configuration errors. */
class TlsFeatureTest {

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

    @Test
    void replacedFilesReachTheNextHandshakeAndOpenConnectionsAreUntouched() throws Exception {
        Path dir = Files.createTempDirectory("wharf-reload");
        Files.copy(pki.file("server.pem"), dir.resolve("tls.pem"));
        Files.copy(pki.file("server.key"), dir.resolve("tls.key"));
        TlsOptions reloading = TlsOptions.of(TlsContextBuilder.create().certificate(dir.resolve("tls.pem"),
                dir.resolve("tls.key")).reloading(Duration.ZERO));
        Listener listener = fixture.listen(reloading, () -> new TlsFixture.Echo(Integer.MAX_VALUE),
                new LinkedBlockingQueue<>());
        TlsOptions trusting = TlsOptions.of(TlsContextBuilder.create().trustCertificates(pki.file("ca.pem")).build())
                .withVerifyHostName(false);

        Connected<Transport, RecordingProtocol> before = connect(listener, trusting);
        assertEquals("CN=localhost", subject(before.transport()));

        // Replace both files (the new pair is another host's certificate, same CA).
        Files.copy(pki.file("other.pem"), dir.resolve("tls.pem"), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(pki.file("other.key"), dir.resolve("tls.key"), StandardCopyOption.REPLACE_EXISTING);

        Connected<Transport, RecordingProtocol> after = connect(listener, trusting);
        assertEquals("CN=other.test", subject(after.transport()), "the next handshake presents the new certificate");
        assertEquals("CN=localhost", subject(before.transport()), "the open connection keeps its session");
        before.transport().write(ByteBuffer.wrap("still".getBytes(StandardCharsets.US_ASCII)));
        awaitReceived(before.protocol(), 5);

        // A half-written pair (certificate without its key) is not taken: the last good one stays.
        Files.copy(pki.file("server.pem"), dir.resolve("tls.pem"), StandardCopyOption.REPLACE_EXISTING);
        assertEquals("CN=other.test", subject(connect(listener, trusting).transport()));
        listener.close();
    }

    @Test
    void clearThenTlsThenClearThenTlsOnOneConnection() throws Exception {
        TlsOptions serverTls = fixture.server().withHandshakeOnConnect(false);
        TlsOptions clientTls = fixture.client().withHandshakeOnConnect(false);
        Listener listener = fixture.listen(serverTls, StartTlsServer::new, new LinkedBlockingQueue<>());
        StartTlsClient client = new StartTlsClient();
        Connected<Transport, StartTlsClient> c = TlsFixture.await(fixture.ssl.connect(
                InetSocketAddress.createUnresolved("localhost", listener.localAddress().getPort()),
                ConnectOptions.DEFAULT.withTls(clientTls), () -> client));
        SslTransport t = (SslTransport) c.transport();
        assertFalse(t.isEncrypted(), "starts clear");

        for (int round = 0; round < 2; round++) {
            t.write(ascii("plain " + round + "\n"));
            assertEquals("echo plain " + round, TlsFixture.take(client.lines));
            assertFalse(t.isEncrypted());

            t.write(ascii("STARTTLS\n"));
            assertEquals("OK", TlsFixture.take(client.lines));
            TlsFixture.await(client.secured);
            assertTrue(t.isEncrypted());
            assertEquals("TLSv1.3", t.extraInfo(ExtraInfo.TLS_PROTOCOL).orElseThrow());
            t.write(ascii("secret " + round + "\n"));
            assertEquals("echo secret " + round, TlsFixture.take(client.lines));

            t.write(ascii("STOPTLS\n"));
            assertEquals("BYE", TlsFixture.take(client.lines));
            TlsFixture.await(client.cleared);
            assertFalse(t.isEncrypted(), "back to clear text");
            client.reset();
        }
        t.write(ascii("plain again\n"));
        assertEquals("echo plain again", TlsFixture.take(client.lines));
        t.close();
        listener.close();
    }

    @Test
    void startTlsAndUnwrapCalledFromAnotherThreadTakeEffectBeforeTheirStagesComplete() throws Exception {
        // The client starts the handshake and the unwrap from the test thread, not the loop:
        // the stage returned must be the new handshake's (the old one returned the clear
        // phase's, already done with a null session, and the connection turned TLS later).
        TlsOptions serverTls = fixture.server().withHandshakeOnConnect(false);
        TlsOptions clientTls = fixture.client().withHandshakeOnConnect(false);
        Listener listener = fixture.listen(serverTls, StartTlsServer::new, new LinkedBlockingQueue<>());
        PassiveClient client = new PassiveClient();
        Connected<Transport, PassiveClient> c = TlsFixture.await(fixture.ssl.connect(
                InetSocketAddress.createUnresolved("localhost", listener.localAddress().getPort()),
                ConnectOptions.DEFAULT.withTls(clientTls), () -> client));
        SslTransport t = (SslTransport) c.transport();
        for (int round = 0; round < 2; round++) {
            t.write(ascii("STARTTLS\n"));
            assertEquals("OK", TlsFixture.take(client.lines));
            javax.net.ssl.SSLSession session = TlsFixture.await(t.handshake());
            assertTrue(session != null, "the stage completes with the new session, not the clear phase's null");
            assertTrue(t.isEncrypted());
            t.write(ascii("secret " + round + "\n"));
            assertEquals("echo secret " + round, TlsFixture.take(client.lines));

            // The unwrap must go out right after STOPTLS, so the client is unwrapping before the
            // server's close_notify arrives. Both are handed to the loop from this thread while
            // the loop is held in a task, so they run in one turn, with no read in between.
            java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch holding = new java.util.concurrent.CountDownLatch(1);
            t.loop().execute(() -> {
                holding.countDown();
                try {
                    held.await(30, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(holding.await(30, java.util.concurrent.TimeUnit.SECONDS));
            t.write(ascii("STOPTLS\n"));
            java.util.concurrent.CompletionStage<Void> unwrapped = t.unwrap();
            held.countDown();
            TlsFixture.await(unwrapped);
            assertEquals("BYE", TlsFixture.take(client.lines));
            assertFalse(t.isEncrypted());
            t.write(ascii("plain " + round + "\n"));
            assertEquals("echo plain " + round, TlsFixture.take(client.lines));
        }
        t.close();
        listener.close();
        assertEquals(List.of(), client.violations());
    }

    @Test
    void resumingReadingInsideACallbackNeverDeliversDataInsideIt() throws Exception {
        // A protocol that pauses and resumes within dataReceived: what the TLS layer held back
        // (the other records of the same read) comes on a later turn, never nested.
        BlockingQueue<RecordingProtocol> made = new LinkedBlockingQueue<>();
        Listener listener = fixture.listen(fixture.server(), () -> new RecordingProtocol() {
            @Override
            protected void onDataReceived(ByteBuffer data) {
                transport().pauseReading();
                transport().resumeReading();
            }
        }, made);
        RecordingProtocol client = new RecordingProtocol();
        Connected<Transport, RecordingProtocol> c = TlsFixture.await(fixture.ssl.connect(
                InetSocketAddress.createUnresolved("localhost", listener.localAddress().getPort()),
                ConnectOptions.DEFAULT.withTls(fixture.client()), () -> client));
        ByteBuffer[] records = new ByteBuffer[64];
        for (int i = 0; i < records.length; i++) {
            records[i] = ascii("record " + i + ";");
        }
        int total = java.util.Arrays.stream(records).mapToInt(ByteBuffer::remaining).sum();
        c.transport().write(records);
        RecordingProtocol server = TlsFixture.take(made);
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (server.receivedCount() < total && System.nanoTime() < deadline) {
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
        assertEquals(total, server.receivedCount());
        assertEquals(List.of(), server.violations());
        c.transport().close();
        listener.close();
    }

    /** Queues the lines it receives and does nothing else. */
    static final class PassiveClient extends LineProtocol {
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

        @Override
        void line(String line) {
            lines.add(line);
        }
    }

    @Test
    void alpnAndSniBetweenOurClientAndServer() throws Exception {
        BlockingQueue<TlsFixture.Echo> made = new LinkedBlockingQueue<>();
        Listener listener = fixture.listen(fixture.server().withApplicationProtocols(List.of("http/1.1")),
                () -> new TlsFixture.Echo(Integer.MAX_VALUE), made);
        Connected<Transport, RecordingProtocol> c = connect(listener,
                fixture.client().withApplicationProtocols(List.of("h2", "http/1.1")));
        assertEquals("http/1.1", ((SslTransport) c.transport()).applicationProtocol().orElseThrow());
        TlsFixture.Echo echo = TlsFixture.take(made);
        TlsFixture.await(echo.made()); // made at accept, connected once its handshake is done
        assertEquals("http/1.1", echo.alpn);
        assertEquals("localhost", echo.sni);
        assertTrue(c.transport().extraInfo(ExtraInfo.CIPHER_SUITE).orElseThrow().startsWith("TLS_"));
        assertFalse(c.transport().canWriteEof());
        assertThrows(UnsupportedOperationException.class, () -> c.transport().writeEof());
        listener.close();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"pem-rsa", "pem-ec", "pem-encrypted", "pem-pkcs1", "pkcs12", "jks"})
    void everyKeyFormatServes(String format) throws Exception {
        char[] password = TestPki.PASSWORD.toCharArray();
        TlsContextBuilder b = TlsContextBuilder.create();
        switch (format) {
            case "pem-rsa" -> b.certificate(pki.file("server.pem"), pki.file("server.key"));
            case "pem-ec" -> b.certificate(pki.file("server-ec.pem"), pki.file("server-ec.key"));
            case "pem-encrypted" -> b.certificate(pki.file("server.pem"), pki.file("server-encrypted.key"), password);
            case "pem-pkcs1" -> b.certificate(pki.file("server.pem"), pki.file("server-pkcs1.key"));
            case "pkcs12" -> b.keyStore(pki.file("server.p12"), password);
            default -> b.keyStore(pki.file("server.jks"), password);
        }
        Listener listener = fixture.listen(TlsOptions.of(b.build()), () -> new TlsFixture.Echo(Integer.MAX_VALUE),
                new LinkedBlockingQueue<>());
        TlsOptions viaTrustStore = TlsOptions.of(TlsContextBuilder.create().trustStore(pki.file("trust.p12"), password)
                .build());
        Connected<Transport, RecordingProtocol> c = connect(listener, viaTrustStore);
        assertEquals("CN=localhost", subject(c.transport()));
        listener.close();
    }

    @Test
    void misconfigurationsNameTheFileOrPropertyAndValue() {
        IllegalArgumentException mismatch = assertThrows(IllegalArgumentException.class, () -> TlsContextBuilder.create()
                .certificate(pki.file("server.pem"), pki.file("other.key")).build());
        assertTrue(mismatch.getMessage().contains("other.key") && mismatch.getMessage().contains("does not belong"),
                mismatch.getMessage());
        IllegalArgumentException wrongPassword = assertThrows(IllegalArgumentException.class, () -> TlsContextBuilder
                .create().keyStore(pki.file("server.p12"), "wrong".toCharArray()).build());
        assertTrue(wrongPassword.getMessage().contains("server.p12"), wrongPassword.getMessage());
        IllegalArgumentException encrypted = assertThrows(IllegalArgumentException.class, () -> TlsContextBuilder.create()
                .certificate(pki.file("server.pem"), pki.file("server-encrypted.key")).build());
        assertTrue(encrypted.getMessage().contains("password"), encrypted.getMessage());

        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> TlsProperties.options(
                Map.of(TlsProperties.CERTIFICATE, "/nowhere/cert.pem", TlsProperties.KEY, pki.file("server.key").toString())));
        assertTrue(missing.getMessage().contains("tls.certificate = '/nowhere/cert.pem'"), missing.getMessage());
        IllegalArgumentException mode = assertThrows(IllegalArgumentException.class, () -> TlsProperties.options(
                Map.of(TlsProperties.CA, pki.file("ca.pem").toString(), TlsProperties.CLIENT_AUTH, "sometimes")));
        assertTrue(mode.getMessage().contains("tls.clientAuth = 'sometimes'"), mode.getMessage());
        IllegalArgumentException half = assertThrows(IllegalArgumentException.class, () -> TlsProperties.options(
                Map.of(TlsProperties.CERTIFICATE, pki.file("server.pem").toString())));
        assertTrue(half.getMessage().contains("tls.key"), half.getMessage());
    }

    @Test
    void propertiesMakeOptionsThatServe() throws Exception {
        TlsOptions server = TlsProperties.options(Map.of(
                TlsProperties.CERTIFICATE, pki.file("server.pem").toString(),
                TlsProperties.KEY, pki.file("server.key").toString(),
                TlsProperties.PROTOCOLS, "TLSv1.3",
                TlsProperties.ALPN, new String[] {"h2"},
                TlsProperties.HANDSHAKE_TIMEOUT, 5000));
        assertEquals(List.of("TLSv1.3"), server.protocols());
        assertEquals(Duration.ofSeconds(5), server.handshakeTimeout());
        assertTrue(TlsProperties.present(Map.of(TlsProperties.CA, "x")));
        assertFalse(TlsProperties.present(Map.of("port", 7443)));
        Listener listener = fixture.listen(server, () -> new TlsFixture.Echo(Integer.MAX_VALUE), new LinkedBlockingQueue<>());
        TlsOptions client = TlsProperties.options(Map.of(TlsProperties.CA, pki.file("ca.pem").toString()));
        assertEquals("CN=localhost", subject(connect(listener, client).transport()));
        SSLContext context = client.context().get();
        assertEquals(context, client.context().get(), "unchanged files: the same context");
        listener.close();
    }

    // ---- helpers and protocols ----

    private static Connected<Transport, RecordingProtocol> connect(Listener listener, TlsOptions tls) {
        return TlsFixture.await(fixture.ssl.connect(InetSocketAddress.createUnresolved("localhost",
                listener.localAddress().getPort()), ConnectOptions.DEFAULT.withTls(tls), RecordingProtocol::new));
    }

    private static String subject(Transport t) {
        return ((X509Certificate) ((SslTransport) t).peerCertificates().get(0)).getSubjectX500Principal().getName();
    }

    private static void awaitReceived(RecordingProtocol p, int n) {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (p.receivedCount() < n && System.nanoTime() < deadline) {
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
        assertEquals(n, p.receivedCount());
    }

    private static ByteBuffer ascii(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII));
    }

    /** Splits a byte stream into lines; one per call of {@link #line}. */
    abstract static class LineProtocol extends RecordingProtocol {
        private final StringBuilder partial = new StringBuilder();

        @Override
        protected void onDataReceived(ByteBuffer data) {
            ByteBuffer d = data.duplicate();
            while (d.hasRemaining()) {
                char ch = (char) d.get();
                if (ch == '\n') {
                    line(partial.toString());
                    partial.setLength(0);
                } else {
                    partial.append(ch);
                }
            }
        }

        abstract void line(String line);
    }

    /** STARTTLS and STOPTLS on command; echoes everything else. */
    static final class StartTlsServer extends LineProtocol {
        @Override
        void line(String line) {
            SslTransport t = (SslTransport) transport();
            switch (line) {
                case "STARTTLS" -> {
                    t.write(ascii("OK\n")); // in clear, then the handshake
                    t.handshake();
                }
                case "STOPTLS" -> {
                    t.write(ascii("BYE\n")); // encrypted, then close_notify
                    t.unwrap();
                }
                default -> t.write(ascii("echo " + line + "\n"));
            }
        }
    }

    /** Reacts to OK and BYE within the callback, as a real STARTTLS client must. */
    static final class StartTlsClient extends LineProtocol {
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        volatile java.util.concurrent.CompletableFuture<Void> secured = new java.util.concurrent.CompletableFuture<>();
        volatile java.util.concurrent.CompletableFuture<Void> cleared = new java.util.concurrent.CompletableFuture<>();

        @Override
        void line(String line) {
            SslTransport t = (SslTransport) transport();
            if (line.equals("OK")) {
                java.util.concurrent.CompletableFuture<Void> s = secured;
                t.handshake().whenComplete((session, e) -> {
                    if (e != null) {
                        s.completeExceptionally(e);
                    } else {
                        s.complete(null);
                    }
                });
            } else if (line.equals("BYE")) {
                java.util.concurrent.CompletableFuture<Void> c = cleared;
                t.unwrap().whenComplete((v, e) -> {
                    if (e != null) {
                        c.completeExceptionally(e);
                    } else {
                        c.complete(null);
                    }
                });
            }
            lines.add(line);
        }

        void reset() {
            secured = new java.util.concurrent.CompletableFuture<>();
            cleared = new java.util.concurrent.CompletableFuture<>();
        }
    }

}
