package org.wharf.protocol.api;

import java.net.InetSocketAddress;
import java.util.Map;

import org.osgi.annotation.versioning.ConsumerType;
import org.osgi.annotation.versioning.ProviderType;
import org.wharf.transport.api.Protocol;

/**
 * A protocol's own health check of an upstream server, as a service a protocol bundle
 * registers with the property {@value #NAME_PROPERTY} (the name a gateway route's
 * {@code proxy.health.probe} chooses it by). For each check the gateway connects to the
 * upstream over the route's transport (TLS included) and asks {@link #newCheck} for the
 * protocol of that one connection: it sends its request when the connection is made and
 * calls {@link Check#healthy()} or {@link Check#unhealthy(String)} from the answer.
 *
 * <p>The gateway keeps the bounds, from its configuration and never from the upstream: the
 * answer must come within the route's time ({@code proxy.connectTimeout}) and in at most
 * {@code proxy.health.maxBytes} bytes read, or the check fails saying which; a connection that
 * ends, or a callback that throws, before a verdict fails it too. After the verdict the gateway
 * closes the connection (a probe need not). A failed check counts as a failed connect: enough in
 * a row mark the upstream down, and while it is down only a check that passes brings it back.
 *
 * <p>The protocol's callbacks run on the check connection's event loop, one at a time, as any
 * protocol's do: they must not block. A probe keeps no state between checks that it does not
 * guard itself; checks of many upstreams and routes may run at once.
 */
@ConsumerType
public interface HealthProbe {

    /** The service property naming the probe ({@code redis}, {@code http}, ...): a string. */
    String NAME_PROPERTY = "wharf.probe.name";

    /**
     * Makes the protocol of one check connection.
     *
     * @param check the upstream checked and where the verdict goes
     * @return a new protocol, not shared with other checks
     */
    Protocol newCheck(Check check);

    /**
     * One check of one upstream, made by the gateway. The first verdict counts; later ones
     * are ignored. Its methods may be called from any thread.
     */
    @ProviderType
    interface Check {

        /** @return the upstream server checked, as the route names it */
        InetSocketAddress upstream();

        /** @return the name of the gateway endpoint whose route checks it, for messages */
        String endpoint();

        /**
         * @return the endpoint's configuration, read-only, for settings of the probe's own
         *     (such as a path or a password under a prefix the probe documents)
         */
        Map<String, Object> properties();

        /** The upstream answered as a healthy server does. */
        void healthy();

        /**
         * The upstream answered, but not as a healthy server does.
         *
         * @param reason what was wrong, for the log line that marks it down (such as
         *     {@code answered PING with -LOADING})
         */
        void unhealthy(String reason);
    }
}
