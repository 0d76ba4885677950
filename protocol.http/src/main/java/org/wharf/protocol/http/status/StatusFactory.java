package org.wharf.protocol.http.status;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.wharf.endpoints.api.EndpointRuntime;
import org.wharf.protocol.api.ProtocolContext;
import org.wharf.protocol.api.ProtocolFactory;
import org.wharf.protocol.api.ProtocolProperties;
import org.wharf.protocol.http.HttpLimits;
import org.wharf.protocol.http.HttpProtocol;
import org.wharf.transport.api.Protocol;

/** The {@code http} protocol: the platform's status over HTTP/1.1 ({@code /status}, {@code /}). */
@Component(service = ProtocolFactory.class)
@ProtocolProperties(name = "http", transports = {"tcp", "ssl"})
public final class StatusFactory implements ProtocolFactory {

    @Reference
    private EndpointRuntime runtime;

    /** Made by Declarative Services. */
    public StatusFactory() {
    }

    @Override
    public Protocol newProtocol(ProtocolContext context) {
        return HttpProtocol.create(new StatusPage(runtime), HttpLimits.DEFAULT, context.hooks());
    }
}
