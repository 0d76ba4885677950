package org.wharf.transport.ssl.internal;

import java.util.Map;

import org.osgi.service.component.annotations.Component;
import org.wharf.transport.api.TlsOptions;
import org.wharf.transport.api.TlsOptionsFactory;
import org.wharf.transport.ssl.TlsProperties;

/**
 * {@link TlsOptionsFactory} as a service (Declarative Services) and a
 * {@link java.util.ServiceLoader} provider: endpoints and protocols with inline {@code tls.*}
 * settings get {@link TlsOptions} without depending on this bundle.
 */
@Component(service = TlsOptionsFactory.class)
@aQute.bnd.annotation.spi.ServiceProvider(value = TlsOptionsFactory.class,
        resolution = aQute.bnd.annotation.Resolution.OPTIONAL)
public final class TlsPropertiesFactory implements TlsOptionsFactory {

    /** Made by Declarative Services or {@link java.util.ServiceLoader}. */
    public TlsPropertiesFactory() {
    }

    @Override
    public TlsOptions fromProperties(Map<String, ?> properties) {
        return TlsProperties.options(properties);
    }
}
