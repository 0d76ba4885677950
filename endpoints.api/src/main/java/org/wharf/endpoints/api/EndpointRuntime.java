package org.wharf.endpoints.api;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The endpoints runtime's view of itself, as a service: every configured endpoint with its
 * state and failure, every registered protocol, the open connections. Its service property
 * {@value #CHANGE_COUNT} grows with every change, so tools and tests wait on a service event
 * instead of polling.
 */
@ProviderType
public interface EndpointRuntime {

    /** The service property that counts changes (the standard {@code service.changecount}). */
    String CHANGE_COUNT = "service.changecount";

    /**
     * Every endpoint and protocol from one consistent look: no endpoint's state is read apart
     * from its failure or its counters.
     *
     * @return a new snapshot
     */
    RuntimeDTO getRuntimeDTO();

    /**
     * The open connections of an endpoint.
     *
     * @param endpoint the endpoint's name, or {@code null} for every endpoint's
     * @return a new snapshot
     */
    ConnectionDTO[] getConnectionDTOs(String endpoint);
}
