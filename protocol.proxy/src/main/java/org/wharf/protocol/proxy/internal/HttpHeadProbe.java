package org.wharf.protocol.proxy.internal;

import org.osgi.service.component.annotations.Component;
import org.wharf.protocol.api.HealthProbe;

/**
 * The {@code http} probe ({@code proxy.health.check = protocol} on an {@code http} route):
 * {@code HEAD /} answered with an HTTP/1.x status below 500.
 */
@Component(service = HealthProbe.class, property = HealthProbe.NAME_PROPERTY + "=http")
public final class HttpHeadProbe extends FirstLineProbe {

    /** Made by Declarative Services, or by the gateway outside a framework. */
    public HttpHeadProbe() {
    }

    @Override
    String request(Check check) {
        return "HEAD / HTTP/1.1\r\nHost: " + check.upstream().getHostString() + ":" + check.upstream().getPort()
                + "\r\nUser-Agent: wharf-health-check\r\nConnection: close\r\n\r\n";
    }

    @Override
    String judge(String line) {
        String[] parts = line.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/1.") || !parts[1].matches("\\d{3}")) {
            return "answered HEAD / with '" + line + "'";
        }
        return Integer.parseInt(parts[1]) >= 500 ? "answered HEAD / with " + parts[1] : null;
    }
}
