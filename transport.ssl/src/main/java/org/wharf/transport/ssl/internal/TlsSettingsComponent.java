package org.wharf.transport.ssl.internal;

import java.util.Dictionary;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.Map;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.Designate;
import org.wharf.transport.api.TlsOptions;
import org.wharf.transport.ssl.TlsProperties;

/**
 * One named TLS setup per factory configuration {@code org.wharf.tls}: its
 * {@link TlsOptions} become a service with {@value #NAME_PROPERTY} set to its name, for
 * endpoints to use. A configuration that cannot be used fails to activate, with the property
 * and value named in the log.
 */
@Component(configurationPid = "org.wharf.tls", configurationPolicy = ConfigurationPolicy.REQUIRE, service = {})
@Designate(ocd = TlsConfiguration.class, factory = true)
public final class TlsSettingsComponent {

    /** The service property that names a TLS setup. */
    public static final String NAME_PROPERTY = "wharf.tls.name";

    private ServiceRegistration<TlsOptions> registration;

    /** Made by Declarative Services. */
    public TlsSettingsComponent() {
    }

    @Activate
    void activate(BundleContext context, Map<String, Object> properties) {
        Object name = properties.get("name");
        if (name == null || name.toString().isBlank()) {
            throw new IllegalArgumentException("org.wharf.tls configuration " + properties.get("service.pid")
                    + ": name is missing");
        }
        TlsOptions options;
        try {
            options = TlsProperties.options(new HashMap<>(properties));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("org.wharf.tls configuration '" + name + "': " + e.getMessage(), e);
        }
        Dictionary<String, Object> service = new Hashtable<>();
        service.put(NAME_PROPERTY, name.toString());
        registration = context.registerService(TlsOptions.class, options, service);
    }

    @Deactivate
    void deactivate() {
        registration.unregister();
    }
}
