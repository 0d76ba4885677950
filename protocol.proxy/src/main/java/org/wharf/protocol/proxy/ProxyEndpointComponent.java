package org.wharf.protocol.proxy;

import java.io.IOException;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;
import java.util.Set;

import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.ComponentConstants;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;

/**
 * One per {@code org.wharf.proxy} configuration: keeps an {@code org.wharf.server}
 * configuration with {@code protocol = proxy} and the same properties, which the endpoints
 * whiteboard serves like any other. Deleting the gateway's configuration deletes the
 * endpoint's; stopping or updating this bundle leaves it (the endpoint holds new connections
 * for the replacement, as for any protocol bundle).
 */
@Component(configurationPid = "org.wharf.proxy", configurationPolicy = ConfigurationPolicy.REQUIRE, service = {})
@Designate(ocd = ProxyConfiguration.class, factory = true)
public final class ProxyEndpointComponent {

    /** Properties of the gateway's own configuration that are not the endpoint's. */
    private static final Set<String> OWN = Set.of("service.pid", "service.factoryPid", "service.bundleLocation",
            "component.id", "component.name", "felix.fileinstall.filename");

    @Reference
    private ConfigurationAdmin admin;

    private Configuration endpoint;

    /** Made by Declarative Services. */
    public ProxyEndpointComponent() {
    }

    @Activate
    @Modified
    void apply(Map<String, Object> properties) throws IOException {
        Dictionary<String, Object> settings = new Hashtable<>();
        properties.forEach((key, value) -> {
            if (!OWN.contains(key) && value != null) {
                settings.put(key, value);
            }
        });
        settings.put("protocol", "proxy");
        String pid = String.valueOf(properties.get("service.pid"));
        settings.put("wharf.proxy.configuration", pid);
        if (endpoint == null) {
            String name = pid.substring(pid.indexOf('~') + 1);
            endpoint = admin.getFactoryConfiguration("org.wharf.server", "proxy-" + name, "?");
        }
        endpoint.updateIfDifferent(settings);
    }

    @Deactivate
    void deactivate(int reason) throws IOException {
        if (endpoint != null && reason == ComponentConstants.DEACTIVATION_REASON_CONFIGURATION_DELETED) {
            endpoint.delete();
        }
    }
}
