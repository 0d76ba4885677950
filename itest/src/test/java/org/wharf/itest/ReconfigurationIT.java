package org.wharf.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

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
            assertEquals("LISTENING", endpoints.state("flip"), "change " + i + ": " + endpoints.reason("flip"));
            assertEquals(port, endpoints.port("flip"));
        }
    }

    @Test
    void aDatagramEndpointRestartedByAChangeKeepsItsPort() throws Exception {
        int port = freePort();
        for (int i = 0; i < CHANGES; i++) {
            // Any change restarts a datagram endpoint (a datagram protocol is made once per bind).
            change("flip-udp", Map.of("port", port, "host", "127.0.0.1", "protocol", "echo", "transport", "udp",
                    "note", "change " + i));
            assertEquals("LISTENING", endpoints.state("flip-udp"), "change " + i + ": " + endpoints.reason("flip-udp"));
        }
    }

    /** Configures, then waits until a snapshot taken after the change shows the endpoint settled. */
    private void change(String name, Map<String, Object> properties) throws Exception {
        long before = endpoints.changeCount();
        endpoints.configure(name, properties);
        endpoints.awaitRuntime(() -> endpoints.changeCount() > before && settled(name),
                () -> name + " settles after its change");
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
