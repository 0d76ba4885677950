package org.wharf.protocol.proxy.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

/**
 * A gateway in one configuration (factory PID {@code org.wharf.proxy}): where it listens, as
 * any endpoint, and where it forwards. Property names are those of {@code org.wharf.server}
 * and of {@link Route}.
 */
@ObjectClassDefinition(id = "org.wharf.proxy", name = "Wharf gateway",
        description = "Listens like any endpoint and forwards each connection to one of its upstream servers.")
@interface ProxyConfiguration {

    @AttributeDefinition(name = "Name", description = "Names the gateway's endpoint in logs, commands and JMX.")
    String name();

    @AttributeDefinition(name = "Transport", description = "How clients connect: tcp, or ssl to terminate TLS "
            + "(then tls names an org.wharf.tls configuration, or give tls.* properties).",
            options = {@Option(label = "TCP", value = "tcp"), @Option(label = "TLS", value = "ssl")})
    String transport() default "tcp";

    @AttributeDefinition(name = "Host", description = "The address to listen on; 0.0.0.0 for every interface.")
    String host() default "0.0.0.0";

    @AttributeDefinition(name = "Port", min = "0", max = "65535", description = "0 for an ephemeral port.")
    int port();

    @AttributeDefinition(name = "TLS settings", required = false,
            description = "For transport ssl: the name of an org.wharf.tls configuration.")
    String tls();

    @AttributeDefinition(name = "Maximum connections", min = "0", description = "0 for no limit.")
    int maxConnections() default 0;

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

    @AttributeDefinition(name = "Upstreams", required = false, description = "host:port of each upstream server. "
            + "With routes by server name (proxy.sni.NAME = host:port, ... for TLS connections whose ClientHello asks "
            + "for NAME, passed through untouched unless proxy.sni.NAME.tls.certificate and .tls.key give NAME a "
            + "certificate: then the gateway terminates the TLS and the upstreams get plain text) or by ALPN "
            + "(proxy.alpn.PROTO = host:port, ... for TLS connections offering PROTO, such as h2, passed through; a "
            + "server name's route comes first, then the client's first offered protocol that has a route), the "
            + "default route: connections no other route takes; left out, those are closed.")
    String[] proxy_upstreams();

    @AttributeDefinition(name = "First bytes timeout (ms)", min = "1", description = "With proxy.sni.NAME or "
            + "proxy.alpn.PROTO routes: how long a connection may take to send its ClientHello; one that sent nothing "
            + "by then goes to the default route (a protocol where the server speaks first).")
    long proxy_sniTimeout() default 5000;

    @AttributeDefinition(name = "Most bytes of a ClientHello", min = "256", max = "65556", description = "With "
            + "proxy.sni.NAME or proxy.alpn.PROTO routes: the most bytes read to find a connection's ClientHello "
            + "(16389 is one whole TLS record, which every client's fits); a connection whose hello is longer is "
            + "closed.")
    int proxy_sniMaxBytes() default 16389;

    @AttributeDefinition(name = "Pooled HTTP: longest line followed", min = "256", description = "On a pooled http "
            + "route: the longest request, response, header or chunk-size line the gateway follows; past it the "
            + "upstream connection is closed after its client instead of reused (the bytes still pass).")
    int proxy_http_maxLine() default 65536;

    @AttributeDefinition(name = "Pooled HTTP: most header lines followed", min = "1", description = "On a pooled "
            + "http route: the most header (or trailer) lines of one message followed; past it, as above.")
    int proxy_http_maxHeaderFields() default 256;

    @AttributeDefinition(name = "Pooled HTTP: most pipelined requests followed", min = "1", description = "On a "
            + "pooled http route: the most requests awaiting their responses followed; past it, as above.")
    int proxy_http_maxPipelined() default 1024;

    @AttributeDefinition(name = "Upstream transport", description = "tcp, or ssl to originate TLS (settings in "
            + "proxy.upstream.tls.*: tls.ca, tls.verify, tls.serverName, a client certificate).",
            options = {@Option(label = "TCP", value = "tcp"), @Option(label = "TLS", value = "ssl")})
    String proxy_upstream_transport() default "tcp";

    @AttributeDefinition(name = "Upstream CA bundle", required = false,
            description = "For upstream transport ssl: PEM certificates to trust (default: the JDK's).")
    String proxy_upstream_tls_ca();

    @AttributeDefinition(name = "Balancing", options = {@Option(label = "Round robin", value = "round-robin"),
        @Option(label = "Least connections", value = "least-connections")})
    String proxy_balancing() default "round-robin";

    @AttributeDefinition(name = "Connect timeout (ms)", min = "1")
    long proxy_connectTimeout() default 5000;

    @AttributeDefinition(name = "Retries", min = "0", required = false,
            description = "Further upstreams tried after a failed connect (default: all of them).")
    int proxy_retries();

    @AttributeDefinition(name = "Idle timeout (ms)", min = "0",
            description = "Closes both legs after this long without a byte either way (ten minutes, as nginx's "
                    + "proxy_timeout); 0 for never.")
    long proxy_idleTimeout() default 600_000;

    @AttributeDefinition(name = "Application protocol", description = "What the route carries: tcp (bytes the "
            + "gateway does not read), redis or http (HTTP/1.1). Pooling needs redis or http.",
            options = {@Option(label = "TCP (opaque)", value = "tcp"), @Option(label = "Redis (RESP)", value = "redis"),
                @Option(label = "HTTP/1.1", value = "http")})
    String proxy_protocol() default "tcp";

    @AttributeDefinition(name = "Pooled upstream connections", description = "Reuse upstream connections across "
            + "client connections (needs proxy.protocol redis or http): one goes back to the pool only once every "
            + "request of its last client was answered in full, and is closed instead after blocking or subscribing "
            + "commands, upgrades, Connection: close or answers still owed.")
    boolean proxy_pooled() default false;

    @AttributeDefinition(name = "Send the PROXY protocol upstream", description = "off, or v1 / v2: each upstream "
            + "connection begins with a PROXY protocol header naming the client (the one a PROXY header gave this "
            + "endpoint, when it accepts one), as HAProxy's send-proxy / send-proxy-v2; v2 also carries the client's "
            + "TLS facts (ALPN, SNI, version, cipher). Not with pooled upstream connections.",
            options = {@Option(label = "Off", value = "off"), @Option(label = "Version 1", value = "v1"),
                @Option(label = "Version 2", value = "v2")})
    String proxy_upstream_proxyProtocol() default "off";

    @AttributeDefinition(name = "Access log", description = "One INFO line per connection in the logger "
            + "org.wharf.access: client (the PROXY protocol's when accepted), the balancer it came through, endpoint, "
            + "upstream, bytes from and to the client, duration, how it ended (format in README's gateway section).")
    boolean proxy_accessLog() default true;

    @AttributeDefinition(name = "Failed connects that mark an upstream down", min = "0",
            description = "After this many failed connects in a row an upstream gets no client connection until a "
                    + "background check connects to it again (so clients do not wait for its connect timeout); 0 never "
                    + "marks one down.")
    int proxy_health_failures() default 3;

    @AttributeDefinition(name = "First check after (ms)", min = "1",
            description = "How long a marked-down upstream waits for its first check; doubled after each failed check.")
    long proxy_health_downTime() default 1000;

    @AttributeDefinition(name = "Longest wait between checks (ms)", min = "1")
    long proxy_health_maxDownTime() default 30000;

    @AttributeDefinition(name = "Active checks every (ms)", min = "0", description = "Connects to every upstream "
            + "that is up this often (a TLS handshake for upstream transport ssl), from the route's first connection "
            + "on; a failed check counts as a failed connect. 0 for none.")
    long proxy_health_interval() default 0;

    @AttributeDefinition(name = "Health check", description = "What a check asks of an upstream: connect (a "
            + "connection, a TLS handshake for upstream transport ssl), protocol (a request in proxy.protocol: PING "
            + "for redis, HEAD / for http, answered within the connect timeout, so a server that takes connections "
            + "but does not answer is found too) or probe (the health probe proxy.health.probe names, which any "
            + "bundle may register; while none of that name is, checks connect).",
            options = {@Option(label = "Connect", value = "connect"), @Option(label = "Protocol request", value = "protocol"),
                @Option(label = "A registered probe", value = "probe")})
    String proxy_health_check() default "connect";

    @AttributeDefinition(name = "Health probe", required = false, description = "With health check probe: the "
            + "name (wharf.probe.name) of the HealthProbe service that checks the upstreams, such as redis or http "
            + "(the gateway's own) or one a protocol bundle registers.")
    String proxy_health_probe();

    @AttributeDefinition(name = "Most bytes a probe reads", min = "1", description = "A probe that has not decided "
            + "after this many bytes of the answer fails the check (so does one that has not within the connect "
            + "timeout).")
    int proxy_health_maxBytes() default 16384;
}
