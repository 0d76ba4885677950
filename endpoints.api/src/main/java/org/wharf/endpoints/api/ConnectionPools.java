package org.wharf.endpoints.api;

import java.util.function.Supplier;

import org.osgi.annotation.versioning.ProviderType;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.StreamTransportProvider;

/**
 * Makes connection pools: a service of the endpoints runtime (and a {@link java.util.ServiceLoader}
 * provider outside a framework), so a protocol bundle can pool its upstream connections
 * without depending on the runtime's implementation.
 */
@ProviderType
public interface ConnectionPools {

    /**
     * A new, empty pool. The caller closes it.
     *
     * @param <P> the protocol type
     * @param transport the transport its connections use ({@code tcp}, {@code ssl})
     * @param protocolFactory makes the protocol of each new connection
     * @param options sizes, timeouts, connect options
     * @return the pool
     */
    <P extends Protocol> ConnectionPool<P> create(StreamTransportProvider transport, Supplier<P> protocolFactory,
            PoolOptions options);
}
