package org.wharf.protocol.proxy.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import org.wharf.transport.tck.RedisServer;

/**
 * Checks in the route's own protocol against a real redis-server: while Redis is busy
 * ({@code DEBUG SLEEP}) it still takes connections, so a connect check keeps it up, but it does
 * not answer {@code PING}, so a protocol check marks it down, and up again once it answers.
 */
class ProtocolHealthCheckTest {

    private static Legs legs;
    private static RedisServer redis;
    private static int port;

    @BeforeAll
    static void start() throws Exception {
        legs = new Legs();
        port = PeerProcess.freePort();
        redis = RedisServer.start(port, "--enable-debug-command", "yes");
    }

    @AfterAll
    static void stop() throws Exception {
        if (redis != null) {
            redis.close();
        }
        legs.close();
    }

    private static String ping(Legs.Proxy proxy) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), proxy.address().getPort())) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            return new String(s.getInputStream().readNBytes(7), StandardCharsets.US_ASCII);
        }
    }

    private static long up(Legs.Proxy proxy) {
        return proxy.factory().metrics("gw").get("proxy.upstream.127.0.0.1:" + port + ".up");
    }

    @Test
    void aBusyRedisIsDownForAProtocolCheckButNotForAConnectCheck() throws Exception {
        Map<String, Object> common = Map.of(Route.UPSTREAMS, "127.0.0.1:" + port, Route.PROTOCOL, "redis",
                Route.HEALTH_INTERVAL, "100", Route.HEALTH_FAILURES, "2", Route.CONNECT_TIMEOUT, "300",
                Route.HEALTH_DOWN_TIME, "100", Route.HEALTH_MAX_DOWN_TIME, "200");
        Map<String, Object> byProtocol = new java.util.HashMap<>(common);
        byProtocol.put(Route.HEALTH_CHECK, "protocol");
        Legs.Proxy checked = legs.proxy("tcp", byProtocol);
        Legs.Proxy connectOnly = legs.proxy("tcp", common);
        assertEquals("+PONG\r\n", ping(checked)); // each route's first connection starts its checks
        assertEquals("+PONG\r\n", ping(connectOnly));
        assertEquals(1L, up(checked));

        long t0 = System.nanoTime();
        try (Socket busy = new Socket(InetAddress.getLoopbackAddress(), port)) {
            busy.setSoTimeout(20_000);
            busy.getOutputStream().write("DEBUG SLEEP 3\r\n".getBytes(StandardCharsets.US_ASCII));
            Legs.awaitTrue(() -> up(checked) == 0L, "the protocol check finds Redis not answering");
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(3), "while it sleeps");
            assertEquals(1L, up(connectOnly), "it still takes connections: a connect check sees nothing wrong");
            assertEquals("+OK\r\n", new String(busy.getInputStream().readNBytes(5), StandardCharsets.US_ASCII));
        }
        Legs.awaitTrue(() -> up(checked) == 1L, "up again once it answers");
        assertEquals("+PONG\r\n", ping(checked));
        assertTrue(legs.log.contains("upstream 127.0.0.1:" + port + " marked down after 2 failed connects or checks "
                + "in a row (last: upstream 127.0.0.1:" + port + " no answer within 300 ms)"), legs.log.lines().toString());
    }
}
