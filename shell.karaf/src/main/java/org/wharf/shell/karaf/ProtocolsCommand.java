package org.wharf.shell.karaf;

import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.wharf.endpoints.api.RuntimeText;

/** {@code wharf:protocols}: the registered protocols. */
@Command(scope = "wharf", name = "protocols", description = "Lists the registered protocols (name, version of their bundle, transports, bundle, endpoints using them).")
@Service
public final class ProtocolsCommand extends WharfCommand {

    @Override
    String text(RuntimeText text) {
        return text.protocols();
    }
}
