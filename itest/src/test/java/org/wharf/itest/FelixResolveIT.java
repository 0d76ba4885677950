package org.wharf.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.Version;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import org.osgi.framework.wiring.BundleWire;
import org.osgi.framework.wiring.BundleWiring;

/** The bundles install, resolve and start in a real Apache Felix, wired to each other. */
class FelixResolveIT {

    private Framework framework;

    @BeforeEach
    void startFelix() throws Exception {
        Map<String, String> config = new HashMap<>();
        config.put(Constants.FRAMEWORK_STORAGE, Path.of(System.getProperty("wharf.felix.storage"), "resolve").toString());
        config.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        framework = ServiceLoader.load(FrameworkFactory.class).findFirst().orElseThrow().newFramework(config);
        framework.start();
    }

    @AfterEach
    void stopFelix() throws Exception {
        framework.stop();
        framework.waitForStop(10_000);
    }

    @Test
    void apiBundlesResolveStartAndWireToEachOther() throws Exception {
        BundleContext context = framework.getBundleContext();
        Map<String, Bundle> bundles = new HashMap<>();
        for (String name : BuiltBundles.NAMES) {
            bundles.put(name, context.installBundle(BuiltBundles.jar(name).toUri().toString()));
        }
        for (Bundle b : bundles.values()) {
            b.start();
            assertEquals(Bundle.ACTIVE, b.getState(), b.getSymbolicName() + " is active");
        }

        Bundle transportApi = bundles.get("transport.api");
        Bundle protocolApi = bundles.get("protocol.api");
        List<BundleWire> wires = protocolApi.adapt(BundleWiring.class).getRequiredWires("osgi.wiring.package");
        assertEquals(1, wires.size(), "protocol.api imports one package: " + wires);
        assertEquals("org.wharf.transport.api", wires.get(0).getCapability().getAttributes().get("osgi.wiring.package"));
        assertSame(transportApi, wires.get(0).getProvider().getBundle());
        assertEquals(new Version(0, 5, 0), wires.get(0).getCapability().getAttributes().get("version"));

        // The classes really link inside the framework: decode lines through the bundle.
        Class<?> lines = protocolApi.loadClass("org.wharf.protocol.api.LineFrameDecoder");
        Object decoder = lines.getConstructor(int.class).newInstance(100);
        List<Object> out = new ArrayList<>();
        Consumer<Object> sink = out::add;
        lines.getMethod("decode", ByteBuffer.class, Consumer.class).invoke(decoder,
                ByteBuffer.wrap("one\r\ntwo\n".getBytes()), sink);
        assertEquals(List.of("one", "two"), out);
        assertSame(transportApi.loadClass("org.wharf.transport.api.Protocol"),
                protocolApi.loadClass("org.wharf.transport.api.Protocol"), "one Protocol class, transport.api's");
    }
}
