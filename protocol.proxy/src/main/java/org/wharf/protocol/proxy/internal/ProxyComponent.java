package org.wharf.protocol.proxy.internal;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.Designate;
import org.wharf.endpoints.api.ConnectionPools;
import org.wharf.protocol.api.ProtocolContext;
import org.wharf.protocol.api.ProtocolFactory;
import org.wharf.protocol.api.ProtocolProperties;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.StreamTransportProvider;
import org.wharf.transport.api.TlsOptionsFactory;
import org.wharf.transport.api.TransportProvider;

/**
 * The proxy protocol in a framework: a {@link ProxyFactory} that connects upstream with the
 * {@code tcp} and {@code ssl} transport services, the TLS settings factory and the pools
 * service as they come and go. The OSGi types live here, so ProxyFactory loads on a plain module path.
 */
@Component(service = ProtocolFactory.class, configurationPid = "org.wharf.proxy",
        configurationPolicy = ConfigurationPolicy.IGNORE)
// The org.wharf.proxy configurations are the endpoints runtime's to read (this protocol declares
// the PID): this component only lends them its Metatype description.
@Designate(ocd = ProxyConfiguration.class, factory = true)
@ProtocolProperties(name = "proxy", configurationPid = "org.wharf.proxy")
public final class ProxyComponent implements ProtocolFactory, org.wharf.protocol.api.FirstBytes {

    private final Map<String, StreamTransportProvider> providers = new ConcurrentHashMap<>();

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile TlsOptionsFactory tlsOptionsFactory;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile ConnectionPools pools;

    private final ProxyFactory proxy = new ProxyFactory(new ProxyServices(providers::get, () -> tlsOptionsFactory,
            () -> pools));

    /** Made by Declarative Services. */
    public ProxyComponent() {
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            unbind = "removeProvider")
    void addProvider(StreamTransportProvider provider, Map<String, Object> properties) {
        providers.put(String.valueOf(properties.get(TransportProvider.TRANSPORT_PROPERTY)), provider);
    }

    void removeProvider(StreamTransportProvider provider, Map<String, Object> properties) {
        providers.remove(String.valueOf(properties.get(TransportProvider.TRANSPORT_PROPERTY)), provider);
    }

    /** Closes the routes' pooled upstream connections. */
    @Deactivate
    void deactivate() {
        proxy.close();
    }

    @Override
    public Protocol newProtocol(ProtocolContext context) {
        return proxy.newProtocol(context);
    }

    @Override
    public void checkSettings(ProtocolContext context) {
        proxy.checkSettings(context);
    }

    @Override
    public Map<String, Long> metrics(String endpoint) {
        return proxy.metrics(endpoint);
    }

    /** RESP on a route that forwards Redis ({@link ProxyFactory#match}). */
    @Override
    public Match match(ProtocolContext context, java.nio.ByteBuffer first) {
        return proxy.match(context, first);
    }
}
