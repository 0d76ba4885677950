package org.wharf.endpoints.whiteboard;

import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Comparator;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;
import java.util.Optional;

import org.osgi.framework.BundleContext;
import org.osgi.framework.Filter;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceRegistration;
import org.wharf.endpoints.Pool;
import org.wharf.endpoints.api.ConnectionPool;
import org.wharf.endpoints.api.PoolOptions;
import org.wharf.protocol.api.ConnectionHooks;
import org.wharf.protocol.api.ProtocolContext;
import org.wharf.protocol.api.ProtocolFactory;
import org.wharf.transport.api.ConnectOptions;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.StreamTransportProvider;
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
    private Filter protocolFilter;
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
        Object n = properties.get("name");
        this.name = n == null ? pid : n.toString();
        try {
            transport = String.valueOf(properties.getOrDefault("transport", "tcp"));
            Object host = properties.get("host");
            Object port = properties.get("port");
            if (host == null || port == null) {
                throw new IllegalArgumentException("host and port are required, got host=" + host + " port=" + port);
            }
            address = InetSocketAddress.createUnresolved(host.toString(), Integer.parseInt(port.toString()));
            Object protocol = properties.get("protocol");
            if (protocol == null) {
                throw new IllegalArgumentException("protocol is missing");
            }
            String filter = protocol.toString().startsWith("(") ? protocol.toString()
                    : "(" + ProtocolFactory.NAME_PROPERTY + "=" + protocol + ")";
            try {
                protocolFilter = FrameworkUtil.createFilter(filter);
            } catch (InvalidSyntaxException e) {
                throw new IllegalArgumentException("protocol=" + protocol + " is not a valid LDAP filter");
            }
            Object t = properties.get("tls");
            tls = t == null || t.toString().isBlank() ? null : t.toString();
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
        Optional<ProtocolEntry> best = whiteboard.registeredProtocols().stream()
                .filter(p -> p.serves(transport) && protocolFilter.matches(p.properties()))
                .max(Comparator.comparing(ProtocolEntry::version).thenComparing(ProtocolEntry::id));
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
        bound = protocol;
        boundTransport = provider;
        ConnectOptions options = tlsOptions == null ? ConnectOptions.DEFAULT : ConnectOptions.DEFAULT.withTls(tlsOptions);
        PoolOptions poolOptions = PoolOptions.DEFAULT.withConnect(options).withAddress(address)
                .withMaxSize(number("maxSize", 10)).withAcquireTimeout(Duration.ofMillis(number("acquireTimeout", 30_000)));
        long idle = number("idleTimeout", 0);
        if (idle > 0) {
            poolOptions = poolOptions.withIdleTimeout(Duration.ofMillis(idle));
        }
        long lifetime = number("maxLifetime", 0);
        if (lifetime > 0) {
            poolOptions = poolOptions.withMaxLifetime(Duration.ofMillis(lifetime));
        }
        pool = Pool.create(provider, () -> protocol.factory().newProtocol(
                new ProtocolContext(name, transport, properties, ConnectionHooks.NONE)), poolOptions);
        Dictionary<String, Object> service = new Hashtable<>();
        service.put(NAME_PROPERTY, name);
        service.put("wharf.pool.address", address.getHostString() + ":" + address.getPort());
        registration = context.registerService(ConnectionPool.class, pool, service);
        whiteboard.logger().log(Level.INFO, "pool " + name + " to " + address.getHostString() + ":" + address.getPort()
                + " over " + transport + " with " + protocol.name() + " " + protocol.version());
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
        bound = null;
        boundTransport = null;
    }

    private int number(String key, int fallback) {
        return (int) number(key, (long) fallback);
    }

    private long number(String key, long fallback) {
        Object v = properties.get(key);
        return v == null ? fallback : Long.parseLong(v.toString().trim());
    }
}
