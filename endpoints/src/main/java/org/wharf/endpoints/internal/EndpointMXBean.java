package org.wharf.endpoints.internal;

/** An endpoint as seen through JMX ({@code org.wharf:type=Endpoint,name=...}). */
public interface EndpointMXBean {

    /** @return the state: WAITING, LISTENING, DRAINING or FAILED */
    String getState();

    /** @return why it waits or failed */
    String getReason();

    /** @return the transport kind */
    String getTransport();

    /** @return the bound protocol and version */
    String getProtocol();

    /** @return the bound addresses */
    String getAddresses();

    /** @return connections served since the start */
    long getSessions();

    /** @return connections open now */
    long getOpenConnections();

    /** @return connections refused by the limit */
    long getRejected();

    /** @return requests finished */
    long getRequests();

    /** @return bytes received */
    long getBytesReceived();

    /** @return bytes sent */
    long getBytesSent();

    /** @return the figures the bound protocol keeps for this endpoint (such as a proxy route's) */
    java.util.Map<String, Long> getProtocolMetrics();
}
