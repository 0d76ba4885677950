package org.wharf.endpoints.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

/** A configured endpoint (factory PID {@code org.wharf.server}). */
@ObjectClassDefinition(id = "org.wharf.server", name = "Wharf endpoint",
        description = "A server endpoint: where to listen, over which transport, with which protocol.")
@interface EndpointConfiguration {

    @AttributeDefinition(name = "Name", description = "Names the endpoint in logs, commands and JMX.")
    String name();

    @AttributeDefinition(name = "Transport", options = {@Option(label = "TCP", value = "tcp"),
        @Option(label = "TLS", value = "ssl"), @Option(label = "UDP", value = "udp")})
    String transport() default "tcp";

    @AttributeDefinition(name = "Host", description = "The address to listen on; 0.0.0.0 for every interface.")
    String host() default "0.0.0.0";

    @AttributeDefinition(name = "Port", min = "0", max = "65535", description = "0 for an ephemeral port.")
    int port();

    @AttributeDefinition(name = "Protocol",
            description = "A protocol name (such as echo), or an LDAP filter over the ProtocolFactory service properties. "
                    + "Several, separated by commas (status, proxy), serve one port: each connection goes to the first "
                    + "listed whose factory claims its first bytes (FirstBytes); on an ssl endpoint a TLS ClientHello "
                    + "starts TLS and the decrypted bytes decide, and clear text is served too.")
    String protocol();

    @AttributeDefinition(name = "Detection: most bytes", min = "1", max = "65536",
            description = "With several protocols: how many first bytes the detectors may look at; a connection "
                    + "still undecided then is closed and counted as refused (detect_size).")
    int detect_maxBytes() default Detection.DEFAULT_MAX_BYTES;

    @AttributeDefinition(name = "Detection: timeout (ms)", min = "1",
            description = "With several protocols: how long a connection has to send what decides (counted again "
                    + "after a TLS handshake); then it is closed and counted as refused (detect_timeout). Bytes no "
                    + "listed protocol claims close it at once (no_match).")
    long detect_timeout() default 5000;

    @AttributeDefinition(name = "Maximum connections", min = "0",
            description = "Connections open at once; more are accepted and closed at once. 0 for no limit.")
    int maxConnections() default Endpoint.DEFAULT_MAX_CONNECTIONS;

    @AttributeDefinition(name = "Memory budget of the endpoint", required = false,
            description = "The most bytes all its connections hold for clients at once (request bodies, messages "
                    + "not yet handled), such as 64m; past it new work is refused (HTTP: 503). Default: half the "
                    + "platform's budget (wharf.memory.total, itself half the heap unless set).")
    String memory_endpoint();

    @AttributeDefinition(name = "Memory budget of a connection", required = false,
            description = "The most bytes one connection holds for its client at once, such as 4m. Default: a 64th "
                    + "of the endpoint's budget, at least 2m.")
    String memory_connection();

    @AttributeDefinition(name = "PROXY protocol", description = "Accept HAProxy's PROXY protocol header before "
            + "anything else on each connection (before TLS, on an ssl endpoint): off, v1 (text), v2 (binary) or either. "
            + "Then every connection must send one, from a trusted source, within the header timeout; protocols, "
            + "limits and logs see the client it names.",
            options = {@Option(label = "Off", value = "off"), @Option(label = "Version 1", value = "v1"),
                @Option(label = "Version 2", value = "v2"), @Option(label = "Either", value = "either")})
    String proxyProtocol() default "off";

    @AttributeDefinition(name = "PROXY protocol: trusted sources", required = false,
            description = "The balancers allowed to send a PROXY header: IP addresses or networks (10.0.0.0/8, "
                    + "::1). Connections from anywhere else are closed. Required when the PROXY protocol is on.")
    String[] proxyProtocol_trusted();

    @AttributeDefinition(name = "PROXY protocol: header timeout (ms)", min = "1",
            description = "How long a connection may take to send its complete header before it is closed.")
    long proxyProtocol_headerTimeout() default 5000;

    @AttributeDefinition(name = "Maximum connections per client", min = "0",
            description = "Connections one client address (the PROXY protocol's client when accepted) may have open "
                    + "at once; more are closed at once and counted as refused (client_limit). 0 for no limit.")
    int maxConnectionsPerClient() default 0;

    @AttributeDefinition(name = "New connections per second per client", min = "0",
            description = "How fast one client address may open connections (a token bucket); faster ones are closed "
                    + "at once and counted as refused (client_limit). 0 for no limit.")
    int connectionRatePerClient() default 0;

    @AttributeDefinition(name = "Connection burst per client", min = "1", required = false,
            description = "How many connections one client address may open at once before the rate applies "
                    + "(default: the rate).")
    int connectionBurstPerClient();

    @AttributeDefinition(name = "Idle timeout (ms)", min = "0",
            description = "Closes connections on which no byte moved for this long; 0 for never.")
    long idleTimeout() default 0;

    @AttributeDefinition(name = "Drain timeout (ms)", min = "0",
            description = "How long connections may finish after their protocol goes away or is replaced.")
    long drainTimeout() default 30_000;

    @AttributeDefinition(name = "Replace window (ms)", min = "0",
            description = "When the protocol goes away, how long new connections are held for a replacement "
                    + "(a bundle update) before the endpoint drains; 0 to drain at once.")
    long replaceWindow() default 2_000;

    @AttributeDefinition(name = "TLS settings", required = false,
            description = "The name of an org.wharf.tls configuration (for the ssl transport); or give the "
                    + "tls.* properties of org.wharf.tls (tls.certificate, tls.key, ...) on the endpoint itself.")
    String tls();
}
