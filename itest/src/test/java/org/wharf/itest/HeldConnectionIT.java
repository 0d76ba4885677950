package org.wharf.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceEvent;
import org.osgi.framework.ServiceListener;

/**
 * A connection accepted after its protocol departed, but before the whiteboard's turn to hold
 * the endpoint, is held by the departing factory for the replace window, as one accepted after
 * that turn is. Before, the drainTimeout that ends the old version's connections closed it too,
 * cutting the replace window to the drain timeout (a request lost in a bundle update under load).
 * Once handed on, it is drained by the next update like any other connection.
 */
class HeldConnectionIT {

    private Felix felix;
    private EndpointsInFelix endpoints;

    @BeforeEach
    void start() throws Exception {
        felix = new Felix("held");
        felix.startPlatformServices();
        for (String module : new String[] {"protocol.api", "transport.core", "transport.nio", "endpoints.api",
                "endpoints"}) {
            felix.start(module);
        }
        endpoints = new EndpointsInFelix(felix);
    }

    @AfterEach
    void stop() throws Exception {
        felix.close();
    }

    /** What a test does once a connection was accepted under the departing factory. */
    private interface Scene {
        /**
         * @param greeter the protocol bundle, stopped
         * @param old a connection the old version served, open
         * @param held the connection accepted after the departure, its line "held" sent
         * @param go lets the whiteboard act on the departure
         */
        void play(Bundle greeter, Socket old, Socket held, CountDownLatch go) throws Exception;
    }

    /**
     * The greeter serves an endpoint with these timeouts; the whiteboard's thread is held in a
     * runtime event, so the protocol departs (its bundle stopped) before the whiteboard can hold
     * the endpoint; a connection is accepted under the departing factory; then the scene.
     */
    private void heldByTheDepartingFactory(int drainTimeout, int replaceWindow, Scene scene) throws Exception {
        Bundle greeter = felix.start("itest.protocol");
        endpoints.configure("greet", Map.of("port", 0, "host", "127.0.0.1", "protocol", "greeter",
                "drainTimeout", drainTimeout, "replaceWindow", replaceWindow));
        endpoints.awaitState("greet", "LISTENING");
        int port = endpoints.port("greet");
        try (Socket old = new Socket(InetAddress.getLoopbackAddress(), port)) {
            old.setSoTimeout(10_000);
            assertTrue(line(old, "old").endsWith(": old"), "the old version serves the first connection");
            CountDownLatch blocked = new CountDownLatch(1);
            CountDownLatch go = new CountDownLatch(1);
            ServiceListener blocker = blockOnce(blocked, go);
            try {
                endpoints.configure("other", Map.of("port", 0, "host", "127.0.0.1", "protocol", "greeter"));
                assertTrue(blocked.await(30, TimeUnit.SECONDS), "the whiteboard publishes the change");
                long sessions = sessions();
                greeter.stop(); // departs at once: its factory holds what comes now
                try (Socket held = new Socket(InetAddress.getLoopbackAddress(), port)) {
                    held.setSoTimeout(20_000);
                    held.getOutputStream().write("held\n".getBytes(StandardCharsets.US_ASCII));
                    // Accepted under the departed factory (the counters are live, the snapshot is not).
                    Felix.awaitTrue(() -> sessions() == sessions + 1, "the held connection is accepted");
                    scene.play(greeter, old, held, go);
                }
            } finally {
                go.countDown();
                felix.context().removeServiceListener(blocker);
            }
        }
    }

    @Test
    void aConnectionTheDepartingFactoryHeldOutlivesTheDrainTimeoutAndGetsTheReplacement() throws Exception {
        heldByTheDepartingFactory(200, 30000, (greeter, old, held, go) -> {
            go.countDown(); // the whiteboard holds the endpoint now: drainTimeout 200 ms for the old
            assertEquals(-1, old.getInputStream().read(), "the old version's connection ends at drainTimeout");
            greeter.start(); // the replacement, after the drain timeout, within the replace window
            String answer = read(held.getInputStream());
            assertTrue(answer.endsWith(": held"), "the held connection is answered by the replacement, got '"
                    + answer + "' (empty: closed at the drain timeout)");
            // Handed on, it is a connection of that version like any other: the next update
            // ends it at its drain timeout, as every old connection (it was not spared for good).
            greeter.update();
            assertEquals(-1, held.getInputStream().read(), "the next update's drain timeout ends it");
        });
    }

    /**
     * The successor comes before the whiteboard's turn too: the endpoint is upgraded at once,
     * and the connection the departing factory held is handed to the successor. It runs the new
     * version, so the drain timeout that ends the old version's connections spares it. Before,
     * it could be handed on before the endpoint looked for the connections to spare, and closed
     * (a race the loop rarely wins: this passes on the old code too).
     */
    @Test
    void aConnectionHeldWhenTheSuccessorCameBeforeTheWhiteboardsTurnIsSparedByTheDrain() throws Exception {
        heldByTheDepartingFactory(200, 30000, (greeter, old, held, go) -> {
            greeter.start(); // the successor, before the whiteboard's turn
            go.countDown();
            assertTrue(read(held.getInputStream()).endsWith(": held"), "the successor answers it");
            assertEquals(-1, old.getInputStream().read(), "the old version's connection ends at drainTimeout");
            // The same task closed every connection it did not spare: this one runs on.
            assertTrue(line(held, "again").endsWith(": again"), "spared by the drain timeout");
        });
    }

    /**
     * With no replace window the endpoint drains as soon as its protocol departs, and no
     * replacement is waited for: a connection the departing factory held meanwhile is closed at
     * once. It sat paused until the drain timeout before, reading nothing.
     */
    @Test
    void withNoReplaceWindowAConnectionTheDepartingFactoryHeldIsClosedAtOnce() throws Exception {
        heldByTheDepartingFactory(60000, 0, (greeter, old, held, go) -> {
            go.countDown();
            assertEquals(-1, held.getInputStream().read(), "closed when the endpoint drains, not at the drain "
                    + "timeout (60 s; the read gives up after 20 s)");
            assertTrue(line(old, "still").endsWith(": still"), "the old version's connection goes on");
        });
    }

    /**
     * Holds the whiteboard's thread in its next runtime event (counting {@code blocked} down)
     * until {@code go}, so a protocol departs before the whiteboard can act on it.
     */
    private ServiceListener blockOnce(CountDownLatch blocked, CountDownLatch go) throws Exception {
        AtomicBoolean armed = new AtomicBoolean(true);
        ServiceListener blocker = event -> {
            if (event.getType() == ServiceEvent.MODIFIED && armed.compareAndSet(true, false)) {
                blocked.countDown();
                try {
                    go.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        felix.context().addServiceListener(blocker, "(objectClass=org.wharf.endpoints.api.EndpointRuntime)");
        return blocker;
    }

    private long sessions() {
        Object greet = endpoints.endpoint("greet");
        return greet == null ? -1 : (Long) Felix.get(greet, "sessions");
    }

    private static String line(Socket s, String text) throws IOException {
        s.getOutputStream().write((text + "\n").getBytes(StandardCharsets.US_ASCII));
        return read(s.getInputStream());
    }

    /** One line, without its end; what came before the end of input if it ends first. */
    private static String read(InputStream in) throws IOException {
        StringBuilder answer = new StringBuilder();
        for (int c; (c = in.read()) >= 0 && c != '\n';) {
            answer.append((char) c);
        }
        return answer.toString();
    }
}
