package org.wharf.transport.ssl.osgi;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;
import org.wharf.transport.api.ConnectOptions;
import org.wharf.transport.api.Connected;
import org.wharf.transport.api.ListenOptions;
import org.wharf.transport.api.Listener;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.StreamTransportProvider;
import org.wharf.transport.api.Transport;
import org.wharf.transport.api.TransportProvider;
import org.wharf.transport.ssl.internal.SslTransportProvider;
import org.wharf.transport.ssl.internal.TlsLog;

/**
 * The {@code ssl} provider as a service, layered on the {@code tcp} provider it references:
 * it comes and goes with that provider.
 */
@Component(service = StreamTransportProvider.class, property = TransportProvider.TRANSPORT_PROPERTY + "="
        + TransportProvider.SSL)
public final class SslTransportComponent implements StreamTransportProvider {

    @Reference(target = "(" + TransportProvider.TRANSPORT_PROPERTY + "=" + TransportProvider.TCP + ")")
    private StreamTransportProvider tcp;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile LoggerFactory loggerFactory;

    private SslTransportProvider ssl;

    /** Made by Declarative Services. */
    public SslTransportComponent() {
    }

    @Activate
    void activate() {
        ssl = new SslTransportProvider(tcp, new TlsLog() {
            @Override
            public void warn(String message, Throwable error) {
                Logger l = logger();
                if (l == null) {
                    TlsLog.SYSTEM.warn(message, error);
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
                    TlsLog.SYSTEM.info(message);
                } else {
                    l.info(message);
                }
            }
        });
    }

    private Logger logger() {
        LoggerFactory f = loggerFactory;
        return f == null ? null : f.getLogger("org.wharf.transport.ssl");
    }

    @Override
    public String kind() {
        return SSL;
    }

    @Override
    public CompletionStage<Listener> listen(InetSocketAddress address, ListenOptions options,
            Supplier<? extends Protocol> protocolFactory) {
        return ssl.listen(address, options, protocolFactory);
    }

    @Override
    public <P extends Protocol> CompletionStage<Connected<Transport, P>> connect(InetSocketAddress address,
            ConnectOptions options, Supplier<P> protocolFactory) {
        return ssl.connect(address, options, protocolFactory);
    }
}
