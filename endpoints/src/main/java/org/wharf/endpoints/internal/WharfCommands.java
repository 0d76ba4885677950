package org.wharf.endpoints.internal;


import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.wharf.endpoints.api.EndpointRuntime;
import org.wharf.endpoints.api.RuntimeText;

/**
 * Gogo commands: {@code wharf:protocols}, {@code wharf:endpoints [NAME]},
 * {@code wharf:connections [ENDPOINT]}, {@code wharf:metrics [ENDPOINT]}. Their help text is
 * Gogo's {@code @Descriptor} (read by {@code help wharf:endpoints}); the annotation is only
 * there inside a framework with Gogo, and without it the commands work all the same. Enabled
 * by the whiteboard outside Karaf (in Karaf, shell.karaf gives them as Karaf commands). The
 * text is {@link RuntimeText}'s, shared with the Karaf commands.
 */
@Component(service = WharfCommands.class, enabled = false, property = {"osgi.command.scope=wharf",
    "osgi.command.function=protocols", "osgi.command.function=endpoints", "osgi.command.function=connections",
    "osgi.command.function=metrics"})
public final class WharfCommands {

    @Reference
    private EndpointRuntime runtime;

    /** Made by Declarative Services. */
    public WharfCommands() {
    }

    /** Over a given runtime, outside a framework (tests). */
    WharfCommands(EndpointRuntime runtime) {
        this.runtime = runtime;
    }

    /**
     * Lists the registered protocols.
     *
     * @return a table
     */
    @Descriptor("lists the protocols registered (name, version of their bundle, transports, bundle, endpoints using "
            + "them)")
    public String protocols() {
        return text().protocols();
    }

    /**
     * Lists the configured endpoints.
     *
     * @return a table
     */
    @Descriptor("lists the endpoints: name, transport, addresses, state, protocol and version, open connections, "
            + "sessions so far, and why one is not listening")
    public String endpoints() {
        return text().endpoints();
    }

    /**
     * Describes one endpoint: every figure the runtime keeps for it.
     *
     * @param name the endpoint's name
     * @return one line per figure, or why there is none
     */
    @Descriptor("describes one endpoint: state and reason, addresses, protocol, connections, requests, bytes and "
            + "its protocol's metrics")
    public String endpoints(@Descriptor("the endpoint's name (its configuration's name property)") String name) {
        return text().endpoint(name);
    }

    /**
     * Lists the open connections of every endpoint.
     *
     * @return a table
     */
    @Descriptor("lists the open connections of every endpoint: peer, local address, bytes in and out")
    public String connections() {
        return text().connections(null);
    }

    /**
     * Lists the open connections of one endpoint.
     *
     * @param endpoint the endpoint's name
     * @return a table, or why there is none
     */
    @Descriptor("lists the open connections of one endpoint: peer, local address, bytes in and out")
    public String connections(@Descriptor("the endpoint's name") String endpoint) {
        return text().connections(endpoint);
    }

    /**
     * Lists the figures each endpoint's protocol keeps (such as a proxy route's).
     *
     * @return a table
     */
    @Descriptor("lists the figures each endpoint's protocol keeps (such as a gateway route's upstreams)")
    public String metrics() {
        return text().metrics(null);
    }

    /**
     * Lists the figures one endpoint's protocol keeps.
     *
     * @param endpoint the endpoint's name
     * @return a table, or why there is none
     */
    @Descriptor("lists the figures one endpoint's protocol keeps")
    public String metrics(@Descriptor("the endpoint's name") String endpoint) {
        return text().metrics(endpoint);
    }

    private RuntimeText text() {
        return new RuntimeText(runtime);
    }
}
