package org.wharf.endpoints.api;

/** A protocol registered with the runtime, at one moment. A data transfer object. */
public class ProtocolDTO {

    /** Its {@code wharf.protocol.name}. */
    public String name;
    /** Its version (the service property, else its bundle's). */
    public String version;
    /** The transport kinds it serves. */
    public String[] transports;
    /** The symbolic name of the bundle that registered it. */
    public String bundle;
    /** Its service id. */
    public long serviceId;
    /** Its {@code service.ranking} (0 when not set). */
    public int ranking;
    /** The endpoints it serves now. */
    public String[] endpoints;

    @Override
    public String toString() {
        return "protocol " + name + " " + version;
    }
}
