package org.wharf.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.wharf.transport.tck.Peers;
import org.wharf.transport.tck.RedisServer;

/**
 * Three nodes of the distribution behind Debian's HAProxy, on loopback, as they would run
 * behind a balancer in production: one shared configuration folder laid out as Kubernetes
 * mounts a ConfigMap ({@code ..data} swapped atomically), per-node ports from environment
 * variables, HAProxy checking each node's {@code /ready} and sending PROXY v2. Under steady
 * load (wrk on HTTP, redis-benchmark through a gateway route to a real redis-server):
 * <ol>
 *   <li>a rolling upgrade of two protocol bundles (the HTTP one serving wrk, the gateway one
 *       serving Redis), node by node, by dropping newer versions into {@code deploy/};</li>
 *   <li>a rolling restart, node by node: SIGTERM (exit 0 after the graceful shutdown), start;</li>
 * </ol>
 * and not one request fails. Then a configuration change made by a {@code ..data} swap
 * reaches all three nodes (the time it took is printed), and a {@code kill -9} of one node
 * fails only the connections open on it, while the balancer routes around it. The figures go
 * to {@code target/cluster-figures.txt}.
 */
class ClusterIT {

    private static final long GRACE = 1500;
    private static final long DRAIN = 4000;
    private static final Pattern STATUS_CODE = Pattern.compile("^HTTP/1\\.1 (\\d{3})");

    private final List<Node> nodes = new ArrayList<>();
    private final List<Process> peers = new ArrayList<>();
    private final List<AutoCloseable> closeAtEnd = new ArrayList<>();
    private final StringBuffer haproxyLog = new StringBuffer();
    private final List<String> figures = new ArrayList<>();
    private final List<RedisLoad> loads = new ArrayList<>();
    private final List<Wrk> wrks = new ArrayList<>();
    private Path config;
    /** What {@link #mountConfig} last wrote, by file name. */
    private final Map<String, String> mounted = new java.util.HashMap<>();
    private Path work;
    private int redisPort;
    private int webFront;
    private int redisFront;

    @AfterEach
    void stopAll() throws Exception {
        for (RedisLoad load : loads) {
            load.running.set(false);
            Process p = load.current;
            if (p != null) {
                p.destroyForcibly(); // a redis-benchmark left running spins on a balancer that is gone
            }
        }
        for (Wrk w : wrks) {
            w.process().destroyForcibly();
        }
        for (Node n : nodes) {
            n.kill();
        }
        for (AutoCloseable c : closeAtEnd) {
            c.close();
        }
        for (Process p : peers) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        if (!figures.isEmpty()) {
            Files.write(Path.of("target", "cluster-figures.txt"), figures);
        }
    }

    @Test
    void rollingUpgradeAndRestartBehindHaproxyLoseNoRequest() throws Exception {
        work = Files.createTempDirectory("wharf-cluster");
        int[] ports = freePorts(3 + 3 * 4);
        redisPort = ports[0];
        webFront = ports[1];
        redisFront = ports[2];
        startRedis();
        config = work.resolve("config");
        Files.createDirectories(config);
        mountConfig(Map.of(
                "org.wharf.server-web.cfg", """
                        # The HTTP endpoint behind the balancer: the status protocol, clients known by PROXY v2.
                        name = web
                        transport = tcp
                        host = 127.0.0.1
                        port = ${wharf.web.port}
                        protocol = status
                        proxyProtocol = v2
                        proxyProtocol.trusted = 127.0.0.1
                        """,
                "org.wharf.proxy-redis.cfg", """
                        # A gateway route to Redis behind the balancer.
                        name = redis
                        host = 127.0.0.1
                        port = ${wharf.gateway.port}
                        proxy.upstreams = 127.0.0.1:${wharf.redis.port}
                        proxy.protocol = redis
                        proxy.pooled = true
                        # One line per connection, thousands a second here, would bury the lines this test reads.
                        proxy.accessLog = false
                        proxyProtocol = v2
                        proxyProtocol.trusted = 127.0.0.1
                        """));
        for (int i = 0; i < 3; i++) {
            nodes.add(new Node(i + 1, copyDistribution(), ports[3 + 4 * i], ports[4 + 4 * i], ports[5 + 4 * i],
                    ports[6 + 4 * i]));
        }
        // HAProxy binds its fronts before the nodes start: their outgoing connections (to Redis, the
        // health checks) take local ports from the same range the free ports came from, and one
        // took a front's port between the look and HAProxy's bind.
        startHaproxy();
        for (Node n : nodes) {
            n.start();
        }
        for (Node n : nodes) {
            n.awaitReady();
        }
        awaitAllUp();

        // ---- steady load, a rolling upgrade, then a rolling restart ----
        Wrk wrk = Wrk.start(webFront, 4, 120, "/live");
        wrks.add(wrk);
        RedisLoad redis = new RedisLoad(redisFront);
        loads.add(redis);
        redis.start();
        awaitTrue(() -> redis.requests.get() > 0, 60_000, () -> "redis-benchmark got going: " + redis.report);

        Path http = upgraded("protocol.http", "0.1.1");
        Path proxy = upgraded("protocol.proxy", "0.1.1");
        long upgradeStart = System.nanoTime();
        for (Node n : nodes) {
            Files.copy(http, n.home.resolve("deploy").resolve(http.getFileName()));
            Files.copy(proxy, n.home.resolve("deploy").resolve(proxy.getFileName()));
            awaitTrue(() -> n.serves("web", "0.1.1") && n.serves("redis", "0.1.1"), 60_000,
                    () -> "node " + n.index + " serves web and redis with 0.1.1: " + n.status());
        }
        figure("rolling upgrade of protocol.http and protocol.proxy on 3 nodes: " + millis(upgradeStart) + " ms");

        for (Node n : nodes) {
            long stopStart = System.nanoTime();
            int exit = n.stop();
            long stopped = millis(stopStart);
            assertEquals(0, exit, "node " + n.index + " exits 0 on SIGTERM:\n" + n.log);
            assertTrue(stopped >= GRACE, "node " + n.index + " served its grace period, yet stopped in " + stopped + " ms");
            n.start();
            n.awaitReady();
            awaitTrue(() -> up("n" + n.index), 60_000, () -> "HAProxy takes node " + n.index + " back:\n" + stats());
            figure("node " + n.index + " SIGTERM to exit " + stopped + " ms, back in the balancer "
                    + millis(stopStart) + " ms after SIGTERM");
        }
        redis.stop();
        String wrkReport = wrk.stop();
        figure("through the rolling upgrade and restart: wrk " + wrk.requests(wrkReport) + " requests, "
                + wrk.failures(wrkReport) + " failed; redis-benchmark " + redis.requests.get() + " requests in "
                + redis.runs.get() + " runs, " + redis.failedRuns.get() + " failed runs");
        assertEquals(0, wrk.failures(wrkReport), "no HTTP request failed:\n" + wrkReport);
        assertTrue(wrk.requests(wrkReport) > 1000, wrkReport);
        assertEquals(0, redis.failedRuns.get(), "no Redis request failed:\n" + redis.report);
        assertTrue(redis.requests.get() > 1000, redis.report.toString());

        // ---- a configuration change, Kubernetes style, reaches every node ----
        long swap = System.nanoTime();
        mountConfig(Map.of(
                "org.wharf.server-web.cfg", mounted.get("org.wharf.server-web.cfg"),
                "org.wharf.proxy-redis.cfg", mounted.get("org.wharf.proxy-redis.cfg"),
                "org.wharf.server-extra.cfg", """
                        name = extra
                        transport = tcp
                        host = 127.0.0.1
                        port = ${wharf.extra.port}
                        protocol = echo
                        """));
        for (Node n : nodes) {
            awaitTrue(() -> n.echoes(n.extraPort), 30_000, () -> "node " + n.index + " serves the new endpoint: "
                    + n.status());
        }
        figure("a ..data swap adding an endpoint: served by all 3 nodes " + millis(swap) + " ms after the swap"
                + " (FileInstall polls the folder every 1000 ms)");
        // A change inside a file: through the same visible symlink, only ..data moved.
        long change = System.nanoTime();
        mountConfig(Map.of(
                "org.wharf.server-web.cfg", mounted.get("org.wharf.server-web.cfg"),
                "org.wharf.proxy-redis.cfg", mounted.get("org.wharf.proxy-redis.cfg"),
                "org.wharf.server-extra.cfg", mounted.get("org.wharf.server-extra.cfg").replace("protocol = echo",
                        "protocol = status")));
        for (Node n : nodes) {
            awaitTrue(() -> get(n.extraPort, "/live").equals("200 live"), 30_000, () -> "node " + n.index
                    + " serves the changed endpoint: " + n.status());
        }
        figure("a ..data swap changing a file: followed by all 3 nodes " + millis(change) + " ms after the swap");

        // ---- the nodes see the real client, not the balancer ----
        try (Socket client = new Socket()) {
            client.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.7"), 0));
            client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), webFront), 5_000);
            client.setSoTimeout(10_000);
            client.getOutputStream().write("GET /live HTTP/1.1\r\nHost: n\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            byte[] answer = new byte[12];
            client.getInputStream().readNBytes(answer, 0, answer.length);
            assertEquals("HTTP/1.1 200", new String(answer, StandardCharsets.US_ASCII));
            String seen = "\"client\":\"127.0.0.7:" + client.getLocalPort() + "\",\"proxiedBy\":\"127.0.0.1:";
            awaitTrue(() -> nodes.stream().anyMatch(n -> get(n.statusPort, "/connections?endpoint=web").contains(seen)),
                    10_000, () -> "a node lists the client " + seen);
        }

        // ---- kill -9: only the connections open on that node fail ----
        Wrk kill = Wrk.start(webFront, 9, 8, "/live");
        wrks.add(kill);
        Node victim = nodes.get(2);
        // Once all nine of wrk's connections are open, somewhere, count those on the victim.
        awaitTrue(() -> nodes.stream().mapToLong(n -> n.open("web")).sum() == 9 && victim.open("web") >= 1, 30_000,
                () -> "wrk's 9 connections open, some on node 3: " + nodes.stream().map(n -> n.open("web")).toList());
        long openOnVictim = victim.open("web");
        long sentBefore = sessions("web", "n3");
        long killedAt = System.nanoTime();
        victim.kill();
        awaitTrue(() -> !up("n3"), 30_000, () -> "HAProxy marks node 3 down:\n" + stats());
        long markedDown = millis(killedAt);
        // Connections HAProxy sent the dead node before its checks failed (a retry redispatches them,
        // but one that HAProxy gives up on fails too): they went to the killed node as well.
        long sentWhileDying = sessions("web", "n3") - sentBefore;
        String killReport = kill.await();
        long failed = kill.failures(killReport);
        figure("kill -9 of node 3 with " + openOnVictim + " open connection(s) on it (" + sentWhileDying
                + " more sent there before it was marked down): " + failed
                + " failed request(s) of " + kill.requests(killReport) + ", marked down by HAProxy after "
                + markedDown + " ms");
        assertTrue(failed <= openOnVictim + sentWhileDying, "only connections on the killed node fail: " + failed
                + " failures, " + openOnVictim + " open there, " + sentWhileDying + " sent there after\n" + killReport);
        assertTrue(kill.requests(killReport) > 1000, killReport);
        figures.forEach(System.out::println);
        // The nodes only read the shared folder: every file is as it was written.
        for (String name : List.of("org.wharf.server-web.cfg", "org.wharf.proxy-redis.cfg", "org.wharf.server-extra.cfg")) {
            assertEquals(mounted.get(name), Files.readString(config.resolve(name)), name + " is unchanged");
        }
    }

    // ---- the nodes ----

    private final class Node {
        final int index;
        final Path home;
        final int statusPort;
        final int webPort;
        final int gatewayPort;
        final int extraPort;
        final StringBuffer log = new StringBuffer();
        Process process;
        /** Completes once all the process wrote is in {@link #log}. */
        CompletableFuture<Void> logRead;

        Node(int index, Path home, int statusPort, int webPort, int gatewayPort, int extraPort) {
            this.index = index;
            this.home = home;
            this.statusPort = statusPort;
            this.webPort = webPort;
            this.gatewayPort = gatewayPort;
            this.extraPort = extraPort;
        }

        void start() throws IOException {
            ProcessBuilder pb = new ProcessBuilder(home.resolve("bin").resolve("wharf").toString(), "--no-shell")
                    .directory(work.toFile()).redirectErrorStream(true);
            Map<String, String> env = pb.environment();
            env.put("JAVA_HOME", System.getProperty("java.home"));
            // Per-node values as a container gets them: environment variables, and -D for the rest.
            env.put("WHARF_CONFIG_DIR", config.toString());
            env.put("WHARF_WEB_PORT", Integer.toString(webPort));
            env.put("WHARF_GATEWAY_PORT", Integer.toString(gatewayPort));
            env.put("WHARF_EXTRA_PORT", Integer.toString(extraPort));
            env.put("WHARF_REDIS_PORT", Integer.toString(redisPort));
            env.put("WHARF_SHUTDOWN_GRACE", Long.toString(GRACE));
            env.put("JAVA_OPTS", "-Xmx192m -XX:TieredStopAtLevel=1 -Dwharf.echo.port=0 -Dwharf.echo.udp.port=0"
                    + " -Dwharf.echo.tls.port=0 -Dwharf.http.port=" + statusPort + " -Dwharf.shutdown.drain=" + DRAIN
                    + " " + DistributionIT.FAST_POLL);
            log.append("---- start ----\n");
            Process p = pb.start();
            process = p;
            CompletableFuture<Void> read = new CompletableFuture<>();
            logRead = read;
            background(() -> {
                byte[] buffer = new byte[4096];
                try (InputStream in = p.getInputStream()) {
                    for (int n; (n = in.read(buffer)) >= 0;) {
                        log.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
                    }
                } catch (IOException e) {
                    // the process ended
                }
                read.complete(null);
            });
        }

        void awaitReady() {
            awaitTrue(() -> get(statusPort, "/ready").startsWith("200"), 90_000,
                    () -> "node " + index + " ready: " + get(statusPort, "/ready") + "\n" + log);
        }

        /** SIGTERM, then the exit status. */
        int stop() throws InterruptedException {
            process.destroy();
            assertTrue(process.waitFor(GRACE + DRAIN + 20_000, TimeUnit.MILLISECONDS), "node " + index
                    + " exits after SIGTERM:\n" + log);
            try {
                logRead.get(30, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                throw new AssertionError("node " + index + "'s output did not end", e);
            }
            return process.exitValue();
        }

        void kill() throws InterruptedException {
            if (process != null && process.isAlive()) {
                process.destroyForcibly();
                process.waitFor(30, TimeUnit.SECONDS);
            }
        }

        String status() {
            return get(statusPort, "/status");
        }

        boolean serves(String endpoint, String version) {
            return Pattern.compile("\"name\":\"" + endpoint + "\"[^}]*?\"state\":\"LISTENING\"[^}]*?\"version\":\""
                    + Pattern.quote(version)).matcher(status()).find();
        }

        long open(String endpoint) {
            Matcher m = Pattern.compile("\"name\":\"" + endpoint + "\"[^}]*?\"open\":(\\d+)").matcher(status());
            return m.find() ? Long.parseLong(m.group(1)) : -1;
        }

        boolean echoes(int port) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2_000);
                s.setSoTimeout(5_000);
                s.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
                return "ping".equals(new String(s.getInputStream().readNBytes(4), StandardCharsets.US_ASCII));
            } catch (IOException e) {
                return false;
            }
        }
    }

    /** A fresh copy of the built distribution: no state shared with other runs or nodes. */
    private static Path copyDistribution() throws IOException {
        return Distributions.seeded(Files.createTempDirectory("wharf-node"));
    }

    /** A built bundle of the distribution with a higher Bundle-Version, as a new release would be. */
    private Path upgraded(String bundle, String version) throws IOException {
        Path original;
        try (Stream<Path> jars = Files.list(Path.of(System.getProperty("wharf.dist"), "bundle"))) {
            original = jars.filter(p -> p.getFileName().toString().startsWith(bundle + "-")).findFirst().orElseThrow();
        }
        Path target = work.resolve(bundle + "-" + version + ".jar");
        try (JarInputStream in = new JarInputStream(Files.newInputStream(original));
                JarOutputStream out = new JarOutputStream(Files.newOutputStream(target), manifest(in, version))) {
            for (JarEntry e; (e = in.getNextJarEntry()) != null;) {
                out.putNextEntry(new JarEntry(e.getName()));
                in.transferTo(out);
                out.closeEntry();
            }
        }
        return target;
    }

    private static Manifest manifest(JarInputStream in, String version) {
        Manifest m = new Manifest(in.getManifest());
        m.getMainAttributes().put(new Attributes.Name("Bundle-Version"), version);
        return m;
    }

    /**
     * Writes the configuration as the kubelet updates a mounted ConfigMap: the files into a new
     * hidden timestamped folder, a {@code ..data} symlink to it swapped in by an atomic rename,
     * the visible names symlinks through {@code ..data}, and the old folder removed.
     */
    private void mountConfig(Map<String, String> files) throws IOException {
        String stamp = "..";
        stamp += DateTimeFormatter.ofPattern("yyyy_MM_dd_HH_mm_ss.SSSSSSSSS").withZone(ZoneOffset.UTC)
                .format(Instant.now());
        Path folder = config.resolve(stamp);
        Files.createDirectory(folder);
        mounted.clear();
        mounted.putAll(files);
        for (Map.Entry<String, String> f : files.entrySet()) {
            Files.writeString(folder.resolve(f.getKey()), f.getValue());
        }
        Path data = config.resolve("..data");
        Path old = Files.isSymbolicLink(data) ? config.resolve(Files.readSymbolicLink(data)) : null;
        Path next = config.resolve("..data_tmp");
        Files.deleteIfExists(next);
        Files.createSymbolicLink(next, Path.of(stamp));
        Files.move(next, data, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        for (String name : files.keySet()) {
            Path visible = config.resolve(name);
            if (!Files.isSymbolicLink(visible)) {
                Files.createSymbolicLink(visible, Path.of("..data", name));
            }
        }
        if (old != null) {
            try (Stream<Path> stale = Files.list(old)) {
                for (Path p : stale.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(old);
        }
    }

    // ---- the peers ----

    private void startRedis() throws Exception {
        RedisServer redis = RedisServer.start(redisPort);
        closeAtEnd.add(redis);
    }

    private void startHaproxy() throws Exception {
        StringBuilder cfg = new StringBuilder("""
                global
                  stats socket %s mode 600 level admin
                  maxconn 4000
                defaults
                  mode tcp
                  timeout connect 1s
                  timeout client 30s
                  timeout server 30s
                  retries 3
                  option redispatch 1
                  default-server inter 200 fall 2 rise 2
                """.formatted(work.resolve("haproxy.sock")));
        for (String backend : List.of("web", "redis")) {
            int front = backend.equals("web") ? webFront : redisFront;
            cfg.append("frontend ").append(backend).append("\n  bind 127.0.0.1:").append(front)
                    .append("\n  default_backend ").append(backend).append('\n');
            cfg.append("backend ").append(backend).append("\n  balance roundrobin\n  option httpchk\n")
                    .append("  http-check send meth GET uri /ready ver HTTP/1.1 hdr Host node\n")
                    .append("  http-check expect status 200\n");
            for (Node n : nodes) {
                int port = backend.equals("web") ? n.webPort : n.gatewayPort;
                cfg.append("  server n").append(n.index).append(" 127.0.0.1:").append(port)
                        .append(" send-proxy-v2 check port ").append(n.statusPort).append('\n');
            }
        }
        Path file = work.resolve("haproxy.cfg");
        Files.writeString(file, cfg);
        Process haproxy = Peers.process("haproxy", "-db", "-f", file.toString()).redirectErrorStream(true).start();
        peers.add(haproxy);
        background(() -> {
            try (InputStream in = haproxy.getInputStream()) {
                haproxyLog.append(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                // ended
            }
        });
    }

    private void awaitAllUp() {
        awaitTrue(() -> nodes.stream().allMatch(n -> up("n" + n.index)), 60_000,
                () -> "HAProxy sees every node up:\n" + stats() + haproxyLog);
    }

    /** Whether HAProxy has the server up in both backends. */
    private boolean up(String server) {
        String stats = stats();
        return stats.lines().filter(l -> l.split(",").length > 17 && l.split(",")[1].equals(server))
                .map(l -> l.split(",")[17]).filter(s -> s.equals("UP")).count() == 2;
    }

    /** How many sessions HAProxy has sent a server of a backend so far ({@code stot}). */
    private long sessions(String backend, String server) {
        return stats().lines().map(l -> l.split(",")).filter(f -> f.length > 7 && f[0].equals(backend)
                && f[1].equals(server)).mapToLong(f -> Long.parseLong(f[7])).findFirst().orElseThrow();
    }

    /** HAProxy's {@code show stat}, over its admin socket. */
    private String stats() {
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(work.resolve("haproxy.sock")));
            c.write(ByteBuffer.wrap("show stat\n".getBytes(StandardCharsets.US_ASCII)));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteBuffer b = ByteBuffer.allocate(8192);
            while (c.read(b) >= 0) {
                out.write(b.array(), 0, b.position());
                b.clear();
            }
            return out.toString(StandardCharsets.US_ASCII);
        } catch (IOException e) {
            return "";
        }
    }

    // ---- the loads ----

    /** wrk through the balancer, keep-alive connections; stopped with SIGINT, after which it reports. */
    private record Wrk(Process process, CompletableFuture<String> output) {
        static Wrk start(int port, int connections, int seconds, String path) throws IOException {
            Process p = Peers.process("wrk", "-t1", "-c" + connections, "-d" + seconds + "s", "--timeout", "10s",
                    "http://127.0.0.1:" + port + path).redirectErrorStream(true).start();
            CompletableFuture<String> out = new CompletableFuture<>();
            background(() -> {
                try (InputStream in = p.getInputStream()) {
                    out.complete(new String(in.readAllBytes(), StandardCharsets.UTF_8));
                } catch (IOException e) {
                    out.complete(e.toString());
                }
            });
            return new Wrk(p, out);
        }

        String stop() throws Exception {
            new ProcessBuilder("kill", "-INT", Long.toString(process.pid())).start().waitFor();
            return await();
        }

        String await() throws Exception {
            assertTrue(process.waitFor(60, TimeUnit.SECONDS), "wrk ends");
            return output.get(10, TimeUnit.SECONDS);
        }

        long requests(String report) {
            Matcher m = Pattern.compile("(\\d+) requests in").matcher(report);
            assertTrue(m.find(), report);
            return Long.parseLong(m.group(1));
        }

        /** Socket errors (connect, read, write, timeout) and answers other than 2xx/3xx. */
        long failures(String report) {
            long failed = 0;
            Matcher errors = Pattern.compile("Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)")
                    .matcher(report);
            if (errors.find()) {
                for (int i = 1; i <= 4; i++) {
                    failed += Long.parseLong(errors.group(i));
                }
            }
            Matcher non2xx = Pattern.compile("Non-2xx or 3xx responses: (\\d+)").matcher(report);
            if (non2xx.find()) {
                failed += Long.parseLong(non2xx.group(1));
            }
            return failed;
        }
    }

    /**
     * redis-benchmark through the balancer, run after run until stopped: a new connection for
     * every request ({@code -k 0}), as clients of an L4 balancer must reconnect to move to
     * another node. redis-benchmark exits non-zero on the first failed request.
     */
    private static final class RedisLoad {
        final int port;
        final AtomicLong requests = new AtomicLong();
        final AtomicLong runs = new AtomicLong();
        final AtomicLong failedRuns = new AtomicLong();
        final StringBuffer report = new StringBuffer();
        final AtomicBoolean running = new AtomicBoolean(true);
        CompletableFuture<Void> loop;
        volatile Process current;

        RedisLoad(int port) {
            this.port = port;
        }

        void start() {
            loop = new CompletableFuture<>();
            background(() -> {
                while (running.get()) {
                    try {
                        Process p = Peers.process("redis-benchmark", "-h", "127.0.0.1", "-p", Integer.toString(port),
                                "-c", "4", "-n", "500", "-k", "0", "-t", "set,get", "-q").redirectErrorStream(true)
                                .start();
                        current = p;
                        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                        if (!p.waitFor(120, TimeUnit.SECONDS)) {
                            p.destroyForcibly();
                        }
                        runs.incrementAndGet();
                        if (p.exitValue() != 0 || !out.contains("SET:") || !out.contains("GET:")
                                || out.contains("Error")) {
                            failedRuns.incrementAndGet();
                            report.append("failed run (exit ").append(p.exitValue()).append("):\n").append(out);
                        } else {
                            requests.addAndGet(1000);
                        }
                    } catch (IOException | InterruptedException e) {
                        report.append(e).append('\n');
                        failedRuns.incrementAndGet();
                        break;
                    }
                }
                loop.complete(null);
            });
        }

        void stop() throws Exception {
            running.set(false);
            loop.get(180, TimeUnit.SECONDS);
        }
    }

    // ---- small things ----

    /**
     * Runs a blocking task on a thread of its own: the common pool has one thread on two cores,
     * and the readers of five processes' output must not wait for each other.
     */
    private static void background(Runnable task) {
        Thread t = new Thread(task, "cluster-it");
        t.setDaemon(true);
        t.start();
    }

    private void figure(String line) {
        figures.add(line);
    }

    private static long millis(long since) {
        return (System.nanoTime() - since) / 1_000_000;
    }

    private static int[] freePorts(int n) throws IOException {
        List<ServerSocket> held = new ArrayList<>();
        try {
            int[] ports = new int[n];
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                held.add(s);
                ports[i] = s.getLocalPort();
            }
            return ports;
        } finally {
            for (ServerSocket s : held) {
                s.close();
            }
        }
    }

    /** GET on a new connection: the status code and the body; "error ..." if it fails. */
    private static String get(int port, String path) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2_000);
            s.setSoTimeout(5_000);
            OutputStream out = s.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String response = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            Matcher m = STATUS_CODE.matcher(response);
            int body = response.indexOf("\r\n\r\n");
            return m.find() && body > 0 ? m.group(1) + " " + response.substring(body + 4).trim() : "error " + response;
        } catch (IOException e) {
            return "error " + e;
        }
    }

    private static void awaitTrue(BooleanSupplier condition, long millis, java.util.function.Supplier<String> what) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + millis + " ms: " + what.get());
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
    }
}
