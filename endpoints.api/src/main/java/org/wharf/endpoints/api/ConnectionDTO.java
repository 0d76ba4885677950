package org.wharf.endpoints.api;

/** One open connection of an endpoint, at one moment. A data transfer object. */
public class ConnectionDTO {

    /** The endpoint's name. */
    public String endpoint;
    /** The peer's address as {@code host:port}. */
    public String peer;
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
