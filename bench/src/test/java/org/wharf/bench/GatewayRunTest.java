package org.wharf.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Each proxy of the gateway scenario (Wharf's in its own JVM, HAProxy, nginx, and Wharf and
 * HAProxy busy polling) really starts in front of a real redis-server, with what it was meant
 * to be started with, forwards redis-benchmark's requests, stops, and has its CPU time counted
 * over the measured run. Bounded: 2,000 requests per proxy; no speed is asserted.
 */
class GatewayRunTest {

    private static Gateway.Upstream redis;

    @BeforeAll
    static void upstream() throws Exception {
        assumeTrue(Proc.available(), "the gateway scenario needs Linux's /proc");
        assumeTrue(Gateway.Workload.REDIS_SET.unavailable().isEmpty(),
                () -> "redis: " + Gateway.Workload.REDIS_SET.unavailable().get());
        redis = Gateway.upstream(Gateway.Workload.REDIS_SET);
    }

    @AfterAll
    static void stop() {
        if (redis != null) {
            redis.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"wharf", "wharf-busy", "haproxy", "haproxy-busy", "nginx"})
    void eachProxyForwardsRedisRequestsAndHasItsCpuCounted(String kind) throws Exception {
        assumeTrue(Gateway.unavailable(kind).isEmpty(), () -> kind + ": " + Gateway.unavailable(kind).get());
        List<Bench.Run> runs;
        long pid;
        try (Gateway.Proxy proxy = Gateway.proxy(kind, redis.address(), List.of(),
                List.of("-Xmx128m", "-XX:ActiveProcessorCount=1"))) {
            pid = proxy.process().pid();
            assertTrue(proxy.port() != redis.address().getPort());
            // What the process was started with: the busy poll's property for wharf-busy alone.
            List<String> arguments = List.of(Files.readString(Path.of("/proc", Long.toString(pid), "cmdline"))
                    .split("\0"));
            assertEquals(kind.equals("wharf-busy"), arguments.contains("-D" + Gateway.BUSY_POLL_PROPERTY + "="
                    + Gateway.busyPollMicros()), arguments.toString());
            if (kind.equals("haproxy-busy")) {
                Path cfg = Path.of(arguments.get(arguments.indexOf("-f") + 1));
                assertTrue(Files.readString(cfg).contains("\n    busy-polling\n"), cfg.toString());
            }
            runs = Gateway.drive(Gateway.Workload.REDIS_SET, proxy.port(), Windows.of(Duration.ZERO,
                    Duration.ofSeconds(1)), proxy::ticks, Proc.ticksPerSecond());
        }
        assertEquals(1, runs.size());
        assertTrue(runs.get(0).rate() > 0, "no request went through " + kind + ": " + runs);
        assertTrue(runs.get(0).cpu() >= 0, runs.toString());
        assertTrue(ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true), kind + " still runs after close");
    }
}
