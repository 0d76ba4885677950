package org.wharf.shell.karaf;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.wharf.endpoints.api.RuntimeText;

/** {@code wharf:connections}: open connections, of every endpoint or one. */
@Command(scope = "wharf", name = "connections", description = "Lists the open connections (endpoint, peer, local address, bytes in and out) of every endpoint or one.")
@Service
public final class ConnectionsCommand extends WharfCommand {

    @Argument(index = 0, name = "endpoint", required = false, description = "the endpoint's name; without it, every endpoint")
    @Completion(EndpointNames.class)
    String endpoint;

    @Override
    String text(RuntimeText text) {
        return text.connections(endpoint);
    }
}
