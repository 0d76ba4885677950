package org.wharf.endpoints.internal;

import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;

/** One per {@code org.wharf.client.pool} factory configuration: hands it to the whiteboard. */
@Component(configurationPid = "org.wharf.client.pool", configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = {})
@Designate(ocd = PoolConfiguration.class, factory = true)
public final class PoolConfigComponent {

    @Reference
    private Whiteboard whiteboard;

    private String pid;

    /** Made by Declarative Services. */
    public PoolConfigComponent() {
    }

    @Activate
    void activate(Map<String, Object> properties) {
        pid = String.valueOf(properties.get("service.pid"));
        whiteboard.configurePool(pid, properties);
    }

    @Deactivate
    void deactivate() {
        whiteboard.unconfigurePool(pid);
    }
}
