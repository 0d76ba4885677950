package org.wharf.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code /metrics} as the real Prometheus sees it: Debian's {@code prometheus} server scrapes
 * the status endpoint of a platform in Felix while an echo endpoint serves a bounded load,
 * and answers a {@code rate()} and a {@code histogram_quantile()} over what it scraped;
 * {@code promtool check metrics} accepts the exposition. The binaries come from the
 * {@code prometheus} package, which {@code .ci/run} installs.
 */
class PrometheusIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private Felix felix;
    private EndpointsInFelix endpoints;
    private Process prometheus;
    private Path prometheusLog;

    @BeforeEach
    void start() throws Exception {
        felix = new Felix("prometheus");
        felix.startWharf("protocol.echo", "protocol.http");
        endpoints = new EndpointsInFelix(felix);
        endpoints.configure("status", Map.of("port", 0, "host", "127.0.0.1", "protocol", "status"));
        endpoints.configure("echo", Map.of("port", 0, "host", "127.0.0.1", "protocol", "echo"));
        endpoints.awaitState("status", "LISTENING");
        endpoints.awaitState("echo", "LISTENING");
    }

    @AfterEach
    void stop() throws Exception {
        if (prometheus != null) {
            prometheus.destroy();
            if (!prometheus.waitFor(30, TimeUnit.SECONDS)) {
                prometheus.destroyForcibly();
            }
        }
        felix.close();
    }

    @Test
    void promtoolAcceptsTheExposition() throws Exception {
        echoConnections(endpoints.port("echo"), 5);
        String metrics = "http://127.0.0.1:" + endpoints.port("status") + "/metrics";
        // The server counts a connection's duration as it goes, a moment after the client closed.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String exposition = get(metrics);
        while (!exposition.contains("wharf_connection_duration_seconds_count{endpoint=\"echo\"} 5\n")) {
            assertTrue(System.nanoTime() < deadline, "5 echo connections timed: " + exposition);
            TimeUnit.MILLISECONDS.sleep(20); // polls with a deadline
            exposition = get(metrics);
        }
        assertTrue(exposition.contains("wharf_connections_accepted_total{endpoint=\"echo\"} 5\n"), exposition);
        assertTrue(exposition.contains("# TYPE wharf_connection_duration_seconds histogram\n"), exposition);
        assertTrue(exposition.contains("wharf_connections_closed_total{endpoint=\"echo\",reason=\"normal\"} 5\n"),
                exposition);
        assertTrue(exposition.contains("wharf_memory_limit_bytes{endpoint=\"echo\"} "), "the endpoint's memory budget: "
                + exposition);
        assertTrue(exposition.matches("(?s).*wharf_loop_tasks_total\\{loop=\"[^\"]+\"} [1-9].*"), exposition);
        // Busy polling is off by default: the series are there, at 0.
        assertTrue(exposition.matches("(?s).*wharf_loop_busy_polls_total\\{loop=\"[^\"]+\",found=\"true\"} 0\n.*"),
                exposition);
        assertEquals("", promtoolCheck(exposition), "promtool check metrics");
    }

    /** What {@code promtool check metrics} finds wrong with an exposition: empty if nothing. */
    private static String promtoolCheck(String exposition) throws Exception {
        Process promtool = org.wharf.transport.tck.Peers.process("promtool", "check", "metrics").redirectErrorStream(true).start();
        try (OutputStream in = promtool.getOutputStream()) {
            in.write(exposition.getBytes(StandardCharsets.UTF_8));
        }
        String verdict = new String(promtool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(promtool.waitFor(60, TimeUnit.SECONDS), "promtool finished");
        return promtool.exitValue() == 0 ? "" : "exit " + promtool.exitValue() + ": " + verdict + "\n" + exposition;
    }

    @Test
    void tlsHandshakesAreTimedAndFailuresCountedByCause() throws Exception {
        felix.start("transport.ssl");
        TestCertificate certificate = TestCertificate.create();
        Map<String, Object> tls = new java.util.HashMap<>(Map.of("port", 0, "host", "127.0.0.1", "protocol", "echo",
                "transport", "ssl", "tls.keystore", certificate.store.toString()));
        tls.put("tls.keystore.password", new String(TestCertificate.PASSWORD));
        endpoints.configure("echo-tls", tls);
        endpoints.awaitState("echo-tls", "LISTENING");
        int port = endpoints.port("echo-tls");
        // One real TLS client (openssl completes the handshake, then ends), one plain-text client.
        Process openssl = org.wharf.transport.tck.Peers.process("openssl", "s_client", "-connect", "127.0.0.1:" + port, "-servername",
                "localhost").redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File(
                "/dev/null"))).start();
        String handshake = new String(openssl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(openssl.waitFor(60, TimeUnit.SECONDS), "openssl finished");
        assertTrue(handshake.contains("BEGIN CERTIFICATE") || handshake.contains("Cipher is"), handshake);
        try (Socket plain = new Socket(InetAddress.getLoopbackAddress(), port)) {
            plain.setSoTimeout(10_000);
            plain.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            try {
                while (plain.getInputStream().read() >= 0) {
                    // an alert, then the end
                }
            } catch (java.net.SocketException reset) {
                // closed with unread input: as good as an end
            }
        }
        String metrics = "http://127.0.0.1:" + endpoints.port("status") + "/metrics";
        String failed = "wharf_tls_handshake_failures_total{endpoint=\"echo-tls\",cause=\"protocol\"} 1\n";
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String exposition = get(metrics);
        while (!exposition.contains(failed)) {
            assertTrue(System.nanoTime() < deadline, "the plain-text client counted: " + exposition);
            TimeUnit.MILLISECONDS.sleep(20); // polls with a deadline
            exposition = get(metrics);
        }
        assertTrue(exposition.contains("wharf_tls_handshake_duration_seconds_count{endpoint=\"echo-tls\"} 1\n"),
                "openssl's handshake timed: " + exposition);
        assertTrue(exposition.contains("wharf_connections_refused_total{endpoint=\"echo-tls\",reason=\"tls\"} 1\n"),
                exposition);
        assertTrue(exposition.contains("wharf_tls_handshake_failures_total{endpoint=\"echo-tls\",cause=\"timeout\"} 0\n"),
                "every cause shown, at zero too: " + exposition);
        assertEquals("", promtoolCheck(exposition), "promtool check metrics");
    }

    @Test
    void prometheusScrapesItAndAnswersARateAndAQuantile(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        int statusPort = endpoints.port("status");
        int echoPort = endpoints.port("echo");
        int webPort = startPrometheus(dir, statusPort);
        String api = "http://127.0.0.1:" + webPort + "/api/v1/query?query=";
        awaitQuery(api, "up{job=\"wharf\"} == 1", "Prometheus scraped the platform: up == 1");

        // A bounded load: 30 echo connections a second for 3 seconds (six scrapes), each open a few milliseconds.
        int served = 0;
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        while (System.nanoTime() < end) {
            long second = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
            served += echoConnections(echoPort, 30);
            long left = second - System.nanoTime();
            if (left > 0) {
                // Paces the load (not a synchronisation): the scrapes see it spread over time.
                TimeUnit.NANOSECONDS.sleep(left);
            }
        }
        int total = served;
        // The last scrape has every connection: Prometheus holds the same count the platform does.
        awaitQuery(api, "wharf_connections_accepted_total{endpoint=\"echo\"} == " + total,
                "Prometheus has all " + total + " connections");
        String rate = awaitQuery(api, "rate(wharf_connections_accepted_total{endpoint=\"echo\"}[10s]) > 0",
                "a rate of accepted connections");
        double perSecond = value(rate);
        assertTrue(perSecond > 1 && perSecond < 1000, "about 30 connections a second, Prometheus says " + rate);
        String quantile = awaitQuery(api, "histogram_quantile(0.9, sum by (le) (rate("
                + "wharf_connection_duration_seconds_bucket{endpoint=\"echo\"}[10s]))) > 0", "a 90th percentile");
        double p90 = value(quantile);
        // Echo connections last milliseconds: the 90th percentile sits well inside the buckets.
        assertTrue(p90 > 0 && p90 < 10, "90th percentile of echo connection durations: " + quantile);
        awaitQuery(api, "sum(wharf_loop_channels) >= 3", "the loops report the listeners' channels");
        // Prometheus' own scrapes are HTTP requests of the status endpoint: their latency is there.
        String latency = awaitQuery(api, "histogram_quantile(0.5, sum by (le) (rate("
                + "wharf_request_duration_seconds_bucket{endpoint=\"status\"}[10s]))) > 0", "a median scrape latency");
        assertTrue(value(latency) < 10, "median latency of the scrapes: " + latency);
    }

    /** Starts Prometheus on a free loopback port, scraping the status endpoint twice a second. */
    private int startPrometheus(Path dir, int statusPort) throws Exception {
        Path config = dir.resolve("prometheus.yml");
        Files.writeString(config, "global:\n  scrape_interval: 500ms\n  evaluation_interval: 1s\n"
                + "scrape_configs:\n  - job_name: wharf\n    metrics_path: /metrics\n"
                + "    static_configs:\n      - targets: ['127.0.0.1:" + statusPort + "']\n");
        Path check = dir.resolve("promtool-config.log");
        Process promtool = org.wharf.transport.tck.Peers.process("promtool", "check", "config", config.toString()).redirectErrorStream(true)
                .redirectOutput(check.toFile()).start();
        assertTrue(promtool.waitFor(60, TimeUnit.SECONDS), "promtool finished");
        assertEquals(0, promtool.exitValue(), Files.readString(check));
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        prometheusLog = Path.of(System.getProperty("wharf.felix.storage", dir.toString())).resolve(
                "prometheus-" + port + ".log");
        Files.createDirectories(prometheusLog.getParent());
        prometheus = org.wharf.transport.tck.Peers.process("prometheus", "--config.file=" + config,
                "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + port)
                .redirectErrorStream(true).redirectOutput(prometheusLog.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try {
                if (get("http://127.0.0.1:" + port + "/-/ready").contains("Ready")) {
                    return port;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            if (!prometheus.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError("Prometheus did not get ready on port " + port + ": "
                        + Files.readString(prometheusLog));
            }
            TimeUnit.MILLISECONDS.sleep(100); // polls with a deadline: Prometheus has no readiness signal to wait on
        }
    }

    /** Runs an instant query until it has a result (Prometheus scrapes twice a second), failing after 60 s. */
    private String awaitQuery(String api, String query, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String last = "";
        while (System.nanoTime() < deadline) {
            last = get(api + URLEncoder.encode(query, StandardCharsets.UTF_8));
            if (last.contains("\"status\":\"success\"") && !last.contains("\"result\":[]")) {
                return last;
            }
            TimeUnit.MILLISECONDS.sleep(50); // polls with a deadline: the answer comes with a later scrape
        }
        throw new AssertionError("not within 60 s: " + what + "; query " + query + " answered " + last
                + "\nPrometheus log: " + Files.readString(prometheusLog));
    }

    /** The value of the first sample of a query's answer ({@code "value":[time,"v"]}). */
    private static double value(String answer) {
        Matcher m = Pattern.compile("\"value\":\\[[0-9.]+,\"([^\"]+)\"]").matcher(answer);
        assertTrue(m.find(), answer);
        return Double.parseDouble(m.group(1));
    }

    private static String get(String uri) throws IOException, InterruptedException {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(10))
                .build(), HttpResponse.BodyHandlers.ofString());
        return response.body();
    }

    /** Opens {@code count} connections one after the other, each echoing a line, then closed by the client. */
    private static int echoConnections(int port, int count) throws IOException {
        for (int i = 0; i < count; i++) {
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                s.setSoTimeout(10_000);
                s.getOutputStream().write("ping\n".getBytes(StandardCharsets.US_ASCII));
                InputStream in = s.getInputStream();
                byte[] answer = in.readNBytes(5);
                assertEquals("ping\n", new String(answer, StandardCharsets.US_ASCII));
            }
        }
        return count;
    }
}
