package org.wharf.shell.karaf;

import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.wharf.endpoints.api.RuntimeText;

/** {@code wharf:metrics}: the figures endpoints' protocols keep. */
@Command(scope = "wharf", name = "metrics", description = "Lists the figures each endpoint's protocol keeps (such as a gateway route's upstreams), of every endpoint or one.")
@Service
public final class MetricsCommand extends WharfCommand {

    @Argument(index = 0, name = "endpoint", required = false, description = "the endpoint's name; without it, every endpoint")
    @Completion(EndpointNames.class)
    String endpoint;

    @Override
    String text(RuntimeText text) {
        return text.metrics(endpoint);
    }
}
