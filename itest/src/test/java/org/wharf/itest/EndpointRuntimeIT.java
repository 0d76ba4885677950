package org.wharf.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.osgi.framework.ServiceEvent;
import org.osgi.framework.ServiceListener;

/**
 * The runtime's DTOs as tools read them (the Http Whiteboard's rules): a
 * {@code service.changecount} property that grows with every change and matches the snapshot
 * read on its event, failure codes with messages naming the property and its value, and no
 * endpoint ever seen half-updated while it is reconfigured again and again.
 */
class EndpointRuntimeIT {

    private static final String RUNTIME = "(objectClass=org.wharf.endpoints.api.EndpointRuntime)";

    private Felix felix;
    private EndpointsInFelix endpoints;

    @BeforeEach
    void start() throws Exception {
        felix = new Felix("runtime");
        felix.startPlatformServices();
        felix.start("protocol.api");
        felix.start("transport.core");
        felix.start("transport.nio");
        felix.start("endpoints.api");
        felix.start("endpoints");
        felix.start("protocol.echo");
        endpoints = new EndpointsInFelix(felix);
    }

    @AfterEach
    void stop() throws Exception {
        felix.close();
    }

    private record Seen(long property, long snapshot, String state, int port) {
    }

    @Test
    void theChangeCountIsAServicePropertyMatchingTheSnapshotReadOnItsEvent() throws Exception {
        endpoints.runtime();
        long first = endpoints.changeCount();
        assertTrue(first >= 1, "service.changecount is published with the runtime service, got " + first);
        List<Seen> seen = new CopyOnWriteArrayList<>();
        java.util.concurrent.Semaphore added = new java.util.concurrent.Semaphore(0);
        ServiceListener listener = event -> {
            if (event.getType() == ServiceEvent.MODIFIED) {
                long property = (Long) event.getServiceReference().getProperty("service.changecount");
                Object dto = Felix.get(endpoints.runtime(), "getRuntimeDTO");
                Object echo = null;
                for (Object e : (List<?>) Felix.get(dto, "endpoints")) {
                    echo = "echo".equals(Felix.get(e, "name")) ? e : echo;
                }
                seen.add(new Seen(property, (Long) Felix.get(dto, "changeCount"),
                        echo == null ? "(none)" : String.valueOf(Felix.get(echo, "state")),
                        echo == null ? -1 : EndpointsInFelix.port(echo)));
                added.release();
            }
        };
        felix.context().addServiceListener(listener, RUNTIME);
        try {
            endpoints.configure("echo", Map.of("port", 0, "protocol", "echo", "host", "127.0.0.1"));
            endpoints.awaitState("echo", "LISTENING");
            endpoints.delete("echo");
            endpoints.awaitRuntime(() -> endpoints.endpoint("echo") == null, () -> "echo goes with its configuration");
            // The snapshot is published before its event is delivered: wait for the event that announces it.
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
            while (seen.isEmpty() || !seen.get(seen.size() - 1).state().equals("(none)")
                    || seen.stream().noneMatch(s -> s.state().equals("LISTENING"))) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || !added.tryAcquire(left, java.util.concurrent.TimeUnit.NANOSECONDS)) {
                    break; // the assertions below say what was seen
                }
            }
        } finally {
            felix.context().removeServiceListener(listener);
        }
        assertTrue(seen.size() >= 2, "a service event for each change, got " + seen);
        long last = first;
        for (Seen s : seen) {
            assertTrue(s.property() > last, "the change count only grows: " + seen);
            assertEquals(s.property(), s.snapshot(), "the snapshot read on the event is the one it announced: "
                    + seen);
            last = s.property();
        }
        assertTrue(seen.stream().anyMatch(s -> s.state().equals("LISTENING") && s.port() > 0),
                "one event announced the endpoint listening on its port: " + seen);
        assertEquals("(none)", seen.get(seen.size() - 1).state(), "the last event announced it gone: " + seen);
    }

    @Test
    void aFailureHasACodeAndAMessageNamingThePropertyAndItsValue() throws Exception {
        endpoints.configure("bad", Map.of("port", 70000, "protocol", "echo"));
        endpoints.awaitState("bad", "FAILED");
        Object bad = endpoints.endpoint("bad");
        assertEquals(1, Felix.get(bad, "failureReason"), "FAILURE_REASON_INVALID_PROPERTY: " + bad);
        String message = String.valueOf(Felix.get(bad, "failureMessage"));
        assertTrue(message.contains("port") && message.contains("70000"), message);

        endpoints.configure("lonely", Map.of("port", 0, "protocol", "(wharf.protocol.name=nothing-here)"));
        endpoints.awaitState("lonely", "WAITING");
        endpoints.awaitRuntime(() -> !String.valueOf(Felix.get(endpoints.endpoint("lonely"), "failureMessage"))
                .isEmpty(), () -> "lonely says why it waits");
        Object lonely = endpoints.endpoint("lonely");
        assertEquals(3, Felix.get(lonely, "failureReason"), "FAILURE_REASON_NO_PROTOCOL: " + lonely);
        assertTrue(String.valueOf(Felix.get(lonely, "failureMessage")).contains("nothing-here"),
                String.valueOf(Felix.get(lonely, "failureMessage")));
    }

    /**
     * While an endpoint is reconfigured again and again (each time it stops, binds anew and
     * listens), a reader taking snapshots as fast as it can never sees a state apart from
     * its addresses, protocol or failure.
     */
    @Test
    void noEndpointIsEverSeenHalfUpdated() throws Exception {
        Object runtime = endpoints.runtime();
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong looks = new AtomicLong();
        List<String> torn = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            while (running.get() && torn.size() < 10) {
                for (Object e : (List<?>) Felix.get(Felix.get(runtime, "getRuntimeDTO"), "endpoints")) {
                    String problem = torn(e);
                    if (problem != null) {
                        torn.add(problem);
                    }
                }
                looks.incrementAndGet();
            }
        }, "dto-reader");
        // Whether a snapshot published since this round's configuration showed flip not listening:
        // its replacement. Read on the event, on the thread that published it, so none is missed.
        // A new port is no sign: the kernel may hand the next listener the port the last one freed.
        AtomicBoolean replaced = new AtomicBoolean();
        ServiceListener down = event -> {
            Object e = null;
            for (Object x : (List<?>) Felix.get(Felix.get(runtime, "getRuntimeDTO"), "endpoints")) {
                e = "flip".equals(Felix.get(x, "name")) ? x : e;
            }
            if (e == null || !"LISTENING".equals(String.valueOf(Felix.get(e, "state")))) {
                replaced.set(true);
            }
        };
        felix.context().addServiceListener(down, RUNTIME);
        reader.start();
        try {
            for (int i = 0; i < 40; i++) {
                // Alternately a good configuration and one the endpoint fails with.
                boolean good = i % 4 != 3;
                int round = i;
                replaced.set(false);
                endpoints.configure("flip", Map.of("port", good ? 0 : 70000, "protocol", "echo", "host", "127.0.0.1",
                        "maxConnections", 100 + i)); // a listener setting: each round binds anew
                if (good) {
                    endpoints.awaitRuntime(() -> {
                        Object e = endpoints.endpoint("flip");
                        return replaced.get() && e != null && "LISTENING".equals(String.valueOf(Felix.get(e, "state")));
                    }, () -> "round " + round + ": flip is replaced and listens again (replaced " + replaced.get()
                            + ", it is " + look(endpoints.endpoint("flip")) + ")");
                } else {
                    endpoints.awaitState("flip", "FAILED");
                }
            }
        } finally {
            felix.context().removeServiceListener(down);
            running.set(false);
            reader.join(TimeUnit.SECONDS.toMillis(30));
        }
        assertEquals(new ArrayList<String>(), new ArrayList<>(torn), "torn snapshots among " + looks.get());
        assertTrue(looks.get() > 40, "the reader looked while the endpoint changed: " + looks.get());
    }

    /** One endpoint's DTO as a line: state, failure, addresses and protocol; "(none)" for null. */
    private static String look(Object e) {
        return e == null ? "(none)" : Felix.get(e, "state") + " failure " + Felix.get(e, "failureReason") + " '"
                + Felix.get(e, "failureMessage") + "' addresses " + Felix.get(e, "addresses") + " protocol '"
                + Felix.get(e, "protocol") + "'";
    }

    /** What is inconsistent in one endpoint's DTO, or null. */
    private static String torn(Object e) {
        String state = String.valueOf(Felix.get(e, "state"));
        int failure = (Integer) Felix.get(e, "failureReason");
        String message = String.valueOf(Felix.get(e, "failureMessage"));
        boolean addresses = !((List<?>) Felix.get(e, "addresses")).isEmpty();
        boolean protocol = !String.valueOf(Felix.get(e, "protocol")).isEmpty();
        String look = look(e);
        boolean serving = state.equals("LISTENING") || state.equals("DRAINING");
        if (state.equals("LISTENING") && !(addresses && protocol && failure == 0 && message.isEmpty())) {
            return "listening without its addresses or protocol, or with a failure: " + look;
        }
        if (!serving && (addresses || protocol)) {
            return "addresses or a protocol while not serving: " + look;
        }
        if (state.equals("FAILED") && (failure == 0 || message.isEmpty())) {
            return "failed without a reason: " + look;
        }
        if ((failure == 0) != message.isEmpty()) {
            return "a failure code without its message or the other way round: " + look;
        }
        return null;
    }
}
