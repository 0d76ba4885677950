package org.wharf.protocol.http.internal;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.wharf.endpoints.api.EndpointRuntime;
import org.wharf.protocol.api.FirstBytes;
import org.wharf.protocol.api.ProtocolContext;
import org.wharf.protocol.api.ProtocolFactory;
import org.wharf.protocol.api.ProtocolProperties;
import org.wharf.protocol.http.HttpLimits;
import org.wharf.protocol.http.HttpProtocol;
import org.wharf.transport.api.Protocol;

/**
 * The {@code status} protocol: the platform's status over HTTP/1.1 ({@code /status}, {@code /metrics}, {@code /}).
 * Named for what it serves, not for HTTP: an application's own HTTP protocol may be {@code http}.
 * It claims connections whose first bytes begin an HTTP/1.x request, so it can share a port.
 */
@Component(service = ProtocolFactory.class)
@ProtocolProperties(name = "status")
public final class StatusFactory implements ProtocolFactory, FirstBytes {

    @Reference
    private EndpointRuntime runtime;

    /** Made by Declarative Services. */
    public StatusFactory() {
    }

    /** The limits of the last configuration seen, read again only when it changes. */
    private volatile Settings settings = new Settings(java.util.Map.of(), HttpLimits.DEFAULT,
            AllowedHosts.fromProperties(java.util.Map.of()));

    private record Settings(java.util.Map<String, Object> properties, HttpLimits limits, AllowedHosts hosts) {
    }

    @Override
    public Protocol newProtocol(ProtocolContext context) {
        Settings s = settings(context);
        return HttpProtocol.create(new StatusPage(runtime, s.hosts()), s.limits(), context);
    }

    /**
     * Reads the endpoint's {@code http.*} limits and {@code status.allowedHosts}, so a wrong
     * value fails the endpoint.
     *
     * @param context the endpoint and its configuration
     * @throws IllegalArgumentException naming the property and the value that is wrong
     */
    @Override
    public void checkSettings(ProtocolContext context) {
        HttpLimits.fromProperties(context.properties());
        AllowedHosts.fromProperties(context.properties());
    }

    /** An HTTP/1.x request line ({@link HttpProtocol#firstBytes(java.nio.ByteBuffer)}). */
    @Override
    public Match match(ProtocolContext context, java.nio.ByteBuffer first) {
        return HttpProtocol.firstBytes(first);
    }

    private Settings settings(ProtocolContext context) {
        Settings s = settings;
        if (!s.properties().equals(context.properties())) {
            s = new Settings(context.properties(), HttpLimits.fromProperties(context.properties()),
                    AllowedHosts.fromProperties(context.properties()));
            settings = s;
        }
        return s;
    }
}
