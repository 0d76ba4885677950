package org.wharf.shell.karaf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.wharf.endpoints.api.ConnectionDTO;
import org.wharf.endpoints.api.EndpointDTO;
import org.wharf.endpoints.api.EndpointRuntime;
import org.wharf.endpoints.api.EndpointState;
import org.wharf.endpoints.api.MetricDTO;
import org.wharf.endpoints.api.ProtocolDTO;
import org.wharf.endpoints.api.RuntimeDTO;

/** The Karaf actions print what the Gogo commands print; the completer offers the endpoints' names. */
class CommandsTest {

    private static final EndpointRuntime RUNTIME = new EndpointRuntime() {
        @Override
        public RuntimeDTO getRuntimeDTO() {
            RuntimeDTO dto = new RuntimeDTO();
            dto.endpoints = new EndpointDTO[] {endpoint("echo"), endpoint("api")};
            dto.protocols = new ProtocolDTO[0];
            return dto;
        }

        @Override
        public ConnectionDTO[] getConnectionDTOs(String endpoint) {
            return new ConnectionDTO[0];
        }

        @Override
        public MetricDTO[] getMetricDTOs() {
            return new MetricDTO[0];
        }
    };

    private static EndpointDTO endpoint(String name) {
        EndpointDTO e = new EndpointDTO();
        e.name = name;
        e.transport = "tcp";
        e.addresses = new String[] {"127.0.0.1:7007"};
        e.state = EndpointState.LISTENING;
        e.failureMessage = "";
        e.protocol = "echo";
        e.protocolVersion = "0.1.0";
        return e;
    }

    @Test
    void endpointsWithANameDescribesThatOneAndAnUnknownNameSaysWhichThereAre() {
        EndpointsCommand command = new EndpointsCommand();
        command.runtime = RUNTIME;
        command.name = "echo";
        String one = (String) command.execute();
        assertTrue(one.contains("endpoint                 echo") && one.contains("LISTENING"), one);
        command.name = "nope";
        assertEquals("no endpoint named nope (there are: api, echo)" + System.lineSeparator(), command.execute());
        command.name = null;
        assertTrue(((String) command.execute()).startsWith("ENDPOINT"));
    }

    @Test
    void connectionsAndMetricsOfAnUnknownEndpointSayWhichThereAre() {
        ConnectionsCommand connections = new ConnectionsCommand();
        connections.runtime = RUNTIME;
        connections.endpoint = "nope";
        assertTrue(((String) connections.execute()).startsWith("no endpoint named nope"));
        MetricsCommand metrics = new MetricsCommand();
        metrics.runtime = RUNTIME;
        assertTrue(((String) metrics.execute()).startsWith("ENDPOINT"));
    }

    @Test
    void theCompleterOffersTheEndpointsNamesSorted() {
        EndpointNames names = new EndpointNames();
        names.runtime = RUNTIME;
        java.util.List<String> candidates = new java.util.ArrayList<>();
        names.complete(null, new Line(""), candidates);
        assertEquals(java.util.List.of("api", "echo"), candidates.stream().map(String::strip).sorted().toList());
    }

    /** A command line whose cursor is at the end of one (possibly empty) argument. */
    private record Line(String argument) implements org.apache.karaf.shell.api.console.CommandLine {
        @Override
        public int getCursorArgumentIndex() {
            return 1;
        }

        @Override
        public String getCursorArgument() {
            return argument;
        }

        @Override
        public int getArgumentPosition() {
            return argument.length();
        }

        @Override
        public String[] getArguments() {
            return new String[] {"wharf:endpoints", argument};
        }

        @Override
        public int getBufferPosition() {
            return "wharf:endpoints ".length() + argument.length();
        }

        @Override
        public String getBuffer() {
            return "wharf:endpoints " + argument;
        }
    }
}
