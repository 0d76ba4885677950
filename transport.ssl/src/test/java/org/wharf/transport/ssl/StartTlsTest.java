package org.wharf.transport.ssl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.wharf.transport.api.ConnectOptions;
import org.wharf.transport.api.Connected;
import org.wharf.transport.api.ListenOptions;
import org.wharf.transport.api.Listener;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.SslTransport;
import org.wharf.transport.api.Transport;
import org.wharf.transport.tck.RecordingProtocol;

/**
 * {@code StreamTransportProvider.startTls}: a protocol on a clear tcp connection reads the start
 * of the client's handshake, then starts server TLS over those bytes and forwards its callbacks;
 * the TLS connection's protocol is made only after the handshake and sees the contract's order.
 */
class StartTlsTest {

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

    /** Reads the first bytes in clear, then hands the connection to TLS and forwards every callback. */
    private static final class Sniffer implements Protocol {
        final CompletableFuture<Byte> firstByte = new CompletableFuture<>();
        final TlsFixture.Echo app = new TlsFixture.Echo(Integer.MAX_VALUE);
        private Transport connection;
        private Protocol tls;

        @Override
        public void connectionMade(Transport t) {
            connection = t;
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            if (tls != null) {
                tls.dataReceived(data);
                return;
            }
            firstByte.complete(data.get(data.position()));
            tls = fixture.ssl.startTls(connection, fixture.server(), data, () -> app);
        }

        @Override
        public boolean eofReceived() {
            return tls != null && tls.eofReceived();
        }

        @Override
        public void pauseWriting() {
            tls.pauseWriting();
        }

        @Override
        public void resumeWriting() {
            tls.resumeWriting();
        }

        @Override
        public void connectionLost(Throwable cause) {
            if (tls != null) {
                tls.connectionLost(cause);
            }
        }
    }

    @Test
    void tlsStartsOverTheBytesAlreadyRead() throws Exception {
        BlockingQueue<Sniffer> made = new LinkedBlockingQueue<>();
        Listener listener = TlsFixture.await(fixture.tcp.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(),
                0), ListenOptions.DEFAULT, () -> {
                    Sniffer s = new Sniffer();
                    made.add(s);
                    return s;
                }));
        RecordingProtocol client = new RecordingProtocol();
        Connected<Transport, RecordingProtocol> c = TlsFixture.await(fixture.ssl.connect(
                InetSocketAddress.createUnresolved("localhost", listener.localAddress().getPort()),
                ConnectOptions.DEFAULT.withTls(fixture.client()), () -> client));
        Sniffer sniffer = TlsFixture.take(made);
        assertEquals((byte) 22, TlsFixture.await(sniffer.firstByte), "the sniffer read a handshake record in clear");
        c.transport().write(ByteBuffer.wrap("hello".getBytes(StandardCharsets.US_ASCII)));
        TlsFixture.await(sniffer.app.made());
        org.wharf.transport.tck.Await.awaitTrue(() -> client.receivedCount() == 5, "the echo came back over TLS");
        assertEquals("hello", new String(client.received(), StandardCharsets.US_ASCII));
        SslTransport server = (SslTransport) sniffer.app.transport();
        assertTrue(server.isEncrypted());
        assertEquals("TLSv1.3", sniffer.app.protocol);
        c.transport().close();
        TlsFixture.await(sniffer.app.lost());
        assertEquals(List.of(), sniffer.app.violations(), "the TLS connection's protocol saw the contract's order");
        listener.close();
    }

    @Test
    void onlyOverAConnectionAProviderMadeAndOnlyByTheTlsProvider() {
        Transport view = (Transport) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {Transport.class}, (proxy, method, args) -> null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> fixture.ssl.startTls(view, fixture.server(), ByteBuffer.allocate(0), RecordingProtocol::new));
        assertTrue(e.getMessage().contains("made by a transport provider"), e.getMessage());
        assertThrows(UnsupportedOperationException.class,
                () -> fixture.tcp.startTls(view, fixture.server(), ByteBuffer.allocate(0), RecordingProtocol::new));
    }
}
