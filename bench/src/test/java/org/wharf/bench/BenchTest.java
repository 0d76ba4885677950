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
        assertTrue(Bench.Options.parse("--only", "tls-*").selects("tls-resume"));
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
        Bench.Options tls = Bench.Options.parse("--peers", "netty-epoll-openssl,wharf-conscrypt");
        assertTrue(tls.runs("wharf-conscrypt") && tls.runs("netty-epoll-openssl"));
        assertFalse(tls.runs("netty-nio"));
    }

    @Test
    void listsMayHaveSpacesAroundTheirCommas() {
        Bench.Options spaced = Bench.Options.parse("--peers", "haproxy, nginx ,wharf-busy", "--only", "gateway-http, tcp-*");
        assertEquals(List.of("haproxy", "nginx", "wharf-busy"), spaced.peers());
        assertTrue(spaced.selects("tcp-echo-64") && spaced.selects("gateway-http"));
        assertEquals(List.of("a", "b"), Bench.items(" a,,b , "));
    }

    @Test
    void aServerThatSaysNothingFailsTheRunWithinTheStartTimeout() throws Exception {
        Process talks = new ProcessBuilder("sh", "-c", "echo '[0.1s][info] a JVM log line'; echo 'port 4242'").start();
        assertEquals(4242, Bench.announcedPort(talks, reader(talks), "talker", java.time.Duration.ofSeconds(30)));
        Process silent = new ProcessBuilder("sleep", "600").start();
        try {
            java.io.IOException e = assertThrows(java.io.IOException.class,
                    () -> Bench.announcedPort(silent, reader(silent), "silent", java.time.Duration.ofMillis(300)));
            assertTrue(e.getMessage().contains("silent did not say its port within 300 ms"), e.getMessage());
        } finally {
            silent.destroyForcibly(); // the caller's part
        }
        for (String said : List.of("Error: no such class", "port x")) {
            Process wrong = new ProcessBuilder("sh", "-c", "echo '" + said + "'").start();
            java.io.IOException e = assertThrows(java.io.IOException.class,
                    () -> Bench.announcedPort(wrong, reader(wrong), "wrong", java.time.Duration.ofSeconds(30)));
            assertTrue(e.getMessage().contains("wrong did not start: " + said), e.getMessage());
        }
    }

    private static java.io.BufferedReader reader(Process p) {
        return new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(),
                java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    void theBusyPollingProxiesRunOnlyWhenNamed() {
        Bench.Options defaults = Bench.Options.parse();
        assertTrue(defaults.runs("haproxy") && defaults.runs("nginx") && defaults.runs("wharf-conscrypt"));
        assertFalse(defaults.runs("haproxy-busy"), "a full run stays as long as it was");
        assertFalse(defaults.runs("wharf-busy"));
        assertEquals(List.of("wharf", "haproxy", "nginx"), defaults.proxies(), "as before these rows");
        Bench.Options all = Bench.Options.parse("--peers", "haproxy,nginx,haproxy-busy,wharf-busy");
        assertEquals(List.of("wharf", "wharf-busy", "haproxy", "haproxy-busy", "nginx"), all.proxies(),
                "each busy row after its sleeping one");
        assertFalse(all.runs("netty-epoll"));
        Bench.Options one = Bench.Options.parse("--peers", "wharf-busy");
        assertEquals(List.of("wharf", "wharf-busy"), one.proxies());
        assertEquals(List.of("wharf", "haproxy-busy"), Bench.Options.parse("--peers", "haproxy-busy").proxies());
        for (String unknown : List.of("nginx-busy", "wharf-busy50", "busy", "haproxy-busy,envoy")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Bench.Options.parse("--peers", unknown));
            assertTrue(e.getMessage().contains("haproxy-busy") && e.getMessage().contains("wharf-busy"),
                    "the known names are listed: " + e.getMessage());
        }
    }

    @Test
    void theWharfBusyGatewayJvmIsToldItsBusyPollAndWharfsIsNot() {
        List<String> busy = Gateway.wharfJvmOptions("wharf-busy", Bench.gatewayJvmOptions("wharf-busy"),
                Gateway.busyPollMicros(null));
        assertTrue(busy.contains("-Dorg.wharf.transport.nio.busyPollMicros=50"), busy.toString());
        assertTrue(busy.contains("-XX:ActiveProcessorCount=1"), "one event loop, as the plain row: " + busy);
        assertEquals(busy.subList(0, busy.size() - 1), Bench.gatewayJvmOptions("wharf"), "otherwise as wharf's");
        assertTrue(Gateway.wharfJvmOptions("wharf-busy", List.of(), 20)
                .contains("-Dorg.wharf.transport.nio.busyPollMicros=20"));
        List<String> plain = Gateway.wharfJvmOptions("wharf", Bench.gatewayJvmOptions("wharf"), 50);
        assertTrue(plain.stream().noneMatch(o -> o.contains("busyPollMicros")), plain.toString());
    }

    @Test
    void theBusyPollComesFromItsVariableAndMustBeAWholeNumber() {
        assertEquals(50, Gateway.busyPollMicros(null));
        assertEquals(50, Gateway.busyPollMicros(" "));
        assertEquals(200, Gateway.busyPollMicros("200"));
        assertEquals(0, Gateway.busyPollMicros("0"), "off: an A/A run of the two Wharf rows");
        for (String wrong : List.of("-1", "50us", "1.5")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Gateway.busyPollMicros(wrong));
            assertTrue(e.getMessage().contains("WHARF_BENCH_BUSY_POLL_MICROS=" + wrong), e.getMessage());
        }
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
        assertTrue(Peer.WHARF_CONSCRYPT.serves(true), "Wharf's TLS on Conscrypt");
        assertFalse(Peer.WHARF_CONSCRYPT.serves(false), "no plain row: it would be Wharf's again");
        assertTrue(Peer.WHARF.wharf() && Peer.WHARF_CONSCRYPT.wharf());
        assertFalse(Peer.NETTY_EPOLL_OPENSSL.wharf());
        assertEquals("Conscrypt", Peer.of("wharf-conscrypt").tlsProvider());
        assertNull(Peer.WHARF.tlsProvider());
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
        assertEquals("netty-epoll", table.bars().get(0).peerName());
    }

    @Test
    void wharfOnConscryptIsASecondWharfRowAgainstTheSameBestPeerNeverThePeerItself() {
        Map<String, List<List<Bench.Run>>> runs = new LinkedHashMap<>();
        runs.put("wharf", pairs(80, 90, 85));
        runs.put("netty-nio", pairs(60, 50, 55));
        runs.put("wharf-conscrypt", pairs(130, 120, 125)); // the fastest: still not a peer
        runs.put("netty-epoll-openssl", pairs(100, 110, 100));
        Bench.Table table = new Bench.Table("tls-echo-64", "round trips/s", "round trip", false,
                List.of("wharf", "wharf-conscrypt"), runs, 0);
        assertEquals(List.of("netty-nio", "netty-epoll-openssl"), table.peers());
        assertEquals("netty-epoll-openssl", table.best());
        assertEquals(85.0 / 100, table.ratio("netty-epoll-openssl"), 1e-9, "the first line stays Wharf's");
        assertEquals(125.0 / 100, table.ratio("wharf-conscrypt", "netty-epoll-openssl"), 1e-9);

        Map<String, Object> json = table.json("server");
        assertEquals(85.0, (Double) json.get("wharf"), 1e-9);
        assertEquals(125.0, (Double) json.get("wharf-conscrypt"), 1e-9);
        assertEquals("netty-epoll-openssl", json.get("best"));
        assertEquals(Map.of("wharf", 0.85, "wharf-conscrypt", 1.25), json.get("vsBest"));
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> each = (Map<String, Map<String, Object>>) json.get("implementations");
        assertEquals(Map.of("wharf", 85.0 / 55, "wharf-conscrypt", 125.0 / 55), each.get("netty-nio").get("ratios"));
        assertFalse(each.get("wharf-conscrypt").containsKey("ratios"), "a reference has no ratios to itself");

        List<Chart.Bar> bars = table.bars();
        assertEquals(2, bars.size());
        assertEquals("tls-echo-64", bars.get(0).name());
        assertEquals("wharf", bars.get(0).wharfName());
        assertEquals("tls-echo-64 wharf-conscrypt", bars.get(1).name());
        assertEquals("netty-epoll-openssl", bars.get(1).peerName());
        assertEquals(1.25, bars.get(1).advantage(), 1e-9);

        String printed = print(table);
        assertTrue(printed.startsWith("tls-echo-64"), printed);
        assertTrue(printed.contains("\n  wharf-conscrypt "), printed);
        assertTrue(printed.contains("ratio 1.55 (wharf-conscrypt 2.27)"), "both Wharf rows against netty-nio: " + printed);
        assertFalse(printed.contains("vs wharf-conscrypt"), printed);
    }

    @Test
    void aResumedHandshakeRowShowsEachSidesResumedFractionAndNamesOneThatDidNotResume() {
        Map<String, List<List<Bench.Run>>> runs = new LinkedHashMap<>();
        runs.put("wharf", List.of(List.of(handshakes(900, 1000, 998, 998)), List.of(handshakes(950, 1100, 1098, 1098))));
        runs.put("wharf-conscrypt", List.of(List.of(handshakes(700, 800, 0, 0)), List.of(handshakes(710, 820, 0, 0))));
        runs.put("netty-epoll-openssl", List.of(List.of(handshakes(1200, 1300, 1298, 1298)),
                List.of(handshakes(1250, 1320, 1318, 1318))));
        Bench.Table table = new Bench.Table("tls-resume", "handshakes/s", "handshake", false,
                List.of("wharf", "wharf-conscrypt"), runs, 0).resumes(true);
        Bench.Resumption wharf = table.resumption("wharf");
        assertEquals(new Bench.Resumption(2100, 2096, 2096), wharf, "added up over the pairs");
        assertEquals(2096.0 / 2100, wharf.resumedFraction(), 1e-9);

        String printed = print(table);
        assertTrue(printed.contains("resumed 100%"), printed);
        assertTrue(printed.contains("resumed 0% (NOT RESUMED: the server issued no ticket)"), printed);

        Map<String, Object> json = table.json("server");
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> each = (Map<String, Map<String, Object>>) json.get("implementations");
        assertEquals(0.0, (Double) each.get("wharf-conscrypt").get("resumedFraction"), 1e-9);
        assertEquals(2616.0 / 2620, (Double) each.get("netty-epoll-openssl").get("resumedFraction"), 1e-9);

        List<Chart.Bar> bars = table.bars();
        assertEquals("", bars.get(0).note());
        assertEquals("NOT resumed: wharf-conscrypt", bars.get(1).note());

        Bench.Table full = new Bench.Table("tls-handshakes", "handshakes/s", "handshake", false, List.of("wharf"), runs,
                0);
        String fullPrinted = print(full);
        assertFalse(fullPrinted.contains("resumed 100%"), "no fraction where handshakes are full: " + fullPrinted);
        assertTrue(fullPrinted.contains("NOT all full handshakes: wharf resumed 2096 of 2100"), fullPrinted);
    }

    @Test
    void aResumedFractionSaysWhyItIsZero() {
        assertEquals("resumed 0% (NOT RESUMED: the server issued no ticket)", new Bench.Resumption(50, 0, 0).text());
        assertEquals("resumed 0% (NOT RESUMED: 96% offered a session, the server refused)",
                new Bench.Resumption(50, 48, 0).text());
        assertEquals("resumed 96%", new Bench.Resumption(50, 48, 48).text());
        assertEquals("resumed - (no handshake)", Bench.Resumption.NONE.text());
    }

    @Test
    void forMemoryTheBestPeerIsTheOneThatUsesLeast() {
        Map<String, List<List<Bench.Run>>> runs = new LinkedHashMap<>();
        runs.put("wharf", pairs(800));
        runs.put("netty-nio", pairs(1800));
        runs.put("netty-epoll", pairs(1500));
        Bench.Table table = new Bench.Table("idle-10k", "heap bytes/conn", "connection", true, "wharf", runs, 0);
        assertEquals("netty-epoll", table.best());
        assertEquals(1500.0 / 800, table.bars().get(0).advantage(), 1e-9);
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
    void withoutTheBusyRowsTheGatewayTableAndJsonAreAsBefore() {
        Map<String, List<List<Bench.Run>>> runs = new LinkedHashMap<>();
        runs.put("direct", gatewayPairs(100_000, 0, 0));
        runs.put("wharf", gatewayPairs(60_000, 30, 2.5));
        runs.put("haproxy", gatewayPairs(65_000, 35, 2.0));
        runs.put("nginx", gatewayPairs(62_000, 40, 2.2));
        Bench.Table table = gateway(runs);
        assertEquals("haproxy", table.best());

        String header = Bench.Table.gatewayHeader(List.copyOf(runs.keySet()), List.of("wharf", "wharf-busy"));
        assertEquals(String.format(java.util.Locale.ROOT, "%-26s %-11s %10s %10s %10s %10s %8s %8s %8s", "gateway",
                "unit", "direct", "wharf", "haproxy", "nginx", "/direct", "/haproxy", "/nginx"), header);
        String[] printed = printGateway(table).split("\n");
        assertEquals(String.format(java.util.Locale.ROOT, "%-26s %-11s %10s %,10.0f %10s %10s %8s %8s %8s",
                "gateway-redis-get", "requests/s", "100,000", 60_000.0, "65,000", "62,000", "0.60", "0.92", "0.97"),
                printed[0], "the layout of the fixed columns");
        assertEquals("  proxy CPU per request: wharf 2.50 µs, haproxy 2.00 µs, nginx 2.20 µs", printed[1]);
        assertEquals("  p50/p99 µs: direct 100/200, wharf 100/200, haproxy 100/200, nginx 100/200", printed[2]);
        assertEquals(3, printed.length);

        Map<String, Object> json = table.json("proxy");
        assertEquals(List.of("wharf", "best", "bestValue", "ratio", "implementations"), List.copyOf(json.keySet()));
        Map<String, Map<String, Object>> each = implementations(json);
        assertEquals(List.of("direct", "wharf", "haproxy", "nginx"), List.copyOf(each.keySet()));
        assertEquals(List.of("median", "ratio", "p50Micros", "p99Micros", "proxyCpuMicrosPerRequest", "runs"),
                List.copyOf(each.get("haproxy").keySet()));
        assertEquals(List.of("median", "ratio", "p50Micros", "p99Micros", "runs"), List.copyOf(each.get("direct").keySet()));
        assertEquals(1, table.bars().size());
    }

    @Test
    void theBusyRowsGetColumnsAndRatiosWhileTheBestPeerStaysTheBestDefaultProxy() {
        Map<String, List<List<Bench.Run>>> runs = new LinkedHashMap<>();
        runs.put("direct", gatewayPairs(100_000, 0, 0));
        runs.put("wharf", gatewayPairs(60_000, 30, 2.5));
        runs.put("wharf-busy", gatewayPairs(70_000, 15, 9.0));
        runs.put("haproxy", gatewayPairs(65_000, 35, 2.0));
        runs.put("haproxy-busy", gatewayPairs(80_000, 15, 8.0)); // the fastest: still not the best peer
        runs.put("nginx", gatewayPairs(62_000, 40, 2.2));
        Bench.Table table = gateway(runs);
        assertEquals(List.of("haproxy", "haproxy-busy", "nginx"), table.peers());
        assertEquals("haproxy", table.best(), "the better of haproxy and nginx, as in the files from before");
        assertEquals(60.0 / 65, table.ratio("haproxy"), 1e-9);

        String header = Bench.Table.gatewayHeader(List.copyOf(runs.keySet()), List.of("wharf", "wharf-busy"));
        // Each column as wide as the old ones, or as its heading where that is wider.
        String columns = "%-26s %-11s %10s %10s %10s %10s %12s %10s %8s %8s %13s %8s";
        assertEquals(String.format(java.util.Locale.ROOT, columns, "gateway", "unit", "direct", "wharf", "wharf-busy",
                "haproxy", "haproxy-busy", "nginx", "/direct", "/haproxy", "/haproxy-busy", "/nginx"), header);
        String[] printed = printGateway(table).split("\\n");
        assertEquals(String.format(java.util.Locale.ROOT, columns, "gateway-redis-get", "requests/s", "100,000",
                "60,000", "70,000", "65,000", "80,000", "62,000", "0.60", "0.92", "0.75", "0.97"), printed[0]);
        assertEquals(String.format(java.util.Locale.ROOT, columns, "  wharf-busy", "", "", "", "", "", "", "", "0.70",
                "1.08", "0.88", "1.13"), printed[1], "wharf-busy's ratios under the same headings");
        assertEquals(header.indexOf("/haproxy-busy") + "/haproxy-busy".length(), printed[1].indexOf("0.88") + 4,
                "under its heading");
        assertEquals("  proxy CPU per request: wharf 2.50 µs, wharf-busy 9.00 µs, haproxy 2.00 µs, haproxy-busy 8.00 µs,"
                + " nginx 2.20 µs", printed[2]);

        Map<String, Object> json = table.json("proxy");
        assertEquals(60_000.0, (Double) json.get("wharf"), 1e-9);
        assertEquals(70_000.0, (Double) json.get("wharf-busy"), 1e-9);
        assertEquals("haproxy", json.get("best"));
        assertEquals(65_000.0, (Double) json.get("bestValue"), 1e-9);
        assertEquals(60.0 / 65, (Double) json.get("ratio"), 1e-9);
        assertEquals(Map.of("wharf", 60.0 / 65, "wharf-busy", 70.0 / 65), json.get("vsBest"));
        assertEquals(Map.of("wharf-busy", Map.of("peer", "haproxy-busy", "ratio", 70.0 / 80)), json.get("vsCounterpart"));
        Map<String, Map<String, Object>> each = implementations(json);
        assertEquals(Map.of("wharf", 60.0 / 80, "wharf-busy", 70.0 / 80), each.get("haproxy-busy").get("ratios"));
        assertEquals(Map.of("wharf", 60.0 / 62, "wharf-busy", 70.0 / 62), each.get("nginx").get("ratios"));
        assertEquals(Map.of("wharf", 0.6, "wharf-busy", 0.7), each.get("direct").get("ratios"));
        assertEquals(60.0 / 80, (Double) each.get("haproxy-busy").get("ratio"), 1e-9, "wharf's, as for every peer");
        for (String proxy : List.of("wharf", "wharf-busy", "haproxy", "haproxy-busy", "nginx")) {
            assertTrue(each.get(proxy).containsKey("proxyCpuMicrosPerRequest"), proxy + ": " + each.get(proxy));
        }
        assertEquals(9.0, (Double) each.get("wharf-busy").get("proxyCpuMicrosPerRequest"), 1e-9);
        assertFalse(each.get("direct").containsKey("proxyCpuMicrosPerRequest"));

        List<Chart.Bar> bars = table.bars();
        assertEquals(List.of("wharf/haproxy", "wharf-busy/haproxy", "wharf-busy/haproxy-busy"),
                bars.stream().map(b -> b.wharfName() + "/" + b.peerName()).toList());
        assertEquals(70.0 / 80, bars.get(2).advantage(), 1e-9);
        assertEquals("gateway-redis-get wharf-busy", bars.get(2).name());
    }

    @Test
    void aBusyRowWithoutItsCounterpartHasNoLikeForLikeRatio() {
        Map<String, List<List<Bench.Run>>> runs = new LinkedHashMap<>();
        runs.put("direct", gatewayPairs(100_000, 0, 0));
        runs.put("wharf", gatewayPairs(60_000, 30, 2.5));
        runs.put("wharf-busy", gatewayPairs(70_000, 15, 9.0));
        Bench.Table table = gateway(runs);
        assertNull(table.best());
        Map<String, Object> json = table.json("proxy");
        assertFalse(json.containsKey("vsCounterpart") || json.containsKey("best"), json.toString());
        assertTrue(table.bars().isEmpty());
        String[] printed = printGateway(table).split("\n");
        assertTrue(printed[1].startsWith("  wharf-busy ") && printed[1].endsWith(" 0.70"), printed[1]);

        Map<String, List<List<Bench.Run>>> peerOnly = new LinkedHashMap<>();
        peerOnly.put("direct", gatewayPairs(100_000, 0, 0));
        peerOnly.put("wharf", gatewayPairs(60_000, 30, 2.5));
        peerOnly.put("haproxy-busy", gatewayPairs(80_000, 15, 8.0));
        Bench.Table alone = gateway(peerOnly);
        assertNull(alone.best(), "a counterpart is not the best peer, even alone");
        assertEquals(60.0 / 80, (Double) implementations(alone.json("proxy")).get("haproxy-busy").get("ratio"), 1e-9);
    }

    @Test
    void theChartNamesEachSecondWharfRow() {
        assertEquals("wharf-busy: busy polling", Chart.what("wharf-busy"));
        assertEquals("wharf-conscrypt: its TLS on Conscrypt", Chart.what("wharf-conscrypt"));
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

    private static Bench.Table gateway(Map<String, List<List<Bench.Run>>> runs) {
        return new Bench.Table("gateway-redis-get", "requests/s", "request", false, List.of("wharf", "wharf-busy"), runs,
                0).counterparts(Map.of("wharf-busy", "haproxy-busy"));
    }

    private static String printGateway(Bench.Table table) {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        table.printGateway(new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8));
        return bytes.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Map<String, Object>> implementations(Map<String, Object> json) {
        return (Map<String, Map<String, Object>>) json.get("implementations");
    }

    /** One gateway window per pair, three pairs around this rate, with latencies and the proxy's CPU. */
    private static List<List<Bench.Run>> gatewayPairs(double rate, double spread, double cpu) {
        List<List<Bench.Run>> pairs = new ArrayList<>();
        for (double r : new double[] {rate - spread, rate, rate + spread}) {
            pairs.add(List.of(new Bench.Run(r, 100, 200, 0, 0, cpu, null)));
        }
        return pairs;
    }

    private static String print(Bench.Table table) {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        table.printEcho(new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8), Map.of(), true,
                true);
        return bytes.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    /** A handshake run: its rate, and what the driver saw of its handshakes. */
    private static Bench.Run handshakes(double rate, long handshakes, long offered, long resumed) {
        return new Bench.Run(rate, 1000, 2000, 0, 0, 10, "TLSv1.3 TLS_AES_128_GCM_SHA256",
                new Bench.Resumption(handshakes, offered, resumed));
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
