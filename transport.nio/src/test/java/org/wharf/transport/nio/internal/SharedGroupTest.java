package org.wharf.transport.nio.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.wharf.transport.api.WriteBufferLimits;

/** The shared loops' settings come from system properties named after the configuration's. */
class SharedGroupTest {

    @Test
    void unsetPropertiesGiveTheDefaults() {
        assertEquals(NioSettings.DEFAULT, SharedGroup.settings(name -> null));
    }

    @Test
    void eachPropertySetsItsSetting() {
        Map<String, String> properties = Map.of(
                "org.wharf.transport.nio.loopThreads", "3",
                "org.wharf.transport.nio.readBufferSize", "8192",
                "org.wharf.transport.nio.writeBufferHigh", "4096",
                "org.wharf.transport.nio.writeBufferLow", "1024",
                "org.wharf.transport.nio.udpBatch", "0",
                "org.wharf.transport.nio.closeTimeout", "1500",
                "org.wharf.transport.nio.busyPollMicros", " 50 ");
        assertEquals(new NioSettings(3, 8192, new WriteBufferLimits(4096, 1024), 0, Duration.ofMillis(1500), 50),
                SharedGroup.settings(properties::get));
    }

    @Test
    void aHighMarkAloneGetsAQuarterOfItAsItsLowMarkAndACloseTimeoutMayBeLong() {
        Map<String, String> properties = Map.of(
                "org.wharf.transport.nio.writeBufferHigh", "8192",
                "org.wharf.transport.nio.closeTimeout", "3000000000");
        NioSettings settings = SharedGroup.settings(properties::get);
        assertEquals(WriteBufferLimits.ofHigh(8192), settings.writeBufferLimits());
        assertEquals(Duration.ofMillis(3_000_000_000L), settings.closeTimeout());
    }

    @Test
    void aWrongValueTakesItsDefaultAndTheOthersStand() {
        Map<String, String> properties = Map.of(
                "org.wharf.transport.nio.busyPollMicros", "10001",
                "org.wharf.transport.nio.loopThreads", "many",
                "org.wharf.transport.nio.readBufferSize", "100",
                "org.wharf.transport.nio.writeBufferLow", "100000", // above the default high mark
                "org.wharf.transport.nio.udpBatch", "8");
        NioSettings settings = SharedGroup.settings(properties::get);
        assertEquals(0, settings.busyPollMicros());
        assertEquals(NioSettings.DEFAULT.loopThreads(), settings.loopThreads());
        assertEquals(NioSettings.DEFAULT.readBufferSize(), settings.readBufferSize());
        assertEquals(NioSettings.DEFAULT.writeBufferLimits(), settings.writeBufferLimits());
        assertEquals(8, settings.udpBatch());
    }
}
