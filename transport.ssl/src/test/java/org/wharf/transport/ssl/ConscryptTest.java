package org.wharf.transport.ssl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.wharf.transport.api.Listener;
import org.wharf.transport.api.TlsOptions;

/** tls.provider = Conscrypt: BoringSSL serves the real openssl, chosen by a property. */
class ConscryptTest {

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

    private static TlsOptions conscryptServer() {
        return TlsProperties.options(Map.of(TlsProperties.CERTIFICATE, pki.file("server.pem").toString(),
                TlsProperties.KEY, pki.file("server.key").toString(), TlsProperties.PROVIDER, "Conscrypt"))
                .withApplicationProtocols(List.of("h2", "http/1.1"));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"-tls1_2, TLSv1.2", "-tls1_3, TLSv1.3"})
    void aServerOnConscryptEchoesToOpensslWithAlpnAndSni(String flag, String protocol) throws Exception {
        TlsOptions tls = conscryptServer();
        assertEquals("Conscrypt", tls.context().get().getProvider().getName());
        byte[] input = TlsFixture.lines(2000);
        BlockingQueue<TlsFixture.Echo> made = new LinkedBlockingQueue<>();
        Listener listener = fixture.listen(tls, () -> new TlsFixture.Echo(input.length), made);
        try {
            OpenSsl.Result r = OpenSsl.run(pki.dir, input, "s_client", "-connect", "127.0.0.1:"
                    + listener.localAddress().getPort(), flag, "-CAfile", "ca.pem", "-verify_return_error",
                    "-verify_hostname", "localhost", "-servername", "localhost", "-alpn", "http/1.1", "-quiet",
                    "-nocommands");
            assertEquals(0, r.exit(), r.err());
            assertArrayEquals(input, r.out(), "byte-exact echo through openssl s_client");
            TlsFixture.Echo echo = TlsFixture.take(made);
            assertEquals(protocol, echo.protocol);
            assertEquals("http/1.1", echo.alpn, "ALPN negotiated by BoringSSL");
        } finally {
            listener.close();
        }
    }

    /**
     * Conscrypt turns a key that is not its own into a BoringSSL one in every full handshake
     * (a PKCS#8 parse, a tenth of a handshake's cost): the builder hands it Conscrypt's own
     * keys, which must still sign for their certificates.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"server-ec, SHA256withECDSA", "server, SHA256withRSA"})
    void keysForConscryptAreItsOwnAndStillMatchTheirCertificates(String name, String algorithm) throws Exception {
        java.security.Provider conscrypt = org.wharf.transport.ssl.internal.SecurityProviders.named("Conscrypt");
        java.security.PrivateKey jdk = Pem.privateKey(pki.file(name + ".key"), null);
        java.security.PrivateKey own = TlsContextBuilder.nativeKey(jdk, conscrypt);
        assertTrue(own.getClass().getName().startsWith("org.conscrypt."), "a Conscrypt key: " + own.getClass());
        assertEquals(jdk.getAlgorithm(), own.getAlgorithm());
        byte[] probe = "a handshake's transcript".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        java.security.Signature sign = java.security.Signature.getInstance(algorithm, conscrypt);
        sign.initSign(own);
        sign.update(probe);
        java.security.Signature verify = java.security.Signature.getInstance(algorithm);
        verify.initVerify(Pem.certificates(pki.file(name + ".pem")).get(0).getPublicKey());
        verify.update(probe);
        assertTrue(verify.verify(sign.sign()), "the converted key signs for its certificate");
    }

    @Test
    void aServerOnConscryptOffersOnlyTheAeadDefaults() throws Exception {
        Listener listener = fixture.listen(conscryptServer(), () -> new TlsFixture.Echo(1), new LinkedBlockingQueue<>());
        try {
            OpenSsl.Result cbc = OpenSsl.run(pki.dir, new byte[0], "s_client", "-connect", "127.0.0.1:"
                    + listener.localAddress().getPort(), "-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA", "-quiet");
            assertTrue(cbc.exit() != 0, "a CBC suite is refused: " + cbc.err());
        } finally {
            listener.close();
        }
    }

    /**
     * BoringSSL has no setting for TLS 1.3 suites (it always offers its three AEADs) and
     * Conscrypt drops their names from an enabled list: a list of TLS 1.3 names alone left it
     * no suite to choose a certificate by, and every handshake failed (NO_CERTIFICATE_SET).
     */
    @Test
    void aListOfTls13SuitesAloneStillServesTls13() throws Exception {
        TlsOptions tls = TlsProperties.options(Map.of(TlsProperties.CERTIFICATE, pki.file("server.pem").toString(),
                TlsProperties.KEY, pki.file("server.key").toString(), TlsProperties.PROVIDER, "Conscrypt",
                TlsProperties.CIPHERS, "TLS_AES_128_GCM_SHA256"));
        byte[] input = TlsFixture.lines(10);
        BlockingQueue<TlsFixture.Echo> made = new LinkedBlockingQueue<>();
        Listener listener = fixture.listen(tls, () -> new TlsFixture.Echo(input.length), made);
        try {
            OpenSsl.Result r = OpenSsl.run(pki.dir, input, "s_client", "-connect", "127.0.0.1:"
                    + listener.localAddress().getPort(), "-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256",
                    "-CAfile", "ca.pem", "-verify_return_error", "-quiet", "-nocommands");
            assertEquals(0, r.exit(), r.err());
            assertArrayEquals(input, r.out(), "byte-exact echo through openssl s_client");
            assertEquals("TLSv1.3", TlsFixture.take(made).protocol);
            OpenSsl.Result tls12 = OpenSsl.run(pki.dir, new byte[0], "s_client", "-connect", "127.0.0.1:"
                    + listener.localAddress().getPort(), "-tls1_2", "-quiet");
            assertTrue(tls12.exit() != 0, "no TLS 1.2 suite was named, so TLS 1.2 has none: " + tls12.err());
        } finally {
            listener.close();
        }
    }

    @ParameterizedTest(name = "{0} bytes")
    @org.junit.jupiter.params.provider.ValueSource(ints = {16_270, 16_383, 16_384})
    void aServersFirstWriteOfARecordReachesTheClientWholeWhileItsSessionTicketsArePending(int size) throws Exception {
        // Conscrypt holds its TLS 1.3 tickets until its first wrap, which then has more than one
        // record to give; into a heap buffer it gave one record's worth and kept the rest, so the
        // client waited for the end of that write until the server wrote again.
        byte[] first = new byte[size];
        java.util.Arrays.fill(first, (byte) 'x');
        Listener listener = fixture.listen(conscryptServer().withProtocols(List.of("TLSv1.3")),
                () -> new org.wharf.transport.tck.RecordingProtocol() {
                    @Override
                    protected void onConnectionMade(org.wharf.transport.api.Transport t) {
                        t.write(java.nio.ByteBuffer.wrap(first));
                    }
                }, new LinkedBlockingQueue<>());
        try {
            org.wharf.transport.tck.RecordingProtocol client = new org.wharf.transport.tck.RecordingProtocol();
            org.wharf.transport.api.Connected<org.wharf.transport.api.Transport, org.wharf.transport.tck.RecordingProtocol> c =
                    TlsFixture.await(fixture.ssl.connect(java.net.InetSocketAddress.createUnresolved("localhost",
                            listener.localAddress().getPort()), org.wharf.transport.api.ConnectOptions.DEFAULT
                            .withTls(fixture.client()), () -> client));
            org.wharf.transport.tck.Await.awaitTrue(() -> client.receivedCount() == size,
                    "the client has all " + size + " bytes of the server's first write, with nothing written after it");
            assertArrayEquals(first, client.received());
            c.transport().abort();
        } finally {
            listener.close();
        }
    }

    @Test
    void aRecordHeaderLongerThanTlsAllowsEndsTheConnectionAtOnceInsteadOfBufferingIt() throws Exception {
        fixture.ssl = new org.wharf.transport.ssl.internal.SslTransportProvider(fixture.tcp); // its log limit unspent
        Listener listener = fixture.listen(conscryptServer(), org.wharf.transport.tck.RecordingProtocol::new,
                new LinkedBlockingQueue<>());
        try {
            // A handshake record that claims 65,535 bytes, of which 1,000 come: Conscrypt alone would
            // wait for the rest, holding up to twice that per connection until the handshake timeout.
            byte[] start = new byte[5 + 1000];
            start[0] = 22;
            start[1] = 3;
            start[2] = 1;
            start[3] = (byte) 0xff;
            start[4] = (byte) 0xff;
            // Within 5 s, under the 10 s handshake timeout, which ends it too: the server must end it at once.
            endedByTheServer(listener, start, 5_000);
        } finally {
            listener.close();
        }
        org.wharf.transport.tck.Await.awaitTrue(() -> fixture.log.contains("more than TLS allows"),
                "a log line that says why");
    }

    @Test
    void anEngineThatCannotBeSetUpIsClosedAtOnceNotLeftToTheCollector() throws Exception {
        // A suite this engine does not know fails every connection as its engine is set up. A
        // Conscrypt engine frees its native state (a pipe among it) only when closed both ways.
        TlsOptions tls = conscryptServer().withCipherSuites(List.of("TLS_NO_SUCH_SUITE_WITH_NOTHING"));
        Listener listener = fixture.listen(tls, org.wharf.transport.tck.RecordingProtocol::new, new LinkedBlockingQueue<>());
        try {
            endedByTheServer(listener, new byte[0], 30_000);
            long before = openFiles();
            for (int i = 0; i < 200; i++) {
                endedByTheServer(listener, new byte[0], 30_000);
            }
            long after = openFiles();
            assertTrue(after < before + 100, "200 refused connections left " + (after - before) + " more open files");
        } finally {
            listener.close();
        }
    }

    /**
     * Connects with a plain socket, sends some bytes, and waits for the server to end the
     * connection (an alert, if any, then the end or a reset).
     *
     * @throws AssertionError if it has not within {@code millis}
     */
    private static void endedByTheServer(Listener listener, byte[] sent, int millis) throws Exception {
        try (java.net.Socket socket = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(),
                listener.localAddress().getPort())) {
            socket.getOutputStream().write(sent);
            socket.getOutputStream().flush();
            socket.setSoTimeout(millis);
            try {
                while (socket.getInputStream().read() >= 0) {
                    // an alert, if any, then the end
                }
            } catch (java.net.SocketTimeoutException e) {
                throw new AssertionError("the server did not end the connection within " + millis + " ms", e);
            } catch (java.net.SocketException reset) {
                // ended with a reset: ended all the same
            }
        }
    }

    private static long openFiles() throws java.io.IOException {
        try (java.util.stream.Stream<java.nio.file.Path> fds = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    @Test
    void anUnknownProviderFailsTheConfigurationNamingPropertyAndValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TlsProperties.options(Map.of(
                TlsProperties.CERTIFICATE, pki.file("server.pem").toString(), TlsProperties.KEY,
                pki.file("server.key").toString(), TlsProperties.PROVIDER, "BouncyCastleJSSE")));
        assertTrue(e.getMessage().contains("tls.provider = 'BouncyCastleJSSE'"), e.getMessage());
        assertTrue(e.getMessage().contains("SunJSSE"), "names the providers there are: " + e.getMessage());
    }
}
