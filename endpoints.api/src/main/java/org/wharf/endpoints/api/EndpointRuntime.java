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

    /**
     * The platform's metrics now: per endpoint (connections accepted, refused and closed by
     * reason, open, bytes each way, requests, connection and TLS handshake durations, TLS
     * failures by cause, memory budget in use), per event loop (channels, tasks, I/O events,
     * lag), the platform's memory budget, and each bound protocol's own figures. Counters come from {@link java.util.concurrent.atomic.LongAdder}s
     * and per-loop fields, histograms have fixed buckets; reading them takes no lock of a
     * connection's path.
     *
     * @return one DTO per metric, sorted by name; every metric is there even before it has samples
     */
    MetricDTO[] getMetricDTOs();
}
