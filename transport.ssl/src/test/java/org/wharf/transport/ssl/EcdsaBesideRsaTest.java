package org.wharf.transport.ssl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.wharf.transport.api.Listener;
import org.wharf.transport.api.TlsOptions;

/**
 * An ECDSA and an RSA certificate at once ({@code tls.certificate} and {@code tls.key} as
 * lists): the real openssl gets the one its signature algorithms allow.
 */
class EcdsaBesideRsaTest {

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

    private static Map<String, Object> both(String provider) {
        Map<String, Object> p = new HashMap<>();
        p.put(TlsProperties.CERTIFICATE, pki.file("server-ec.pem") + "," + pki.file("server.pem"));
        p.put(TlsProperties.KEY, new String[] {pki.file("server-ec.key").toString(), pki.file("server.key").toString()});
        if (!provider.equals("JDK")) {
            p.put(TlsProperties.PROVIDER, provider);
        }
        return p;
    }

    /** What openssl printed after a handshake offering only these signature algorithms (null: its usual ones). */
    private static String handshake(TlsOptions tls, String flag, String sigalgs) throws Exception {
        Listener listener = fixture.listen(tls, () -> new TlsFixture.Echo(6), new LinkedBlockingQueue<>());
        try {
            java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("s_client", "-connect",
                    "127.0.0.1:" + listener.localAddress().getPort(), flag, "-CAfile", "ca.pem", "-verify_return_error",
                    "-verify_hostname", "localhost", "-ign_eof"));
            if (sigalgs != null) {
                args.addAll(java.util.List.of("-sigalgs", sigalgs));
            }
            OpenSsl.Result r = OpenSsl.run(pki.dir, "hello\n".getBytes(StandardCharsets.US_ASCII),
                    args.toArray(String[]::new));
            assertEquals(0, r.exit(), sigalgs + ": " + r.text() + r.err());
            return r.text();
        } finally {
            listener.close();
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"JDK, -tls1_2", "JDK, -tls1_3", "Conscrypt, -tls1_2", "Conscrypt, -tls1_3"})
    void theClientsSignatureAlgorithmsPickTheCertificate(String provider, String flag) throws Exception {
        TlsOptions tls = TlsProperties.options(both(provider));
        String ec = handshake(tls, flag, "ECDSA+SHA256");
        assertTrue(ec.contains("Server public key is 256 bit") && ec.contains("Peer signature type: ECDSA"),
                provider + " " + flag + ": the EC certificate for ECDSA+SHA256: " + ec);
        String usual = handshake(tls, flag, null);
        assertTrue(usual.contains("Server public key is 256 bit"), provider + " " + flag
                + ": the EC certificate for openssl's usual offer (ECDSA first): " + usual);
        String rsa = handshake(tls, flag, "rsa_pss_rsae_sha256");
        assertTrue(rsa.contains("Server public key is 2048 bit") && rsa.contains("Peer signature type: RSA-PSS"),
                provider + " " + flag + ": the RSA certificate for rsa_pss_rsae_sha256: " + rsa);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"JDK", "Conscrypt"})
    void onTls12TheSuitesTheClientOffersDecideToo(String provider) throws Exception {
        // ECDSA signatures first, but only ECDHE-RSA suites: only the RSA certificate can serve this client.
        TlsOptions tls = TlsProperties.options(both(provider));
        Listener listener = fixture.listen(tls, () -> new TlsFixture.Echo(6), new LinkedBlockingQueue<>());
        try {
            OpenSsl.Result r = OpenSsl.run(pki.dir, "hello\n".getBytes(StandardCharsets.US_ASCII), "s_client",
                    "-connect", "127.0.0.1:" + listener.localAddress().getPort(), "-tls1_2", "-cipher",
                    "ECDHE-RSA-AES128-GCM-SHA256", "-sigalgs", "ECDSA+SHA256:RSA+SHA256", "-CAfile", "ca.pem",
                    "-verify_return_error", "-ign_eof");
            assertEquals(0, r.exit(), r.text() + r.err());
            assertTrue(r.text().contains("Server public key is 2048 bit"), provider + ": " + r.text());
        } finally {
            listener.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"JDK", "Conscrypt"})
    void aTls12OnlyServerPicksByTheTls12SuitesEvenWhenTheClientAlsoOffersTls13(String provider) throws Exception {
        // The client offers TLS 1.3 too, but this server speaks TLS 1.2 only: its TLS 1.2 suites
        // (ECDHE-RSA alone) decide, not the ECDSA signature it lists first.
        Map<String, Object> p = both(provider);
        p.put(TlsProperties.PROTOCOLS, "TLSv1.2");
        TlsOptions tls = TlsProperties.options(p);
        Listener listener = fixture.listen(tls, () -> new TlsFixture.Echo(6), new LinkedBlockingQueue<>());
        try {
            OpenSsl.Result r = OpenSsl.run(pki.dir, "hello\n".getBytes(StandardCharsets.US_ASCII), "s_client",
                    "-connect", "127.0.0.1:" + listener.localAddress().getPort(), "-cipher",
                    "ECDHE-RSA-AES128-GCM-SHA256", "-ciphersuites", "TLS_AES_128_GCM_SHA256", "-sigalgs",
                    "ECDSA+SHA256:RSA+SHA256", "-CAfile", "ca.pem", "-verify_return_error", "-ign_eof");
            assertEquals(0, r.exit(), r.text() + r.err());
            assertTrue(r.text().contains("Server public key is 2048 bit") && r.text().contains("TLSv1.2"),
                    provider + ": " + r.text());
        } finally {
            listener.close();
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"JDK, -tls1_2", "JDK, -tls1_3", "Conscrypt, -tls1_2", "Conscrypt, -tls1_3"})
    void aClientHelloSplitAcrossRecordsPicksTheCertificateToo(String provider, String flag) throws Exception {
        // openssl's hello, re-framed on its way as two handshake records (legal, and some clients
        // do it): the second holds the signature algorithms.
        TlsOptions tls = TlsProperties.options(both(provider));
        Listener listener = fixture.listen(tls, () -> new TlsFixture.Echo(6), new LinkedBlockingQueue<>());
        try (HelloSplitter splitter = new HelloSplitter(listener.localAddress())) {
            for (String sigalgs : new String[] {"ECDSA+SHA256", "rsa_pss_rsae_sha256"}) {
                OpenSsl.Result r = OpenSsl.run(pki.dir, "hello\n".getBytes(StandardCharsets.US_ASCII), "s_client",
                        "-connect", "127.0.0.1:" + splitter.port(), flag, "-sigalgs", sigalgs, "-CAfile", "ca.pem",
                        "-verify_return_error", "-ign_eof");
                assertEquals(0, r.exit(), provider + " " + flag + " " + sigalgs + ": " + r.text() + r.err());
                String bits = sigalgs.startsWith("ECDSA") ? "256" : "2048";
                assertTrue(r.text().contains("Server public key is " + bits + " bit"), provider + " " + flag + " "
                        + sigalgs + ": " + r.text());
            }
            assertEquals(2, splitter.split.get(), "both hellos went as two records");
        } finally {
            listener.close();
        }
    }

    /**
     * A relay that sends each connection's first TLS record on as two records of the same
     * type (40 bytes, then the rest) and every other byte as it comes.
     */
    private static final class HelloSplitter implements AutoCloseable {
        private final java.net.ServerSocket server = new java.net.ServerSocket(0, 50,
                java.net.InetAddress.getLoopbackAddress());
        private final java.net.InetSocketAddress target;
        final java.util.concurrent.atomic.AtomicInteger split = new java.util.concurrent.atomic.AtomicInteger();
        private final Thread acceptor;

        HelloSplitter(java.net.InetSocketAddress target) throws java.io.IOException {
            this.target = target;
            acceptor = new Thread(this::accept, "hello-splitter");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return server.getLocalPort();
        }

        private void accept() {
            while (!server.isClosed()) {
                try {
                    java.net.Socket client = server.accept();
                    java.net.Socket upstream = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(),
                            target.getPort());
                    pump(upstream, client, false);
                    pump(client, upstream, true);
                } catch (java.io.IOException e) {
                    return;
                }
            }
        }

        private void pump(java.net.Socket from, java.net.Socket to, boolean splitFirst) {
            Thread t = new Thread(() -> {
                try (from; to) {
                    java.io.InputStream in = from.getInputStream();
                    java.io.OutputStream out = to.getOutputStream();
                    if (splitFirst) {
                        byte[] header = in.readNBytes(5);
                        int length = (header[3] & 0xff) << 8 | header[4] & 0xff;
                        byte[] body = in.readNBytes(length);
                        out.write(new byte[] {header[0], header[1], header[2], 0, 40});
                        out.write(body, 0, 40);
                        out.write(new byte[] {header[0], header[1], header[2], (byte) ((length - 40) >> 8),
                            (byte) (length - 40)});
                        out.write(body, 40, length - 40);
                        out.flush();
                        split.incrementAndGet();
                    }
                    in.transferTo(out);
                } catch (java.io.IOException e) {
                    // the other side closed
                }
            }, "hello-splitter-pump");
            t.setDaemon(true);
            t.start();
        }

        @Override
        public void close() throws java.io.IOException {
            server.close();
        }
    }

    @Test
    void listsOfDifferentLengthsNameTheProperty() {
        Map<String, Object> p = both("JDK");
        p.put(TlsProperties.KEY, pki.file("server-ec.key").toString());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TlsProperties.options(p));
        assertTrue(e.getMessage().startsWith("tls.key = '" + pki.file("server-ec.key") + "': 2 certificate chains"),
                e.getMessage());
    }
}
