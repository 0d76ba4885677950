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

    @Test
    void listsOfDifferentLengthsNameTheProperty() {
        Map<String, Object> p = both("JDK");
        p.put(TlsProperties.KEY, pki.file("server-ec.key").toString());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TlsProperties.options(p));
        assertTrue(e.getMessage().startsWith("tls.key = '" + pki.file("server-ec.key") + "': 2 certificate chains"),
                e.getMessage());
    }
}
