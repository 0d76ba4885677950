package org.wharf.transport.ssl;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.wharf.transport.api.ConnectOptions;
import org.wharf.transport.api.ListenOptions;
import org.wharf.transport.api.StreamTransportProvider;
import org.wharf.transport.api.TlsOptions;
import org.wharf.transport.nio.internal.NioEventLoopGroup;
import org.wharf.transport.nio.internal.NioSettings;
import org.wharf.transport.nio.internal.NioTcpProvider;
import org.wharf.transport.nio.internal.Resolver;
import org.wharf.transport.ssl.internal.SslTransportProvider;
import org.wharf.transport.tck.StreamTransportContract;

/** TLS over NIO TCP passes the stream transport contract (without half-close, which TLS lacks). */
class SslContractTest extends StreamTransportContract {

    private static NioEventLoopGroup group;
    private static Resolver resolver;
    private static StreamTransportProvider ssl;
    private static NioEventLoopGroup closeTimeoutGroup;
    private static StreamTransportProvider closeTimeoutSsl;
    private static TlsOptions server;
    private static TlsOptions client;

    @BeforeAll
    static void start() throws Exception {
        start(null);
    }

    /** Both sides' contexts from the named JCA provider ({@code null}: the JVM's). */
    static void start(String provider) throws Exception {
        TestPki pki = TestPki.create();
        // Handshakes of a thousand connections at once queue for two cores: the contract is
        // about the transport, not how fast this machine signs, so they get a minute.
        server = TlsOptions.of(TlsContextBuilder.create().provider(provider)
                .certificate(pki.file("server.pem"), pki.file("server.key")).build())
                .withHandshakeTimeout(java.time.Duration.ofSeconds(60));
        client = TlsOptions.of(TlsContextBuilder.create().provider(provider).trustCertificates(pki.file("ca.pem")).build())
                .withHandshakeTimeout(java.time.Duration.ofSeconds(60));
        group = new NioEventLoopGroup(new NioSettings(2, 64 * 1024, NioSettings.DEFAULT.writeBufferLimits()));
        resolver = new Resolver();
        ssl = new SslTransportProvider(new NioTcpProvider(group, resolver));
        closeTimeoutGroup = new NioEventLoopGroup(new NioSettings(1, 64 * 1024, NioSettings.DEFAULT.writeBufferLimits(),
                NioSettings.DEFAULT_UDP_BATCH, CLOSE_TIMEOUT));
        closeTimeoutSsl = new SslTransportProvider(new NioTcpProvider(closeTimeoutGroup, resolver));
    }

    @AfterAll
    static void stop() throws Exception {
        group.shutdown().get();
        closeTimeoutGroup.shutdown().get();
        resolver.shutdown();
    }

    @Override
    protected StreamTransportProvider provider() {
        return ssl;
    }

    @Override
    protected StreamTransportProvider closeTimeoutProvider() {
        return closeTimeoutSsl;
    }

    @Override
    protected ListenOptions listenOptions() {
        return ListenOptions.DEFAULT.withTls(server);
    }

    @Override
    protected ConnectOptions connectOptions() {
        return ConnectOptions.DEFAULT.withTls(client);
    }

    @Override
    protected boolean canHalfClose() {
        return false;
    }

    /** A full handshake costs both sides about a millisecond of CPU here: 10,000 of them, not 50,000. */
    @Override
    protected int raceConnections() {
        return 10_000;
    }

    /**
     * A record adds its header, tag and type byte (22 bytes in TLS 1.3) per 16 KiB at most; and
     * while the loop encrypts a write, its plaintext and the record that replaces it count
     * together for an instant (the record is handed to the transport below before the plaintext
     * is uncounted, so the buffer never seems to drain when it does not).
     */
    @Override
    protected long writeOverhead(long bytes) {
        return bytes + (bytes / 16384 + 1) * 64;
    }

    @org.junit.jupiter.api.Test
    void theLifecycleRaceOverFiftyThousandConnectionsThatStartClear() throws Exception {
        // The same race with TLS's own lifecycle and the raw transport below it, without the cost
        // of a handshake per connection: the connections start in clear text (STARTTLS-style).
        org.wharf.transport.tck.LifecycleRace.run(ssl, ListenOptions.DEFAULT.withTls(server.withHandshakeOnConnect(false)),
                ConnectOptions.DEFAULT.withTls(client.withHandshakeOnConnect(false)), 50_000, TIMEOUT);
    }
}
