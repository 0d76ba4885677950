package org.wharf.transport.ssl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.wharf.transport.api.ConnectOptions;
import org.wharf.transport.api.Connected;
import org.wharf.transport.api.ExtraInfo;
import org.wharf.transport.api.Listener;
import org.wharf.transport.api.TlsError;
import org.wharf.transport.api.TlsOptions;
import org.wharf.transport.api.Transport;
import org.wharf.transport.tck.RecordingProtocol;

/** Our TLS against the real OpenSSL, both ways, byte for byte. */
class OpenSslInteropTest {

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

    @ParameterizedTest(name = "{0}")
    @CsvSource({"-tls1_2, TLSv1.2", "-tls1_3, TLSv1.3"})
    void ourServerEchoesToOpensslClientWithAlpnAndSni(String flag, String protocol) throws Exception {
        byte[] input = TlsFixture.lines(2000);
        BlockingQueue<TlsFixture.Echo> made = new LinkedBlockingQueue<>();
        TlsOptions tls = fixture.server().withApplicationProtocols(List.of("h2", "http/1.1"));
        Listener listener = fixture.listen(tls, () -> new TlsFixture.Echo(input.length), made);
        OpenSsl.Result r = OpenSsl.run(pki.dir, input, "s_client", "-connect", "127.0.0.1:" + listener.localAddress().getPort(),
                flag, "-CAfile", "ca.pem", "-verify_return_error", "-verify_hostname", "localhost",
                "-servername", "localhost", "-alpn", "http/1.1", "-quiet", "-nocommands");
        assertEquals(0, r.exit(), r.err());
        assertArrayEquals(input, r.out(), "byte-exact echo through openssl s_client");
        TlsFixture.Echo echo = TlsFixture.take(made);
        assertEquals(protocol, echo.protocol);
        assertEquals("http/1.1", echo.alpn, "ALPN negotiated");
        assertEquals("localhost", echo.sni, "SNI seen by our server");
        listener.close();
    }

    @Test
    void aTls13KeyUpdateMidStreamIsTransparent() throws Exception {
        // s_client's command letters (only honoured without -quiet and -ign_eof): K sends a
        // TLS 1.3 KeyUpdate.
        Listener listener = fixture.listen(fixture.server(), () -> new TlsFixture.Echo(Integer.MAX_VALUE),
                new LinkedBlockingQueue<>());
        try (OpenSsl.Interactive client = new OpenSsl.Interactive(pki.dir, "s_client", "-connect", "127.0.0.1:"
                + listener.localAddress().getPort(), "-tls1_3", "-CAfile", "ca.pem", "-verify_return_error")) {
            client.send("before\n");
            client.awaitOutput("before\n", 1);
            client.send("K\n");
            client.awaitOutput("KEYUPDATE", 1);
            client.send("after\n");
            client.awaitOutput("after\n", 1);
            client.send("again\n");
            client.awaitOutput("again\n", 1);
            assertTrue(!client.output().contains("\nK\n"), "the command letter is not data: " + client.output());
        }
        listener.close();
    }

    @Test
    void aTls12RenegotiationFromTheClientIsRefusedAndTheServerServesTheNextClient() throws Exception {
        BlockingQueue<TlsFixture.Echo> made = new LinkedBlockingQueue<>();
        AtomicInteger connections = new AtomicInteger();
        // The first client stays until refused; the next one is answered and closed after "next\n".
        Listener listener = fixture.listen(fixture.server(),
                () -> new TlsFixture.Echo(connections.getAndIncrement() == 0 ? Integer.MAX_VALUE : 5), made);
        String port = String.valueOf(listener.localAddress().getPort());
        // s_client's command letter R (only honoured without -quiet and -ign_eof) renegotiates.
        try (OpenSsl.Interactive client = new OpenSsl.Interactive(pki.dir, "s_client", "-connect", "127.0.0.1:" + port,
                "-tls1_2", "-CAfile", "ca.pem", "-verify_return_error")) {
            client.send("before\n");
            client.awaitOutput("before\n", 1);
            TlsFixture.Echo echo = TlsFixture.take(made);
            int clientPort = ((InetSocketAddress) echo.transport().extraInfo(ExtraInfo.PEER_ADDRESS).orElseThrow())
                    .getPort();
            client.send("R\n");
            client.awaitOutput("RENEGOTIATING", 1);
            Throwable cause = TlsFixture.await(echo.lost());
            assertTrue(cause instanceof TlsError, "refused with a TlsError: " + cause);
            assertTrue(cause.getMessage().contains("renegotiation") && cause.getMessage().contains("127.0.0.1:" + clientPort),
                    "the error names the peer: " + cause.getMessage());
            assertTrue(client.awaitExit(), "openssl s_client ends when its renegotiation is refused: " + client.output());
            assertTrue(client.output().contains("alert handshake failure"), "told with a fatal handshake_failure alert: "
                    + client.output());
        }
        // The server is unharmed: the next client is served.
        OpenSsl.Result r = OpenSsl.run(pki.dir, "next\n".getBytes(StandardCharsets.US_ASCII), "s_client", "-connect",
                "127.0.0.1:" + port, "-tls1_2", "-CAfile", "ca.pem", "-verify_return_error", "-quiet", "-nocommands");
        assertEquals("next\n", r.text(), r.err());
        listener.close();
    }

    @Test
    void sniChoosesTheCertificateForTheRequestedHost() throws Exception {
        TlsOptions tls = TlsOptions.of(TlsContextBuilder.create()
                .certificate(pki.file("server.pem"), pki.file("server.key"))
                .certificate(pki.file("other.pem"), pki.file("other.key")).build());
        BlockingQueue<TlsFixture.Echo> made = new LinkedBlockingQueue<>();
        Listener listener = fixture.listen(tls, () -> new TlsFixture.Echo(6), made);
        for (String host : new String[] {"other.test", "localhost", "x.wild.test"}) {
            OpenSsl.Result r = OpenSsl.run(pki.dir, "hello\n".getBytes(StandardCharsets.US_ASCII), "s_client", "-connect",
                    "127.0.0.1:" + listener.localAddress().getPort(), "-CAfile", "ca.pem", "-verify_return_error",
                    "-verify_hostname", host, "-servername", host, "-quiet", "-nocommands");
            assertEquals(0, r.exit(), host + ": " + r.err());
            assertEquals("hello\n", r.text(), "the certificate for " + host + " was chosen and verified");
            assertEquals(host, TlsFixture.take(made).sni);
        }
        listener.close();
    }

    @Test
    void ourServerRequiresAndVerifiesTheClientCertificateOfOpenssl() throws Exception {
        TlsOptions tls = TlsOptions.of(TlsContextBuilder.create().certificate(pki.file("server.pem"), pki.file("server.key"))
                .trustCertificates(pki.file("ca.pem")).build()).withClientAuth(TlsOptions.ClientAuth.REQUIRED);
        BlockingQueue<TlsFixture.Echo> made = new LinkedBlockingQueue<>();
        Listener listener = fixture.listen(tls, () -> new TlsFixture.Echo(6), made);
        OpenSsl.Result r = OpenSsl.run(pki.dir, "hello\n".getBytes(StandardCharsets.US_ASCII), "s_client", "-connect",
                "127.0.0.1:" + listener.localAddress().getPort(), "-CAfile", "ca.pem", "-verify_return_error",
                "-cert", "client.pem", "-key", "client.key", "-quiet", "-nocommands");
        assertEquals(0, r.exit(), r.err());
        assertEquals("hello\n", r.text());
        assertEquals("CN=client", TlsFixture.take(made).peer);
        listener.close();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"-tls1_2, TLSv1.2", "-tls1_3, TLSv1.3"})
    void ourClientTalksToOpensslServer(String flag, String protocol) throws Exception {
        try (OpenSsl.Server server = OpenSsl.server(pki.dir, "-cert", "server.pem", "-key", "server.key", "-rev",
                "-naccept", "1", flag)) {
            RecordingProtocol client = new RecordingProtocol();
            Connected<Transport, RecordingProtocol> c = TlsFixture.await(fixture.ssl.connect(
                    InetSocketAddress.createUnresolved("localhost", server.port()),
                    ConnectOptions.DEFAULT.withTls(fixture.client()), () -> client));
            assertEquals(protocol, c.transport().extraInfo(ExtraInfo.TLS_PROTOCOL).orElseThrow());
            byte[] input = TlsFixture.lines(500);
            c.transport().write(ByteBuffer.wrap(input));
            ByteArrayOutputStream expected = new ByteArrayOutputStream();
            for (String line : new String(input, StandardCharsets.US_ASCII).split("\n")) {
                expected.writeBytes(new StringBuilder(line).reverse().append('\n').toString()
                        .getBytes(StandardCharsets.US_ASCII));
            }
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (client.receivedCount() < expected.size() && System.nanoTime() < deadline) {
                java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
            }
            assertArrayEquals(expected.toByteArray(), client.received(), "byte-exact answer from openssl s_server -rev");
            c.transport().close();
            TlsFixture.await(client.lost());
            assertTrue(client.violations().isEmpty(), client.violations().toString());
        }
    }
}
