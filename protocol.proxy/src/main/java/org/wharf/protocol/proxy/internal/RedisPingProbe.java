package org.wharf.protocol.proxy.internal;

import org.osgi.service.component.annotations.Component;
import org.wharf.protocol.api.HealthProbe;

/**
 * The {@code redis} probe ({@code proxy.health.check = protocol} on a {@code redis} route):
 * {@code PING} answered by anything but an error ({@code -LOADING}, {@code -MASTERDOWN}, ...).
 */
@Component(service = HealthProbe.class, property = HealthProbe.NAME_PROPERTY + "=redis")
public final class RedisPingProbe extends FirstLineProbe {

    /** Made by Declarative Services, or by the gateway outside a framework. */
    public RedisPingProbe() {
    }

    @Override
    String request(Check check) {
        return "*1\r\n$4\r\nPING\r\n";
    }

    @Override
    String judge(String line) {
        return line.startsWith("-") ? "answered PING with " + line : null;
    }
}
