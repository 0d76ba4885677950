package org.wharf.endpoints.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

/** A configured connection pool (factory PID {@code org.wharf.client.pool}), registered as a {@code Pool} service. */
@ObjectClassDefinition(id = "org.wharf.client.pool", name = "Wharf connection pool",
        description = "Connections to one server kept for reuse, offered to other bundles as a Pool service.")
@interface PoolConfiguration {

    @AttributeDefinition(name = "Name", description = "The wharf.pool.name of the Pool service.")
    String name();

    @AttributeDefinition(name = "Transport", options = {@Option(label = "TCP", value = "tcp"),
        @Option(label = "TLS", value = "ssl")})
    String transport() default "tcp";

    @AttributeDefinition(name = "Host", description = "The server's host name or address.")
    String host();

    @AttributeDefinition(name = "Port", min = "1", max = "65535")
    int port();

    @AttributeDefinition(name = "Protocol",
            description = "The client protocol: a name or an LDAP filter over the ProtocolFactory service properties.")
    String protocol();

    @AttributeDefinition(name = "Maximum size", min = "1")
    int maxSize() default 10;

    @AttributeDefinition(name = "Maximum waiting acquires", min = "0",
            description = "Acquires that may wait for a connection to come free; one more fails at once. 0: none waits.")
    int maxWaiters() default 1000;

    @AttributeDefinition(name = "Acquire timeout (ms)", min = "1")
    long acquireTimeout() default 30_000;

    @AttributeDefinition(name = "Connect timeout (ms)", min = "1",
            description = "How long one connect may take (with the TLS handshake over ssl). A connect still going when "
                    + "its acquire times out goes on, and its connection joins the pool.")
    long connectTimeout() default 30_000;

    @AttributeDefinition(name = "Idle timeout (ms)", min = "0", description = "0 keeps idle connections.")
    long idleTimeout() default 0;

    @AttributeDefinition(name = "Maximum lifetime (ms)", min = "0", description = "0 for no limit.")
    long maxLifetime() default 0;

    @AttributeDefinition(name = "TLS settings", required = false,
            description = "The name of an org.wharf.tls configuration, for the ssl transport.")
    String tls();
}
