package org.wharf.transport.api;

import org.osgi.annotation.versioning.ProviderType;

/**
 * What every transport provider service has in common: the kind of transport it makes. A
 * provider registers with the service property {@value #TRANSPORT_PROPERTY} set to its
 * {@link #kind()}.
 */
@ProviderType
public interface TransportProvider {

    /** The service property naming the kind of transport: {@value}. */
    String TRANSPORT_PROPERTY = "wharf.transport";

    /** The kind of plain TCP transports: {@value}. */
    String TCP = "tcp";

    /** The kind of TLS transports over TCP: {@value}. */
    String SSL = "ssl";

    /** The kind of UDP transports: {@value}. */
    String UDP = "udp";

    /**
     * The kind of transport this provider makes, such as {@value #TCP}.
     *
     * @return the kind, also the value of its {@value #TRANSPORT_PROPERTY} property
     */
    String kind();

    /**
     * The event loops this provider's connections run on, for metrics. Providers that share
     * loops (TCP and UDP of one group) report the same loops, by the same names.
     *
     * @return a snapshot of each loop; empty if the provider has no loops of its own (TLS runs on TCP's)
     */
    default java.util.List<LoopStats> loopStats() {
        return java.util.List.of();
    }

    /**
     * The event loops of this provider that died of a fatal error (they take no more work),
     * for a liveness check: a platform with a dead loop should be restarted.
     *
     * @return the number of dead loops; 0 if the provider has no loops of its own
     */
    default int deadLoops() {
        return 0;
    }
}
