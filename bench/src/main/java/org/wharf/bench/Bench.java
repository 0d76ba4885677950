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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import javax.net.ssl.SSLContext;

import org.wharf.transport.ssl.TlsContextBuilder;

/**
 * Runs every scenario for Wharf and for each peer that applies (Netty on NIO, epoll and
 * io_uring, with the JDK's TLS or OpenSSL; for the gateway, HAProxy and nginx, and when
 * {@code --peers} names them, Wharf and HAProxy busy polling), alternating
 * (Wharf, then each peer, and again) after a warm-up, with each server in its own pinned
 * process and the driver in this one; prints a table of Wharf against the best peer of each
 * scenario, with every peer's figures below it, and writes the figures as JSON and a chart.
 *
 * <pre>
 * bench/run [--quick] [--only SCENARIO|GLOB,...] [--pairs N] [--warmup SECONDS]
 *           [--peers NAME,...] [--tls-suite SUITE] [--out FILE]
 * </pre>
 */
public final class Bench {

    /**
     * The command prefix that pins a server to its CPUs, from {@code WHARF_BENCH_SERVER_CPUS}
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
        options.addAll(extraOptions(implementation));
        return options;
    }

    /**
     * The Wharf gateway JVM's options: it sees one processor, so the NIO transport it finds
     * with ServiceLoader runs one event loop, as HAProxy runs one thread and nginx one worker.
     * ({@code wharf-busy}'s busy poll is added by {@link Gateway#proxy}.)
     *
     * @param proxy {@code wharf} or {@code wharf-busy}: {@code {impl}} in
     *     {@code WHARF_BENCH_SERVER_OPTS} is {@code wharf-gateway} or {@code wharf-busy-gateway}
     */
    static List<String> gatewayJvmOptions(String proxy) {
        List<String> options = new ArrayList<>(List.of("-Xms512m", "-Xmx512m", "-XX:ActiveProcessorCount=1"));
        options.addAll(extraOptions(proxy + "-gateway"));
        return options;
    }

    private static List<String> extraOptions(String implementation) {
        List<String> options = new ArrayList<>();
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
    enum Kind {
        ECHO, BULK, UDP, TLS_ECHO, TLS_BULK, TLS_HANDSHAKES, TLS_RESUME, IDLE;

        boolean tls() {
            return this == TLS_ECHO || this == TLS_BULK || handshakes();
        }

        /** @return whether each unit of work is a connection with its handshake (full or resumed) */
        boolean handshakes() {
            return this == TLS_HANDSHAKES || this == TLS_RESUME;
        }

        boolean bulk() {
            return this == BULK || this == TLS_BULK;
        }

        String serverMode() {
            return this == UDP ? "udp" : tls() ? "tls" : "tcp";
        }
    }

    /** One echo scenario: a name, how to drive it, and what it reports. */
    record Scenario(String name, Kind kind, int connections, int size) {

        String unit() {
            return switch (kind) {
                case BULK, TLS_BULK -> "MB/s";
                case UDP -> "datagrams/s";
                case TLS_HANDSHAKES, TLS_RESUME -> "handshakes/s";
                case IDLE -> "heap bytes/conn";
                default -> "round trips/s";
            };
        }

        /** @return what server CPU is counted per */
        String per() {
            return kind.bulk() ? "MB" : kind == Kind.UDP ? "datagram" : kind.handshakes() ? "handshake"
                    : "round trip";
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

    /** Every echo scenario, in the order run and reported. */
    static final List<Scenario> SCENARIOS = List.of(new Scenario("tcp-echo-1", Kind.ECHO, 1, 64),
            new Scenario("tcp-echo-64", Kind.ECHO, 64, 64), new Scenario("tcp-bulk", Kind.BULK, 1, 64 * 1024),
            new Scenario("udp-echo-64", Kind.UDP, 64, 64), new Scenario("tls-echo-1", Kind.TLS_ECHO, 1, 64),
            new Scenario("tls-echo-64", Kind.TLS_ECHO, 64, 64),
            new Scenario("tls-bulk", Kind.TLS_BULK, 1, 64 * 1024),
            new Scenario("tls-handshakes", Kind.TLS_HANDSHAKES, 2, 64),
            new Scenario("tls-resume", Kind.TLS_RESUME, 2, 64),
            new Scenario("idle-10k", Kind.IDLE, 10_000, 1));

    /**
     * The figures of one run of one implementation in one window; {@code cpu} is the server's
     * CPU time in the measured window per unit of work (µs per round trip, datagram, handshake
     * or request; per MB for bulk), or 0 where not measured; {@code tls} the protocol and
     * cipher suite agreed on, or null; {@code resumption} what the handshakes of the window
     * did, or null where there are none to count.
     */
    record Run(double rate, long p50, long p99, long lost, double direct, double cpu, String tls,
            Resumption resumption) {

        Run(double rate, long p50, long p99, long lost, double direct, double cpu, String tls) {
            this(rate, p50, p99, lost, direct, cpu, tls, null);
        }

        Run(double rate, long p50, long p99, long lost) {
            this(rate, p50, p99, lost, 0, 0, null);
        }
    }

    /**
     * What the driver saw of the handshakes in a window, read from the hellos on the wire.
     *
     * @param handshakes handshakes completed
     * @param offered those whose ClientHello offered a session (the server had issued a ticket)
     * @param resumed those the server resumed (its ServerHello accepted the session)
     */
    record Resumption(long handshakes, long offered, long resumed) {

        static final Resumption NONE = new Resumption(0, 0, 0);

        /** @return this and that added up */
        Resumption plus(Resumption that) {
            return new Resumption(handshakes + that.handshakes, offered + that.offered, resumed + that.resumed);
        }

        /** @return the fraction of the handshakes resumed, 0 when there were none */
        double resumedFraction() {
            return handshakes == 0 ? 0 : resumed / (double) handshakes;
        }

        /** @return the fraction of the handshakes that offered a session, 0 when there were none */
        double offeredFraction() {
            return handshakes == 0 ? 0 : offered / (double) handshakes;
        }

        /**
         * @return {@code resumed 98%}, and when none was, why: the server issued no ticket
         *     (nothing was offered), or refused the sessions offered
         */
        String text() {
            String resumedText = String.format(Locale.ROOT, "resumed %.0f%%", 100 * resumedFraction());
            if (handshakes == 0) {
                return "resumed - (no handshake)";
            }
            if (resumed == 0 && offered == 0) {
                return resumedText + " (NOT RESUMED: the server issued no ticket)";
            }
            if (resumed == 0) {
                return resumedText + String.format(Locale.ROOT, " (NOT RESUMED: %.0f%% offered a session, the server "
                        + "refused)", 100 * offeredFraction());
            }
            return resumedText;
        }
    }

    /**
     * The command line.
     *
     * @param quick short runs
     * @param only scenario names or globs ({@code gateway-*}), or null for all
     * @param pairs alternations
     * @param warmup the warm-up before the first window
     * @param measure each window's length
     * @param steady the warm-up before the steady-state window, or null for none
     * @param peers the peers to run (Netty configurations, wharf-conscrypt, haproxy, nginx,
     *     and the ones run only when named: wharf-busy, haproxy-busy), or null for all but
     *     those
     * @param tlsSuites the cipher suites every TLS server and the driver are pinned to
     * @param out the JSON file (the chart goes beside it)
     */
    record Options(boolean quick, List<String> only, int pairs, Duration warmup, Duration measure, Duration steady,
            List<String> peers, List<String> tlsSuites, Path out) {

        /**
         * Reads the command line.
         *
         * @param args the arguments
         * @return the options
         * @throws IllegalArgumentException naming an option that is unknown or has a wrong value
         */
        static Options parse(String... args) {
            List<String> a = Arrays.asList(args);
            boolean quick = a.contains("--quick");
            for (int i = 0; i < a.size(); i++) {
                String option = a.get(i);
                if (option.equals("--quick")) {
                    continue;
                }
                if (!List.of("--only", "--pairs", "--warmup", "--peers", "--tls-suite", "--out").contains(option)) {
                    throw new IllegalArgumentException("unknown option " + option + "; bench/run [--quick] [--only "
                            + "SCENARIO|GLOB,...] [--pairs N] [--warmup SECONDS] [--peers NAME,...] [--tls-suite SUITE] "
                            + "[--out FILE]");
                }
                if (i + 1 >= a.size()) {
                    throw new IllegalArgumentException(option + " needs a value");
                }
                i++;
            }
            // Quick: a smoke run of every scenario, short (TLS barely warmed up).
            Duration warmup = quick ? Duration.ofMillis(500) : Duration.ofSeconds(3);
            Duration measure = Duration.ofSeconds(quick ? 1 : 5);
            Duration steady = null;
            String steadyValue = value(a, "--warmup");
            if (steadyValue != null) {
                double seconds = number(steadyValue, "--warmup");
                steady = Duration.ofMillis(Math.round(seconds * 1000));
                Duration earliest = warmup.plus(measure);
                if (steady.compareTo(earliest) < 0) {
                    throw new IllegalArgumentException("--warmup " + steadyValue + ": the steady-state window comes after "
                            + "the default one, so at least " + earliest.toMillis() / 1000.0 + " s");
                }
            }
            String pairsValue = value(a, "--pairs");
            int pairs = pairsValue == null ? quick ? 2 : 5 : (int) number(pairsValue, "--pairs");
            if (pairs < 1) {
                throw new IllegalArgumentException("--pairs " + pairsValue + ": at least 1");
            }
            String only = value(a, "--only");
            String peers = value(a, "--peers");
            if (peers != null) {
                List<String> known = new ArrayList<>();
                for (Peer peer : Peer.values()) {
                    if (peer != Peer.WHARF) {
                        known.add(peer.id());
                    }
                }
                Gateway.PROXIES.stream().filter(p -> !p.equals(Peer.WHARF.id())).forEach(known::add);
                for (String peer : items(peers)) {
                    if (!known.contains(peer)) {
                        throw new IllegalArgumentException("--peers: no peer " + peer + "; there are " + known);
                    }
                }
            }
            String suite = value(a, "--tls-suite");
            String out = value(a, "--out");
            return new Options(quick, only == null ? null : items(only), pairs, warmup, measure, steady,
                    peers == null ? null : items(peers), items(suite == null ? EchoServer.TLS_SUITE : suite),
                    Path.of(out == null ? "bench/results/latest.json" : out));
        }

        private static String value(List<String> a, String option) {
            int at = a.indexOf(option);
            return at >= 0 ? a.get(at + 1) : null;
        }

        private static double number(String value, String option) {
            try {
                return Double.parseDouble(value);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(option + " " + value + ": not a number");
            }
        }

        /**
         * @param name a scenario's name
         * @return whether {@code --only} selects it (all are selected without it); {@code *}
         *     in a name matches any characters
         */
        boolean selects(String name) {
            if (only == null) {
                return true;
            }
            for (String pattern : only) {
                String regex = Arrays.stream(pattern.trim().split("\\*", -1)).map(Pattern::quote)
                        .reduce((x, y) -> x + ".*" + y).orElse("");
                if (name.matches(regex)) {
                    return true;
                }
            }
            return false;
        }

        /**
         * @param peer a peer's name
         * @return whether {@code --peers} lets it run: without it, all but
         *     {@link Gateway#ON_REQUEST} do
         */
        boolean runs(String peer) {
            return peers == null ? !Gateway.ON_REQUEST.contains(peer) : peers.contains(peer);
        }

        /**
         * @return the gateway's proxies {@code --peers} lets run, in the order each pair runs
         *     them: {@code wharf} always; without {@code --peers}, wharf, haproxy and nginx
         */
        List<String> proxies() {
            return Gateway.PROXIES.stream().filter(p -> p.equals(Peer.WHARF.id()) || runs(p)).toList();
        }

        /** @return the measuring windows */
        Windows windows() {
            return Windows.of(warmup, measure, steady);
        }
    }

    /**
     * Runs the benchmark.
     *
     * @param args see {@link Options#parse}
     * @throws Exception if a server or a run fails
     */
    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args);
        Windows windows = options.windows();
        int threads = 1;
        PrintStream console = System.out;

        List<Scenario> scenarios = SCENARIOS.stream().filter(sc -> options.selects(sc.name())).toList();
        List<Gateway.Workload> gateways = Arrays.stream(Gateway.Workload.values())
                .filter(w -> options.selects(w.scenario())).toList();
        if (scenarios.isEmpty() && gateways.isEmpty()) {
            throw new IllegalArgumentException("--only " + String.join(",", options.only()) + " selects no scenario; "
                    + "there are " + SCENARIOS.stream().map(Scenario::name).toList() + " and "
                    + Arrays.stream(Gateway.Workload.values()).map(Gateway.Workload::scenario).toList());
        }
        Pki pki = scenarios.stream().anyMatch(sc -> sc.kind().tls()) ? Pki.create() : null;
        TlsClient tls = pki == null ? null : pki.client(options.tlsSuites());

        // Which peers run, and why any that would does not.
        Map<String, String> skipped = new LinkedHashMap<>();
        List<Peer> peers = new ArrayList<>();
        for (Peer peer : Peer.values()) {
            if (peer == Peer.WHARF || !options.runs(peer.id()) || scenarios.isEmpty()) {
                continue;
            }
            Optional<String> why = peer.unavailable();
            if (why.isPresent()) {
                skipped.put(peer.id(), why.get());
                console.println(peer.id() + " skipped: " + why.get());
            } else {
                peers.add(peer);
            }
        }
        List<String> proxies = new ArrayList<>();
        if (!gateways.isEmpty()) {
            for (String proxy : options.proxies()) {
                Optional<String> why = Gateway.unavailable(proxy);
                if (why.isPresent()) {
                    skipped.put(proxy, why.get());
                    console.println(proxy + " skipped: " + why.get());
                } else {
                    proxies.add(proxy);
                }
            }
            if (!Proc.available()) {
                console.println("no /proc on this machine: the gateway scenarios need Linux; skipped");
                gateways = List.of();
            }
        }

        Map<String, Object> json = new LinkedHashMap<>();
        json.put("date", OffsetDateTime.now(ZoneOffset.UTC).withNano(0).toString());
        json.put("machine", machine());
        json.put("mode", options.quick() ? "quick" : "full");
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("warmupSeconds", options.warmup().toMillis() / 1000.0);
        settings.put("measureSeconds", options.measure().toMillis() / 1000.0);
        if (options.steady() != null) {
            settings.put("steadyWarmupSeconds", options.steady().toMillis() / 1000.0);
        }
        settings.put("pairs", options.pairs());
        settings.put("serverLoopThreads", threads);
        settings.put("tlsSuites", options.tlsSuites());
        settings.put("peersSkipped", skipped);
        if (!gateways.isEmpty() && proxies.contains("wharf-busy")) {
            // What wharf-busy's JVM was told; a Wharf that does not read it yet runs as wharf.
            settings.put("wharfBusyPollMicros", Gateway.busyPollMicros());
        }
        json.put("settings", settings);
        List<Object> scenarioJson = new ArrayList<>();
        json.put("scenarios", scenarioJson);
        List<Chart.Bar> bars = new ArrayList<>();

        boolean iperf = Iperf.available();
        if (!iperf && scenarios.stream().anyMatch(sc -> sc.kind() == Kind.BULK || sc.kind() == Kind.UDP)) {
            console.println("iperf3 is not installed: no loopback limit is measured (apt-get install iperf3)");
        }
        if (!scenarios.isEmpty()) {
            console.printf(Locale.ROOT, "%-18s %-15s %12s %12s %-20s %6s %13s %13s%n", "scenario", "unit", "wharf",
                    "best peer", "", "ratio", "p50/p99 wharf", "p50/p99 peer");
        }
        for (Scenario scenario : scenarios) {
            List<Peer> applicable = peers.stream()
                    .filter(p -> p.serves(scenario.kind() == Kind.UDP, scenario.kind().tls())).toList();
            Map<String, List<List<Run>>> runs = new LinkedHashMap<>();
            runs.put(Peer.WHARF.id(), new ArrayList<>());
            applicable.forEach(p -> runs.put(p.id(), new ArrayList<>()));
            // Memory does not vary like speed: one pair is enough for a quick look.
            int scenarioPairs = options.quick() && scenario.lowerIsBetter() ? 1 : options.pairs();
            Windows scenarioWindows = scenario.kind() == Kind.IDLE ? Windows.of(Duration.ZERO, options.measure())
                    : windows;
            for (int pair = 0; pair < scenarioPairs; pair++) {
                for (String implementation : runs.keySet()) {
                    runs.get(implementation).add(runOnce(Peer.of(implementation), threads, scenario, pki, tls,
                            scenarioWindows));
                }
            }
            Map<String, Object> sj = new LinkedHashMap<>();
            sj.put("name", scenario.name());
            sj.put("unit", scenario.unit());
            sj.put("connections", scenario.connections());
            sj.put("messageBytes", scenario.size());
            sj.put("better", scenario.lowerIsBetter() ? "lower" : "higher");
            Map<String, String> notHere = new LinkedHashMap<>();
            skipped.forEach((peer, why) -> {
                if (!Gateway.PROXIES.contains(peer)
                        && Peer.of(peer).serves(scenario.kind() == Kind.UDP, scenario.kind().tls())) {
                    notHere.put(peer, why);
                }
            });
            // Wharf on the JDK's engine is the reference; wharf-conscrypt is a second Wharf row.
            List<String> wharfs = runs.keySet().stream().filter(i -> Peer.of(i).wharf()).toList();
            for (int w = 0; w < scenarioWindows.count(); w++) {
                Table table = new Table(w == 0 ? scenario.name() : scenario.name() + "@" + seconds(options.steady()) + "s",
                        scenario.unit(), scenario.per(), scenario.lowerIsBetter(), wharfs, runs, w)
                        .resumes(scenario.kind() == Kind.TLS_RESUME);
                table.printEcho(console, w == 0 ? notHere : Map.of(), scenario.kind() != Kind.IDLE,
                        !scenario.kind().bulk() && scenario.kind() != Kind.IDLE);
                Map<String, Object> figures = table.json("server");
                if (w == 0) {
                    sj.putAll(figures);
                    if (!notHere.isEmpty()) {
                        sj.put("skipped", notHere);
                    }
                } else {
                    figures.put("warmupSeconds", options.steady().toMillis() / 1000.0);
                    sj.put("steady", figures);
                }
                bars.addAll(table.bars());
                if (w == 0 && iperf && (scenario.kind() == Kind.BULK || scenario.kind() == Kind.UDP)) {
                    double limit = scenario.kind() == Kind.BULK ? Iperf.tcp(SERVER_CPUS, options.measure())
                            : Iperf.udp(SERVER_CPUS, options.measure());
                    console.printf(Locale.ROOT, "  iperf3 one way on loopback: %,.0f %s; wharf at %.2f of it, %s at %.2f%n",
                            limit, scenario.unit(), table.median("wharf").rate() / limit, table.best(),
                            table.median(table.best()).rate() / limit);
                    Map<String, Object> lj = new LinkedHashMap<>();
                    lj.put("tool", "iperf3, one way");
                    lj.put("value", limit);
                    for (String implementation : runs.keySet()) {
                        lj.put(implementation + "Ratio", table.median(implementation).rate() / limit);
                    }
                    sj.put("limit", lj);
                }
            }
            scenarioJson.add(sj);
        }

        if (!gateways.isEmpty()) {
            console.println();
            List<String> columns = new ArrayList<>(List.of(Gateway.DIRECT));
            columns.addAll(proxies);
            console.println(Table.gatewayHeader(columns, Gateway.WHARFS));
        }
        long ticksPerSecond = Proc.ticksPerSecond();
        for (Gateway.Workload workload : gateways) {
            Optional<String> missing = workload.unavailable();
            if (missing.isPresent()) {
                console.println(workload.scenario() + " skipped: " + missing.get());
                scenarioJson.add(Map.of("name", workload.scenario(), "skipped", missing.get()));
                continue;
            }
            Map<String, List<List<Run>>> runs = new LinkedHashMap<>();
            runs.put(Gateway.DIRECT, new ArrayList<>());
            proxies.forEach(p -> runs.put(p, new ArrayList<>()));
            try (Gateway.Upstream upstream = Gateway.upstream(workload)) {
                for (int pair = 0; pair < options.pairs(); pair++) {
                    for (String implementation : runs.keySet()) {
                        runs.get(implementation).add(gatewayOnce(implementation, workload, upstream, windows,
                                ticksPerSecond));
                    }
                }
            }
            Map<String, Object> sj = new LinkedHashMap<>();
            sj.put("name", workload.scenario());
            sj.put("unit", workload.unit());
            sj.put("tool", workload.tool());
            sj.put("better", "higher");
            for (int w = 0; w < windows.count(); w++) {
                Table table = new Table(w == 0 ? workload.scenario()
                        : workload.scenario() + "@" + seconds(options.steady()) + "s", workload.unit(), workload.per(),
                        false, Gateway.WHARFS, runs, w).counterparts(Gateway.COUNTERPARTS);
                table.printGateway(console);
                Map<String, Object> figures = table.json("proxy");
                if (w == 0) {
                    sj.putAll(figures);
                } else {
                    figures.put("warmupSeconds", options.steady().toMillis() / 1000.0);
                    sj.put("steady", figures);
                }
                bars.addAll(table.bars());
            }
            scenarioJson.add(sj);
        }

        Path out = options.out();
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, Json.write(json));
        Path png = out.resolveSibling(out.getFileName().toString().replaceFirst("\\.json$", "") + ".png");
        Chart.write(bars, OffsetDateTime.now(ZoneOffset.UTC).withNano(0) + ", " + machine() + ", "
                + (options.quick() ? "quick" : "full") + " run, medians of " + options.pairs() + " alternating pairs", png);
        console.println("ratio is wharf/peer (for the gateway, wharf/direct and wharf/each proxy, and on a wharf-busy line "
                + "wharf-busy's); above 1.0 Wharf does more" + (scenarios.stream().anyMatch(Scenario::lowerIsBetter)
                        ? "; for heap bytes/conn a ratio below 1.0 means Wharf uses less" : ""));
        console.println("wrote " + out + " and " + png);
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? Long.toString(d.toSeconds()) : Double.toString(d.toMillis() / 1000.0);
    }

    /**
     * The medians of one window of one scenario, per implementation, and how the references
     * (Wharf, and Wharf on Conscrypt or busy polling where it runs) compare with each peer;
     * prints the rows and makes the JSON. The best peer is the best of the implementations
     * that are neither references nor a reference's counterpart.
     */
    static final class Table {
        private final String label;
        private final String unit;
        private final String per;
        private final boolean lowerIsBetter;
        /** The implementation the ratios of the first line are of ({@code wharf}). */
        private final String reference;
        /** Every reference, the first one first: each gets its own row against the best peer. */
        private final List<String> references;
        /** Every implementation's runs in this window, the reference first. */
        private final Map<String, List<Run>> runs = new LinkedHashMap<>();
        /** Whether the scenario's handshakes are meant to be resumed. */
        private boolean resumes;
        /** Per reference, the peer it is compared with like for like ({@code wharf-busy}: {@code haproxy-busy}). */
        private Map<String, String> counterparts = Map.of();

        /**
         * @param label the row's name
         * @param unit the figure's unit
         * @param per what CPU is counted per
         * @param lowerIsBetter whether a smaller figure wins
         * @param reference the implementation compared with the others ({@code wharf})
         * @param all per implementation, per pair, per window
         * @param window the window
         */
        Table(String label, String unit, String per, boolean lowerIsBetter, String reference,
                Map<String, List<List<Run>>> all, int window) {
            this(label, unit, per, lowerIsBetter, List.of(reference), all, window);
        }

        /**
         * @param label the row's name
         * @param unit the figure's unit
         * @param per what CPU is counted per
         * @param lowerIsBetter whether a smaller figure wins
         * @param references the implementations compared with the best of the others, the
         *     main one ({@code wharf}) first
         * @param all per implementation, per pair, per window
         * @param window the window
         */
        Table(String label, String unit, String per, boolean lowerIsBetter, List<String> references,
                Map<String, List<List<Run>>> all, int window) {
            if (references.isEmpty()) {
                throw new IllegalArgumentException("a table needs a reference");
            }
            this.label = label;
            this.unit = unit;
            this.per = per;
            this.lowerIsBetter = lowerIsBetter;
            this.reference = references.get(0);
            this.references = List.copyOf(references);
            all.forEach((implementation, pairs) -> runs.put(implementation,
                    pairs.stream().map(windows -> windows.get(window)).toList()));
        }

        /**
         * Marks the scenario as one whose handshakes should be resumed: each side's resumed
         * fraction is printed, and the chart says when a side did not resume.
         *
         * @param resumes whether they should be
         * @return this table
         */
        Table resumes(boolean resumes) {
            this.resumes = resumes;
            return this;
        }

        /**
         * Gives references a counterpart: the peer each is compared with like for like, as
         * {@code wharf-busy} with {@code haproxy-busy}. A counterpart is never the best peer
         * (that stays the best of the peers as they run by default); it gets its ratios like
         * any peer, and where both ran, the JSON's {@code vsCounterpart} and a chart bar.
         *
         * @param counterparts per reference, its counterpart
         * @return this table
         */
        Table counterparts(Map<String, String> counterparts) {
            this.counterparts = Map.copyOf(counterparts);
            return this;
        }

        /** @return the references that ran, the main one first */
        List<String> references() {
            return references.stream().filter(runs::containsKey).toList();
        }

        /** @return the peers: every implementation but the references and {@link Gateway#DIRECT} */
        List<String> peers() {
            return runs.keySet().stream().filter(i -> !references.contains(i) && !i.equals(Gateway.DIRECT)).toList();
        }

        Run median(String implementation) {
            return Bench.median(runs.get(implementation));
        }

        double cpu(String implementation) {
            return medianCpu(runs.get(implementation));
        }

        /**
         * @param implementation one of the table's
         * @return what its handshakes did, over every run of the window; null if not counted
         */
        Resumption resumption(String implementation) {
            Resumption total = null;
            for (Run run : runs.get(implementation)) {
                if (run.resumption() != null) {
                    total = (total == null ? Resumption.NONE : total).plus(run.resumption());
                }
            }
            return total;
        }

        /** @return the peer with the best median, not a counterpart, or null if there is none */
        String best() {
            String best = null;
            for (String peer : peers()) {
                if (counterparts.containsValue(peer)) {
                    continue;
                }
                if (best == null || (lowerIsBetter ? median(peer).rate() < median(best).rate()
                        : median(peer).rate() > median(best).rate())) {
                    best = peer;
                }
            }
            return best;
        }

        /** @return the reference's median over an implementation's */
        double ratio(String implementation) {
            return ratio(reference, implementation);
        }

        /** @return one implementation's median over another's */
        double ratio(String of, String to) {
            return median(of).rate() / median(to).rate();
        }

        void printEcho(PrintStream console, Map<String, String> skipped, boolean cpu, boolean latency) {
            String best = best();
            Run b = best == null ? null : median(best);
            List<String> wharfs = references();
            for (String r : wharfs) {
                Run w = median(r);
                console.printf(Locale.ROOT, "%-18s %-15s %,12.0f %12s %-20s %6s %13s %13s%s%n",
                        r.equals(reference) ? label : "  " + r, unit, w.rate(),
                        b == null ? "-" : String.format(Locale.ROOT, "%,.0f", b.rate()), best == null ? "(no peer)" : best,
                        b == null ? "-" : String.format(Locale.ROOT, "%.2f", ratio(r, best)),
                        latency ? w.p50() + "/" + w.p99() : "-", latency && b != null ? b.p50() + "/" + b.p99() : "-",
                        resumptionText(r));
            }
            if (cpu) {
                StringBuilder line = new StringBuilder("  server CPU per " + per + ":");
                for (String r : wharfs) {
                    line.append(String.format(Locale.ROOT, " %s %.2f µs,", r, cpu(r)));
                }
                console.println(line.substring(0, line.length() - 1));
            }
            for (String peer : peers()) {
                Run p = median(peer);
                Run w = median(reference);
                console.printf(Locale.ROOT, "  vs %-20s %,12.0f  ratio %.2f", peer, p.rate(), ratio(peer));
                for (String r : wharfs.subList(1, wharfs.size())) {
                    console.printf(Locale.ROOT, " (%s %.2f)", r, ratio(r, peer));
                }
                if (latency) {
                    console.printf(Locale.ROOT, "  p50/p99 %d/%d µs", p.p50(), p.p99());
                }
                if (p.lost() > 0 || w.lost() > 0) {
                    console.printf(Locale.ROOT, "  lost %d (wharf %d)", p.lost(), w.lost());
                }
                if (cpu) {
                    StringBuilder each = new StringBuilder();
                    for (String r : wharfs) {
                        each.append(String.format(Locale.ROOT, "%s%s/peer %.2f", each.length() == 0 ? "" : ", ", r,
                                cpu(r) / cpu(peer)));
                    }
                    console.printf(Locale.ROOT, "  server CPU %.2f µs (%s)", cpu(peer), each);
                }
                console.println(resumptionText(peer));
            }
            skipped.forEach((peer, why) -> console.printf(Locale.ROOT, "  %-23s skipped: %s%n",
                    (Peer.of(peer).wharf() ? "" : "vs ") + peer, why));
            TreeSet<String> suites = new TreeSet<>();
            runs.values().forEach(list -> list.forEach(r -> {
                if (r.tls() != null) {
                    suites.add(r.tls());
                }
            }));
            if (suites.size() == 1) {
                console.println("  TLS negotiated with every server: " + suites.first());
            } else if (suites.size() > 1) {
                StringBuilder each = new StringBuilder("  TLS negotiated (NOT the same everywhere):");
                runs.forEach((implementation, list) -> each.append(' ').append(implementation).append(' ')
                        .append(list.get(0).tls()).append(';'));
                console.println(each);
            }
            if (!resumes) {
                // Full handshakes: checked too. A server that resumed one would make the row a mix.
                runs.keySet().forEach(implementation -> {
                    Resumption r = resumption(implementation);
                    if (r != null && r.resumed() > 0) {
                        console.printf(Locale.ROOT, "  NOT all full handshakes: %s resumed %d of %d%n",
                                implementation, r.resumed(), r.handshakes());
                    }
                });
            }
        }

        /** @return where handshakes should resume, two spaces and the implementation's resumed fraction; else "" */
        private String resumptionText(String implementation) {
            Resumption r = resumption(implementation);
            return resumes && r != null ? "  " + r.text() : "";
        }

        /**
         * The gateway table's heading, its columns as {@link #printGateway} lays them out:
         * every implementation's figure, then the ratio to each that is not a reference.
         *
         * @param implementations every implementation of the rows, in their order
         *     ({@link Gateway#DIRECT} first)
         * @param references the references among them (or that could be)
         * @return the line
         */
        static String gatewayHeader(List<String> implementations, List<String> references) {
            List<String> cells = new ArrayList<>(List.of("gateway", "unit"));
            cells.addAll(implementations);
            compared(implementations, references).forEach(i -> cells.add("/" + i));
            return gatewayLine(implementations, references, cells);
        }

        /** @return the implementations the references' ratios are to: direct and the peers */
        private static List<String> compared(List<String> implementations, List<String> references) {
            return implementations.stream().filter(i -> !references.contains(i)).toList();
        }

        /**
         * Lays out a line of the gateway table: the label 26 wide, the unit 11, each figure
         * at least 10 and each ratio at least 8, as wide as its heading where that is wider.
         */
        private static String gatewayLine(List<String> implementations, List<String> references, List<String> cells) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-26s %-11s", cells.get(0), cells.get(1)));
            int cell = 2;
            for (String implementation : implementations) {
                line.append(String.format(Locale.ROOT, " %" + Math.max(10, implementation.length()) + "s",
                        cells.get(cell++)));
            }
            for (String implementation : compared(implementations, references)) {
                line.append(String.format(Locale.ROOT, " %" + Math.max(8, implementation.length() + 1) + "s",
                        cells.get(cell++)));
            }
            return line.toString().stripTrailing();
        }

        /**
         * Prints the window's gateway rows: every implementation's median and the main
         * reference's ratio to direct and to each peer, then a line of each other reference's
         * ratios ({@code wharf-busy}), under the same columns; then every proxy's CPU per unit
         * and every implementation's latencies.
         *
         * @param console where to
         */
        void printGateway(PrintStream console) {
            Run w = median(reference);
            List<String> implementations = List.copyOf(runs.keySet());
            for (String r : references()) {
                boolean main = r.equals(reference);
                List<String> cells = new ArrayList<>(List.of(main ? label : "  " + r, main ? unit : ""));
                implementations.forEach(i -> cells.add(main ? figure(i) : ""));
                compared(implementations, references).forEach(i -> cells.add(String.format(Locale.ROOT, "%.2f",
                        ratio(r, i))));
                console.println(gatewayLine(implementations, references, cells));
            }
            StringBuilder cpu = new StringBuilder("  proxy CPU per " + per + ":");
            StringBuilder latency = new StringBuilder("  p50/p99 µs:");
            for (String implementation : runs.keySet()) {
                if (!implementation.equals(Gateway.DIRECT)) {
                    cpu.append(String.format(Locale.ROOT, " %s %.2f µs,", implementation, cpu(implementation)));
                }
                Run r = median(implementation);
                latency.append(' ').append(implementation).append(' ').append(r.p50()).append('/').append(r.p99())
                        .append(',');
            }
            console.println(cpu.substring(0, cpu.length() - 1));
            if (w.p99() > 0) {
                console.println(latency.substring(0, latency.length() - 1));
            }
        }

        private String figure(String implementation) {
            return String.format(Locale.ROOT, "%,.0f", median(implementation).rate());
        }

        /**
         * The window's figures as JSON: the reference's median, the best peer, and every
         * implementation's median, latencies, CPU, ratio and runs. With a second reference
         * (wharf-conscrypt) beside Wharf: its median too, {@code vsBest} with each reference's
         * ratio to the best peer, and in each peer's (and direct's) entry {@code ratios}, each
         * reference's ratio to that peer. With {@linkplain #counterparts counterparts} that
         * ran, {@code vsCounterpart}: per reference, its counterpart and its ratio to it.
         * Where handshakes are counted, each implementation's {@code resumedFraction} and
         * {@code offeredFraction}.
         *
         * @param side what the CPU figure is of ({@code server}, {@code proxy})
         * @return the members
         */
        Map<String, Object> json(String side) {
            Map<String, Object> j = new LinkedHashMap<>();
            Run w = median(reference);
            String best = best();
            List<String> wharfs = references();
            j.put(reference, w.rate());
            for (String r : wharfs.subList(1, wharfs.size())) {
                j.put(r, median(r).rate());
            }
            if (best != null) {
                j.put("best", best);
                j.put("bestValue", median(best).rate());
                j.put("ratio", ratio(best));
                if (wharfs.size() > 1) {
                    Map<String, Object> vsBest = new LinkedHashMap<>();
                    wharfs.forEach(r -> vsBest.put(r, ratio(r, best)));
                    j.put("vsBest", vsBest);
                }
            }
            Map<String, Object> vsCounterpart = new LinkedHashMap<>();
            for (String r : wharfs) {
                String peer = counterparts.get(r);
                if (peer != null && runs.containsKey(peer)) {
                    Map<String, Object> pair = new LinkedHashMap<>();
                    pair.put("peer", peer);
                    pair.put("ratio", ratio(r, peer));
                    vsCounterpart.put(r, pair);
                }
            }
            if (!vsCounterpart.isEmpty()) {
                j.put("vsCounterpart", vsCounterpart);
            }
            Map<String, Object> each = new LinkedHashMap<>();
            for (String implementation : runs.keySet()) {
                Run m = median(implementation);
                Map<String, Object> ij = new LinkedHashMap<>();
                ij.put("median", m.rate());
                if (!implementation.equals(reference)) {
                    ij.put("ratio", ratio(implementation));
                }
                if (wharfs.size() > 1 && !wharfs.contains(implementation)) {
                    Map<String, Object> ratios = new LinkedHashMap<>();
                    wharfs.forEach(r -> ratios.put(r, ratio(r, implementation)));
                    ij.put("ratios", ratios);
                }
                if (m.p99() > 0) {
                    ij.put("p50Micros", m.p50());
                    ij.put("p99Micros", m.p99());
                }
                if (m.lost() > 0) {
                    ij.put("lost", m.lost());
                }
                if (m.direct() != 0) {
                    ij.put("directBytesPerConnection", m.direct());
                }
                double cpu = cpu(implementation);
                if (cpu > 0) {
                    StringBuilder key = new StringBuilder(side + "CpuMicrosPer");
                    for (String word : per.split(" ")) {
                        key.append(Character.toUpperCase(word.charAt(0))).append(word.substring(1));
                    }
                    ij.put(key.toString(), cpu); // serverCpuMicrosPerRoundTrip, proxyCpuMicrosPerRequest, ...
                }
                if (m.tls() != null) {
                    ij.put("tls", m.tls());
                }
                Resumption resumption = resumption(implementation);
                if (resumption != null) {
                    ij.put("resumedFraction", resumption.resumedFraction());
                    ij.put("offeredFraction", resumption.offeredFraction());
                }
                ij.put("runs", runs.get(implementation).stream().map(Run::rate).toList());
                each.put(implementation, ij);
            }
            j.put("implementations", each);
            return j;
        }

        /**
         * @return the chart's bars: each reference against the best peer (none without a
         *     peer), then each against its counterpart where both ran; where handshakes
         *     should resume, a bar notes a side that did not
         */
        List<Chart.Bar> bars() {
            String best = best();
            List<Chart.Bar> bars = new ArrayList<>();
            if (best != null) {
                for (String r : references()) {
                    bars.add(new Chart.Bar(r.equals(reference) ? label : label + " " + r, unit, median(r).rate(),
                            median(best).rate(), r, best, lowerIsBetter, notResumed(r, best)));
                }
            }
            for (String r : references()) {
                String peer = counterparts.get(r);
                if (peer != null && runs.containsKey(peer)) {
                    // The same label as the row against the best peer: the bar's text names the peer.
                    bars.add(new Chart.Bar(r.equals(reference) ? label : label + " " + r, unit, median(r).rate(),
                            median(peer).rate(), r, peer, lowerIsBetter, notResumed(r, peer)));
                }
            }
            return bars;
        }

        /** @return which of the two did not resume its handshakes where they should have, or "" */
        private String notResumed(String wharf, String peer) {
            if (!resumes) {
                return "";
            }
            List<String> not = new ArrayList<>();
            for (String implementation : List.of(wharf, peer)) {
                Resumption r = resumption(implementation);
                if (r != null && r.resumed() == 0) {
                    not.add(implementation);
                }
            }
            return not.isEmpty() ? "" : "NOT resumed: " + String.join(", ", not);
        }
    }

    /** How long a server or proxy JVM may take to say its port. */
    static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    /**
     * The port a server JVM announces on its first line ({@code port N}; JVM log lines asked for
     * by {@code WHARF_BENCH_SERVER_OPTS}, starting with {@code [}, come before it), within
     * {@link #START_TIMEOUT}: a server that hangs before it listens fails the run rather than
     * holding the bench for ever. The caller stops the process (and its children) when this fails.
     *
     * @throws IOException naming {@code who} if it ends, says something else, or says nothing in time
     */
    static int announcedPort(Process process, BufferedReader lines, String who) throws IOException {
        return announcedPort(process, lines, who, START_TIMEOUT);
    }

    /** {@link #announcedPort(Process, BufferedReader, String)} within a given time, for tests. */
    static int announcedPort(Process process, BufferedReader lines, String who, Duration timeout) throws IOException {
        CompletableFuture<String> first = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try {
                String line = lines.readLine();
                while (line != null && line.startsWith("[")) {
                    line = lines.readLine();
                }
                first.complete(line);
            } catch (IOException e) {
                first.completeExceptionally(e);
            }
        }, "bench-first-line");
        reader.setDaemon(true);
        reader.start();
        String line;
        try {
            line = first.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            // The caller stops it; its output closes then, so the reader ends too.
            throw new IOException(who + " did not say its port within " + timeout.toMillis() + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for " + who + " to start", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IOException(who + " did not start: " + e.getCause(), e.getCause());
        }
        if (line == null || !line.startsWith("port ")) {
            throw new IOException(who + " did not start: " + line);
        }
        try {
            return Integer.parseInt(line.substring(5).trim());
        } catch (NumberFormatException e) {
            throw new IOException(who + " did not start: " + line, e);
        }
    }

    /** A comma-separated option value: each item trimmed, empty ones dropped. */
    static List<String> items(String value) {
        List<String> items = new ArrayList<>();
        for (String item : value.split(",")) {
            if (!item.isBlank()) {
                items.add(item.trim());
            }
        }
        return List.copyOf(items);
    }

    /** Starts the server in its own JVM, drives it, stops it; one run per window. */
    private static List<Run> runOnce(Peer peer, int threads, Scenario scenario, Pki pki, TlsClient tls, Windows windows)
            throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(SERVER_CPUS);
        command.add(peer.java(java));
        command.addAll(serverJvmOptions(peer.id()));
        command.addAll(peer.classPathAndOptions(System.getProperty("java.class.path")));
        command.addAll(List.of(EchoServer.class.getName(), peer.id(), Integer.toString(threads),
                scenario.kind().serverMode()));
        if (scenario.kind().tls()) {
            command.addAll(List.of(pki.chain().toString(), pki.key().toString(), String.join(",", tls.cipherSuites())));
        }
        Process server = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            BufferedReader lines = new BufferedReader(new InputStreamReader(server.getInputStream(),
                    StandardCharsets.UTF_8));
            int port = announcedPort(server, lines, peer.id() + " server");
            InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
            if (scenario.kind() == Kind.IDLE) {
                return List.of(idle(server, lines, address, scenario.connections()));
            }
            TlsClient client = scenario.kind().tls() ? tls : null;
            // The server reads its CPU time when the driver's window opens and when it closes: the
            // driver asks at those moments (a line down a pipe), and reads the answers afterwards.
            PrintStream commands = new PrintStream(server.getOutputStream(), true, StandardCharsets.UTF_8);
            Windows.Listener cpuAtEdges = new Windows.Listener() {
                @Override
                public void opened(int window) {
                    commands.println("cpu");
                }

                @Override
                public void closed(int window) {
                    commands.println("cpu");
                }
            };
            List<EchoLoad.Result> results = switch (scenario.kind()) {
                case BULK, TLS_BULK -> EchoLoad.bulk(address, client, scenario.size(), windows, cpuAtEdges);
                case UDP -> EchoLoad.udp(address, scenario.connections(), scenario.size(), windows, cpuAtEdges);
                case TLS_HANDSHAKES, TLS_RESUME -> EchoLoad.handshakes(address, client,
                        scenario.kind() == Kind.TLS_RESUME, scenario.connections(), scenario.size(), windows, cpuAtEdges);
                default -> EchoLoad.run(address, client, scenario.connections(), scenario.size(), windows, cpuAtEdges);
            };
            List<Run> runs = new ArrayList<>();
            for (EchoLoad.Result result : results) {
                long cpuNanos = -cpuAnswer(lines) + cpuAnswer(lines);
                double units = scenario.kind().bulk() ? result.trips() / 1e6 : result.trips();
                runs.add(new Run(scenario.figure(result), result.p50Micros(), result.p99Micros(), result.lost(), 0,
                        cpuNanos / 1e3 / units, result.tls(), scenario.kind().handshakes()
                                ? new Resumption(result.trips(), result.offered(), result.resumed()) : null));
            }
            return runs;
        } finally {
            server.getOutputStream().close();
            if (!server.waitFor(15, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        }
    }

    /** One gateway run: the tool straight to the upstream, or through a proxy started for it. */
    private static List<Run> gatewayOnce(String implementation, Gateway.Workload workload, Gateway.Upstream upstream,
            Windows windows, long ticksPerSecond) throws IOException, InterruptedException {
        if (implementation.equals(Gateway.DIRECT)) {
            return Gateway.drive(workload, upstream.address().getPort(), windows, null, ticksPerSecond);
        }
        try (Gateway.Proxy proxy = Gateway.proxy(implementation, upstream.address(), SERVER_CPUS,
                gatewayJvmOptions(implementation))) {
            return Gateway.drive(workload, proxy.port(), windows, proxy::ticks, ticksPerSecond);
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
                    0, null);
        } finally {
            for (java.nio.channels.SocketChannel channel : open) {
                channel.close();
            }
        }
    }

    /** Reads the server's answer to a {@code cpu} asked earlier: its JVM's CPU time then, in nanoseconds. */
    private static long cpuAnswer(BufferedReader lines) throws IOException {
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
    record Pki(Path chain, Path key, SSLContext trust) {

        /** @return the driver's TLS: trusting the certificate, offering only {@link EchoServer#TLS_SUITE} */
        TlsClient client() {
            return client(List.of(EchoServer.TLS_SUITE));
        }

        /**
         * @param suites the cipher suites offered
         * @return the driver's TLS: trusting the certificate, offering those suites; its
         *     {@link TlsClient#ownSessions()} copies have contexts of their own
         */
        TlsClient client(List<String> suites) {
            return new TlsClient(trust, suites, () -> TlsContextBuilder.create().trustCertificates(chain).build());
        }

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

    private static String machine() {
        return (Runtime.getRuntime().availableProcessors() + " cores, " + System.getProperty("os.name") + " "
                + System.getProperty("os.arch") + ", Java " + System.getProperty("java.version"))
                .replace("\"", "'");
    }
}
