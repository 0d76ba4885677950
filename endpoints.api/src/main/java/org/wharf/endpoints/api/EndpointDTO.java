package org.wharf.endpoints.api;

import java.util.Map;

/**
 * One configured endpoint as the runtime sees it, at one moment. A data transfer object:
 * public fields, no behaviour, never changed after the runtime handed it out.
 */
public class EndpointDTO {

    /** Nothing is wrong. */
    public static final int FAILURE_REASON_NONE = 0;
    /** A property has a value the endpoint cannot use (a port, a host, a limit, a filter). */
    public static final int FAILURE_REASON_INVALID_PROPERTY = 1;
    /** No transport of the configured kind is registered (the endpoint waits for it). */
    public static final int FAILURE_REASON_NO_TRANSPORT = 2;
    /** No registered protocol matches the configured one (the endpoint waits for it). */
    public static final int FAILURE_REASON_NO_PROTOCOL = 3;
    /** The named TLS settings, or TLS support for inline {@code tls.*} properties, are not there (it waits). */
    public static final int FAILURE_REASON_NO_TLS = 4;
    /** The TLS settings cannot be used (a missing key store, a wrong password). */
    public static final int FAILURE_REASON_INVALID_TLS = 5;
    /** The protocol refused the endpoint's settings for it. */
    public static final int FAILURE_REASON_PROTOCOL_REFUSED_SETTINGS = 6;
    /** The address could not be bound (in use, not local). */
    public static final int FAILURE_REASON_CANNOT_BIND = 7;
    /** The protocol went away and no other took over: the endpoint drains. */
    public static final int FAILURE_REASON_PROTOCOL_GONE = 8;

    /** The endpoint's configured name. */
    public String name;
    /** The transport kind ({@code tcp}, {@code ssl}, {@code udp}). */
    public String transport;
    /** The bound addresses as {@code host:port} (the configured host, the real port); empty unless listening. */
    public String[] addresses;
    /** Where it stands. */
    public EndpointState state;
    /** Why it waits, drains or failed: one of the {@code FAILURE_REASON_*} constants. */
    public int failureReason;
    /** The same in words, naming the property and its value; empty when nothing is wrong. */
    public String failureMessage;
    /** The name of the bound protocol, or empty. */
    public String protocol;
    /** The version of the bound protocol, or empty. */
    public String protocolVersion;
    /** Connections served since it started listening. */
    public long sessions;
    /** Connections open now. */
    public long open;
    /** Connections refused over the endpoint's limit (every reason is in the runtime's metrics). */
    public long rejected;
    /** Requests, where the protocol counts them. */
    public long requests;
    /** Bytes received over all its connections. */
    public long bytesReceived;
    /** Bytes sent over all its connections. */
    public long bytesSent;
    /** The figures its protocol keeps for it (such as a gateway route's), by name. */
    public Map<String, Long> protocolMetrics;

    @Override
    public String toString() {
        return "endpoint " + name + " " + state + (failureMessage == null || failureMessage.isEmpty() ? ""
                : " (" + failureMessage + ")");
    }
}
