package org.wharf.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.osgi.framework.ServiceListener;

/**
 * A configuration change that restarts an endpoint (a new protocol, TCP or UDP, on the same
 * port) binds the port again only once the endpoint it replaces has let go of it: closing a
 * listener completes on its event loop after the call, and binding before that failed the new
 * endpoint with its own port "in use" (seen on one of three nodes in ClusterIT). Many changes
 * in a row, each must end LISTENING on the same port.
 */
class ReconfigurationIT {

    private static final int CHANGES = 60;

    private Felix felix;
    private EndpointsInFelix endpoints;

    @BeforeEach
    void start() throws Exception {
        felix = new Felix("reconfiguration");
        felix.startWharf("protocol.echo", "protocol.http", "protocol.proxy");
        endpoints = new EndpointsInFelix(felix);
    }

    @AfterEach
    void stop() throws Exception {
        felix.close();
    }

    @Test
    void aStreamEndpointRestartedByAChangeKeepsItsPort() throws Exception {
        int port = freePort();
        for (int i = 0; i < CHANGES; i++) {
            // A new protocol and a listener setting: the endpoint restarts.
            change("flip", Map.of("port", port, "host", "127.0.0.1", "protocol", i % 2 == 0 ? "echo" : "status",
                    "idleTimeout", 1000 + i));
            Object flip = endpoints.endpoint("flip"); // state, reason and port from one look
            assertEquals("LISTENING", String.valueOf(Felix.get(flip, "state")), "change " + i + ": "
                    + Felix.get(flip, "failureMessage"));
            assertEquals(port, EndpointsInFelix.port(flip));
        }
    }

    @Test
    void aDatagramEndpointRestartedByAChangeKeepsItsPort() throws Exception {
        int port = freePort();
        try (java.net.DatagramSocket client = new java.net.DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            client.setSoTimeout(10_000);
            for (int i = 0; i < CHANGES; i++) {
                // Any change restarts a datagram endpoint (a datagram protocol is made once per bind).
                change("flip-udp", Map.of("port", port, "host", "127.0.0.1", "protocol", "echo", "transport", "udp",
                        "note", "change " + i));
                Object flip = endpoints.endpoint("flip-udp");
                assertEquals("LISTENING", String.valueOf(Felix.get(flip, "state")), "change " + i + ": "
                        + Felix.get(flip, "failureMessage"));
                byte[] out = "datagram".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                client.send(new java.net.DatagramPacket(out, out.length, InetAddress.getLoopbackAddress(), port));
                java.net.DatagramPacket in = new java.net.DatagramPacket(new byte[64], 64);
                client.receive(in);
                assertEquals(out.length, in.getLength());
            }
        }
        // Its counters go on across the restarts: every datagram of every server counted.
        Object flip = endpoints.endpoint("flip-udp");
        assertEquals((long) CHANGES, ((Number) Felix.get(flip, "sessions")).longValue(), String.valueOf(flip));
        assertEquals(CHANGES * 8L, ((Number) Felix.get(flip, "bytesReceived")).longValue(), String.valueOf(flip));
    }

    /**
     * A change of a listener setting (here maxConnections, as an operator raises a limit on
     * every node) restarts the listener, but the connections open then go on with their
     * protocol and old settings until they end or drainTimeout, as on a protocol update, not
     * cut at once; new connections reach the new listener on the same port.
     */
    @Test
    void connectionsOpenAtAChangeGoOnUntilTheDrainTimeout() throws Exception {
        int port = freePort();
        change("held", Map.of("port", port, "host", "127.0.0.1", "protocol", "echo", "drainTimeout", 30_000));
        try (java.net.Socket open = new java.net.Socket(InetAddress.getLoopbackAddress(), port)) {
            open.setSoTimeout(10_000);
            assertEquals("before\n", echo(open, "before\n"));
            change("held", Map.of("port", port, "host", "127.0.0.1", "protocol", "echo", "drainTimeout", 30_000,
                    "maxConnections", 20_000));
            assertEquals(port, EndpointsInFelix.port(endpoints.endpoint("held")));
            assertEquals("after the change\n", echo(open, "after the change\n"), "the open connection was cut");
            try (java.net.Socket fresh = new java.net.Socket(InetAddress.getLoopbackAddress(), port)) {
                fresh.setSoTimeout(10_000);
                assertEquals("new listener\n", echo(fresh, "new listener\n"));
            }
            assertEquals("still\n", echo(open, "still\n"));
        }
        // Change after change, each with a connection of its own open: every server the changes
        // replaced drains at once beside the others, on the one port.
        List<java.net.Socket> opened = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 12; i++) {
                java.net.Socket s = new java.net.Socket(InetAddress.getLoopbackAddress(), port);
                opened.add(s);
                s.setSoTimeout(10_000);
                assertEquals("open " + i + "\n", echo(s, "open " + i + "\n"));
                change("held", Map.of("port", port, "host", "127.0.0.1", "protocol", "echo", "drainTimeout", 30_000,
                        "maxConnections", 20_001 + i));
            }
            for (int i = 0; i < opened.size(); i++) {
                assertEquals("still " + i + "\n", echo(opened.get(i), "still " + i + "\n"), "connection " + i);
            }
        } finally {
            for (java.net.Socket s : opened) {
                s.close();
            }
        }
    }

    /**
     * The connections still draining after a change count against the new server's
     * {@code maxConnections}, so a change does not double what the endpoint may hold; and the
     * endpoint's counters go on across the change rather than start from zero (a scrape would
     * read a reset and lose what the old server still serves).
     */
    @Test
    void theLimitAndTheCountersOfAnEndpointHoldAcrossAChange() throws Exception {
        int port = freePort();
        Map<String, Object> bounded = new java.util.HashMap<>(Map.of("port", port, "host", "127.0.0.1",
                "protocol", "echo", "drainTimeout", 30_000, "maxConnections", 2));
        change("bounded", bounded);
        java.net.Socket a = new java.net.Socket(InetAddress.getLoopbackAddress(), port); // closed midway
        try (a; java.net.Socket b = new java.net.Socket(InetAddress.getLoopbackAddress(), port)) {
            a.setSoTimeout(10_000);
            b.setSoTimeout(10_000);
            assertEquals("a\n", echo(a, "a\n"));
            assertEquals("b\n", echo(b, "b\n"));
            bounded.put("idleTimeout", 600_000);
            change("bounded", bounded);
            Object endpoint = endpoints.endpoint("bounded");
            assertEquals(2L, ((Number) Felix.get(endpoint, "sessions")).longValue(), "the sessions started again");
            assertEquals(2L, ((Number) Felix.get(endpoint, "open")).longValue(), "the draining connections");
            try (java.net.Socket over = new java.net.Socket(InetAddress.getLoopbackAddress(), port)) {
                over.setSoTimeout(10_000);
                // Nothing written: the refusal closes without reading, and unread bytes would make it a reset.
                assertEquals(-1, over.getInputStream().read(), "a third connection was kept: two are open of 2");
            }
            assertEquals("a still\n", echo(a, "a still\n"));
            a.close();
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
            while (((Number) Felix.get(endpoints.endpoint("bounded"), "open")).longValue() > 1) {
                assertTrue(System.nanoTime() < deadline, "the closed connection was still counted after 30 s");
                java.util.concurrent.locks.LockSupport.parkNanos(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(10));
            }
            try (java.net.Socket next = new java.net.Socket(InetAddress.getLoopbackAddress(), port)) {
                next.setSoTimeout(10_000);
                assertEquals("next\n", echo(next, "next\n"), "the slot a gave back");
            }
            assertEquals("b still\n", echo(b, "b still\n"));
            // Changed to a protocol no bundle offers: the endpoint waits, and its counters stay
            // (b still open on the first server), not zero while no server listens.
            bounded.put("protocol", "no-such-protocol");
            endpoints.configure("bounded", bounded);
            endpoints.awaitRuntime(() -> "WAITING".equals(endpoints.state("bounded")) && "".equals(
                    Felix.get(endpoints.endpoint("bounded"), "protocol")), () -> "bounded waits for its protocol");
            endpoint = endpoints.endpoint("bounded");
            assertEquals(3L, ((Number) Felix.get(endpoint, "sessions")).longValue(), "a, b and next (one refused is none)");
            assertEquals(1L, ((Number) Felix.get(endpoint, "open")).longValue(), "b, draining");
            assertEquals("b at the end\n", echo(b, "b at the end\n"));
        }
    }

    /**
     * A configuration deleted and another made for its port at once, as a renamed {@code .cfg}
     * or a ConfigMap swap that hands a port to another endpoint: the new endpoint binds once
     * the removed one's listener is closed. It bound at once, and a listener not yet closed
     * failed it "in use", for good (a failed bind is tried again only after a change). The
     * deleted endpoints' connections drain as a changed one's do; they were cut.
     */
    @Test
    void aPortHandedFromARemovedEndpointToANewOneIsBoundOnceFree() throws Exception {
        int port = freePort();
        String before = "renamed-0";
        change(before, Map.of("port", port, "host", "127.0.0.1", "protocol", "echo", "drainTimeout", 30_000));
        try (java.net.Socket open = new java.net.Socket(InetAddress.getLoopbackAddress(), port)) {
            open.setSoTimeout(10_000);
            assertEquals("before\n", echo(open, "before\n"));
            endpoints.delete(before);
            // Shown DRAINING with its open connection until that ends, no longer listening.
            endpoints.awaitState("renamed-0", "DRAINING");
            Object draining = endpoints.endpoint("renamed-0");
            assertEquals(1L, ((Number) Felix.get(draining, "open")).longValue(), String.valueOf(draining));
            assertEquals(-1, EndpointsInFelix.port(draining), "a deleted endpoint listens nowhere");
            assertEquals(Boolean.TRUE, Felix.get(Felix.get(endpoints.runtime(), "getRuntimeDTO"), "ready"),
                    "a deleted endpoint's drain made the node unready");
            assertEquals("after its deletion\n", echo(open, "after its deletion\n"), "the open connection was cut");
        }
        endpoints.awaitRuntime(() -> endpoints.endpoint("renamed-0") == null, () -> "renamed-0 is gone once drained");
        change(before, Map.of("port", port, "host", "127.0.0.1", "protocol", "echo"));
        for (int i = 1; i <= 30; i++) {
            String now = "renamed-" + i;
            String gone = before;
            endpoints.delete(gone);
            endpoints.configure(now, Map.of("port", port, "host", "127.0.0.1", "protocol", "echo"));
            endpoints.awaitRuntime(() -> settled(now) && endpoints.endpoint(gone) == null, () -> now + " settles and "
                    + gone + " is gone (" + now + " is " + endpoints.state(now) + ", " + gone + " is "
                    + endpoints.state(gone) + ")");
            assertEquals("LISTENING", endpoints.state(now), "round " + i + ": " + endpoints.reason(now));
            try (java.net.Socket s = new java.net.Socket(InetAddress.getLoopbackAddress(), port)) {
                s.setSoTimeout(10_000);
                assertEquals("round " + i + "\n", echo(s, "round " + i + "\n"));
            }
            before = now;
        }
    }

    /**
     * An endpoint configured on a port another endpoint still holds fails "in use"; once that
     * one lets go (deleted, or moved away), the failed one binds. So a rename seen create-first,
     * or two endpoints swapping their ports in one step, ends with both listening, where a
     * failed bind waited for a change of its own.
     */
    @Test
    void anEndpointThatFoundItsPortInUseBindsOnceTheHolderLetsGo() throws Exception {
        int port = freePort();
        change("holder", Map.of("port", port, "host", "127.0.0.1", "protocol", "echo"));
        endpoints.configure("taker", Map.of("port", port, "host", "127.0.0.1", "protocol", "status"));
        endpoints.awaitState("taker", "FAILED");
        endpoints.delete("holder");
        endpoints.awaitState("taker", "LISTENING");
        assertTrue(live(port).startsWith("HTTP/1.1 200"), "the taker serves its port");

        // Swapped in one step: the first moved finds the other's port still held, and binds
        // once the second moves away from it.
        int other = freePort();
        change("other", Map.of("port", other, "host", "127.0.0.1", "protocol", "echo"));
        endpoints.configure("taker", Map.of("port", other, "host", "127.0.0.1", "protocol", "status"));
        endpoints.configure("other", Map.of("port", port, "host", "127.0.0.1", "protocol", "echo"));
        endpoints.awaitRuntime(() -> EndpointsInFelix.port(endpoints.endpoint("taker")) == other
                && EndpointsInFelix.port(endpoints.endpoint("other")) == port && "LISTENING".equals(endpoints.state(
                        "taker")) && "LISTENING".equals(endpoints.state("other")), () -> "both listen on the swapped ports"
                + " (taker " + endpoints.state("taker") + ": " + endpoints.reason("taker") + "; other "
                + endpoints.state("other") + ": " + endpoints.reason("other") + ")");
        assertTrue(live(other).startsWith("HTTP/1.1 200"), "the taker serves the other's port");
        try (java.net.Socket s = new java.net.Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            assertEquals("swapped\n", echo(s, "swapped\n"));
        }
    }

    private static String live(int port) throws java.io.IOException {
        try (java.net.Socket s = new java.net.Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("GET /live HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            return new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
        }
    }

    /**
     * Lowering {@code drainTimeout} (to 0 here) ends what earlier changes left draining no later
     * than the new value: an operator's way to cut those connections (then delete the endpoint,
     * say). They went on for the old drainTimeout, whatever came after.
     */
    @Test
    void aLoweredDrainTimeoutEndsWhatEarlierChangesLeftDraining() throws Exception {
        int port = freePort();
        Map<String, Object> lowered = new java.util.HashMap<>(Map.of("port", port, "host", "127.0.0.1",
                "protocol", "echo", "drainTimeout", 60_000));
        change("lowered", lowered);
        try (java.net.Socket open = new java.net.Socket(InetAddress.getLoopbackAddress(), port)) {
            open.setSoTimeout(10_000);
            assertEquals("before\n", echo(open, "before\n"));
            lowered.put("idleTimeout", 600_000);
            change("lowered", lowered);
            assertEquals("draining\n", echo(open, "draining\n"), "drains for 60 s");
            // A configuration that cannot be read bounds nothing, whatever drainTimeout it gives.
            Map<String, Object> broken = new java.util.HashMap<>(lowered);
            broken.put("drainTimeout", 0);
            broken.put("maxConnectionsPerClient", -1);
            change("lowered", broken);
            assertEquals("FAILED", endpoints.state("lowered"));
            assertEquals("still draining\n", echo(open, "still draining\n"), "cut by a configuration that failed");
            lowered.put("drainTimeout", 0);
            change("lowered", lowered);
            assertEquals(-1, open.getInputStream().read(), "still open after drainTimeout was lowered to 0");
        }
    }

    /**
     * On an endpoint that detects its protocol by the first bytes, a connection open at a
     * change and still undecided chooses among the old endpoint's protocols when it speaks, as
     * its drain allows; it is not refused for want of any.
     */
    @Test
    void aConnectionStillDetectingAtAChangeGetsItsProtocolWhenItSpeaks() throws Exception {
        int port = freePort();
        Map<String, Object> both = new java.util.HashMap<>(Map.of("port", port, "host", "127.0.0.1",
                "protocol", "status, proxy", "proxy.upstreams", "127.0.0.1:9", "proxy.protocol", "redis",
                "drainTimeout", 30_000));
        change("both", both);
        try (java.net.Socket undecided = new java.net.Socket(InetAddress.getLoopbackAddress(), port)) {
            undecided.setSoTimeout(10_000);
            // One byte: too few for either protocol to claim it, so the connection is still detecting.
            // (One that has sent nothing is closed by a drain, as an idle one.)
            undecided.getOutputStream().write('G');
            undecided.getOutputStream().flush();
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
            while (((Number) Felix.get(endpoints.endpoint("both"), "bytesReceived")).longValue() < 1) {
                assertTrue(System.nanoTime() < deadline, "the endpoint did not read the first byte within 30 s");
                java.util.concurrent.locks.LockSupport.parkNanos(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(10));
            }
            both.put("maxConnections", 20_000);
            change("both", both);
            undecided.getOutputStream().write("ET /live HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            String answer = new String(undecided.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
            assertTrue(answer.startsWith("HTTP/1.1 200"), "the status page did not answer: '" + answer + "'");
        }
    }

    /**
     * Changes in quick succession, none waited for: an endpoint replaced again while it still
     * waited for its predecessor's port (or was binding it) hands that wait on, so the last one
     * binds only once every earlier listener let go, and ends LISTENING, not failed "in use".
     */
    @Test
    void changesInQuickSuccessionEndListeningOnThePort() throws Exception {
        int port = freePort();
        for (int round = 0; round < 10; round++) {
            // The last of a round has a protocol the others and the round before lack.
            String burst = round % 2 == 0 ? "status" : "echo";
            String last = round % 2 == 0 ? "echo" : "status";
            for (int i = 0; i < 8; i++) {
                endpoints.configure("rapid", Map.of("port", port, "host", "127.0.0.1", "protocol", burst,
                        "idleTimeout", 1000 + round * 10 + i));
            }
            // One more, waited for by its protocol: ConfigAdmin delivers the updates after the calls
            // return, so an endpoint of the burst may listen before this one replaces it. None may fail.
            endpoints.configure("rapid", Map.of("port", port, "host", "127.0.0.1", "protocol", last,
                    "idleTimeout", 1009 + round * 10));
            endpoints.awaitRuntime(() -> "FAILED".equals(endpoints.state("rapid")) || "LISTENING".equals(
                    endpoints.state("rapid")) && last.equals(Felix.get(endpoints.endpoint("rapid"), "protocol")),
                    () -> "the last configuration of round listens or one fails (rapid is " + endpoints.state("rapid")
                            + ": " + endpoints.reason("rapid") + ")");
            Object e = endpoints.endpoint("rapid");
            assertEquals("LISTENING", String.valueOf(Felix.get(e, "state")), "round " + round + ": "
                    + Felix.get(e, "failureMessage"));
            assertEquals(port, EndpointsInFelix.port(e));
        }
    }

    private static String echo(java.net.Socket socket, String line) throws java.io.IOException {
        byte[] bytes = line.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        socket.getOutputStream().write(bytes);
        return new String(socket.getInputStream().readNBytes(bytes.length), java.nio.charset.StandardCharsets.US_ASCII);
    }

    /**
     * Configures, then waits until the endpoint was replaced and settled. Every change here
     * restarts it: the new endpoint is published not listening (it waits for its predecessor's
     * ports) before it listens or fails. That is recorded on each runtime event, on the thread
     * that published the snapshot, so none is missed. A grown service.changecount is no sign:
     * the snapshot is published before the property, so a count read just before the change
     * can be one behind a snapshot the last round already saw, and the old endpoint, still
     * listening, then passes for the new one.
     */
    private void change(String name, Map<String, Object> properties) throws Exception {
        AtomicBoolean replaced = new AtomicBoolean();
        ServiceListener down = event -> {
            if (!"LISTENING".equals(endpoints.state(name))) {
                replaced.set(true);
            }
        };
        felix.context().addServiceListener(down, "(objectClass=org.wharf.endpoints.api.EndpointRuntime)");
        try {
            endpoints.configure(name, properties);
            endpoints.awaitRuntime(() -> replaced.get() && settled(name), () -> name + " is replaced and settles "
                    + "after its change (replaced " + replaced.get() + ", it is " + endpoints.state(name) + ")");
        } finally {
            felix.context().removeServiceListener(down);
        }
    }

    private boolean settled(String name) {
        String state = endpoints.state(name);
        return "LISTENING".equals(state) || "FAILED".equals(state);
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
