package org.wharf.transport.nio.internal;

import java.util.Dictionary;
import java.util.Hashtable;
import java.util.concurrent.TimeUnit;

import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.Designate;
import org.wharf.transport.api.DatagramTransportProvider;
import org.wharf.transport.api.StreamTransportProvider;
import org.wharf.transport.api.TransportProvider;
import org.wharf.transport.api.WriteBufferLimits;
import org.wharf.transport.nio.internal.NioEventLoopGroup;
import org.wharf.transport.nio.internal.NioSettings;
import org.wharf.transport.nio.internal.NioTcpProvider;
import org.wharf.transport.nio.internal.NioUdpProvider;
import org.wharf.transport.nio.internal.Resolver;

/**
 * Starts the event loops and registers the tcp and udp providers on them. Deactivation (bundle
 * stop, configuration change) unregisters the providers, closes every connection and ends every
 * loop thread.
 */
@Component(configurationPid = "org.wharf.transport.nio", configurationPolicy = ConfigurationPolicy.OPTIONAL,
        immediate = true, service = {})
@Designate(ocd = NioTransportConfig.class)
public final class NioTransportComponent {

    private static final long SHUTDOWN_SECONDS = 10;

    private static final System.Logger LOG = System.getLogger("org.wharf.transport.nio");
    private NioEventLoopGroup group;
    private Resolver resolver;
    private ServiceRegistration<StreamTransportProvider> tcp;
    private ServiceRegistration<DatagramTransportProvider> udp;

    /** Made by Declarative Services. */
    public NioTransportComponent() {
    }

    @Activate
    void activate(BundleContext context, NioTransportConfig config) {
        NioSettings settings = settings(config);
        group = new NioEventLoopGroup(settings);
        resolver = new Resolver();
        tcp = context.registerService(StreamTransportProvider.class, new NioTcpProvider(group, resolver),
                properties(TransportProvider.TCP));
        udp = context.registerService(DatagramTransportProvider.class, new NioUdpProvider(group, resolver),
                properties(TransportProvider.UDP));
        LOG.log(System.Logger.Level.INFO, "NIO transports tcp and udp started on " + group.size() + " event loops");
    }

    @Deactivate
    void deactivate() throws Exception {
        tcp.unregister();
        udp.unregister();
        try {
            group.shutdown().get(SHUTDOWN_SECONDS, TimeUnit.SECONDS);
        } finally {
            resolver.shutdown();
        }
        LOG.log(System.Logger.Level.INFO, "NIO transports tcp and udp stopped");
    }

    static NioSettings settings(NioTransportConfig config) {
        WriteBufferLimits limits;
        try {
            limits = new WriteBufferLimits(config.writeBufferHigh(), config.writeBufferLow());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("org.wharf.transport.nio: writeBufferHigh=" + config.writeBufferHigh()
                    + " and writeBufferLow=" + config.writeBufferLow() + " need 0 <= writeBufferLow <= writeBufferHigh", e);
        }
        try {
            return new NioSettings(config.loopThreads(), config.readBufferSize(), limits);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("org.wharf.transport.nio: " + e.getMessage(), e);
        }
    }

    private static Dictionary<String, Object> properties(String kind) {
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put(TransportProvider.TRANSPORT_PROPERTY, kind);
        properties.put(Constants.SERVICE_DESCRIPTION, "Wharf NIO " + kind + " transport");
        return properties;
    }
}
