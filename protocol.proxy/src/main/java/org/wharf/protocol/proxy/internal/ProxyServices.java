package org.wharf.protocol.proxy.internal;

import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;

import org.wharf.endpoints.api.ConnectionPools;
import org.wharf.transport.api.StreamTransportProvider;
import org.wharf.transport.api.TlsOptionsFactory;

/**
 * What the proxy uses of the platform, each through an API: transports by kind, the TLS
 * settings factory for upstream TLS, and connection pools. In a framework they are services
 * ({@link ProxyComponent}); on a plain module path {@link ServiceLoader} finds them.
 *
 * @param transports a stream transport of a kind ({@code tcp}, {@code ssl}), or null
 * @param tls the TLS settings factory, or null while there is none
 * @param pools the pool maker, or null while there is none
 */
record ProxyServices(Function<String, StreamTransportProvider> transports, Supplier<TlsOptionsFactory> tls,
        Supplier<ConnectionPools> pools) {

    /** The services {@link ServiceLoader} finds next to this module, looked up on first use. */
    static ProxyServices fromServiceLoader() {
        ConcurrentHashMap<String, StreamTransportProvider> found = new ConcurrentHashMap<>();
        ClassLoader loader = ProxyServices.class.getClassLoader();
        return new ProxyServices(kind -> found.computeIfAbsent(kind, k -> ServiceLoader.load(
                StreamTransportProvider.class, loader).stream().map(ServiceLoader.Provider::get)
                .filter(p -> k.equals(p.kind())).findFirst().orElse(null)),
                () -> ServiceLoader.load(TlsOptionsFactory.class, loader).findFirst().orElse(null),
                () -> ServiceLoader.load(ConnectionPools.class, loader).findFirst().orElse(null));
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
