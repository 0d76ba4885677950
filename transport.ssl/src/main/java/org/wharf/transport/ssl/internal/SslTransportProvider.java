package org.wharf.transport.ssl.internal;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

import org.wharf.transport.api.ConnectOptions;
import org.wharf.transport.api.Connected;
import org.wharf.transport.api.ListenOptions;
import org.wharf.transport.api.Listener;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.StreamTransportProvider;
import org.wharf.transport.api.TlsOptions;
import org.wharf.transport.api.Transport;
import org.wharf.transport.api.TransportProvider;
import org.wharf.transport.core.LogLimiter;

/**
 * TLS ({@code wharf.transport=ssl}) layered over another stream provider, normally
 * {@code tcp}. The no-argument constructor is for {@link ServiceLoader}: it layers over the
 * first {@code tcp} provider that ServiceLoader finds.
 */
@aQute.bnd.annotation.spi.ServiceProvider(value = StreamTransportProvider.class,
        resolution = aQute.bnd.annotation.Resolution.OPTIONAL)
@aQute.bnd.annotation.spi.ServiceConsumer(value = StreamTransportProvider.class,
        resolution = aQute.bnd.annotation.Resolution.OPTIONAL)
public final class SslTransportProvider implements StreamTransportProvider {

    private static final System.Logger LOG = System.getLogger("org.wharf.transport.ssl");

    private final StreamTransportProvider tcp;
    /** Anyone who reaches a TLS port can fail handshakes: a burst of them becomes one line and a count. */
    private final LogLimiter handshakeFailures = new LogLimiter(LOG, Duration.ofSeconds(10));
    /**
     * The engine setups of {@link #startTls} callers, by their options (compared by identity:
     * a gateway route terminating TLS passes the same ones for every connection); dropped
     * with the options (an entry's setup holds a copy of them, not the key).
     */
    private final java.util.Map<TlsOptions, EngineSetup> startTlsSetups = java.util.Collections.synchronizedMap(
            new java.util.WeakHashMap<>());

    /** Layers over the {@code tcp} provider found by {@link ServiceLoader} (outside a framework). */
    public SslTransportProvider() {
        // Skip this very class by type, before making instances: it is a provider too.
        this(ServiceLoader.load(StreamTransportProvider.class, SslTransportProvider.class.getClassLoader()).stream()
                .filter(p -> p.type() != SslTransportProvider.class).map(ServiceLoader.Provider::get)
                .filter(p -> TransportProvider.TCP.equals(p.kind())).findFirst()
                .orElseThrow(() -> new IllegalStateException("no tcp StreamTransportProvider on the module or class path")));
    }

    /**
     * Layers over the given stream provider.
     *
     * @param tcp the provider of the connections TLS runs on
     */
    public SslTransportProvider(StreamTransportProvider tcp) {
        this.tcp = Objects.requireNonNull(tcp, "tcp");
    }

    @Override
    public String kind() {
        return SSL;
    }

    @Override
    public CompletionStage<Listener> listen(InetSocketAddress address, ListenOptions options,
            Supplier<? extends Protocol> protocolFactory) {
        TlsOptions tls = options.tls().orElseThrow(() -> new IllegalArgumentException(
                "listening with wharf.transport=ssl needs TLS settings (ListenOptions.withTls)"));
        Objects.requireNonNull(protocolFactory, "protocolFactory");
        EngineSetup setup = new EngineSetup(tls); // one for the listener's connections
        return tcp.listen(address, options.withTls(null),
                () -> new SslConnection.Layer(false, setup, null, 0, protocolFactory, handshakeFailures,
                        options.observer()));
    }

    /**
     * Connects, and completes once the handshake succeeded and the application's protocol,
     * made only then, was told {@code connectionMade}. A failed handshake makes no protocol.
     */
    @Override
    public <P extends Protocol> CompletionStage<Connected<Transport, P>> connect(InetSocketAddress address,
            ConnectOptions options, Supplier<P> protocolFactory) {
        TlsOptions tls = options.tls().orElseThrow(() -> new IllegalArgumentException(
                "connecting with wharf.transport=ssl needs TLS settings (ConnectOptions.withTls)"));
        Objects.requireNonNull(protocolFactory, "protocolFactory");
        if (!tls.verifyHostName()) {
            LOG.log(System.Logger.Level.WARNING, "TLS host name verification is off for the connection to "
                    + address.getHostString() + ":" + address.getPort());
        }
        var made = new Object() {
            P app;
        };
        SslConnection.Layer layer = new SslConnection.Layer(true, tls, address.getHostString(), address.getPort(),
                () -> made.app = protocolFactory.get(), handshakeFailures, org.wharf.transport.api.TransportObserver.NONE);
        return tcp.connect(address, options.withTls(null), () -> layer)
                .thenCompose(c -> layer.ready)
                .thenApply(connection -> new Connected<>(connection, made.app));
    }

    /**
     * Layers a server {@link SslConnection} over a connection the {@code tcp} provider made, as
     * {@link #listen} does for each accepted one, and hands it the bytes read so far.
     */
    @Override
    public Protocol startTls(Transport connection, TlsOptions options, java.nio.ByteBuffer received,
            Supplier<? extends Protocol> protocolFactory) {
        Objects.requireNonNull(protocolFactory, "protocolFactory");
        if (!(connection instanceof org.wharf.transport.core.AbstractTransport<?>)) {
            throw new IllegalArgumentException("TLS starts only on a connection made by a transport provider, not on "
                    + connection.getClass().getName());
        }
        EngineSetup setup = startTlsSetups.computeIfAbsent(options, o -> new EngineSetup(o.withHandshakeOnConnect(true)));
        SslConnection.Layer layer = new SslConnection.Layer(false, setup, null, 0, protocolFactory, handshakeFailures,
                org.wharf.transport.api.TransportObserver.NONE);
        layer.connectionMade(connection);
        if (received.hasRemaining()) {
            layer.dataReceived(received.duplicate());
        }
        return layer;
    }
}
