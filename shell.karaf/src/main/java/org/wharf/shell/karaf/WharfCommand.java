package org.wharf.shell.karaf;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.console.Session;
import org.wharf.endpoints.api.EndpointRuntime;
import org.wharf.endpoints.api.RuntimeText;

/** What the wharf:* actions share: the runtime, the session's console, the text. */
abstract class WharfCommand implements Action {

    @Reference
    EndpointRuntime runtime;

    /** Where the text goes: the session's console (what Karaf's own commands print to). */
    @Reference
    Session session;

    /** The command's text, from the runtime's. */
    abstract String text(RuntimeText text);

    @Override
    public Object execute() {
        String out = text(new RuntimeText(runtime));
        if (session == null) {
            return out; // outside a shell session (tests): the text itself
        }
        session.getConsole().print(out);
        session.getConsole().flush();
        return null; // printed: nothing more for the shell to print
    }
}
