package org.wharf.endpoints.internal;

import java.util.Collections;
import java.util.Dictionary;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.Map;

import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.cm.ManagedServiceFactory;

/**
 * Endpoint configurations under a protocol's own factory PID ({@code org.wharf.proxy}), which a
 * protocol declares with {@code wharf.protocol.configurationPid}: the whiteboard consumes them
 * itself, as {@code org.wharf.server} configurations with {@code protocol} set to the
 * declaring protocol's name. Nothing is written to ConfigAdmin, so nothing is left behind when
 * the protocol goes: its endpoints wait for it like any endpoint whose protocol is away. A PID
 * once declared is served for the whiteboard's life. On the whiteboard's thread.
 */
final class ProtocolConfigurations {

    private final Whiteboard whiteboard;
    private final Map<String, ServiceRegistration<ManagedServiceFactory>> served = new HashMap<>();
    private final Map<String, String> pending = new HashMap<>();
    private BundleContext context;

    ProtocolConfigurations(Whiteboard whiteboard) {
        this.whiteboard = whiteboard;
    }

    void start(BundleContext bundleContext) {
        context = bundleContext;
        pending.forEach(this::serve);
        pending.clear();
    }

    /** A protocol declared a configuration PID for its endpoints. */
    void declare(String pid, String protocol) {
        if (served.containsKey(pid) || pid.equals("org.wharf.server")) {
            return;
        }
        if (context == null) {
            pending.put(pid, protocol);
        } else {
            serve(pid, protocol);
        }
    }

    private void serve(String factoryPid, String protocol) {
        ManagedServiceFactory factory = new ManagedServiceFactory() {
            @Override
            public String getName() {
                return "Wharf endpoints of protocol " + protocol;
            }

            @Override
            public void updated(String pid, Dictionary<String, ?> properties) {
                Map<String, Object> map = new HashMap<>();
                for (String key : Collections.list(properties.keys())) {
                    map.put(key, properties.get(key));
                }
                map.putIfAbsent("protocol", protocol);
                whiteboard.configure(pid, map);
            }

            @Override
            public void deleted(String pid) {
                whiteboard.unconfigure(pid);
            }
        };
        Dictionary<String, Object> props = new Hashtable<>();
        props.put(Constants.SERVICE_PID, factoryPid);
        props.put(Constants.SERVICE_DESCRIPTION, "Wharf endpoints of protocol " + protocol);
        served.put(factoryPid, context.registerService(ManagedServiceFactory.class, factory, props));
    }

    void stop() {
        served.values().forEach(r -> {
            try {
                r.unregister();
            } catch (IllegalStateException gone) {
                // the bundle is stopping
            }
        });
        served.clear();
    }
}
