package org.wharf.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The gateway scenario's pieces that need no timing: the peers' configurations (checked by
 * HAProxy's and nginx's own checkers where installed), and the reading of the client tools'
 * reports.
 */
class GatewayTest {

    private static final InetSocketAddress UPSTREAM = new InetSocketAddress(InetAddress.getLoopbackAddress(), 6379);

    private Path dir;

    @BeforeEach
    void folder() throws IOException {
        dir = Gateway.folder("wharf-bench-test");
    }

    @AfterEach
    void delete() {
        Gateway.delete(dir);
    }

    @Test
    void haproxyForwardsTcpOnOneThreadFromItsPortToTheUpstream() {
        String cfg = GatewayConfig.haproxy(18080, UPSTREAM);
        assertTrue(cfg.contains("\n    nbthread 1\n"), cfg);
        assertTrue(cfg.contains("\n    mode tcp\n"), cfg);
        assertTrue(cfg.contains("\n    bind 127.0.0.1:18080\n"), cfg);
        assertTrue(cfg.contains("\n    server upstream 127.0.0.1:6379\n"), cfg);
    }

    @Test
    void haproxyBusyIsTheSameConfigurationWithBusyPollingInGlobal() {
        String plain = GatewayConfig.haproxy(18080, UPSTREAM);
        assertFalse(plain.contains("busy-polling"), plain);
        assertEquals(plain, GatewayConfig.haproxy(18080, UPSTREAM, false));
        String busy = GatewayConfig.haproxy(18080, UPSTREAM, true);
        assertTrue(busy.contains("global\n    nbthread 1\n    maxconn 4096\n    busy-polling\ndefaults\n"), busy);
        assertEquals(plain.lines().skip(1).toList(), busy.lines().skip(1).filter(l -> !l.equals("    busy-polling"))
                .toList(), "otherwise the same, line for line");
    }

    @Test
    void theBusyPollingProxiesAreNamedAfterTheirPrograms() {
        assertEquals("haproxy", Gateway.binary("haproxy-busy"));
        assertEquals("haproxy", Gateway.binary("haproxy"));
        assertTrue(Gateway.busyPolling("haproxy-busy") && Gateway.busyPolling("wharf-busy"));
        assertFalse(Gateway.busyPolling("haproxy") || Gateway.busyPolling("wharf") || Gateway.busyPolling("nginx"));
        assertTrue(Gateway.wharf("wharf-busy") && Gateway.wharf("wharf"));
        assertFalse(Gateway.wharf("haproxy-busy"));
        assertEquals(Optional.empty(), Gateway.unavailable("wharf-busy"), "as wharf: always");
        assertTrue(Gateway.PROXIES.containsAll(Gateway.ON_REQUEST) && Gateway.PROXIES.containsAll(Gateway.WHARFS));
        Gateway.COUNTERPARTS.forEach((wharf, peer) -> assertTrue(Gateway.WHARFS.contains(wharf)
                && Gateway.PROXIES.contains(peer) && !Gateway.WHARFS.contains(peer)));
    }

    @Test
    void nginxStreamForwardsOnOneWorkerWithItsFilesInTheRunsFolder() {
        String conf = GatewayConfig.nginxStream(dir, 18080, UPSTREAM, Optional.of(Path.of("/m/ngx_stream_module.so")));
        assertTrue(conf.contains("load_module /m/ngx_stream_module.so;\n"), conf);
        assertTrue(conf.contains("worker_processes 1;\n"), conf);
        assertTrue(conf.contains("daemon off;\n"), conf);
        assertTrue(conf.contains("pid " + dir.resolve("nginx.pid") + ";\n"), conf);
        assertTrue(conf.contains("error_log " + dir.resolve("error.log")), conf);
        assertTrue(conf.contains("stream {\n    server {\n        listen 127.0.0.1:18080;\n        proxy_pass 127.0.0.1:6379;"),
                conf);
        assertTrue(!GatewayConfig.nginxStream(dir, 18080, UPSTREAM, Optional.empty()).contains("load_module"),
                "nginx with a built-in stream module loads none");
    }

    @Test
    void theHttpUpstreamServesItsFolderWithEveryTemporaryPathInTheRunsFolder() {
        String conf = GatewayConfig.nginxHttp(dir, 18081, dir.resolve("www"));
        assertTrue(conf.contains("listen 127.0.0.1:18081;"), conf);
        assertTrue(conf.contains("root " + dir.resolve("www") + ";"), conf);
        for (String temp : List.of("client_body_temp_path", "proxy_temp_path", "fastcgi_temp_path", "uwsgi_temp_path",
                "scgi_temp_path")) {
            assertTrue(conf.contains(temp + " " + dir), temp + " outside the run's folder: " + conf);
        }
    }

    @Test
    void haproxyAcceptsItsConfiguration() throws Exception {
        assumeTrue(Gateway.installed("haproxy"), "haproxy is not installed");
        Path cfg = Files.writeString(dir.resolve("haproxy.cfg"), GatewayConfig.haproxy(Iperf.freePort(), UPSTREAM));
        check(List.of(program("haproxy"), "-c", "-f", cfg.toString()));
        assertEquals(Optional.empty(), Gateway.unavailable("haproxy"));
    }

    @Test
    void haproxyAcceptsItsBusyPollingConfiguration() throws Exception {
        assumeTrue(Gateway.installed("haproxy"), "haproxy is not installed");
        Path cfg = Files.writeString(dir.resolve("haproxy.cfg"), GatewayConfig.haproxy(Iperf.freePort(), UPSTREAM,
                true));
        check(List.of(program("haproxy"), "-c", "-f", cfg.toString()));
        assertEquals(Optional.empty(), Gateway.unavailable("haproxy-busy"));
    }

    @Test
    void nginxAcceptsBothConfigurations() throws Exception {
        assumeTrue(Gateway.installed("nginx"), "nginx is not installed");
        assumeTrue(GatewayConfig.streamModule().isPresent(), "no nginx stream module (libnginx-mod-stream)");
        Path stream = Files.writeString(dir.resolve("stream.conf"), GatewayConfig.nginxStream(dir, Iperf.freePort(),
                UPSTREAM, GatewayConfig.streamModule()));
        check(List.of(program("nginx"), "-t", "-e", dir.resolve("error.log").toString(), "-p", dir.toString(), "-c",
                stream.toString()));
        Path http = Files.writeString(dir.resolve("http.conf"), GatewayConfig.nginxHttp(dir, Iperf.freePort(),
                dir.resolve("www")));
        check(List.of(program("nginx"), "-t", "-e", dir.resolve("error.log").toString(), "-p", dir.toString(), "-c",
                http.toString()));
        assertEquals(Optional.empty(), Gateway.unavailable("nginx"));
    }

    @Test
    void aBrokenProxyConfigurationIsReportedWithTheCheckersWords() throws Exception {
        assumeTrue(Gateway.installed("haproxy"), "haproxy is not installed");
        Path cfg = Files.writeString(dir.resolve("haproxy.cfg"), GatewayConfig.haproxy(Iperf.freePort(), UPSTREAM)
                .replace("mode tcp", "mode carrier-pigeon"));
        Process p = new ProcessBuilder(program("haproxy"), "-c", "-f", cfg.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertTrue(p.exitValue() != 0, "haproxy -c passed a wrong mode: " + out);
    }

    @Test
    void wrksReportGivesRateCountAndPercentiles() throws Exception {
        String report = """
                Running 5s test @ http://127.0.0.1:18080/index.html
                  1 threads and 32 connections
                  Thread Stats   Avg      Stdev     Max   +/- Stdev
                    Latency   502.10us  101.00us   5.00ms   90.00%
                    Req/Sec    63.90k     2.00k   66.00k    80.00%
                  Latency Distribution
                     50%  480.00us
                     75%  520.00us
                     90%  600.00us
                     99%    1.20ms
                  319500 requests in 5.00s, 380.00MB read
                Requests/sec:  63900.12
                Transfer/sec:     76.00MB
                """;
        Gateway.Measured m = Gateway.wrk(report);
        assertEquals(63900.12, m.rate(), 1e-9);
        assertEquals(319500, m.units(), 1e-9);
        assertEquals(480, m.p50Micros());
        assertEquals(1200, m.p99Micros());
    }

    @Test
    void wrkAnswersThatAreNotSuccessesFailTheRun() {
        String report = "  100 requests in 1.00s, 1.00MB read\n  Non-2xx or 3xx responses: 100\nRequests/sec: 100.00\n";
        IOException e = assertThrows(IOException.class, () -> Gateway.wrk(report));
        assertTrue(e.getMessage().contains("100 answers were not 2xx"), e.getMessage());
        String refused = "  100 requests in 1.00s, 1.00MB read\n  Socket errors: connect 32, read 0, write 0, timeout 0\n"
                + "Requests/sec: 100.00\n";
        assertThrows(IOException.class, () -> Gateway.wrk(refused));
        assertThrows(IOException.class, () -> Gateway.wrk("unable to connect to 127.0.0.1:1 Connection refused"));
    }

    @Test
    void redisBenchmarksCsvGivesRateAndPercentiles() throws Exception {
        String report = """
                "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
                "SET","88028.17","0.310","0.096","0.287","0.455","0.751","2.111"
                """;
        Gateway.Measured m = Gateway.redisBenchmark(report, 200_000);
        assertEquals(88028.17, m.rate(), 1e-9);
        assertEquals(200_000, m.units(), 1e-9);
        assertEquals(287, m.p50Micros());
        assertEquals(751, m.p99Micros());
        assertThrows(IOException.class, () -> Gateway.redisBenchmark("Could not connect to Redis at 127.0.0.1:1", 10));
    }

    @Test
    void redisBenchmarkIsAskedForAboutTheWindowsLengthOfRequests() {
        assertEquals(500_000, Gateway.requestsFor(100_000, Duration.ofSeconds(5)));
        assertEquals(2_000, Gateway.requestsFor(0, Duration.ofSeconds(5)), "the first warm-up run guesses");
    }

    @Test
    void iperf3RunsForWholeSeconds() {
        assertEquals(1, Iperf.seconds(Duration.ofMillis(500)));
        assertEquals(5, Iperf.seconds(Duration.ofSeconds(5)));
        assertEquals(6, Iperf.seconds(Duration.ofMillis(5_001)));
    }

    private static String program(String name) {
        return Files.isExecutable(Path.of("/usr/sbin", name)) ? "/usr/sbin/" + name : name;
    }

    private static void check(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), command + " did not finish");
        assertEquals(0, p.exitValue(), String.join(" ", command) + ": " + out);
    }
}
