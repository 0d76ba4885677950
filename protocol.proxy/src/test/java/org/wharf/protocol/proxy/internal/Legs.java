package org.wharf.protocol.proxy.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import org.wharf.protocol.api.ConnectionHooks;
import org.wharf.protocol.api.ProtocolContext;
import org.wharf.transport.api.ConnectOptions;
import org.wharf.transport.api.ListenOptions;
import org.wharf.transport.api.Listener;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.StreamTransportProvider;
import org.wharf.transport.api.TlsOptions;
import org.wharf.transport.tck.LogCapture;
import org.wharf.transport.tck.Await;
import org.wharf.transport.nio.internal.NioEventLoopGroup;
import org.wharf.transport.nio.internal.NioSettings;
import org.wharf.transport.nio.internal.NioTcpProvider;
import org.wharf.transport.nio.internal.Resolver;
import org.wharf.transport.ssl.TlsContextBuilder;
import org.wharf.transport.ssl.internal.SslTransportProvider;
import org.wharf.transport.tck.Peers;

/**
 * Real NIO and TLS transports for the proxy tests: upstream servers, proxies and clients,
 * a certificate made by openssl, a log that keeps its lines, and waiting helpers.
 */
final class Legs implements AutoCloseable {

    final NioEventLoopGroup group = new NioEventLoopGroup(new NioSettings(2, 64 * 1024,
            NioSettings.DEFAULT.writeBufferLimits()));
    final Resolver resolver = new Resolver();
    final StreamTransportProvider tcp = new NioTcpProvider(group, resolver);
    final StreamTransportProvider ssl = new SslTransportProvider(tcp);
    final Path pki;
    final LogCapture log = new LogCapture();
    /** The health probes the proxies made here see, by name: a test registers and removes its own. */
    final Map<String, org.wharf.protocol.api.HealthProbe> probes = new java.util.concurrent.ConcurrentHashMap<>(
            ProxyServices.BUILT_IN_PROBES);
    private final List<Listener> listeners = new ArrayList<>();

    Legs() throws IOException, InterruptedException {
        pki = Files.createTempDirectory("wharf-proxy-test");
        Process openssl = Peers.process("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=localhost", "-addext",
                "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", pki.resolve("server.key").toString(), "-out",
                pki.resolve("server.pem").toString()).redirectErrorStream(true).start();
        String out = new String(openssl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (openssl.waitFor() != 0) {
            throw new IOException("openssl failed: " + out);
        }
    }

    StreamTransportProvider provider(String kind) {
        return kind.equals("ssl") ? ssl : tcp;
    }

    /** Server-side TLS with the test certificate. */
    TlsOptions serverTls() {
        return TlsOptions.of(TlsContextBuilder.create().certificate(pki.resolve("server.pem"), pki.resolve("server.key"))
                .build());
    }

    /** Client-side TLS trusting the test certificate. */
    TlsOptions clientTls() {
        return TlsOptions.of(TlsContextBuilder.create().trustCertificates(pki.resolve("server.pem")).build());
    }

    /** Listens on an ephemeral loopback port; the protocols made are queued. */
    <P extends Protocol> Server<P> serve(String kind, Supplier<P> factory) {
        BlockingQueue<P> made = new LinkedBlockingQueue<>();
        ListenOptions options = kind.equals("ssl") ? ListenOptions.DEFAULT.withTls(serverTls()) : ListenOptions.DEFAULT;
        Listener listener = await(provider(kind).listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), options,
                () -> {
                    P p = factory.get();
                    made.add(p);
                    return p;
                }));
        listeners.add(listener);
        return new Server<>(listener.localAddress(), made, listener);
    }

    /** A proxy endpoint named {@code gw} listening over {@code kind} with these {@code proxy.*} properties. */
    Proxy proxy(String kind, Map<String, Object> properties) {
        return proxy(kind, properties, tcp);
    }

    /** As {@link #proxy(String, Map)}, its upstream connections over {@code upstreams} (for tcp). */
    Proxy proxy(String kind, Map<String, Object> properties, StreamTransportProvider upstreams) {
        // One pool service, as a framework has: a route makes its pool anew when the service is another.
        org.wharf.endpoints.api.ConnectionPools pools = new org.wharf.endpoints.internal.ConnectionPoolsProvider();
        ProxyFactory factory = new ProxyFactory(new ProxyServices(Map.of("tcp", upstreams, "ssl", ssl)::get,
                org.wharf.transport.ssl.internal.TlsPropertiesFactory::new, () -> pools, probes::get));
        ProtocolContext context = new ProtocolContext("gw", kind, properties, ConnectionHooks.NONE);
        factory.route(context); // a bad route fails here, as the endpoint would
        Server<Protocol> server = serve(kind, () -> factory.newProtocol(context));
        return new Proxy(server.address(), factory, context, server);
    }

    /** Connects a client over {@code kind} (trusting the test certificate for ssl). */
    <P extends Protocol> P connect(String kind, InetSocketAddress to, P protocol) {
        ConnectOptions options = kind.equals("ssl") ? ConnectOptions.DEFAULT.withTls(clientTls()) : ConnectOptions.DEFAULT;
        await(provider(kind).connect(to, options, () -> protocol));
        return protocol;
    }

    /** A loopback port nobody listens on. */
    static InetSocketAddress refusing() throws IOException {
        try (java.nio.channels.ServerSocketChannel probe = java.nio.channels.ServerSocketChannel.open()) {
            probe.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return (InetSocketAddress) probe.getLocalAddress();
        }
    }

    static String hostPort(InetSocketAddress address) {
        return "127.0.0.1:" + address.getPort();
    }

    static <T> T await(CompletionStage<T> stage) {
        return Await.await(stage);
    }

    static void awaitTrue(BooleanSupplier condition, String what) {
        Await.awaitTrue(condition, what);
    }

    @Override
    public void close() throws Exception {
        log.close();
        listeners.forEach(l -> l.close());
        group.shutdown().get(10, TimeUnit.SECONDS);
        resolver.shutdown();
        try (var files = Files.list(pki)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.delete(f);
            }
        }
        Files.delete(pki);
    }

    /** A listening server and the protocols of the connections it accepted. */
    record Server<P extends Protocol>(InetSocketAddress address, BlockingQueue<P> accepted, Listener listener) {
        P next() throws InterruptedException {
            P p = accepted.poll(30, TimeUnit.SECONDS);
            if (p == null) {
                throw new AssertionError("no connection was accepted within 30 s");
            }
            return p;
        }
    }

    /** A proxy endpoint: where it listens, its route, and the connections it accepted. */
    record Proxy(InetSocketAddress address, ProxyFactory factory, ProtocolContext context, Server<Protocol> accepted) {
        Route route() {
            return factory.route(context);
        }
    }
}
