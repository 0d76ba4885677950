package org.wharf.shell.karaf;

import java.util.List;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;
import org.wharf.endpoints.api.EndpointRuntime;
import org.wharf.endpoints.api.RuntimeText;

/** Completes an endpoint argument with the names of the endpoints there are now. */
@Service
public final class EndpointNames implements Completer {

    @Reference
    EndpointRuntime runtime;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        return new StringsCompleter(new RuntimeText(runtime).endpointNames()).complete(session, commandLine, candidates);
    }
}
