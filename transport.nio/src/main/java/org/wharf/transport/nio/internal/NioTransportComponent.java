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

    /**
     * Framework property: {@code true} makes the loss of an event loop to a fatal error end the
     * process with {@value #FATAL_EXIT_STATUS}, so a supervisor restarts a platform that can no
     * longer serve fully instead of it holding its ports. The embedded launcher sets it.
     */
    static final String EXIT_ON_FATAL = "wharf.exitOnFatal";

    /** EX_SOFTWARE: an internal software error. */
    static final int FATAL_EXIT_STATUS = 70;

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
        if (Boolean.parseBoolean(context.getProperty(EXIT_ON_FATAL))) {
            group.onLoopDeath(NioTransportComponent::exitOnFatal);
        }
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

    /** The last line of defence: say why, then end the process (halting if the exit hangs). */
    private static void exitOnFatal(String loop, Throwable error) {
        LOG.log(System.Logger.Level.ERROR, "event loop " + loop + " died of " + error + ": the platform can no longer "
                + "serve all its connections; exiting with status " + FATAL_EXIT_STATUS + " (" + EXIT_ON_FATAL
                + " = true) for a supervisor to restart it");
        Thread exit = new Thread(() -> System.exit(FATAL_EXIT_STATUS), "wharf-fatal-exit");
        exit.setDaemon(true);
        exit.start();
        Thread halt = new Thread(() -> {
            try {
                Thread.sleep(TimeUnit.SECONDS.toMillis(SHUTDOWN_SECONDS * 2)); // a deadline, not a synchronisation
            } catch (InterruptedException e) {
                return;
            }
            Runtime.getRuntime().halt(FATAL_EXIT_STATUS); // the shutdown hooks did not finish
        }, "wharf-fatal-halt");
        halt.setDaemon(true);
        halt.start();
    }

    static NioSettings settings(NioTransportConfig config) {
        WriteBufferLimits limits;
        try {
            // Unset (-1), the low mark is a quarter of the high one: setting only the high mark works.
            limits = new WriteBufferLimits(config.writeBufferHigh(),
                    NioSettings.lowMark(config.writeBufferHigh(), config.writeBufferLow()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("org.wharf.transport.nio: writeBufferHigh=" + config.writeBufferHigh()
                    + " and writeBufferLow=" + config.writeBufferLow() + " need 0 <= writeBufferLow <= writeBufferHigh"
                    + " (or writeBufferLow unset, -1: a quarter of writeBufferHigh)", e);
        }
        try {
            if (config.closeTimeout() < 0) {
                throw new IllegalArgumentException("closeTimeout=" + config.closeTimeout()
                        + ": must be 0 (never) or more milliseconds");
            }
            return new NioSettings(config.loopThreads(), config.readBufferSize(), limits, config.udpBatch(),
                    java.time.Duration.ofMillis(config.closeTimeout()), config.busyPollMicros());
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
