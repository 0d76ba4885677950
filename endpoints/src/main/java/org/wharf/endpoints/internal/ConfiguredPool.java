package org.wharf.endpoints.internal;

import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;
import java.util.Optional;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.wharf.endpoints.Pool;
import org.wharf.endpoints.api.ConnectionPool;
import org.wharf.endpoints.api.PoolOptions;
import org.wharf.protocol.api.ConnectionHooks;
import org.wharf.protocol.api.ProtocolContext;
import org.wharf.transport.api.ConnectOptions;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.StreamTransportProvider;
import org.wharf.transport.api.Settings;
import org.wharf.transport.api.TlsOptions;

/**
 * A configured pool: registered as a {@link ConnectionPool} service (with {@code wharf.pool.name}) while
 * its transport and client protocol are there, withdrawn and closed when one goes. Used on
 * the whiteboard's thread only.
 */
final class ConfiguredPool {

    /** The service property naming a configured pool. */
    static final String NAME_PROPERTY = "wharf.pool.name";

    final String pid;
    private final Whiteboard whiteboard;
    private final Map<String, Object> properties;
    private final String name;
    private String transport;
    private InetSocketAddress address;
    private ProtocolSelector selector;
    private PoolOptions options;
    private String tls;
    private String error;
    private boolean errorLogged;
    private Pool<Protocol> pool;
    private ServiceRegistration<?> registration;
    private ProtocolEntry bound;
    private Object boundTransport;

    ConfiguredPool(Whiteboard whiteboard, String pid, Map<String, Object> properties) {
        this.whiteboard = whiteboard;
        this.pid = pid;
        this.properties = Map.copyOf(properties);
        Settings settings = Settings.of(properties);
        this.name = settings.text("name", pid);
        try {
            transport = settings.text("transport", "tcp");
            address = InetSocketAddress.createUnresolved(settings.required("host", "the server's host"),
                    settings.port("port", -1));
            selector = ProtocolSelector.of(settings);
            tls = settings.text("tls").orElse(null);
            PoolOptions o = PoolOptions.DEFAULT.withAddress(address)
                    .withConnect(ConnectOptions.DEFAULT.withTimeout(settings.positiveMillis("connectTimeout",
                            ConnectOptions.DEFAULT.timeout())))
                    .withMaxSize(settings.integer("maxSize", 10, 1, Integer.MAX_VALUE))
                    .withMaxWaiters(settings.integer("maxWaiters", PoolOptions.DEFAULT.maxWaiters(), 0,
                            Integer.MAX_VALUE))
                    .withAcquireTimeout(settings.positiveMillis("acquireTimeout", Duration.ofSeconds(30)))
                    .withIdleTimeout(settings.millis("idleTimeout", null).orElse(null))
                    .withMaxLifetime(settings.millis("maxLifetime", null).orElse(null));
            options = o;
        } catch (IllegalArgumentException e) {
            error = "pool " + name + ": " + e.getMessage();
        }
    }

    void reconcile(BundleContext context) {
        if (error != null) {
            if (!errorLogged) {
                errorLogged = true;
                whiteboard.logger().log(Level.WARNING, error);
            }
            return;
        }
        StreamTransportProvider provider = whiteboard.streamTransport(transport);
        Optional<ProtocolEntry> best = selector.best(whiteboard.registeredProtocols(), transport);
        TlsOptions tlsOptions = tls == null ? null : whiteboard.tls(tls);
        boolean ready = provider != null && best.isPresent() && (tls == null || tlsOptions != null);
        if (pool != null && (!ready || provider != boundTransport || best.get().id() != bound.id())) {
            close();
        }
        if (pool == null && ready) {
            open(context, provider, best.get(), tlsOptions);
        }
    }

    private void open(BundleContext context, StreamTransportProvider provider, ProtocolEntry protocol,
            TlsOptions tlsOptions) {
        if (!protocol.acquire(context)) {
            return; // gone meanwhile
        }
        bound = protocol;
        boundTransport = provider;
        ProtocolContext protocolContext = new ProtocolContext(name, transport, properties, ConnectionHooks.NONE);
        pool = Pool.create(provider, () -> protocol.newProtocol(protocolContext, () -> {
            throw new IllegalStateException("protocol " + protocol + " of pool " + name + " went away");
        }), options(tlsOptions));
        Dictionary<String, Object> service = new Hashtable<>();
        service.put(NAME_PROPERTY, name);
        service.put("wharf.pool.address", address.getHostString() + ":" + address.getPort());
        registration = context.registerService(ConnectionPool.class, pool, service);
        whiteboard.logger().log(Level.INFO, "pool " + name + " to " + address.getHostString() + ":" + address.getPort()
                + " over " + transport + " with " + protocol.name() + " " + protocol.version());
    }

    /** The options the pool is made with: as configured, with the TLS settings if any. */
    PoolOptions options(TlsOptions tlsOptions) {
        return tlsOptions == null ? options : options.withConnect(options.connect().withTls(tlsOptions));
    }

    /** The acquires the pool lets wait. */
    int maxWaiters() {
        return options.maxWaiters();
    }

    void close() {
        if (registration != null) {
            try {
                registration.unregister();
            } catch (IllegalStateException alreadyGone) {
                // the whiteboard's bundle is stopping
            }
            registration = null;
        }
        if (pool != null) {
            pool.close();
            pool = null;
        }
        if (bound != null) {
            bound.release(whiteboard.context());
        }
        bound = null;
        boundTransport = null;
    }
}
