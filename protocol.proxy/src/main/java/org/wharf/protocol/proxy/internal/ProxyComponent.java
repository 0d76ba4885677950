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
import org.wharf.protocol.api.HealthProbe;
import org.wharf.protocol.api.ProtocolContext;
import org.wharf.protocol.api.ProtocolFactory;
import org.wharf.protocol.api.ProtocolProperties;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.StreamTransportProvider;
import org.wharf.transport.api.TlsOptionsFactory;
import org.wharf.transport.api.TransportProvider;

/**
 * The proxy protocol in a framework: a {@link ProxyFactory} that connects upstream with the
 * {@code tcp} and {@code ssl} transport services, the TLS settings factory, the pools
 * service and the health probes ({@link HealthProbe}, by {@value HealthProbe#NAME_PROPERTY}) as
 * they come and go. The OSGi types live here, so ProxyFactory loads on a plain module path.
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

    /** Health probes as registered, each with its service properties; the best of a name is chosen per check. */
    private final Map<HealthProbe, Map<String, Object>> probes = new ConcurrentHashMap<>();

    private final ProxyFactory proxy = new ProxyFactory(new ProxyServices(providers::get, () -> tlsOptionsFactory,
            () -> pools, this::probe));

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

    /**
     * A health probe comes: routes that check with its name use it from their next check on.
     * The gateway's own ({@code redis}, {@code http}) arrive this way too.
     */
    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            unbind = "removeProbe")
    void addProbe(HealthProbe probe, Map<String, Object> properties) {
        probes.put(probe, properties);
    }

    /** A health probe goes: its routes' next checks use another of its name, or only connect. */
    void removeProbe(HealthProbe probe, Map<String, Object> properties) {
        probes.remove(probe);
    }

    /** The probe of this name with the highest {@code service.ranking}, then the lowest {@code service.id}. */
    private HealthProbe probe(String name) {
        HealthProbe best = null;
        long bestRanking = 0;
        long bestId = 0;
        for (Map.Entry<HealthProbe, Map<String, Object>> e : probes.entrySet()) {
            Map<String, Object> p = e.getValue();
            if (!name.equals(String.valueOf(p.get(HealthProbe.NAME_PROPERTY)))) {
                continue;
            }
            long ranking = p.get("service.ranking") instanceof Integer r ? r : 0;
            long id = p.get("service.id") instanceof Long i ? i : Long.MAX_VALUE;
            if (best == null || ranking > bestRanking || ranking == bestRanking && id < bestId) {
                best = e.getKey();
                bestRanking = ranking;
                bestId = id;
            }
        }
        return best;
    }

    /**
     * Retires the routes: open connections go on with their pooled upstream connections until
     * they end or the endpoint's drain timeout closes them, then each route's pools close.
     */
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
