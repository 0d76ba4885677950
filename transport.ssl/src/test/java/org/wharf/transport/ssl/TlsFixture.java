package org.wharf.transport.ssl;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.wharf.transport.api.ListenOptions;
import org.wharf.transport.api.Listener;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.SslTransport;
import org.wharf.transport.api.TlsOptions;
import org.wharf.transport.api.Transport;
import org.wharf.transport.nio.internal.NioEventLoopGroup;
import org.wharf.transport.nio.internal.NioSettings;
import org.wharf.transport.nio.internal.NioTcpProvider;
import org.wharf.transport.nio.internal.Resolver;
import org.wharf.transport.ssl.internal.SslTransportProvider;
import org.wharf.transport.tck.LogCapture;
import org.wharf.transport.tck.Await;
import org.wharf.transport.tck.RecordingProtocol;

/** Loops, the ssl provider over NIO TCP with a log the tests can read, and helpers. */
final class TlsFixture implements AutoCloseable {

    final TestPki pki;
    final NioEventLoopGroup group = new NioEventLoopGroup(new NioSettings(2, 64 * 1024,
            NioSettings.DEFAULT.writeBufferLimits()));
    final Resolver resolver = new Resolver();
    final LogCapture log = new LogCapture();
    final NioTcpProvider tcp = new NioTcpProvider(group, resolver);
    /** Made anew by tests that read the log: a provider logs a burst of failed handshakes once. */
    SslTransportProvider ssl = new SslTransportProvider(tcp);

    TlsFixture(TestPki pki) {
        this.pki = pki;
    }

    TlsOptions server() {
        return TlsOptions.of(TlsContextBuilder.create().certificate(pki.file("server.pem"), pki.file("server.key")).build());
    }

    TlsOptions client() {
        return TlsOptions.of(TlsContextBuilder.create().trustCertificates(pki.file("ca.pem")).build());
    }

    /** Listens with TLS on an ephemeral loopback port; the protocols made are queued. */
    <P extends Protocol> Listener listen(TlsOptions tls, Supplier<P> factory, BlockingQueue<P> made) {
        return await(ssl.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), ListenOptions.DEFAULT.withTls(tls),
                () -> {
                    P p = factory.get();
                    made.add(p);
                    return p;
                }));
    }

    static <T> T await(CompletionStage<T> stage) {
        return Await.await(stage);
    }

    static Throwable failure(CompletionStage<?> stage) {
        return Await.failure(stage);
    }

    static <T> T take(BlockingQueue<T> queue) throws InterruptedException {
        T t = queue.poll(30, TimeUnit.SECONDS);
        if (t == null) {
            throw new AssertionError("nothing came within 30 s");
        }
        return t;
    }

    /** Echoes what it receives; closes once {@code total} bytes came back; notes TLS facts. */
    static class Echo extends RecordingProtocol {
        final int total;
        volatile String sni;
        volatile String alpn;
        volatile String protocol;
        volatile String peer;

        Echo(int total) {
            this.total = total;
            keepBytes(false);
        }

        @Override
        protected void onConnectionMade(Transport t) {
            SslTransport s = (SslTransport) t;
            sni = t.extraInfo(org.wharf.transport.api.ExtraInfo.SNI_HOST_NAME).orElse(null);
            alpn = s.applicationProtocol().orElse(null);
            protocol = t.extraInfo(org.wharf.transport.api.ExtraInfo.TLS_PROTOCOL).orElse(null);
            peer = s.peerCertificates().isEmpty() ? null
                    : ((java.security.cert.X509Certificate) s.peerCertificates().get(0)).getSubjectX500Principal().getName();
        }

        @Override
        protected void onDataReceived(ByteBuffer data) {
            transport().write(ByteBuffer.allocate(data.remaining()).put(data).flip());
            if (receivedCount() >= total) {
                transport().close();
            }
        }
    }

    /** Text lines of varying length, as bytes. */
    static byte[] lines(int count) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < count; i++) {
            b.append("line ").append(i).append(' ').append("x".repeat(i % 97)).append('\n');
        }
        return b.toString().getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public void close() throws Exception {
        log.close();
        group.shutdown().get(10, TimeUnit.SECONDS);
        resolver.shutdown();
    }
}
