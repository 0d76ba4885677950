package org.wharf.shell.karaf;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.wharf.endpoints.api.RuntimeText;

/** {@code wharf:endpoints}: the endpoints, or every figure of one. */
@Command(scope = "wharf", name = "endpoints", description = "Lists the endpoints (name, transport, addresses, state, protocol and version, open connections, sessions, why one is not listening), or describes one.")
@Service
public final class EndpointsCommand extends WharfCommand {

    @Argument(index = 0, name = "name", required = false, description = "the endpoint's name (its configuration's name property); without it, every endpoint")
    @Completion(EndpointNames.class)
    String name;

    @Override
    String text(RuntimeText text) {
        return name == null ? text.endpoints() : text.endpoint(name);
    }
}
