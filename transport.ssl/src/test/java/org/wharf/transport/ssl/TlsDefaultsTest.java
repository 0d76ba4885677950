package org.wharf.transport.ssl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.wharf.transport.api.ConnectOptions;
import org.wharf.transport.api.Listener;
import org.wharf.transport.api.TlsError;
import org.wharf.transport.api.TlsOptions;
import org.wharf.transport.tck.RecordingProtocol;
import org.wharf.transport.tck.Peers;

/**
 * The TLS a server gets from its configuration ({@link TlsProperties}) when it says nothing
 * of suites, as the real scanners and {@code openssl s_client} see it: TLS 1.2 offers only
 * AEAD suites with ECDHE, and a client's renegotiation is refused.
 */
class TlsDefaultsTest {

    /** The TLS 1.2 suites (OpenSSL names) a default server with an RSA certificate accepts, and no others. */
    private static final Set<String> RSA_TLS12 = Set.of("ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-GCM-SHA256",
            "ECDHE-RSA-CHACHA20-POLY1305");
    private static final Set<String> TLS13 = Set.of("TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256",
            "TLS_CHACHA20_POLY1305_SHA256");

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

    /** An echo server configured as an endpoint is, from properties; each connection closes after "hello\n". */
    private Listener server(String certificate, String key, String ciphers) {
        Map<String, Object> config = new HashMap<>();
        config.put(TlsProperties.CERTIFICATE, pki.file(certificate).toString());
        config.put(TlsProperties.KEY, pki.file(key).toString());
        if (ciphers != null) {
            config.put(TlsProperties.CIPHERS, ciphers);
        }
        return fixture.listen(TlsProperties.options(config), () -> new TlsFixture.Echo(6), new LinkedBlockingQueue<>());
    }

    private OpenSsl.Result sClient(Listener listener, String... options) throws Exception {
        List<String> args = new ArrayList<>(List.of("s_client", "-connect", "127.0.0.1:"
                + listener.localAddress().getPort(), "-CAfile", "ca.pem", "-verify_return_error", "-quiet",
                "-nocommands"));
        args.addAll(List.of(options));
        return OpenSsl.run(pki.dir, "hello\n".getBytes(StandardCharsets.US_ASCII), args.toArray(String[]::new));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA384", "ECDHE-RSA-AES128-SHA256",
        "AES128-SHA", "AES128-GCM-SHA256", "AES256-GCM-SHA384", "DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-SHA256"})
    void aTls12ClientOfferingOnlyACbcStaticRsaOrDheSuiteIsRefused(String suite) throws Exception {
        Listener listener = server("server.pem", "server.key", null);
        OpenSsl.Result r = sClient(listener, "-tls1_2", "-cipher", suite);
        assertNotEquals(0, r.exit(), suite + " was accepted: " + r.text() + r.err());
        assertTrue(r.err().contains("handshake failure"), "refused with a handshake_failure alert: " + r.err());
        listener.close();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305"})
    void aTls12ClientOfferingAnAeadSuiteIsServed(String suite) throws Exception {
        Listener listener = server("server.pem", "server.key", null);
        OpenSsl.Result r = sClient(listener, "-tls1_2", "-cipher", suite);
        assertEquals(0, r.exit(), r.err());
        assertEquals("hello\n", r.text());
        listener.close();
    }

    @Test
    void withAnEcdsaCertificateOnlyTheEcdsaAeadSuitesAreServed() throws Exception {
        Listener listener = server("server-ec.pem", "server-ec.key", null);
        for (String suite : new String[] {"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
            "ECDHE-ECDSA-CHACHA20-POLY1305"}) {
            OpenSsl.Result r = sClient(listener, "-tls1_2", "-cipher", suite);
            assertEquals(0, r.exit(), suite + ": " + r.err());
            assertEquals("hello\n", r.text(), suite);
        }
        for (String suite : new String[] {"ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384"}) {
            OpenSsl.Result r = sClient(listener, "-tls1_2", "-cipher", suite);
            assertNotEquals(0, r.exit(), suite + " was accepted");
        }
        listener.close();
    }

    @Test
    void sslscanFindsOnlyTls12And13AndOnlyAeadSuites() throws Exception {
        Listener listener = server("server.pem", "server.key", null);
        // Without the key exchange groups, which sslscan probes for minutes, and its renegotiation
        // check, which said "not supported" of a server that renegotiated too (testssl's below tells).
        String scan = run(120, "sslscan", "--no-colour", "--no-groups", "--no-heartbleed", "--no-compression",
                "--no-fallback", "--no-renegotiation", "127.0.0.1:" + listener.localAddress().getPort());
        listener.close();
        Map<String, Set<String>> accepted = new HashMap<>();
        Matcher m = Pattern.compile("(?m)^(?:Preferred|Accepted)\\s+(\\S+)\\s+\\d+ bits\\s+(\\S+)").matcher(scan);
        while (m.find()) {
            accepted.computeIfAbsent(m.group(1), k -> new TreeSet<>()).add(m.group(2));
        }
        assertEquals(RSA_TLS12, accepted.get("TLSv1.2"), "TLS 1.2 suites:\n" + scan);
        assertEquals(TLS13, accepted.get("TLSv1.3"), "TLS 1.3 suites:\n" + scan);
        assertEquals(Set.of("TLSv1.2", "TLSv1.3"), accepted.keySet(), scan);
        for (String old : new String[] {"SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1"}) {
            assertTrue(Pattern.compile("(?m)^" + Pattern.quote(old) + "\\s+disabled").matcher(scan).find(), old + ":\n"
                    + scan);
        }
    }

    @Test
    void testsslFindsTheServerNotVulnerableToClientInitiatedRenegotiation() throws Exception {
        Listener listener = server("server.pem", "server.key", null);
        // -R: the renegotiation checks only, which run in well under a minute.
        String report = run(240, "testssl", "--quiet", "--color", "0", "--nodns", "none", "--warnings", "off", "-R",
                "127.0.0.1:" + listener.localAddress().getPort());
        listener.close();
        String line = report.lines().filter(l -> l.contains("Secure Client-Initiated Renegotiation")).findFirst()
                .orElseThrow(() -> new AssertionError("no client-initiated renegotiation check in:\n" + report));
        assertTrue(line.contains("not vulnerable"), line + "\n" + report);
        assertFalse(report.contains("VULNERABLE"), report);
    }

    @Test
    void anExplicitSuiteListOverridesTheDefaults() throws Exception {
        Listener listener = server("server.pem", "server.key", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256");
        OpenSsl.Result cbc = sClient(listener, "-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA256");
        assertEquals(0, cbc.exit(), cbc.err());
        assertEquals("hello\n", cbc.text());
        OpenSsl.Result gcm = sClient(listener, "-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256");
        assertNotEquals(0, gcm.exit(), "only the configured suite is enabled");
        listener.close();
    }

    @Test
    void anUnknownSuiteNameFailsTheConfigurationNamingPropertyAndValue() {
        Map<String, Object> config = new HashMap<>();
        config.put(TlsProperties.CERTIFICATE, pki.file("server.pem").toString());
        config.put(TlsProperties.KEY, pki.file("server.key").toString());
        config.put(TlsProperties.CIPHERS, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, ECDHE-RSA-AES128-GCM-SHA256");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TlsProperties.options(config));
        assertTrue(e.getMessage().startsWith("tls.ciphers = ") && e.getMessage().contains("ECDHE-RSA-AES128-GCM-SHA256 is not"),
                e.getMessage());
    }

    @Test
    void ourClientDoesNotSettleForACbcSuite() throws Exception {
        try (OpenSsl.Server server = OpenSsl.server(pki.dir, "-cert", "server.pem", "-key", "server.key", "-tls1_2",
                "-cipher", "ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA384", "-naccept", "1")) {
            Throwable failure = TlsFixture.failure(fixture.ssl.connect(InetSocketAddress.createUnresolved("localhost",
                    server.port()), ConnectOptions.DEFAULT.withTls(fixture.client()), RecordingProtocol::new));
            assertTrue(failure instanceof TlsError, String.valueOf(failure));
        }
    }

    @Test
    void theDefaultOptionsCarryTheAeadList() {
        TlsOptions options = fixture.server();
        assertEquals(TlsOptions.DEFAULT_CIPHER_SUITES, options.cipherSuites());
        for (String suite : options.cipherSuites()) {
            assertTrue(suite.startsWith("TLS_AES_") || suite.startsWith("TLS_CHACHA20_")
                    || suite.startsWith("TLS_ECDHE_") && (suite.contains("_GCM_") || suite.contains("_CHACHA20_")), suite);
        }
    }

    /** Runs a scanner to its end within {@code seconds}; its output (stdout and stderr). */
    private static String run(int seconds, String... command) throws IOException, InterruptedException {
        Process p = Peers.process(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "unreadable: " + e;
            }
        });
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish within " + seconds + " s");
        }
        return out.join();
    }
}
