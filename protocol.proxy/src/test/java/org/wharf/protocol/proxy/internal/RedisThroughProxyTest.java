package org.wharf.protocol.proxy.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.wharf.transport.tck.Peers;
import org.wharf.transport.tck.RedisServer;

/**
 * A real Redis server (Debian's redis-server) behind the proxy, and Redis's own clients in
 * front of it: redis-cli for commands, redis-benchmark for load with many connections.
 */
class RedisThroughProxyTest {

    private static Legs legs;
    private static RedisServer redis;
    private static Legs.Proxy proxy;
    private static Legs.Proxy pooled;
    private static int redisPort;

    @BeforeAll
    static void start() throws Exception {
        legs = new Legs();
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        redis = RedisServer.start(port);
        redisPort = port;
        proxy = legs.proxy("tcp", Map.of(Route.UPSTREAMS, "127.0.0.1:" + port));
        pooled = legs.proxy("tcp", Map.of(Route.UPSTREAMS, "127.0.0.1:" + port, Route.POOLED, "true",
                "proxy.protocol", "redis"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (redis != null) {
            redis.close();
        }
        legs.close();
    }

    @Test
    void redisCliCommandsGoThroughAndBack() throws Exception {
        assertEquals("OK", cli("SET", "wharf", "gateway"));
        assertEquals("gateway", cli("GET", "wharf"));
        assertEquals("1", cli("INCR", "counter"));
        assertEquals("2", cli("INCR", "counter"));
        // A 1 MiB value (read by redis-cli -x from its input) crosses in many reads each way.
        byte[] big = "0123456789abcdef".repeat(1 << 16).getBytes(StandardCharsets.US_ASCII);
        assertEquals("OK", run(command("-x", "SET", "big"), big).trim());
        assertEquals(Integer.toString(1 << 20), cli("STRLEN", "big"));
        assertEquals(new String(big, StandardCharsets.US_ASCII), cli("GET", "big"));
    }

    @Test
    void redisBenchmarkWithFiftyConnectionsCompletesEveryRequest() throws Exception {
        String report = run(List.of("redis-benchmark", "-h", "127.0.0.1", "-p", Integer.toString(proxy.address().getPort()),
                "-q", "-n", "20000", "-c", "50", "-t", "set,get,lpush,lpop"));
        for (String test : List.of("SET", "GET", "LPUSH", "LPOP")) {
            assertTrue(report.contains(test + ": ") && report.contains("requests per second"), report);
        }
        assertEquals(0, proxy.route().counters.upstreamFailures.sum());
        System.getLogger("test").log(System.Logger.Level.INFO, "redis-benchmark through the proxy:\n"
                + report.lines().filter(l -> l.contains("requests per second")).map(l -> l.substring(l.lastIndexOf('\r') + 1))
                        .reduce((a, b) -> a + "\n" + b).orElse(""));
    }

    @Test
    void aPooledRouteServesManyRedisCliRunsOverOneUpstreamConnection() throws Exception {
        long before = connectionsReceived();
        releasedSoFar = pooled.factory().metrics("gw").getOrDefault("proxy.pool.released", 0L);
        for (int i = 0; i < 5; i++) {
            assertEquals("OK", run(commandTo(pooled.address().getPort(), "SET", "pooled" + i, "v" + i), null).trim());
            awaitReleased();
            assertEquals("v" + i, run(commandTo(pooled.address().getPort(), "GET", "pooled" + i), null).trim());
            awaitReleased();
        }
        // Ten redis-cli runs through the pool, one upstream connection; plus this INFO's own.
        assertEquals(2, connectionsReceived() - before);
    }

    /**
     * The reproduction, as it was reported: a client pipelines a blocking command and a
     * GET, and leaves at once; the next client sends PING. Before, the upstream connection went
     * back to the pool with both replies owed and the second client read the first one's value.
     */
    @Test
    void aClientThatLeavesWithRepliesOwedNeverHandsThemToTheNextClient() throws Exception {
        Legs.Proxy gw = legs.proxy("tcp", Map.of(Route.UPSTREAMS, "127.0.0.1:" + redisPort, Route.POOLED, "true",
                "proxy.protocol", "redis"));
        assertEquals("OK", run(commandTo(redisPort, "SET", "secretA", "value-only-client-A-may-see"), null).trim());
        int port = gw.address().getPort();
        String first = shell("printf 'BLPOP nokey 1\\r\\nGET secretA\\r\\n' | nc -q0 127.0.0.1 " + port);
        String second = shell("printf 'PING\\r\\n' | nc -q3 127.0.0.1 " + port);
        assertFalse(second.contains("value-only-client-A-may-see"), "the second client read the first one's value: "
                + second.replace("\r\n", "\\r\\n"));
        assertEquals("+PONG\r\n", second, "the second client gets its own answer, and only it");
        assertFalse(first.contains("PONG"), first);
        Map<String, Long> figures = gw.factory().metrics("gw");
        assertTrue(figures.getOrDefault("proxy.pool.discarded", 0L) >= 1, "the first client's upstream connection "
                + "was closed, not reused: " + figures);
    }

    /**
     * The same with a second client that keeps its connection open while it waits (Debian's
     * {@code nc -q} half-closes, and the gateway used to close such a client at once, so the
     * leak above showed as a lost PONG): it reads until its PONG and must see nothing else.
     */
    @Test
    void aSecondClientWaitingOnAnOpenConnectionGetsItsPongAndNothingOwedToTheFirst() throws Exception {
        Legs.Proxy gw = legs.proxy("tcp", Map.of(Route.UPSTREAMS, "127.0.0.1:" + redisPort, Route.POOLED, "true",
                "proxy.protocol", "redis"));
        assertEquals("OK", run(commandTo(redisPort, "SET", "secretB", "value-only-client-A-may-see"), null).trim());
        int port = gw.address().getPort();
        try (java.net.Socket first = new java.net.Socket(InetAddress.getLoopbackAddress(), port)) {
            byte[] commands = "BLPOP nokey 1\r\nGET secretB\r\n".getBytes(StandardCharsets.US_ASCII);
            first.getOutputStream().write(commands);
            Legs.awaitTrue(() -> gw.route().counters.bytesToUpstream.sum() == commands.length, "the commands went up");
        }
        // Its upstream connection is back in the pool or closed: the second client cannot get a new one meanwhile.
        Legs.awaitTrue(() -> gw.route().counters.active.get() == 0 && gw.route().pool().inUse() == 0,
                "the gateway is done with the first client");
        try (java.net.Socket second = new java.net.Socket(InetAddress.getLoopbackAddress(), port)) {
            second.setSoTimeout(10_000);
            second.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
            byte[] buffer = new byte[1024];
            while (!got.toString(StandardCharsets.US_ASCII).contains("+PONG\r\n")) {
                int n = second.getInputStream().read(buffer);
                assertTrue(n > 0, "the connection ended after " + got);
                got.write(buffer, 0, n);
            }
            String answer = got.toString(StandardCharsets.US_ASCII);
            assertFalse(answer.contains("value-only-client-A-may-see"), "the second client read the first one's value: "
                    + answer.replace("\r\n", "\\r\\n"));
            assertEquals("+PONG\r\n", answer);
        }
    }

    @Test
    void pipelinedCommandsOfAClientThatEndsItsInputAreAllAnsweredAndTheConnectionIsReused() throws Exception {
        Legs.Proxy gw = legs.proxy("tcp", Map.of(Route.UPSTREAMS, "127.0.0.1:" + redisPort, Route.POOLED, "true",
                "proxy.protocol", "redis"));
        int port = gw.address().getPort();
        long before = connectionsReceived();
        for (int i = 0; i < 3; i++) {
            // -N: nc half-closes after its input, and exits once the gateway closes: after the last answer.
            String out = shell("printf 'SET pipelined" + i + " \"a\\\\r\\\\nb\"\\r\\nGET pipelined" + i
                    + "\\r\\nPING\\r\\n' | nc -N 127.0.0.1 " + port);
            assertEquals("+OK\r\n$4\r\na\r\nb\r\n+PONG\r\n", out);
        }
        // nc exits on the gateway's close; the release follows on the gateway's loop.
        Legs.awaitTrue(() -> gw.factory().metrics("gw").get("proxy.pool.released") == 3L,
                "three releases: " + gw.factory().metrics("gw"));
        Map<String, Long> figures = gw.factory().metrics("gw");
        assertEquals(0L, figures.get("proxy.pool.discarded"), figures.toString());
        assertEquals(2, connectionsReceived() - before, "one upstream connection for three clients, plus INFO's own");
    }

    @Test
    void redisBenchmarkReconnectingForEveryRequestGoesThroughAPooledRoute() throws Exception {
        String report = run(List.of("redis-benchmark", "-h", "127.0.0.1", "-p", Integer.toString(pooled.address().getPort()),
                "-q", "-n", "2000", "-c", "10", "-k", "0", "-t", "set,get"));
        for (String test : List.of("SET", "GET")) {
            assertTrue(report.contains(test + ": ") && report.contains("requests per second"), report);
        }
        // redis-benchmark exits on its last answer; the last releases follow on the gateway's loop.
        Legs.awaitTrue(() -> pooled.factory().metrics("gw").get("proxy.pool.released") >= 4000,
                "every client connection gave its upstream connection back: " + pooled.factory().metrics("gw"));
        Map<String, Long> figures = pooled.factory().metrics("gw");
        assertEquals(0L, figures.get("proxy.upstream.failures"), figures.toString());
        // And the usual run: fifty clients keeping their connections, pipelining none.
        String kept = run(List.of("redis-benchmark", "-h", "127.0.0.1", "-p", Integer.toString(pooled.address().getPort()),
                "-q", "-n", "20000", "-c", "50", "-t", "set,get,lpush,lpop"));
        for (String test : List.of("SET", "GET", "LPUSH", "LPOP")) {
            assertTrue(kept.contains(test + ": ") && kept.contains("requests per second"), kept);
        }
        assertEquals(0L, pooled.factory().metrics("gw").get("proxy.upstream.failures"));
    }

    /** Runs a shell command line (for nc pipelines) and returns what it printed. */
    private static String shell(String line) throws Exception {
        return run(List.of("sh", "-c", line), null);
    }

    /** Redis's count of connections it accepted, asked directly (that connection counts too). */
    /**
     * Waits until the gateway gave back the connection of the redis-cli run that just exited:
     * it does so when it reads the client's end, on its loop, and the next run, on another loop,
     * may otherwise ask the pool first and rightly get a second connection.
     */
    private static void awaitReleased() {
        Legs.awaitTrue(() -> pooled.factory().metrics("gw").getOrDefault("proxy.pool.released", 0L) > releasedSoFar,
                "the connection went back to the pool");
        releasedSoFar = pooled.factory().metrics("gw").getOrDefault("proxy.pool.released", 0L);
    }

    /** Releases counted by the pooled route so far (it serves every test of the class). */
    private static long releasedSoFar;

    private static long connectionsReceived() throws Exception {
        String info = run(commandTo(redisPort, "INFO", "stats"), null);
        return info.lines().filter(l -> l.startsWith("total_connections_received:"))
                .mapToLong(l -> Long.parseLong(l.substring(l.indexOf(':') + 1).trim())).findFirst().orElseThrow();
    }

    private static String cli(String... command) throws Exception {
        return run(command(command), null).trim();
    }

    private static List<String> command(String... command) {
        return commandTo(proxy.address().getPort(), command);
    }

    private static List<String> commandTo(int port, String... command) {
        List<String> args = new java.util.ArrayList<>(List.of("redis-cli", "-h", "127.0.0.1", "-p",
                Integer.toString(port)));
        args.addAll(List.of(command));
        return args;
    }

    private static String run(List<String> command) throws Exception {
        return run(command, null);
    }

    private static String run(List<String> command, byte[] input) throws Exception {
        Process p = Peers.process(command).redirectErrorStream(true).start();
        try (java.io.OutputStream in = p.getOutputStream()) {
            if (input != null) {
                in.write(input);
            }
        }
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), command + " did not finish");
        assertEquals(0, p.exitValue(), command.get(0) + " failed: " + output);
        return output;
    }
}
