package org.wharf.protocol.proxy.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.wharf.protocol.api.HealthProbe;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.Transport;

/**
 * Health probes supplied from outside the gateway ({@link HealthProbe}), against two real
 * redis-server processes, one the other's replica ({@code --replicaof}): a probe healthy only
 * for a master marks the replica down and keeps the master up, so writes through the gateway
 * never meet the read-only replica; with the probe unregistered checks only connect (said once)
 * and the replica is up again; registered again, it is used again. A probe that does not decide
 * within {@code proxy.health.maxBytes}, or that throws, fails the check.
 */
class HealthProbeTest {

    @TempDir
    static Path dir;
    private static Legs legs;
    private static PeerProcess master;
    private static PeerProcess replica;
    private static int masterPort;
    private static int replicaPort;

    @BeforeAll
    static void start() throws Exception {
        legs = new Legs();
        masterPort = PeerProcess.freePort();
        master = redis("master", masterPort);
        replicaPort = PeerProcess.freePort();
        replica = redis("replica", replicaPort, "--replicaof", "127.0.0.1", Integer.toString(masterPort));
    }

    private static PeerProcess redis(String name, int port, String... more) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("redis-server", "--port", Integer.toString(port),
                "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir.toString(),
                "--dbfilename", name + ".rdb"));
        command.addAll(List.of(more));
        return new PeerProcess(dir, name, command, port);
    }

    @AfterAll
    static void stop() throws Exception {
        for (PeerProcess p : new PeerProcess[] {replica, master}) {
            if (p != null) {
                p.close();
            }
        }
        legs.close();
    }

    /**
     * A real probe, as a protocol bundle would supply it: {@code ROLE}, healthy only when the
     * server says it is a master. The answer is an array whose first element names the role.
     */
    static final class MasterOnly implements HealthProbe {
        private static final Pattern ROLE = Pattern.compile("\\*\\d+\r\n\\$\\d+\r\n([a-z]+)\r\n");

        @Override
        public Protocol newCheck(Check check) {
            return new Protocol() {
                private final StringBuilder answer = new StringBuilder();

                @Override
                public void connectionMade(Transport transport) {
                    transport.write(ByteBuffer.wrap("*1\r\n$4\r\nROLE\r\n".getBytes(StandardCharsets.US_ASCII)));
                }

                @Override
                public void dataReceived(ByteBuffer data) {
                    answer.append(StandardCharsets.US_ASCII.decode(data));
                    if (answer.charAt(0) == '-') {
                        check.unhealthy("answered ROLE with " + answer.toString().strip());
                        return;
                    }
                    Matcher m = ROLE.matcher(answer);
                    if (m.lookingAt()) {
                        if (m.group(1).equals("master")) {
                            check.healthy();
                        } else {
                            check.unhealthy("is a " + m.group(1) + ", not a master");
                        }
                    }
                }

                @Override
                public void connectionLost(Throwable cause) {
                }
            };
        }
    }

    private static Map<String, Object> route(String... more) {
        Map<String, Object> p = new HashMap<>(Map.of(Route.UPSTREAMS, "127.0.0.1:" + masterPort + ",127.0.0.1:"
                + replicaPort, Route.PROTOCOL, "redis", Route.HEALTH_INTERVAL, "100", Route.HEALTH_FAILURES, "2",
                Route.CONNECT_TIMEOUT, "2000", Route.HEALTH_DOWN_TIME, "100", Route.HEALTH_MAX_DOWN_TIME, "200"));
        for (int i = 0; i < more.length; i += 2) {
            p.put(more[i], more[i + 1]);
        }
        return p;
    }

    private static String send(Legs.Proxy proxy, String command, int answerBytes) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), proxy.address().getPort())) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write((command + "\r\n").getBytes(StandardCharsets.US_ASCII));
            return new String(s.getInputStream().readNBytes(answerBytes), StandardCharsets.US_ASCII);
        }
    }

    private static long up(Legs.Proxy proxy, int port) {
        return proxy.factory().metrics("gw").get("proxy.upstream.127.0.0.1:" + port + ".up");
    }

    private static long lines(String text) {
        return legs.log.lines().stream().filter(l -> l.message().contains(text)).count();
    }

    @Test
    void aProbeFromOutsideMarksTheReplicaDownKeepsTheMasterUpAndIsDroppedAndPickedUpAsItComesAndGoes()
            throws Exception {
        legs.probes.put("master-only", new MasterOnly());
        Legs.Proxy gw = legs.proxy("tcp", route(Route.HEALTH_CHECK, "probe", Route.HEALTH_PROBE, "master-only"));
        assertEquals("+PONG\r\n", send(gw, "PING", 7)); // the route's first connection starts its checks

        Legs.awaitTrue(() -> up(gw, replicaPort) == 0L, "the probe marks the replica down");
        assertEquals(1L, up(gw, masterPort), "and keeps the master up");
        for (int i = 0; i < 8; i++) {
            // The replica would answer -READONLY: every write reaches the master.
            assertEquals("+OK\r\n", send(gw, "SET probe" + i + " " + i, 5), "write " + i);
        }
        Legs.awaitTrue(() -> lines("upstream 127.0.0.1:" + replicaPort + " marked down after 2 failed connects or "
                + "checks in a row (last: upstream 127.0.0.1:" + replicaPort + " is a slave, not a master (probe "
                + "master-only))") == 1, "the reason, the probe's, is logged");

        legs.probes.remove("master-only"); // as a bundle's service unregistered
        Legs.awaitTrue(() -> up(gw, replicaPort) == 1L, "without the probe a check only connects: the replica is up");
        assertEquals(1L, up(gw, masterPort));
        String missing = "proxy gw: no health probe named 'master-only' is registered (proxy.health.check = probe); "
                + "checks only connect until one is";
        assertEquals(1, lines(missing), legs.log.lines().toString());

        legs.probes.put("master-only", new MasterOnly()); // registered again
        Legs.awaitTrue(() -> up(gw, replicaPort) == 0L, "the probe is used again: the replica is down again");
        assertEquals(1L, up(gw, masterPort));
        assertEquals(1, lines(missing), "said once, however many checks ran without it");
        assertEquals(1, lines("proxy gw: health probe 'master-only' is registered again; checks use it"));
    }

    @Test
    void aProbeThatHasNotDecidedWithinTheByteLimitFailsTheCheck() throws Exception {
        // INFO answers thousands of bytes; this probe never decides, so only the gateway's bound ends the check.
        legs.probes.put("undecided", check -> new Protocol() {
            @Override
            public void connectionMade(Transport transport) {
                transport.write(ByteBuffer.wrap("*1\r\n$4\r\nINFO\r\n".getBytes(StandardCharsets.US_ASCII)));
            }

            @Override
            public void dataReceived(ByteBuffer data) {
                data.position(data.limit());
            }

            @Override
            public void connectionLost(Throwable cause) {
            }
        });
        Map<String, Object> p = route(Route.HEALTH_CHECK, "probe", Route.HEALTH_PROBE, "undecided",
                Route.HEALTH_MAX_BYTES, "64", Route.HEALTH_FAILURES, "1");
        p.put(Route.UPSTREAMS, "127.0.0.1:" + masterPort);
        Legs.Proxy gw = legs.proxy("tcp", p);
        assertEquals("+PONG\r\n", send(gw, "PING", 7));
        // Marked down first, then logged: the line is awaited.
        Legs.awaitTrue(() -> lines("(last: upstream 127.0.0.1:" + masterPort + " answered 64 bytes without a verdict "
                + "(proxy.health.maxBytes = 64, probe undecided))") == 1, "the check fails at the byte limit");
        assertEquals(0L, up(gw, masterPort));
    }

    @Test
    void aProbeThatThrowsFailsItsCheck() throws Exception {
        legs.probes.put("broken", check -> {
            throw new IllegalStateException("not configured");
        });
        Map<String, Object> p = route(Route.HEALTH_CHECK, "probe", Route.HEALTH_PROBE, "broken",
                Route.HEALTH_FAILURES, "1");
        p.put(Route.UPSTREAMS, "127.0.0.1:" + masterPort);
        Legs.Proxy gw = legs.proxy("tcp", p);
        assertEquals("+PONG\r\n", send(gw, "PING", 7));
        Legs.awaitTrue(() -> lines("(last: upstream 127.0.0.1:" + masterPort + " could not be checked: probe broken "
                + "failed: java.lang.IllegalStateException: not configured)") == 1, "the probe's failure is the check's");
        assertEquals(0L, up(gw, masterPort));
    }

    @Test
    void aProbeCheckNeedsTheProbesName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Route.parse("gw",
                route(Route.HEALTH_CHECK, "probe"), null));
        assertEquals("proxy.health.check = 'probe' needs proxy.health.probe = NAME (the wharf.probe.name of a "
                + "registered health probe)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Route.parse("gw", route(Route.HEALTH_PROBE, "x"), null));
        assertEquals("proxy.health.probe = 'x' is set but proxy.health.check = connect: set it to probe to check "
                + "with it", e.getMessage());
    }
}
