package org.wharf.transport.nio.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.wharf.transport.api.WriteBufferLimits;

/**
 * The settings a ConfigAdmin configuration gives the framework's loops: the Metatype defaults
 * are those of the loops outside a framework, and a high-water mark set alone gets the low
 * mark the shared loops would give it.
 */
class NioTransportSettingsTest {

    /** The configuration as SCR hands it over: the values set, the declared defaults for the rest. */
    private static NioTransportConfig config(Map<String, Object> set) {
        return (NioTransportConfig) Proxy.newProxyInstance(NioTransportConfig.class.getClassLoader(),
                new Class<?>[] {NioTransportConfig.class}, (proxy, method, args) -> set.containsKey(method.getName())
                        ? set.get(method.getName()) : method.getDefaultValue());
    }

    @Test
    void theDefaultsAreThoseOfTheLoopsOutsideAFramework() {
        assertEquals(NioSettings.DEFAULT, NioTransportComponent.settings(config(Map.of())));
        assertEquals(SharedGroup.settings(name -> null), NioTransportComponent.settings(config(Map.of())));
    }

    @Test
    void aHighMarkSetAloneGetsAQuarterOfItAsItsLowMark() {
        NioSettings settings = NioTransportComponent.settings(config(Map.of("writeBufferHigh", 8192)));
        assertEquals(WriteBufferLimits.ofHigh(8192), settings.writeBufferLimits());
        assertEquals(SharedGroup.settings(Map.of("org.wharf.transport.nio.writeBufferHigh", "8192")::get),
                settings);
        assertEquals(settings, SharedGroup.settings(Map.of("org.wharf.transport.nio.writeBufferHigh", "8192",
                "org.wharf.transport.nio.writeBufferLow", "-1")::get), "-1 is unset there too, not a wrong value");
    }

    @Test
    void bothMarksSetAreTakenAsSet() {
        assertEquals(new WriteBufferLimits(4096, 4096), NioTransportComponent.settings(
                config(Map.of("writeBufferHigh", 4096, "writeBufferLow", 4096))).writeBufferLimits());
        assertEquals(new WriteBufferLimits(4096, 0), NioTransportComponent.settings(
                config(Map.of("writeBufferHigh", 4096, "writeBufferLow", 0))).writeBufferLimits());
    }

    @Test
    void aLowMarkAboveTheHighOneFailsNamingBoth() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NioTransportComponent
                .settings(config(Map.of("writeBufferHigh", 4096, "writeBufferLow", 8192))));
        assertTrue(e.getMessage().contains("writeBufferHigh=4096") && e.getMessage().contains("writeBufferLow=8192"),
                e.getMessage());
    }
}
