package org.wharf.endpoints.api;

/** One open connection of an endpoint, at one moment. A data transfer object. */
public class ConnectionDTO {

    /** The endpoint's name. */
    public String endpoint;
    /**
     * The client's address as {@code host:port}: the one its PROXY protocol header gave when the
     * endpoint accepts one, else the peer's.
     */
    public String peer;
    /** The balancer that sent the PROXY protocol header, as {@code host:port}; null without one. */
    public String proxiedBy;
    /** The local address as {@code host:port}. */
    public String local;
    /** Bytes received so far. */
    public long bytesReceived;
    /** Bytes sent so far. */
    public long bytesSent;

    @Override
    public String toString() {
        return endpoint + " " + peer;
    }
}
