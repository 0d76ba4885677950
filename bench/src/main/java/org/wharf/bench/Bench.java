package org.wharf.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Runs every scenario for Wharf and for Netty, alternating (A B A B …) after a warm-up, with
 * each server in its own JVM and the {@link EchoLoad} driver in this one; prints a table
 * and writes the figures as JSON.
 *
 * <pre>
 * bench/run [--quick] [--only SCENARIO,...] [--out FILE]
 * </pre>
 */
public final class Bench {

    private static final List<String> IMPLEMENTATIONS = List.of("wharf", "netty");

    /**
     * The command prefix that pins a server JVM to its CPUs, from {@code WHARF_BENCH_SERVER_CPUS}
     * (bench/run sets it so the driver and the server do not share a core); empty if unset.
     */
    private static final List<String> SERVER_CPUS = System.getenv("WHARF_BENCH_SERVER_CPUS") == null ? List.of()
            : List.of("taskset", "-c", System.getenv("WHARF_BENCH_SERVER_CPUS"));

    private Bench() {
    }

    /** One scenario: a name, how to drive it, and what it reports. */
    private record Scenario(String name, int connections, int size, boolean bulk, boolean udp) {

        Scenario(String name, int connections, int size) {
            this(name, connections, size, false, false);
        }

        String unit() {
            return bulk ? "MB/s" : udp ? "datagrams/s" : "round trips/s";
        }

        /** The figure reported: round trips/s, or echoed MB/s for bulk. */
        double figure(EchoLoad.Result result) {
            return bulk ? result.rate() / 1e6 : result.rate();
        }
    }

    /** The figures of one run of one implementation. */
    private record Run(double rate, long p50, long p99, long lost) {
    }

    /**
     * Runs the benchmark.
     *
     * @param args {@code --quick} for short runs, {@code --out FILE} for the JSON
     * @throws Exception if a server or a run fails
     */
    public static void main(String[] args) throws Exception {
        List<String> options = Arrays.asList(args);
        boolean quick = options.contains("--quick");
        int outAt = options.indexOf("--out");
        Path out = Path.of(outAt >= 0 ? options.get(outAt + 1) : "bench/results/latest.json");
        Duration warmup = Duration.ofSeconds(quick ? 1 : 3);
        Duration measure = Duration.ofSeconds(quick ? 2 : 5);
        int pairs = quick ? 3 : 5;
        int threads = 1;
        PrintStream console = System.out;

        int onlyAt = options.indexOf("--only");
        List<String> only = onlyAt >= 0 ? List.of(options.get(onlyAt + 1).split(",")) : null;
        List<Scenario> scenarios = new ArrayList<>();
        for (Scenario scenario : List.of(new Scenario("tcp-echo-1", 1, 64), new Scenario("tcp-echo-64", 64, 64),
                new Scenario("tcp-bulk", 1, 64 * 1024, true, false), new Scenario("udp-echo-64", 64, 64, false, true))) {
            if (only == null || only.contains(scenario.name())) {
                scenarios.add(scenario);
            }
        }
        StringBuilder json = new StringBuilder();
        json.append("{\n  \"date\": \"").append(OffsetDateTime.now(ZoneOffset.UTC).withNano(0)).append("\",\n");
        json.append("  \"machine\": \"").append(machine()).append("\",\n");
        json.append("  \"mode\": \"").append(quick ? "quick" : "full").append("\",\n");
        json.append("  \"settings\": {\"warmupSeconds\": ").append(warmup.toSeconds()).append(", \"measureSeconds\": ")
                .append(measure.toSeconds()).append(", \"pairs\": ").append(pairs).append(", \"serverLoopThreads\": ")
                .append(threads).append("},\n");
        json.append("  \"scenarios\": [\n");

        console.printf(Locale.ROOT, "%-14s %-14s %14s %14s %7s %18s %18s%n", "scenario", "unit", "wharf", "netty",
                "ratio", "p50/p99 µs wharf", "p50/p99 µs netty");
        List<Chart.Bar> bars = new ArrayList<>();
        for (int s = 0; s < scenarios.size(); s++) {
            Scenario scenario = scenarios.get(s);
            List<Run> wharf = new ArrayList<>();
            List<Run> netty = new ArrayList<>();
            for (int pair = 0; pair < pairs; pair++) {
                for (String implementation : IMPLEMENTATIONS) {
                    Run run = runOnce(implementation, threads, scenario, warmup, measure);
                    (implementation.equals("wharf") ? wharf : netty).add(run);
                }
            }
            Run w = median(wharf);
            Run n = median(netty);
            double ratio = w.rate() / n.rate();
            bars.add(new Chart.Bar(scenario.name(), scenario.unit(), w.rate(), n.rate()));
            String p = scenario.bulk() ? "-" : null;
            console.printf(Locale.ROOT, "%-14s %-14s %,14.0f %,14.0f %7.2f %18s %18s%n", scenario.name(),
                    scenario.unit(), w.rate(), n.rate(), ratio, p != null ? p : w.p50() + "/" + w.p99(),
                    p != null ? p : n.p50() + "/" + n.p99());
            json.append("    {\"name\": \"").append(scenario.name()).append("\", \"unit\": \"")
                    .append(scenario.unit()).append("\", ")
                    .append("\"connections\": ").append(scenario.connections()).append(", \"messageBytes\": ")
                    .append(scenario.size()).append(",\n     \"wharf\": ").append(round(w.rate()))
                    .append(", \"netty\": ").append(round(n.rate())).append(", \"ratio\": ")
                    .append(String.format(Locale.ROOT, "%.3f", ratio))
                    .append(",\n     \"latencyMicros\": {\"wharf\": {\"p50\": ").append(w.p50()).append(", \"p99\": ")
                    .append(w.p99()).append("}, \"netty\": {\"p50\": ").append(n.p50()).append(", \"p99\": ")
                    .append(n.p99()).append("}},\n     \"lost\": {\"wharf\": ").append(w.lost())
                    .append(", \"netty\": ").append(n.lost()).append("},\n     \"runs\": [");
            for (int i = 0; i < pairs; i++) {
                json.append(i == 0 ? "" : ", ").append("{\"wharf\": ").append(round(wharf.get(i).rate()))
                        .append(", \"netty\": ").append(round(netty.get(i).rate())).append(", \"ratio\": ")
                        .append(String.format(Locale.ROOT, "%.3f", wharf.get(i).rate() / netty.get(i).rate()))
                        .append('}');
            }
            json.append("]}").append(s + 1 < scenarios.size() ? "," : "").append('\n');
        }
        json.append("  ]\n}\n");
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, json);
        Path png = out.resolveSibling(out.getFileName().toString().replaceFirst("\\.json$", "") + ".png");
        Chart.write(bars, OffsetDateTime.now(ZoneOffset.UTC).withNano(0) + ", " + machine() + ", "
                + (quick ? "quick" : "full") + " run, medians of " + pairs + " alternating pairs", png);
        console.println("wrote " + out + " and " + png);
    }

    /** Starts the server in its own JVM, drives it, stops it. */
    private static Run runOnce(String implementation, int threads, Scenario scenario, Duration warmup, Duration measure)
            throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(SERVER_CPUS);
        command.addAll(List.of(java, "-Xms512m", "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                EchoServer.class.getName(), implementation, Integer.toString(threads), scenario.udp() ? "udp" : "tcp"));
        Process server = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            BufferedReader lines = new BufferedReader(new InputStreamReader(server.getInputStream(),
                    StandardCharsets.UTF_8));
            String first = lines.readLine();
            if (first == null || !first.startsWith("port ")) {
                throw new IOException(implementation + " server did not start: " + first);
            }
            int port = Integer.parseInt(first.substring(5).trim());
            InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
            EchoLoad.Result result = scenario.bulk() ? EchoLoad.bulk(address, scenario.size(), warmup, measure)
                    : scenario.udp() ? EchoLoad.udp(address, scenario.connections(), scenario.size(), warmup, measure)
                    : EchoLoad.run(address, scenario.connections(), scenario.size(), warmup, measure);
            return new Run(scenario.figure(result), result.p50Micros(), result.p99Micros(), result.lost());
        } finally {
            server.getOutputStream().close();
            if (!server.waitFor(15, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        }
    }

    private static Run median(List<Run> runs) {
        List<Run> sorted = new ArrayList<>(runs);
        sorted.sort((a, b) -> Double.compare(a.rate(), b.rate()));
        return sorted.get(sorted.size() / 2);
    }

    private static long round(double value) {
        return Math.round(value);
    }

    private static String machine() {
        return (Runtime.getRuntime().availableProcessors() + " cores, " + System.getProperty("os.name") + " "
                + System.getProperty("os.arch") + ", Java " + System.getProperty("java.version"))
                .replace("\"", "'");
    }
}
