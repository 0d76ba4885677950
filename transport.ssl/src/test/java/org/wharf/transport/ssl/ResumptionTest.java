package org.wharf.transport.ssl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;

import javax.net.ssl.SSLContext;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.wharf.transport.api.Listener;
import org.wharf.transport.api.TlsOptions;

/**
 * Session resumption on by default, proven by the real openssl: a session saved by one
 * {@code s_client} ({@code -sess_out}) is offered by the next ({@code -sess_in}), which prints
 * "Reused" when the server took it, on TLS 1.2 and 1.3, on the JDK's provider and Conscrypt.
 */
class ResumptionTest {

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

    private static Map<String, Object> server(String provider) {
        Map<String, Object> p = new HashMap<>(Map.of(TlsProperties.CERTIFICATE, pki.file("server.pem").toString(),
                TlsProperties.KEY, pki.file("server.key").toString()));
        if (!provider.equals("JDK")) {
            p.put(TlsProperties.PROVIDER, provider);
        }
        return p;
    }

    /** Two openssl clients one after the other, the second offering the first one's session: what each printed. */
    private static String[] twoClients(TlsOptions tls, String flag, String name) throws Exception {
        Listener listener = fixture.listen(tls, () -> new TlsFixture.Echo(6), new LinkedBlockingQueue<>());
        try {
            Path session = pki.file(name + ".session");
            Files.deleteIfExists(session);
            String port = String.valueOf(listener.localAddress().getPort());
            // -ign_eof: the client reads until the server closes, so a TLS 1.3 ticket (sent after the
            // handshake) is in the session it saves.
            OpenSsl.Result first = OpenSsl.run(pki.dir, "hello\n".getBytes(StandardCharsets.US_ASCII), "s_client",
                    "-connect", "127.0.0.1:" + port, flag, "-CAfile", "ca.pem", "-verify_return_error", "-ign_eof",
                    "-sess_out", session.toString());
            assertEquals(0, first.exit(), first.err());
            if (!Files.exists(session)) {
                // TLS 1.3 without a ticket: openssl has no session to save, so none to offer.
                return new String[] {first.text(), "\nNew, (no session saved by the first client)"};
            }
            OpenSsl.Result second = OpenSsl.run(pki.dir, "hello\n".getBytes(StandardCharsets.US_ASCII), "s_client",
                    "-connect", "127.0.0.1:" + port, flag, "-CAfile", "ca.pem", "-verify_return_error", "-ign_eof",
                    "-sess_in", session.toString());
            assertEquals(0, second.exit(), second.err());
            return new String[] {first.text(), second.text()};
        } finally {
            listener.close();
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"JDK, -tls1_2", "JDK, -tls1_3", "Conscrypt, -tls1_2", "Conscrypt, -tls1_3"})
    void aSessionIsResumedByDefault(String provider, String flag) throws Exception {
        TlsOptions tls = TlsProperties.options(server(provider));
        String[] out = twoClients(tls, flag, "default-" + provider + flag);
        assertTrue(out[0].contains("\nNew, "), "the first handshake is a full one: " + out[0]);
        assertTrue(out[1].contains("\nReused, "), provider + " " + flag + ": the second client resumed: " + out[1]);
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"JDK, -tls1_2", "Conscrypt, -tls1_2"})
    void withoutTicketsTls12ResumesBySessionId(String provider, String flag) throws Exception {
        // openssl -no_ticket asks for no ticket: the session ID and the server's cache do it.
        TlsOptions tls = TlsProperties.options(server(provider));
        Listener listener = fixture.listen(tls, () -> new TlsFixture.Echo(6), new LinkedBlockingQueue<>());
        try {
            Path session = pki.file("id-" + provider + ".session");
            String port = String.valueOf(listener.localAddress().getPort());
            OpenSsl.run(pki.dir, "hello\n".getBytes(StandardCharsets.US_ASCII), "s_client", "-connect", "127.0.0.1:"
                    + port, flag, "-no_ticket", "-CAfile", "ca.pem", "-ign_eof", "-sess_out", session.toString());
            OpenSsl.Result second = OpenSsl.run(pki.dir, "hello\n".getBytes(StandardCharsets.US_ASCII), "s_client",
                    "-connect", "127.0.0.1:" + port, flag, "-no_ticket", "-CAfile", "ca.pem", "-ign_eof", "-sess_in",
                    session.toString());
            assertTrue(second.text().contains("\nReused, "), provider + ": resumed by session ID: " + second.text());
        } finally {
            listener.close();
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"Conscrypt, -tls1_2", "Conscrypt, -tls1_3"})
    void withTicketsOffAndNoCacheNothingResumes(String provider, String flag) throws Exception {
        Map<String, Object> p = server(provider);
        p.put(TlsProperties.SESSION_TICKETS, "false");
        p.put(TlsProperties.SESSION_CACHE_SIZE, 0);
        String[] out = twoClients(TlsProperties.options(p), flag, "off-" + provider + flag);
        assertTrue(out[1].contains("\nNew, "), provider + " " + flag + ": a full handshake again: " + out[1]);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"-tls1_2", "-tls1_3"})
    void withoutACacheTheJdkStillResumesByTicket(String flag) throws Exception {
        // Tickets need no cache (the JDK's are stateless: the session travels encrypted in the ticket).
        Map<String, Object> p = server("JDK");
        p.put(TlsProperties.SESSION_CACHE_SIZE, 0);
        String[] out = twoClients(TlsProperties.options(p), flag, "nocache-" + flag);
        assertTrue(out[1].contains("\nReused, "), flag + ": " + out[1]);
    }

    @Test
    void withoutACacheTheJdkDoesNotResumeBySessionId() throws Exception {
        Map<String, Object> p = server("JDK");
        p.put(TlsProperties.SESSION_CACHE_SIZE, 0);
        TlsOptions tls = TlsProperties.options(p);
        Listener listener = fixture.listen(tls, () -> new TlsFixture.Echo(6), new LinkedBlockingQueue<>());
        try {
            Path session = pki.file("nocache-id.session");
            String port = String.valueOf(listener.localAddress().getPort());
            OpenSsl.run(pki.dir, "hello\n".getBytes(StandardCharsets.US_ASCII), "s_client", "-connect", "127.0.0.1:"
                    + port, "-tls1_2", "-no_ticket", "-CAfile", "ca.pem", "-ign_eof", "-sess_out", session.toString());
            OpenSsl.Result second = OpenSsl.run(pki.dir, "hello\n".getBytes(StandardCharsets.US_ASCII), "s_client",
                    "-connect", "127.0.0.1:" + port, "-tls1_2", "-no_ticket", "-CAfile", "ca.pem", "-ign_eof",
                    "-sess_in", session.toString());
            assertTrue(second.text().contains("\nNew, "), "no cache, no resumption by ID: " + second.text());
        } finally {
            listener.close();
        }
    }

    @Test
    void theCacheSizeAndTimeoutReachTheServerSessionContext() {
        for (String provider : new String[] {"JDK", "Conscrypt"}) {
            Map<String, Object> p = server(provider);
            p.put(TlsProperties.SESSION_CACHE_SIZE, "123");
            p.put(TlsProperties.SESSION_TIMEOUT, "456");
            SSLContext context = TlsProperties.options(p).context().get();
            assertEquals(123, context.getServerSessionContext().getSessionCacheSize(), provider);
            assertEquals(456, context.getServerSessionContext().getSessionTimeout(), provider);
            SSLContext defaults = TlsProperties.options(server(provider)).context().get();
            assertEquals(20_480, defaults.getServerSessionContext().getSessionCacheSize(), provider);
            assertEquals(86_400, defaults.getServerSessionContext().getSessionTimeout(), provider);
        }
    }

    @Test
    void aWrongValueNamesThePropertyAndTheValue() {
        Map<String, Object> p = server("JDK");
        p.put(TlsProperties.SESSION_TIMEOUT, "30d");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TlsProperties.options(p));
        assertTrue(e.getMessage().startsWith("tls.sessionTimeout = '30d'"), e.getMessage());
        p.put(TlsProperties.SESSION_TIMEOUT, "700000");
        e = assertThrows(IllegalArgumentException.class, () -> TlsProperties.options(p));
        assertTrue(e.getMessage().startsWith("tls.sessionTimeout = '700000': at most 604800"), e.getMessage());
        p.remove(TlsProperties.SESSION_TIMEOUT);
        p.put(TlsProperties.SESSION_CACHE_SIZE, "-1");
        e = assertThrows(IllegalArgumentException.class, () -> TlsProperties.options(p));
        assertTrue(e.getMessage().startsWith("tls.sessionCacheSize = '-1': at least 0"), e.getMessage());
    }

    @Test
    void ticketsOffOnTheJdkNeedTheJvmWideSwitchAndSaySo() {
        Map<String, Object> p = server("JDK");
        p.put(TlsProperties.SESSION_TICKETS, "false");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TlsProperties.options(p));
        assertTrue(e.getMessage().startsWith("tls.sessionTickets = 'false'"), e.getMessage());
        assertTrue(e.getMessage().contains("-Djdk.tls.server.enableSessionTicketExtension=false"), e.getMessage());
    }
}
