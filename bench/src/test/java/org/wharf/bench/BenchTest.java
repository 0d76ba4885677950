package org.wharf.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The command line, the choice of peers per scenario, and the best peer of a row. */
class BenchTest {

    @Test
    void onlySelectsByNameOrGlob() {
        Bench.Options options = Bench.Options.parse("--only", "gateway-*,tcp-echo-1");
        assertTrue(options.selects("gateway-http"));
        assertTrue(options.selects("gateway-redis-get"));
        assertTrue(options.selects("tcp-echo-1"));
        assertFalse(options.selects("tcp-echo-64"));
        assertFalse(options.selects("tls-echo-1"));
        assertTrue(Bench.Options.parse().selects("idle-10k"), "no --only: everything");
        assertTrue(Bench.Options.parse("--only", "tls-*").selects("tls-handshakes"));
        assertFalse(Bench.Options.parse("--only", "tls.*").selects("tlsXecho"), "a dot is a dot");
    }

    @Test
    void warmupAddsASteadyStateWindowAfterTheDefaultOne() {
        Bench.Options full = Bench.Options.parse("--warmup", "20");
        Windows windows = full.windows();
        assertEquals(2, windows.count());
        assertEquals(Duration.ofSeconds(3), windows.start(0));
        assertEquals(Duration.ofSeconds(20), windows.start(1));
        assertEquals(Duration.ofSeconds(5), windows.length());
        assertEquals(1, Bench.Options.parse().windows().count());
        IllegalArgumentException early = assertThrows(IllegalArgumentException.class,
                () -> Bench.Options.parse("--warmup", "4"));
        assertTrue(early.getMessage().contains("at least 8"), early.getMessage());
        assertEquals(Duration.ofMillis(2500), Bench.Options.parse("--quick", "--warmup", "2.5").windows().start(1));
    }

    @Test
    void theTlsSuiteIsPinnedToOneByDefault() {
        assertEquals(List.of("TLS_AES_128_GCM_SHA256"), Bench.Options.parse().tlsSuites());
        assertEquals(List.of("TLS_AES_256_GCM_SHA384"), Bench.Options.parse("--tls-suite", "TLS_AES_256_GCM_SHA384")
                .tlsSuites());
    }

    @Test
    void unknownOptionsAndMissingValuesAreRefusedNamingThem() {
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> Bench.Options.parse("--fast"));
        assertTrue(unknown.getMessage().contains("--fast"), unknown.getMessage());
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> Bench.Options.parse("--pairs"));
        assertTrue(missing.getMessage().contains("--pairs"), missing.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Bench.Options.parse("--pairs", "many"));
        IllegalArgumentException peer = assertThrows(IllegalArgumentException.class,
                () -> Bench.Options.parse("--peers", "netty-epoll,envoy"));
        assertTrue(peer.getMessage().contains("envoy") && peer.getMessage().contains("haproxy"), peer.getMessage());
        Bench.Options some = Bench.Options.parse("--peers", "netty-epoll,nginx");
        assertTrue(some.runs("netty-epoll") && some.runs("nginx"));
        assertFalse(some.runs("haproxy") || some.runs("netty-nio"));
    }

    @Test
    void eachScenarioRunsTheNettyConfigurationsThatApply() {
        assertTrue(Peer.NETTY_EPOLL.serves(false));
        assertTrue(Peer.NETTY_IO_URING.serves(false));
        assertFalse(Peer.NETTY_EPOLL_OPENSSL.serves(false));
        assertTrue(Peer.NETTY_NIO.serves(true), "NIO with the JDK's TLS");
        assertTrue(Peer.NETTY_EPOLL_OPENSSL.serves(true), "epoll with OpenSSL");
        assertFalse(Peer.NETTY_EPOLL.serves(true));
        assertFalse(Peer.NETTY_IO_URING.serves(true));
        assertEquals(Peer.NETTY_NIO, Peer.of("netty"), "the old name");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Peer.of("grizzly"));
        assertTrue(e.getMessage().contains("grizzly") && e.getMessage().contains("netty-io_uring"), e.getMessage());
    }

    @Test
    void theRowComparesWharfWithTheBestPeerAndKeepsEveryRatio() {
        Map<String, List<List<Bench.Run>>> runs = new LinkedHashMap<>();
        runs.put("wharf", pairs(100, 110, 90));
        runs.put("netty-nio", pairs(80, 70, 90));
        runs.put("netty-epoll", pairs(120, 100, 110));
        Bench.Table table = new Bench.Table("tcp-echo-64", "round trips/s", "round trip", false, "wharf", runs, 0);
        assertEquals("netty-epoll", table.best());
        assertEquals(100.0 / 110, table.ratio("netty-epoll"), 1e-9);
        Map<String, Object> json = table.json("server");
        assertEquals("netty-epoll", json.get("best"));
        assertEquals(110.0, (Double) json.get("bestValue"), 1e-9);
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> each = (Map<String, Map<String, Object>>) json.get("implementations");
        assertEquals(100.0 / 80, (Double) each.get("netty-nio").get("ratio"), 1e-9);
        assertEquals(List.of(80.0, 70.0, 90.0), each.get("netty-nio").get("runs"));
        assertEquals("netty-epoll", table.bar().orElseThrow().peerName());
    }

    @Test
    void forMemoryTheBestPeerIsTheOneThatUsesLeast() {
        Map<String, List<List<Bench.Run>>> runs = new LinkedHashMap<>();
        runs.put("wharf", pairs(800));
        runs.put("netty-nio", pairs(1800));
        runs.put("netty-epoll", pairs(1500));
        Bench.Table table = new Bench.Table("idle-10k", "heap bytes/conn", "connection", true, "wharf", runs, 0);
        assertEquals("netty-epoll", table.best());
        assertEquals(1500.0 / 800, table.bar().orElseThrow().advantage(), 1e-9);
    }

    @Test
    void theGatewayRowComparesWithTheProxiesNotWithDirect() {
        Map<String, List<List<Bench.Run>>> runs = new LinkedHashMap<>();
        runs.put("direct", pairs(1000));
        runs.put("wharf", pairs(600));
        runs.put("haproxy", pairs(550));
        runs.put("nginx", pairs(650));
        Bench.Table table = new Bench.Table("gateway-http", "requests/s", "request", false, "wharf", runs, 0);
        assertEquals("nginx", table.best());
        assertEquals(0.6, table.ratio("direct"), 1e-9);
        Map<String, List<List<Bench.Run>>> alone = new LinkedHashMap<>();
        alone.put("direct", pairs(1000));
        alone.put("wharf", pairs(600));
        assertNull(new Bench.Table("gateway-http", "requests/s", "request", false, "wharf", alone, 0).best());
    }

    @Test
    void theJsonKeepsOrderEscapesAndLaysOutScenariosOneImplementationALine() {
        Map<String, Object> implementation = new LinkedHashMap<>();
        implementation.put("median", 1234.5);
        implementation.put("runs", List.of(1.0, 2.5));
        Map<String, Object> scenario = new LinkedHashMap<>();
        scenario.put("name", "a \"quoted\" name");
        scenario.put("implementations", Map.of("wharf", implementation));
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("scenarios", List.of(scenario));
        root.put("empty", null);
        assertEquals("""
                {
                  "scenarios": [
                    {
                      "name": "a \\"quoted\\" name",
                      "implementations": {
                        "wharf": {"median": 1234.5, "runs": [1, 2.500]}
                      }
                    }
                  ],
                  "empty": null
                }
                """, Json.write(root));
    }

    /** One window per pair, with these rates. */
    private static List<List<Bench.Run>> pairs(double... rates) {
        List<List<Bench.Run>> pairs = new ArrayList<>();
        for (double rate : rates) {
            pairs.add(List.of(new Bench.Run(rate, 0, 0, 0)));
        }
        return pairs;
    }
}
