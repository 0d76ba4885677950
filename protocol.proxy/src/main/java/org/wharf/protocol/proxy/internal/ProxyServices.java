package org.wharf.protocol.proxy.internal;

import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;

import org.wharf.endpoints.api.ConnectionPools;
import org.wharf.protocol.api.HealthProbe;
import org.wharf.transport.api.StreamTransportProvider;
import org.wharf.transport.api.TlsOptionsFactory;

/**
 * What the proxy uses of the platform, each through an API: transports by kind, the TLS
 * settings factory for upstream TLS, connection pools and health probes by name. In a framework
 * they are services ({@link ProxyComponent}; the gateway's own probes are services of this bundle
 * too); on a plain module path {@link ServiceLoader} finds the first three, and the probes are
 * the gateway's own.
 *
 * @param transports a stream transport of a kind ({@code tcp}, {@code ssl}), or null
 * @param tls the TLS settings factory, or null while there is none
 * @param pools the pool maker, or null while there is none
 * @param probes the health probe of a name, or null while there is none
 */
record ProxyServices(Function<String, StreamTransportProvider> transports, Supplier<TlsOptionsFactory> tls,
        Supplier<ConnectionPools> pools, Function<String, HealthProbe> probes) {

    /** The gateway's own probes, by name, where there is no service registry. */
    static final java.util.Map<String, HealthProbe> BUILT_IN_PROBES = java.util.Map.of("redis", new RedisPingProbe(),
            "http", new HttpHeadProbe());

    /**
     * Services with only the gateway's own probes.
     *
     * @param transports a stream transport of a kind, or null
     * @param tls the TLS settings factory, or null
     * @param pools the pool maker, or null
     */
    ProxyServices(Function<String, StreamTransportProvider> transports, Supplier<TlsOptionsFactory> tls,
            Supplier<ConnectionPools> pools) {
        this(transports, tls, pools, BUILT_IN_PROBES::get);
    }

    /** The services {@link ServiceLoader} finds next to this module, looked up on first use. */
    static ProxyServices fromServiceLoader() {
        ConcurrentHashMap<String, StreamTransportProvider> found = new ConcurrentHashMap<>();
        ClassLoader loader = ProxyServices.class.getClassLoader();
        java.util.concurrent.atomic.AtomicReference<ConnectionPools> pools =
                new java.util.concurrent.atomic.AtomicReference<>();
        return new ProxyServices(kind -> found.computeIfAbsent(kind, k -> ServiceLoader.load(
                StreamTransportProvider.class, loader).stream().map(ServiceLoader.Provider::get)
                .filter(p -> k.equals(p.kind())).findFirst().orElse(null)),
                () -> ServiceLoader.load(TlsOptionsFactory.class, loader).findFirst().orElse(null),
                // One pool maker for good, as a framework's service: a route makes its pool anew
                // when the maker is another, and each load would make another (the first kept wins).
                () -> pools.updateAndGet(p -> p != null ? p
                        : ServiceLoader.load(ConnectionPools.class, loader).findFirst().orElse(null)));
    }

    /** @return the health probe of this name, or null while none is registered */
    HealthProbe probe(String name) {
        return probes.apply(name);
    }

    StreamTransportProvider transport(String kind) {
        return transports.apply(kind);
    }

    /** The pool maker; pooled routes need one. */
    ConnectionPools connectionPools() {
        ConnectionPools p = pools.get();
        if (p == null) {
            throw new IllegalStateException("proxy.pooled needs the endpoints runtime (no ConnectionPools service)");
        }
        return p;
    }
}
