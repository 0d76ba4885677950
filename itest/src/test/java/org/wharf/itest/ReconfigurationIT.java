package org.wharf.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.net.ServerSocket;
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
        felix.startWharf("protocol.echo", "protocol.http");
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
        for (int i = 0; i < CHANGES; i++) {
            // Any change restarts a datagram endpoint (a datagram protocol is made once per bind).
            change("flip-udp", Map.of("port", port, "host", "127.0.0.1", "protocol", "echo", "transport", "udp",
                    "note", "change " + i));
            Object flip = endpoints.endpoint("flip-udp");
            assertEquals("LISTENING", String.valueOf(Felix.get(flip, "state")), "change " + i + ": "
                    + Felix.get(flip, "failureMessage"));
        }
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
