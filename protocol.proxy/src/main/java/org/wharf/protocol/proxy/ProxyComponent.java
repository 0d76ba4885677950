package org.wharf.protocol.proxy;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.log.LoggerFactory;
import org.wharf.protocol.api.ProtocolContext;
import org.wharf.protocol.api.ProtocolFactory;
import org.wharf.protocol.api.ProtocolProperties;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.StreamTransportProvider;
import org.wharf.transport.api.TransportProvider;

/**
 * The proxy protocol in a framework: a {@link ProxyFactory} that connects upstream with the
 * {@code tcp} and {@code ssl} transport services as they come and go, and logs to the OSGi
 * Log Service. The OSGi types live here, so ProxyFactory loads on a plain module path.
 */
@Component(service = ProtocolFactory.class)
@ProtocolProperties(name = "proxy", transports = {"tcp", "ssl"})
public final class ProxyComponent implements ProtocolFactory {

    private static final String LOGGER = "org.wharf.protocol.proxy";

    private final Map<String, StreamTransportProvider> providers = new ConcurrentHashMap<>();
    private final ProxyFactory proxy;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile LoggerFactory loggerFactory;

    /** Made by Declarative Services. */
    public ProxyComponent() {
        ProxyLog fallback = ProxyLog.system();
        this.proxy = new ProxyFactory(providers::get, new ProxyLog() {
            @Override
            public void warn(String message, Throwable error) {
                LoggerFactory f = loggerFactory;
                if (f == null) {
                    fallback.warn(message, error);
                } else {
                    f.getLogger(LOGGER).warn(message, error);
                }
            }

            @Override
            public void info(String message) {
                LoggerFactory f = loggerFactory;
                if (f == null) {
                    fallback.info(message);
                } else {
                    f.getLogger(LOGGER).info(message);
                }
            }
        });
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
}
