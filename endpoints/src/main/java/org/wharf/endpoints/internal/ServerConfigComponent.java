package org.wharf.endpoints.internal;

import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;

/**
 * One per {@code org.wharf.server} factory configuration: hands it to the whiteboard. A
 * changed configuration reaches only its own endpoint.
 */
@Component(configurationPid = "org.wharf.server", configurationPolicy = ConfigurationPolicy.REQUIRE, service = {})
@Designate(ocd = EndpointConfiguration.class, factory = true)
public final class ServerConfigComponent {

    @Reference
    private Whiteboard whiteboard;

    private String pid;

    /** Made by Declarative Services. */
    public ServerConfigComponent() {
    }

    @Activate
    void activate(Map<String, Object> properties) {
        pid = String.valueOf(properties.get("service.pid"));
        whiteboard.configure(pid, properties);
    }

    /** A changed configuration: the whiteboard keeps the endpoint when only protocol settings changed. */
    @Modified
    void modified(Map<String, Object> properties) {
        whiteboard.configure(pid, properties);
    }

    @Deactivate
    void deactivate() {
        whiteboard.unconfigure(pid);
    }
}
