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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;

import org.wharf.transport.ssl.TlsContextBuilder;

/**
 * Runs every scenario for Wharf and for Netty, alternating (A B A B …) after a warm-up, with
 * each server in its own JVM and the {@link EchoLoad} driver in this one; prints a table
 * and writes the figures as JSON.
 *
 * <pre>
 * bench/run [--quick] [--only SCENARIO,...] [--pairs N] [--out FILE]
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

    /**
     * The server JVM's options. When pinned, it is still told the machine's core count
     * ({@code WHARF_BENCH_CPUS}): a JVM that sees one core picks the serial collector and
     * fewer compiler threads, which is not how either library runs in production.
     * {@code WHARF_BENCH_SERVER_OPTS} adds options for profiling (JFR, GC logs), with
     * {@code {impl}} replaced by the implementation's name so each side writes its own file.
     */
    private static List<String> serverJvmOptions(String implementation) {
        List<String> options = new ArrayList<>(List.of("-Xms512m", "-Xmx512m"));
        if (System.getenv("WHARF_BENCH_CPUS") != null) {
            options.add("-XX:ActiveProcessorCount=" + System.getenv("WHARF_BENCH_CPUS"));
        }
        String extra = System.getenv("WHARF_BENCH_SERVER_OPTS"); // e.g. a JFR recording when profiling
        if (extra != null && !extra.isBlank()) {
            for (String option : extra.trim().split("\\s+")) {
                options.add(option.replace("{impl}", implementation));
            }
        }
        return options;
    }

    private Bench() {
    }

    /** How a scenario drives its server. */
    private enum Kind {
        ECHO, BULK, UDP, TLS_ECHO, TLS_BULK, TLS_HANDSHAKES, IDLE;

        boolean tls() {
            return this == TLS_ECHO || this == TLS_BULK || this == TLS_HANDSHAKES;
        }

        boolean bulk() {
            return this == BULK || this == TLS_BULK;
        }

        String serverMode() {
            return this == UDP ? "udp" : tls() ? "tls" : "tcp";
        }
    }

    /** One scenario: a name, how to drive it, and what it reports. */
    private record Scenario(String name, Kind kind, int connections, int size) {

        String unit() {
            return switch (kind) {
                case BULK, TLS_BULK -> "MB/s";
                case UDP -> "datagrams/s";
                case TLS_HANDSHAKES -> "handshakes/s";
                case IDLE -> "heap bytes/conn";
                default -> "round trips/s";
            };
        }

        /** @return whether a smaller figure is better (memory) */
        boolean lowerIsBetter() {
            return kind == Kind.IDLE;
        }

        /** The figure reported: events per second, or echoed MB/s for bulk. */
        double figure(EchoLoad.Result result) {
            return kind.bulk() ? result.rate() / 1e6 : result.rate();
        }
    }

    /** Every scenario, in the order run and reported. */
    private static final List<Scenario> SCENARIOS = List.of(new Scenario("tcp-echo-1", Kind.ECHO, 1, 64),
            new Scenario("tcp-echo-64", Kind.ECHO, 64, 64), new Scenario("tcp-bulk", Kind.BULK, 1, 64 * 1024),
            new Scenario("udp-echo-64", Kind.UDP, 64, 64), new Scenario("tls-echo-1", Kind.TLS_ECHO, 1, 64),
            new Scenario("tls-echo-64", Kind.TLS_ECHO, 64, 64),
            new Scenario("tls-bulk", Kind.TLS_BULK, 1, 64 * 1024),
            new Scenario("tls-handshakes", Kind.TLS_HANDSHAKES, 2, 64),
            new Scenario("idle-10k", Kind.IDLE, 10_000, 1));

    /**
     * The figures of one run of one implementation; {@code cpu} is the server JVM's CPU time
     * in the measured window per unit of work (µs per round trip, datagram or handshake; per MB
     * for bulk), or 0 where not measured.
     */
    private record Run(double rate, long p50, long p99, long lost, double direct, double cpu) {

        Run(double rate, long p50, long p99, long lost) {
            this(rate, p50, p99, lost, 0, 0);
        }
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
        // Quick: a smoke run of every scenario in under two minutes (TLS barely warmed up).
        Duration warmup = quick ? Duration.ofMillis(500) : Duration.ofSeconds(3);
        Duration measure = Duration.ofSeconds(quick ? 1 : 5);
        int pairsAt = options.indexOf("--pairs");
        int pairs = pairsAt >= 0 ? Integer.parseInt(options.get(pairsAt + 1)) : quick ? 2 : 5;
        int threads = 1;
        PrintStream console = System.out;

        int onlyAt = options.indexOf("--only");
        List<String> only = onlyAt >= 0 ? List.of(options.get(onlyAt + 1).split(",")) : null;
        List<Scenario> scenarios = new ArrayList<>();
        for (Scenario scenario : SCENARIOS) {
            if (only == null || only.contains(scenario.name())) {
                scenarios.add(scenario);
            }
        }
        Pki pki = null;
        if (scenarios.stream().anyMatch(sc -> sc.kind().tls())) {
            pki = Pki.create();
        }
        StringBuilder json = new StringBuilder();
        json.append("{\n  \"date\": \"").append(OffsetDateTime.now(ZoneOffset.UTC).withNano(0)).append("\",\n");
        json.append("  \"machine\": \"").append(machine()).append("\",\n");
        json.append("  \"mode\": \"").append(quick ? "quick" : "full").append("\",\n");
        json.append("  \"settings\": {\"warmupSeconds\": ").append(warmup.toMillis() / 1000.0).append(", \"measureSeconds\": ")
                .append(measure.toSeconds()).append(", \"pairs\": ").append(pairs).append(", \"serverLoopThreads\": ")
                .append(threads).append("},\n");
        json.append("  \"scenarios\": [\n");

        console.printf(Locale.ROOT, "%-14s %-14s %14s %14s %7s %18s %18s%n", "scenario", "unit", "wharf", "netty",
                "ratio", "p50/p99 µs wharf", "p50/p99 µs netty");
        List<Chart.Bar> bars = new ArrayList<>();
        boolean iperf = Iperf.available();
        if (!iperf) {
            console.println("iperf3 is not installed: no loopback limit is measured (apt-get install iperf3)");
        }
        for (int s = 0; s < scenarios.size(); s++) {
            Scenario scenario = scenarios.get(s);
            List<Run> wharf = new ArrayList<>();
            List<Run> netty = new ArrayList<>();
            // Memory does not vary like speed: one pair is enough for a quick look.
            int scenarioPairs = quick && scenario.lowerIsBetter() ? 1 : pairs;
            for (int pair = 0; pair < scenarioPairs; pair++) {
                for (String implementation : IMPLEMENTATIONS) {
                    Run run = runOnce(implementation, threads, scenario, pki, warmup, measure);
                    (implementation.equals("wharf") ? wharf : netty).add(run);
                }
            }
            Run w = median(wharf);
            Run n = median(netty);
            double ratio = w.rate() / n.rate();
            bars.add(new Chart.Bar(scenario.name(), scenario.unit(), w.rate(), n.rate(), scenario.lowerIsBetter()));
            String p = scenario.kind().bulk() || scenario.kind() == Kind.IDLE ? "-" : null;
            console.printf(Locale.ROOT, "%-14s %-14s %,14.0f %,14.0f %7.2f %18s %18s%n", scenario.name(),
                    scenario.unit(), w.rate(), n.rate(), ratio, p != null ? p : w.p50() + "/" + w.p99(),
                    p != null ? p : n.p50() + "/" + n.p99());
            json.append("    {\"name\": \"").append(scenario.name()).append("\", \"unit\": \"")
                    .append(scenario.unit()).append("\", ")
                    .append("\"connections\": ").append(scenario.connections()).append(", \"messageBytes\": ")
                    .append(scenario.size()).append(", \"better\": \"").append(scenario.lowerIsBetter() ? "lower" : "higher")
                    .append("\",\n     \"wharf\": ").append(round(w.rate()))
                    .append(", \"netty\": ").append(round(n.rate())).append(", \"ratio\": ")
                    .append(String.format(Locale.ROOT, "%.3f", ratio))
                    .append(",\n     \"latencyMicros\": {\"wharf\": {\"p50\": ").append(w.p50()).append(", \"p99\": ")
                    .append(w.p99()).append("}, \"netty\": {\"p50\": ").append(n.p50()).append(", \"p99\": ")
                    .append(n.p99()).append("}},\n     \"lost\": {\"wharf\": ").append(w.lost())
                    .append(", \"netty\": ").append(n.lost()).append("},");
            Double limit = null;
            if (iperf && scenario.kind() == Kind.BULK) {
                limit = Iperf.tcp(SERVER_CPUS, measure);
            } else if (iperf && scenario.kind() == Kind.UDP) {
                limit = Iperf.udp(SERVER_CPUS, measure);
            }
            if (limit != null) {
                console.printf(Locale.ROOT, "  iperf3 one way on loopback: %,.0f %s; wharf at %.2f of it, netty at %.2f%n",
                        limit, scenario.unit(), w.rate() / limit, n.rate() / limit);
                json.append(" \"limit\": {\"tool\": \"iperf3, one way\", \"value\": ").append(round(limit))
                        .append(", \"wharfRatio\": ").append(String.format(Locale.ROOT, "%.3f", w.rate() / limit))
                        .append(", \"nettyRatio\": ").append(String.format(Locale.ROOT, "%.3f", n.rate() / limit))
                        .append("},");
            }
            if (scenario.kind() != Kind.IDLE) {
                double wc = medianCpu(wharf);
                double nc = medianCpu(netty);
                String per = scenario.kind().bulk() ? "MB" : scenario.kind() == Kind.UDP ? "datagram"
                        : scenario.kind() == Kind.TLS_HANDSHAKES ? "handshake" : "round trip";
                console.printf(Locale.ROOT, "  server CPU per %s: wharf %.2f µs, netty %.2f µs (%.2f)%n", per, wc, nc,
                        wc / nc);
                json.append(" \"serverCpuMicros\": {\"per\": \"").append(per).append("\", \"wharf\": ")
                        .append(String.format(Locale.ROOT, "%.3f", wc)).append(", \"netty\": ")
                        .append(String.format(Locale.ROOT, "%.3f", nc)).append("},");
            }
            if (scenario.kind() == Kind.IDLE) {
                json.append(" \"directBytesPerConnection\": {\"wharf\": ").append(round(w.direct()))
                        .append(", \"netty\": ").append(round(n.direct())).append("},");
            }
            json.append("\n     \"runs\": [");
            for (int i = 0; i < wharf.size(); i++) {
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
        if (scenarios.stream().anyMatch(Scenario::lowerIsBetter)) {
            console.println("ratio is wharf/netty; for heap bytes/conn a ratio below 1.0 means Wharf uses less");
        }
        console.println("wrote " + out + " and " + png);
    }

    /** Starts the server in its own JVM, drives it, stops it. */
    private static Run runOnce(String implementation, int threads, Scenario scenario, Pki pki, Duration warmup,
            Duration measure) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(SERVER_CPUS);
        command.add(java);
        command.addAll(serverJvmOptions(implementation));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"),
                EchoServer.class.getName(), implementation, Integer.toString(threads), scenario.kind().serverMode()));
        if (scenario.kind().tls()) {
            command.addAll(List.of(pki.chain().toString(), pki.key().toString()));
        }
        Process server = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            BufferedReader lines = new BufferedReader(new InputStreamReader(server.getInputStream(),
                    StandardCharsets.UTF_8));
            String first = lines.readLine();
            while (first != null && first.startsWith("[")) { // JVM log lines asked for by WHARF_BENCH_SERVER_OPTS
                first = lines.readLine();
            }
            if (first == null || !first.startsWith("port ")) {
                throw new IOException(implementation + " server did not start: " + first);
            }
            int port = Integer.parseInt(first.substring(5).trim());
            InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
            if (scenario.kind() == Kind.IDLE) {
                return idle(server, lines, address, scenario.connections());
            }
            SSLContext tls = scenario.kind().tls() ? pki.client() : null;
            // The server's CPU time when the measured window opens, read while the load runs.
            PrintStream commands = new PrintStream(server.getOutputStream(), true, StandardCharsets.UTF_8);
            long windowOpens = System.nanoTime() + warmup.toNanos();
            CompletableFuture<Long> cpuAtStart = CompletableFuture.supplyAsync(() -> {
                try {
                    Thread.sleep(Math.max(0, (windowOpens - System.nanoTime()) / 1_000_000));
                    return cpu(commands, lines);
                } catch (IOException | InterruptedException e) {
                    throw new CompletionException(e);
                }
            });
            EchoLoad.Result result = switch (scenario.kind()) {
                case BULK, TLS_BULK -> EchoLoad.bulk(address, tls, scenario.size(), warmup, measure);
                case UDP -> EchoLoad.udp(address, scenario.connections(), scenario.size(), warmup, measure);
                case TLS_HANDSHAKES -> EchoLoad.handshakes(address, tls, scenario.connections(), scenario.size(),
                        warmup, measure);
                default -> EchoLoad.run(address, tls, scenario.connections(), scenario.size(), warmup, measure);
            };
            long cpuNanos = cpu(commands, lines) - cpuAtStart.join();
            double units = scenario.kind().bulk() ? result.trips() / 1e6 : result.trips();
            return new Run(scenario.figure(result), result.p50Micros(), result.p99Micros(), result.lost(), 0,
                    cpuNanos / 1e3 / units);
        } finally {
            server.getOutputStream().close();
            if (!server.waitFor(15, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        }
    }

    /**
     * Heap (and JDK-tracked direct) bytes per idle connection: the server's use after full
     * collections with {@code count} connections open, less its use before they opened.
     */
    private static Run idle(Process server, BufferedReader lines, InetSocketAddress address, int count)
            throws IOException {
        PrintStream commands = new PrintStream(server.getOutputStream(), true, StandardCharsets.UTF_8);
        long[] before = memory(commands, lines);
        List<java.nio.channels.SocketChannel> open = EchoLoad.idle(address, count);
        try {
            long[] after = memory(commands, lines);
            return new Run((after[0] - before[0]) / (double) count, 0, 0, 0, (after[1] - before[1]) / (double) count,
                    0);
        } finally {
            for (java.nio.channels.SocketChannel channel : open) {
                channel.close();
            }
        }
    }

    /** Asks the server for its JVM's CPU time so far, in nanoseconds. */
    private static long cpu(PrintStream commands, BufferedReader lines) throws IOException {
        commands.println("cpu");
        String answer = lines.readLine();
        if (answer == null || !answer.startsWith("cpu ")) {
            throw new IOException("the server answered '" + answer + "' to 'cpu'");
        }
        return Long.parseLong(answer.substring(4).trim());
    }

    /** Asks the server for {@code heap USED direct USED}. */
    private static long[] memory(PrintStream commands, BufferedReader lines) throws IOException {
        commands.println("heap");
        String answer = lines.readLine();
        String[] words = answer == null ? new String[0] : answer.split(" ");
        if (words.length != 4 || !words[0].equals("heap")) {
            throw new IOException("the server answered '" + answer + "' to 'heap'");
        }
        return new long[] {Long.parseLong(words[1]), Long.parseLong(words[3])};
    }

    /** The server's certificate and key, made by openssl for this run, and a client context trusting them. */
    record Pki(Path chain, Path key, SSLContext client) {

        static Pki create() throws IOException, InterruptedException {
            Path dir = Files.createTempDirectory("wharf-bench-pki");
            dir.toFile().deleteOnExit();
            Path chain = dir.resolve("server.pem");
            Path key = dir.resolve("server.key");
            Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key.toString(), "-out", chain.toString())
                    .redirectErrorStream(true).start();
            String output = new String(openssl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (openssl.waitFor() != 0) {
                throw new IOException("openssl could not make the bench's certificate: " + output);
            }
            chain.toFile().deleteOnExit();
            key.toFile().deleteOnExit();
            return new Pki(chain, key, TlsContextBuilder.create().trustCertificates(chain).build());
        }
    }

    private static Run median(List<Run> runs) {
        List<Run> sorted = new ArrayList<>(runs);
        sorted.sort((a, b) -> Double.compare(a.rate(), b.rate()));
        return sorted.get(sorted.size() / 2);
    }

    /** The median server CPU per unit of work of some runs. */
    private static double medianCpu(List<Run> runs) {
        double[] cpu = runs.stream().mapToDouble(Run::cpu).sorted().toArray();
        return cpu[cpu.length / 2];
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
