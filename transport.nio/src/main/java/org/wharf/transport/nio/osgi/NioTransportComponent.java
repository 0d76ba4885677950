package org.wharf.transport.nio.osgi;

import java.util.Dictionary;
import java.util.Hashtable;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.metatype.annotations.Designate;
import org.wharf.transport.api.DatagramTransportProvider;
import org.wharf.transport.api.StreamTransportProvider;
import org.wharf.transport.api.TransportProvider;
import org.wharf.transport.api.WriteBufferLimits;
import org.wharf.transport.nio.internal.Log;
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

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile LoggerFactory loggerFactory;

    private final Log log = new LogServiceLog(() -> loggerFactory);
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
        group = new NioEventLoopGroup(settings, log);
        resolver = new Resolver();
        tcp = context.registerService(StreamTransportProvider.class, new NioTcpProvider(group, resolver),
                properties(TransportProvider.TCP));
        udp = context.registerService(DatagramTransportProvider.class, new NioUdpProvider(group, resolver),
                properties(TransportProvider.UDP));
        log.info("NIO transports tcp and udp started on " + group.size() + " event loops");
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
        log.info("NIO transports tcp and udp stopped");
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

    /** Logs to the OSGi Log Service while there is one, else to {@link System.Logger}. */
    private static final class LogServiceLog implements Log {
        private final Supplier<LoggerFactory> factory;

        LogServiceLog(Supplier<LoggerFactory> factory) {
            this.factory = factory;
        }

        private Logger logger() {
            LoggerFactory f = factory.get();
            return f == null ? null : f.getLogger("org.wharf.transport.nio");
        }

        @Override
        public void warn(String message, Throwable error) {
            Logger l = logger();
            if (l == null) {
                Log.SYSTEM.warn(message, error);
            } else if (error == null) {
                l.warn(message);
            } else {
                l.warn(message, error);
            }
        }

        @Override
        public void info(String message) {
            Logger l = logger();
            if (l == null) {
                Log.SYSTEM.info(message);
            } else {
                l.info(message);
            }
        }

        @Override
        public void debug(Supplier<String> message) {
            Logger l = logger();
            if (l == null) {
                Log.SYSTEM.debug(message);
            } else if (l.isDebugEnabled()) {
                l.debug(message.get());
            }
        }
    }
}
