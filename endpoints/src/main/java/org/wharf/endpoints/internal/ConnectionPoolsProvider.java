package org.wharf.endpoints.internal;

import java.util.function.Supplier;

import org.osgi.service.component.annotations.Component;
import org.wharf.endpoints.Pool;
import org.wharf.endpoints.api.ConnectionPool;
import org.wharf.endpoints.api.ConnectionPools;
import org.wharf.endpoints.api.PoolOptions;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.StreamTransportProvider;

/**
 * {@link ConnectionPools} as a service (Declarative Services) and a {@link java.util.ServiceLoader}
 * provider: protocol bundles pool their connections through the API, with the runtime's
 * {@link Pool}.
 */
@Component(service = ConnectionPools.class)
@aQute.bnd.annotation.spi.ServiceProvider(value = ConnectionPools.class,
        resolution = aQute.bnd.annotation.Resolution.OPTIONAL)
public final class ConnectionPoolsProvider implements ConnectionPools {

    /** Made by Declarative Services or {@link java.util.ServiceLoader}. */
    public ConnectionPoolsProvider() {
    }

    @Override
    public <P extends Protocol> ConnectionPool<P> create(StreamTransportProvider transport, Supplier<P> protocolFactory,
            PoolOptions options) {
        return Pool.create(transport, protocolFactory, options);
    }
}
