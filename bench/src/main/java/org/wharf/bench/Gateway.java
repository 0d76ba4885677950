package org.wharf.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The gateway scenarios: a client tool drives an upstream server directly, then through
 * Wharf's proxy, HAProxy and nginx's stream module, each proxy started for the run in its own
 * process on the servers' pinned core, with one thread or worker; the client tool and the
 * upstream run on the driver's core. Each proxy's CPU time over the measured run comes from
 * {@code /proc/PID/stat}, so all are counted alike. On request ({@code --peers}), Wharf and
 * HAProxy also run busy polling ({@code wharf-busy}, {@code haproxy-busy}): each polls
 * instead of sleeping in epoll_wait, so the pair compares like with like.
 */
final class Gateway {

    /** The client measured without a proxy in between. */
    static final String DIRECT = "direct";
    /**
     * The proxies, in the order each pair runs them (after {@link #DIRECT}): Wharf's rows
     * ({@link #WHARFS}) first, each busy-polling row after its sleeping one.
     */
    static final List<String> PROXIES = List.of("wharf", "wharf-busy", "haproxy", "haproxy-busy", "nginx");

    /**
     * Wharf's rows, the main one first: {@code wharf}, and {@code wharf-busy}, a second Wharf
     * row as {@code wharf-conscrypt} is for TLS.
     */
    static final List<String> WHARFS = List.of("wharf", "wharf-busy");

    /**
     * The proxies that run only when {@code --peers} names them: busy polling keeps the
     * proxy's core at 100% whatever the load, which is not how either is run by default,
     * and a full run stays as long as it was.
     */
    static final List<String> ON_REQUEST = List.of("wharf-busy", "haproxy-busy");

    /**
     * Each busy-polling Wharf row and the peer it is compared with like for like. That peer
     * is never the best peer of a row: that stays the best of the proxies as they run by
     * default, as in the result files from before these rows.
     */
    static final Map<String, String> COUNTERPARTS = Map.of("wharf-busy", "haproxy-busy");

    /** The system property Wharf's NIO transport reads its busy poll from, outside a framework. */
    static final String BUSY_POLL_PROPERTY = "org.wharf.transport.nio.busyPollMicros";

    /** The environment variable that sets {@code wharf-busy}'s busy poll, in microseconds. */
    static final String BUSY_POLL_ENV = "WHARF_BENCH_BUSY_POLL_MICROS";

    /** {@code wharf-busy}'s busy poll without {@link #BUSY_POLL_ENV}, in microseconds. */
    static final int DEFAULT_BUSY_POLL_MICROS = 50;

    /** The HTTP upstream's file: a small page, so the figure is per request rather than per byte. */
    static final int PAGE_BYTES = 1024;
    static final int WRK_CONNECTIONS = 32;
    static final int REDIS_CONNECTIONS = 50;

    /** What a gateway scenario sends through the proxy, and with which tool. */
    enum Workload {
        /** wrk, one thread, 32 keep-alive connections, against nginx serving a 1 KiB file. */
        HTTP("gateway-http", "requests/s", "request", List.of("wrk", "nginx")),
        /** redis-benchmark SET, 50 connections, against redis-server. */
        REDIS_SET("gateway-redis-set", "requests/s", "request", List.of("redis-server", "redis-benchmark")),
        /** redis-benchmark GET, 50 connections, against redis-server. */
        REDIS_GET("gateway-redis-get", "requests/s", "request", List.of("redis-server", "redis-benchmark")),
        /** iperf3, one stream, one way. */
        BULK("gateway-bulk", "MB/s", "MB", List.of("iperf3"));

        private final String scenario;
        private final String unit;
        private final String per;
        private final List<String> tools;

        Workload(String scenario, String unit, String per, List<String> tools) {
            this.scenario = scenario;
            this.unit = unit;
            this.per = per;
            this.tools = tools;
        }

        /** @return the scenario's name */
        String scenario() {
            return scenario;
        }

        /** @return the figure's unit */
        String unit() {
            return unit;
        }

        /** @return what CPU time is counted per */
        String per() {
            return per;
        }

        /** @return the client command, for the table */
        String tool() {
            return switch (this) {
                case HTTP -> "wrk -t1 -c" + WRK_CONNECTIONS;
                case REDIS_SET -> "redis-benchmark -t set -c " + REDIS_CONNECTIONS;
                case REDIS_GET -> "redis-benchmark -t get -c " + REDIS_CONNECTIONS;
                case BULK -> "iperf3, one stream";
            };
        }

        /**
         * Why the scenario cannot run here.
         *
         * @return the programs it needs that are not installed, empty if none
         */
        Optional<String> unavailable() {
            List<String> missing = tools.stream().filter(tool -> !installed(tool)).toList();
            return missing.isEmpty() ? Optional.empty()
                    : Optional.of(String.join(", ", missing) + " not installed (Debian: apt-get install "
                            + String.join(" ", missing.stream().map(Gateway::debianPackage).toList()) + ")");
        }
    }

    /**
     * What one measured run of a client tool gave.
     *
     * @param rate its figure (requests/s, MB/s)
     * @param units requests (or MB) it completed, for CPU per unit
     * @param p50Micros its median latency, 0 if it reports none
     * @param p99Micros its 99th percentile, 0 if it reports none
     */
    record Measured(double rate, double units, long p50Micros, long p99Micros) {
    }

    private Gateway() {
    }

    // ---- what is installed ----

    static boolean installed(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        // Debian keeps haproxy and nginx in /usr/sbin, not always on a user's PATH.
        return Files.isExecutable(Path.of("/usr/sbin", program));
    }

    private static String program(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, name))) {
                return Path.of(dir, name).toString();
            }
        }
        return Path.of("/usr/sbin", name).toString();
    }

    static String debianPackage(String program) {
        return switch (program) {
            case "redis-benchmark" -> "redis-tools";
            default -> program;
        };
    }

    // ---- the proxies' kinds ----

    /** @return whether the proxy is Wharf's gateway JVM ({@code wharf}, {@code wharf-busy}) */
    static boolean wharf(String proxy) {
        return WHARFS.contains(proxy);
    }

    /** @return whether the proxy polls instead of sleeping ({@code wharf-busy}, {@code haproxy-busy}) */
    static boolean busyPolling(String proxy) {
        return proxy.endsWith("-busy");
    }

    /** @return the program a peer proxy runs ({@code haproxy} for {@code haproxy-busy}) */
    static String binary(String proxy) {
        return busyPolling(proxy) ? proxy.substring(0, proxy.length() - "-busy".length()) : proxy;
    }

    /**
     * {@code wharf-busy}'s busy poll: {@link #BUSY_POLL_ENV}, else {@link #DEFAULT_BUSY_POLL_MICROS}.
     *
     * @return microseconds
     * @throws IllegalArgumentException if the variable is not a whole number of at least 0
     */
    static int busyPollMicros() {
        return busyPollMicros(System.getenv(BUSY_POLL_ENV));
    }

    /**
     * @param value {@link #BUSY_POLL_ENV}'s value, or null if unset
     * @return microseconds
     * @throws IllegalArgumentException if the value is not a whole number of at least 0
     */
    static int busyPollMicros(String value) {
        if (value == null || value.isBlank()) {
            return DEFAULT_BUSY_POLL_MICROS;
        }
        try {
            int micros = Integer.parseInt(value.trim());
            if (micros >= 0) {
                return micros;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new IllegalArgumentException(BUSY_POLL_ENV + "=" + value + ": microseconds, a whole number of at least 0");
    }

    /**
     * The Wharf gateway JVM's options for one of Wharf's rows: the ones given, and for
     * {@code wharf-busy} the busy poll's system property. A Wharf that does not read the
     * property yet ignores it, and the row is Wharf's again.
     *
     * @param proxy {@code wharf} or {@code wharf-busy}
     * @param jvm the options every Wharf gateway JVM has
     * @param busyPollMicros the busy poll, for {@code wharf-busy}
     * @return the options
     */
    static List<String> wharfJvmOptions(String proxy, List<String> jvm, int busyPollMicros) {
        List<String> options = new ArrayList<>(jvm);
        if (busyPolling(proxy)) {
            options.add("-D" + BUSY_POLL_PROPERTY + "=" + busyPollMicros);
        }
        return options;
    }

    /**
     * Why a proxy cannot run here: not installed, or its configuration does not pass its own
     * check ({@code haproxy -c}, {@code nginx -t}: nginx without the stream module).
     *
     * @param proxy one of {@link #PROXIES}
     * @return the reason, empty if it can run
     */
    static Optional<String> unavailable(String proxy) {
        if (wharf(proxy)) {
            return Optional.empty();
        }
        String binary = binary(proxy);
        if (!installed(binary)) {
            return Optional.of(binary + " is not installed (Debian: apt-get install "
                    + (binary.equals("nginx") ? "nginx libnginx-mod-stream" : binary) + ")");
        }
        Path dir = null;
        try {
            dir = folder("wharf-bench-check");
            InetSocketAddress upstream = new InetSocketAddress(InetAddress.getLoopbackAddress(), 9);
            List<String> check;
            if (binary.equals("haproxy")) { // for haproxy-busy, with busy-polling: checked too
                Path cfg = Files.writeString(dir.resolve("haproxy.cfg"), GatewayConfig.haproxy(Iperf.freePort(), upstream,
                        busyPolling(proxy)));
                check = List.of(program("haproxy"), "-c", "-f", cfg.toString());
            } else {
                Path conf = Files.writeString(dir.resolve("nginx.conf"), GatewayConfig.nginxStream(dir, Iperf.freePort(),
                        upstream, GatewayConfig.streamModule()));
                check = List.of(program("nginx"), "-t", "-q", "-e", dir.resolve("error.log").toString(), "-p",
                        dir.toString(), "-c", conf.toString());
            }
            Process p = new ProcessBuilder(check).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                // Debian's nginx package has no stream module of its own: it is a package beside it.
                String hint = out.contains("unknown directive \"stream\"")
                        ? " (nginx has no stream module: apt-get install libnginx-mod-stream)" : "";
                return Optional.of(String.join(" ", check) + " failed: " + out + hint);
            }
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of(proxy + " could not be checked: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.of("interrupted");
        } finally {
            delete(dir);
        }
    }

    // ---- upstreams ----

    /** An upstream server, started once per scenario and shared by every run. */
    record Upstream(InetSocketAddress address, Process process, Path dir) implements AutoCloseable {
        @Override
        public void close() {
            stop(process);
            delete(dir);
        }
    }

    /**
     * Starts the workload's upstream on a loopback port, on the calling process's cores.
     *
     * @param workload the workload
     * @return the running upstream
     * @throws IOException if it does not start
     */
    static Upstream upstream(Workload workload) throws IOException, InterruptedException {
        Path dir = folder("wharf-bench-upstream");
        int port = Iperf.freePort();
        InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        Process process;
        switch (workload) {
            case HTTP -> {
                Path root = Files.createDirectories(dir.resolve("www"));
                Files.writeString(root.resolve("index.html"), page());
                Path conf = Files.writeString(dir.resolve("nginx.conf"), GatewayConfig.nginxHttp(dir, port, root));
                process = started(List.of(program("nginx"), "-e", dir.resolve("error.log").toString(), "-p",
                        dir.toString(), "-c", conf.toString()), dir, "nginx (HTTP upstream)");
            }
            case REDIS_SET, REDIS_GET -> process = started(List.of(program("redis-server"), "--port",
                    Integer.toString(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"), dir,
                    "redis-server");
            case BULK -> process = Iperf.server(List.of(), port, false);
            default -> throw new IllegalArgumentException(workload.toString());
        }
        Upstream upstream = new Upstream(address, process, dir);
        try {
            if (workload != Workload.BULK) { // iperf3 -s said it listens
                awaitListening(address, process, dir, workload.tools.get(workload == Workload.HTTP ? 1 : 0));
            }
            if (workload == Workload.REDIS_GET) {
                // GET of the key SET writes (redis-benchmark's key:__rand_int__), so each answer carries a value.
                measure(Workload.REDIS_SET, port, 10_000);
            }
        } catch (IOException | RuntimeException e) {
            upstream.close();
            throw e;
        }
        return upstream;
    }

    private static String page() {
        StringBuilder page = new StringBuilder("<!doctype html><title>wharf bench</title><p>");
        while (page.length() < PAGE_BYTES - 1) {
            page.append((char) ('a' + page.length() % 26));
        }
        return page.append('\n').toString();
    }

    // ---- proxies ----

    /** A proxy process: where it listens, and its pid for /proc. */
    record Proxy(String kind, int port, Process process, Path dir) implements AutoCloseable {
        @Override
        public void close() {
            if (wharf(kind)) {
                try {
                    process.getOutputStream().close(); // the gateway stops when standard input closes
                } catch (IOException e) {
                    // it is stopped below either way
                }
            }
            stop(process);
            delete(dir);
        }

        /** @return the proxy's CPU time so far (with its children: nginx's worker), in ticks */
        long ticks() throws IOException {
            return Proc.cpuTicksOfTree(process.pid());
        }
    }

    /**
     * Starts a proxy in front of an upstream, on a loopback port.
     *
     * @param kind one of {@link #PROXIES}
     * @param upstream where it forwards
     * @param pin the command prefix that pins it to the servers' cores (may be empty)
     * @param jvm the Wharf gateway JVM's options; {@code wharf-busy} adds its busy poll's
     *     ({@link #wharfJvmOptions})
     * @return the running proxy, listening
     * @throws IOException if it does not start
     */
    static Proxy proxy(String kind, InetSocketAddress upstream, List<String> pin, List<String> jvm)
            throws IOException, InterruptedException {
        Path dir = folder("wharf-bench-" + kind);
        List<String> command = new ArrayList<>(pin);
        int port;
        Process process;
        try {
            switch (kind) {
                case "wharf", "wharf-busy" -> {
                    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
                    command.addAll(wharfJvmOptions(kind, jvm, busyPolling(kind) ? busyPollMicros() : 0));
                    command.addAll(List.of("-cp", System.getProperty("java.class.path"), WharfGateway.class.getName(),
                            "127.0.0.1:" + upstream.getPort()));
                    process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
                    java.io.BufferedReader lines = new java.io.BufferedReader(new java.io.InputStreamReader(
                            process.getInputStream(), StandardCharsets.UTF_8));
                    try {
                        port = Bench.announcedPort(process, lines, "Wharf's gateway");
                    } catch (IOException e) {
                        stop(process);
                        throw e;
                    }
                    return new Proxy(kind, port, process, dir);
                }
                case "haproxy", "haproxy-busy" -> {
                    port = Iperf.freePort();
                    Path cfg = Files.writeString(dir.resolve("haproxy.cfg"), GatewayConfig.haproxy(port, upstream,
                            busyPolling(kind)));
                    command.addAll(List.of(program("haproxy"), "-db", "-f", cfg.toString()));
                }
                case "nginx" -> {
                    port = Iperf.freePort();
                    Path conf = Files.writeString(dir.resolve("nginx.conf"), GatewayConfig.nginxStream(dir, port,
                            upstream, GatewayConfig.streamModule()));
                    command.addAll(List.of(program("nginx"), "-e", dir.resolve("error.log").toString(), "-p",
                            dir.toString(), "-c", conf.toString()));
                }
                default -> throw new IllegalArgumentException("proxy = " + kind + ": one of " + PROXIES);
            }
            process = started(command, dir, kind);
        } catch (IOException | RuntimeException e) {
            delete(dir);
            throw e;
        }
        Proxy proxy = new Proxy(kind, port, process, dir);
        try {
            awaitListening(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), process, dir, kind);
        } catch (IOException | RuntimeException e) {
            proxy.close();
            throw e;
        }
        return proxy;
    }

    // ---- driving ----

    /**
     * Drives a port with the workload's tool: unmeasured up to each window's start, measured
     * for each window's length (whole runs of the tool, so each measured run has its own
     * count). {@code cpu} is read just before and just after each measured run.
     *
     * @param workload the workload
     * @param port the upstream's or a proxy's port
     * @param windows when to measure
     * @param cpu the proxy's CPU ticks, or null for none (direct)
     * @param ticksPerSecond the unit of {@code cpu}
     * @return per window, the figure and the proxy's CPU per unit of work (µs), 0 without cpu
     * @throws IOException if the tool fails
     */
    static List<Bench.Run> drive(Workload workload, int port, Windows windows, Ticks cpu, long ticksPerSecond)
            throws IOException, InterruptedException {
        List<Bench.Run> runs = new ArrayList<>();
        long elapsed = 0;
        double lastRate = 0;
        for (int w = 0; w < windows.count(); w++) {
            long gap = windows.start(w).toNanos() - elapsed;
            if (gap > 0) {
                lastRate = warm(workload, port, Duration.ofNanos(gap), lastRate);
                elapsed += gap;
            }
            long before = cpu == null ? 0 : cpu.get();
            Measured measured = workload == Workload.REDIS_SET || workload == Workload.REDIS_GET
                    ? measure(workload, port, requestsFor(lastRate, windows.length()))
                    : measure(workload, port, windows.length());
            long after = cpu == null ? 0 : cpu.get();
            elapsed += windows.length().toNanos();
            lastRate = measured.rate();
            double cpuMicros = cpu == null ? 0 : (after - before) * 1e6 / ticksPerSecond / measured.units();
            runs.add(new Bench.Run(measured.rate(), measured.p50Micros(), measured.p99Micros(), 0, 0, cpuMicros, null));
        }
        return runs;
    }

    /** Reads a CPU counter. */
    interface Ticks {
        long get() throws IOException;
    }

    /** Requests that take about {@code time} at {@code rate}; at least 2,000 (the first warm-up guesses). */
    static long requestsFor(double rate, Duration time) {
        return Math.max(2_000, Math.round(rate * time.toNanos() / 1e9));
    }

    /** Runs the tool unmeasured for about {@code time}; returns the last rate seen (redis-benchmark's count needs it). */
    private static double warm(Workload workload, int port, Duration time, double lastRate)
            throws IOException, InterruptedException {
        if (workload != Workload.REDIS_SET && workload != Workload.REDIS_GET) {
            // Two runs of the tool, as redis-benchmark's several below: its connections close and
            // open again before the window, as they do in it. With one run the window opened on
            // the first close a compiled proxy had seen, and the JIT's recompiles of the whole
            // inlined loop (the close paths' traps) landed in it, on the proxy's one core.
            if (time.toSeconds() >= 2) {
                measure(workload, port, Duration.ofSeconds(1));
                time = time.minusSeconds(1);
            }
            return measure(workload, port, time).rate();
        }
        long end = System.nanoTime() + time.toNanos();
        double rate = lastRate;
        for (long left; (left = end - System.nanoTime()) > 0;) {
            rate = measure(workload, port, requestsFor(rate, Duration.ofNanos(left))).rate();
        }
        return rate;
    }

    /** Runs wrk or iperf3 for {@code time} (whole seconds). */
    private static Measured measure(Workload workload, int port, Duration time) throws IOException, InterruptedException {
        if (workload == Workload.BULK) {
            Map<String, Double> received = Iperf.client(port, time, List.of());
            double mb = received.get("bytes") / 1e6;
            return new Measured(mb / received.get("seconds"), mb, 0, 0);
        }
        String out = run(List.of("wrk", "-t1", "-c" + WRK_CONNECTIONS, "-d" + Iperf.seconds(time) + "s", "--latency",
                "http://127.0.0.1:" + port + "/index.html"));
        return wrk(out);
    }

    /** Runs redis-benchmark for {@code requests} requests. */
    private static Measured measure(Workload workload, int port, long requests) throws IOException, InterruptedException {
        String test = workload == Workload.REDIS_GET ? "get" : "set";
        String out = run(List.of("redis-benchmark", "-h", "127.0.0.1", "-p", Integer.toString(port), "-t", test, "-n",
                Long.toString(requests), "-c", Integer.toString(REDIS_CONNECTIONS), "--csv"));
        return redisBenchmark(out, requests);
    }

    private static final Pattern WRK_RATE = Pattern.compile("Requests/sec:\\s+([0-9.]+)");
    private static final Pattern WRK_COUNT = Pattern.compile("(\\d+) requests in ");
    private static final Pattern WRK_PERCENTILE = Pattern.compile("(?m)^\\s+(50|99)%\\s+([0-9.]+)(us|ms|s)\\s*$");
    private static final Pattern WRK_NON_2XX = Pattern.compile("Non-2xx or 3xx responses: (\\d+)");
    private static final Pattern WRK_SOCKET_ERRORS = Pattern.compile(
            "Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)");

    /**
     * wrk's report, with {@code --latency}.
     *
     * @param out what wrk printed
     * @return requests/s, requests, median and 99th percentile
     * @throws IOException if the report has no rate, or reports failed requests or connections
     */
    static Measured wrk(String out) throws IOException {
        Matcher rate = WRK_RATE.matcher(out);
        Matcher count = WRK_COUNT.matcher(out);
        if (!rate.find() || !count.find()) {
            throw new IOException("no Requests/sec in wrk's report: " + out);
        }
        Matcher non2xx = WRK_NON_2XX.matcher(out);
        if (non2xx.find()) {
            throw new IOException(non2xx.group(1) + " answers were not 2xx or 3xx: " + out);
        }
        Matcher errors = WRK_SOCKET_ERRORS.matcher(out);
        if (errors.find() && (Long.parseLong(errors.group(1)) > 0 || Long.parseLong(errors.group(4)) > 0)) {
            throw new IOException("connections failed or timed out: " + errors.group() + ": " + out);
        }
        long p50 = 0;
        long p99 = 0;
        for (Matcher m = WRK_PERCENTILE.matcher(out); m.find();) {
            double value = Double.parseDouble(m.group(2));
            long micros = Math.round(switch (m.group(3)) {
                case "us" -> value;
                case "ms" -> value * 1e3;
                default -> value * 1e6;
            });
            if (m.group(1).equals("50")) {
                p50 = micros;
            } else {
                p99 = micros;
            }
        }
        return new Measured(Double.parseDouble(rate.group(1)), Long.parseLong(count.group(1)), p50, p99);
    }

    /**
     * redis-benchmark's {@code --csv} report of one test.
     *
     * @param out what redis-benchmark printed
     * @param requests the requests it was asked to make ({@code -n})
     * @return requests/s, requests, median and 99th percentile
     * @throws IOException if the report has no row
     */
    static Measured redisBenchmark(String out, long requests) throws IOException {
        for (String line : out.split("\\R")) {
            String[] fields = line.replace("\"", "").split(",");
            if (fields.length >= 7 && !fields[0].equals("test")) {
                try {
                    return new Measured(Double.parseDouble(fields[1]), requests,
                            Math.round(Double.parseDouble(fields[4]) * 1e3), Math.round(Double.parseDouble(fields[6]) * 1e3));
                } catch (NumberFormatException e) {
                    throw new IOException("redis-benchmark row '" + line + "' has a field that is not a number", e);
                }
            }
        }
        throw new IOException("no result row in redis-benchmark's report: " + out);
    }

    // ---- processes and folders ----

    private static String run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + " failed (exit " + p.exitValue() + "): " + out);
        }
        return out;
    }

    /** Starts a server whose output goes to a file in its folder (read if it fails). */
    private static Process started(List<String> command, Path dir, String what) throws IOException {
        return new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve(what.replaceAll("[^a-z0-9]+", "-") + ".out").toFile()).start();
    }

    /**
     * Waits, with a deadline, until a server listens on its port. It looks in /proc/net/tcp
     * rather than connecting: a connection to a proxy would reach the upstream (and iperf3
     * takes every connection for a test).
     *
     * @throws IOException if it ends first or the deadline passes, with what it printed
     */
    private static void awaitListening(InetSocketAddress address, Process process, Path dir, String what)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!Proc.listening(address.getPort())) {
            if (!process.isAlive() || System.nanoTime() - deadline > 0) {
                throw new IOException(what + " is not listening on " + address.getPort() + " ("
                        + (process.isAlive() ? "still starting after 15 s" : "ended with " + process.exitValue())
                        + "): " + output(dir));
            }
            Thread.sleep(20); // polling for a port that is not open yet; the deadline bounds it
        }
    }

    private static String output(Path dir) {
        StringBuilder all = new StringBuilder();
        try (var files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".out")
                    || f.toString().endsWith(".log"))::iterator) {
                all.append(f.getFileName()).append(": ").append(Files.readString(f).trim()).append(' ');
            }
        } catch (IOException e) {
            all.append("(").append(e).append(")");
        }
        return all.toString().trim();
    }

    /** Stops a process and its children: politely, then by force. */
    static void stop(Process process) {
        List<ProcessHandle> children = process.descendants().toList();
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        children.forEach(ProcessHandle::destroyForcibly); // nginx's worker, should its master be gone first
    }

    /** A folder of the run's own, readable by nginx's unprivileged worker (it serves files from it). */
    static Path folder(String prefix) throws IOException {
        Path dir = Files.createTempDirectory(prefix);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        return dir;
    }

    static void delete(Path dir) {
        if (dir == null) {
            return;
        }
        try (var all = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) all.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            System.err.println("could not delete " + dir + ": " + e);
        }
    }
}
