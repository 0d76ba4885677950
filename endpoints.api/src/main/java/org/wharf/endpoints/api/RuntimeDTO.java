package org.wharf.endpoints.api;

/**
 * The runtime at one moment: every endpoint and protocol from one consistent look, and the
 * change count that look belongs to. A data transfer object.
 */
public class RuntimeDTO {

    /** Every configured endpoint, sorted by name. */
    public EndpointDTO[] endpoints;
    /** Every registered protocol, sorted by name and version. */
    public ProtocolDTO[] protocols;
    /** The change count this snapshot was taken at (see {@link EndpointRuntime#CHANGE_COUNT}). */
    public long changeCount;
    /**
     * Whether this node takes new connections, what a balancer's readiness check asks: the
     * framework has started, every configured endpoint is {@link EndpointState#LISTENING}, and
     * the node is not shutting down.
     */
    public boolean ready;
    /** Why the node is not ready (naming the endpoint and its reason), or the empty string. */
    public String notReadyReason;
    /** Whether the node is shutting down: not ready, then draining its endpoints, then stopping. */
    public boolean shuttingDown;
    /**
     * Whether the node is alive, what a liveness check asks: {@code false} once an event loop
     * died of a fatal error (a restart is what helps then).
     */
    public boolean live;
    /** Why the node is not alive, or the empty string. */
    public String notLiveReason;
}
