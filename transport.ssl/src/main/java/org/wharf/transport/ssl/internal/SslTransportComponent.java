package org.wharf.transport.ssl.internal;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.wharf.transport.api.ConnectOptions;
import org.wharf.transport.api.Connected;
import org.wharf.transport.api.ListenOptions;
import org.wharf.transport.api.Listener;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.StreamTransportProvider;
import org.wharf.transport.api.Transport;
import org.wharf.transport.api.TransportProvider;

/**
 * The {@code ssl} provider as a service, layered on the {@code tcp} provider it references:
 * it comes and goes with that provider.
 */
@Component(service = StreamTransportProvider.class, property = TransportProvider.TRANSPORT_PROPERTY + "="
        + TransportProvider.SSL)
public final class SslTransportComponent implements StreamTransportProvider {

    @Reference(target = "(" + TransportProvider.TRANSPORT_PROPERTY + "=" + TransportProvider.TCP + ")")
    private StreamTransportProvider tcp;

    private SslTransportProvider ssl;

    /** Made by Declarative Services. */
    public SslTransportComponent() {
    }

    @Activate
    void activate() {
        ssl = new SslTransportProvider(tcp);
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

    @Override
    public Protocol startTls(Transport connection, org.wharf.transport.api.TlsOptions options,
            java.nio.ByteBuffer received, Supplier<? extends Protocol> protocolFactory) {
        return ssl.startTls(connection, options, received, protocolFactory);
    }
}
