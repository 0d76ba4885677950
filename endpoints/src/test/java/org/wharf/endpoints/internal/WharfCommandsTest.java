package org.wharf.endpoints.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Parameter;
import java.util.Map;

import org.apache.felix.service.command.Descriptor;
import org.junit.jupiter.api.Test;
import org.wharf.endpoints.api.ConnectionDTO;
import org.wharf.endpoints.api.EndpointDTO;
import org.wharf.endpoints.api.EndpointRuntime;
import org.wharf.endpoints.api.EndpointState;
import org.wharf.endpoints.api.RuntimeDTO;

/** The shell commands: help on each, arguments, and what they print. */
class WharfCommandsTest {

    /** A runtime with two endpoints, one listening with a connection, one failed. */
    private static final class TwoEndpoints implements EndpointRuntime {
        @Override
        public RuntimeDTO getRuntimeDTO() {
            RuntimeDTO dto = new RuntimeDTO();
            dto.endpoints = new EndpointDTO[] {endpoint("echo", EndpointState.LISTENING, ""),
                endpoint("kv", EndpointState.FAILED, "port 7010 in use")};
            dto.protocols = new org.wharf.endpoints.api.ProtocolDTO[0];
            return dto;
        }

        private static EndpointDTO endpoint(String name, EndpointState state, String failure) {
            EndpointDTO e = new EndpointDTO();
            e.name = name;
            e.transport = "tcp";
            e.addresses = state == EndpointState.LISTENING ? new String[] {"[::1]:7007"} : new String[0];
            e.state = state;
            e.failureMessage = failure;
            e.protocol = name;
            e.protocolVersion = "0.1.0.SNAPSHOT";
            e.open = state == EndpointState.LISTENING ? 1 : 0;
            e.sessions = 3;
            e.bytesReceived = 12;
            e.bytesSent = 12;
            e.protocolMetrics = Map.of("echo.udp.dropped", 0L);
            return e;
        }

        @Override
        public org.wharf.endpoints.api.MetricDTO[] getMetricDTOs() {
            return new org.wharf.endpoints.api.MetricDTO[0]; // the commands do not read metrics
        }

        @Override
        public ConnectionDTO[] getConnectionDTOs(String endpoint) {
            if (endpoint != null && !endpoint.equals("echo")) {
                return new ConnectionDTO[0];
            }
            ConnectionDTO c = new ConnectionDTO();
            c.endpoint = "echo";
            c.peer = "[::1]:47912";
            c.local = "[::1]:7007";
            c.bytesReceived = 12;
            c.bytesSent = 12;
            return new ConnectionDTO[] {c};
        }
    }

    private final WharfCommands commands = new WharfCommands(new TwoEndpoints());

    @Test
    void everyCommandAndArgumentHasHelpText() {
        int commandsSeen = 0;
        for (Method m : WharfCommands.class.getDeclaredMethods()) {
            if (!Modifier.isPublic(m.getModifiers())) {
                continue;
            }
            commandsSeen++;
            Descriptor help = m.getAnnotation(Descriptor.class);
            assertNotNull(help, m + " has no help");
            assertTrue(help.value().length() > 20, m + ": " + help.value());
            for (Parameter p : m.getParameters()) {
                assertNotNull(p.getAnnotation(Descriptor.class), p + " of " + m + " has no help");
            }
        }
        assertEquals(7, commandsSeen, "protocols, endpoints [NAME], connections [ENDPOINT], metrics [ENDPOINT]");
    }

    @Test
    void endpointsNameDescribesOneEndpoint() {
        String echo = commands.endpoints("echo");
        assertTrue(echo.matches("(?s)endpoint\\s+echo\n.*addresses\\s+\\[::1\\]:7007\n.*state\\s+LISTENING\n.*"
                + "protocol\\s+echo 0\\.1\\.0\\.SNAPSHOT\n.*open\\s+1\n.*sessions\\s+3\n.*echo\\.udp\\.dropped\\s+0\n"),
                echo);
        assertFalse(echo.contains("reason"), echo);
        String kv = commands.endpoints("kv");
        assertTrue(kv.contains("state                    FAILED\nreason                   port 7010 in use\n"), kv);
    }

    @Test
    void anUnknownNameSaysWhichThereAre() {
        assertEquals("no endpoint named nope (there are: echo, kv)\n", commands.endpoints("nope"));
        assertEquals("no endpoint named nope (there are: echo, kv)\n", commands.connections("nope"));
        assertEquals("no endpoint named nope (there are: echo, kv)\n", commands.metrics("nope"));
    }

    @Test
    void connectionsOfOneEndpoint() {
        String echo = commands.connections("echo");
        assertEquals(2, echo.lines().count(), echo);
        assertTrue(echo.lines().skip(1).allMatch(l -> l.startsWith("echo ") && l.contains("[::1]:47912")), echo);
        assertEquals(1, commands.connections("kv").lines().count(), "the header only");
        assertEquals(echo, commands.connections());
    }
}
