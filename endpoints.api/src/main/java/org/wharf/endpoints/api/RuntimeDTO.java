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
}
