package org.wharf.endpoints;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The whiteboard's view of itself, as a service: every configured endpoint with its state,
 * every registered protocol, the open connections. The change count grows with every change
 * of state, so tools and tests wait on facts instead of sleeping.
 */
@ProviderType
public interface EndpointRuntime {

    /**
     * Every configured endpoint.
     *
     * @return a snapshot, sorted by name
     */
    List<EndpointInfo> endpoints();

    /**
     * Every registered protocol.
     *
     * @return a snapshot, sorted by name and version
     */
    List<ProtocolInfo> protocols();

    /**
     * The open connections of the stream endpoints.
     *
     * @return a snapshot
     */
    List<ConnectionInfo> connections();

    /**
     * A number that grows with every change of an endpoint's state or the set of protocols.
     *
     * @return the change count
     */
    long changeCount();
}
