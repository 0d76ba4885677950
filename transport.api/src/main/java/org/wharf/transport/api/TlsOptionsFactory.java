package org.wharf.transport.api;

import java.util.Map;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Makes {@link TlsOptions} from configuration properties, the {@code tls.*} keys of an
 * {@code org.wharf.tls} configuration ({@code tls.certificate}, {@code tls.key},
 * {@code tls.keystore}, {@code tls.ca}, {@code tls.clientAuth}, ...). Registered as a service by
 * the TLS transport (and found with {@link java.util.ServiceLoader} outside a framework), so
 * endpoints and protocols that take TLS settings inline need no TLS implementation of their
 * own.
 */
@ProviderType
public interface TlsOptionsFactory {

    /** The prefix of every key this factory reads. */
    String PREFIX = "tls.";

    /**
     * Reads the {@code tls.*} keys of a configuration; other keys are ignored.
     *
     * @param properties the configuration
     * @return options whose context reloads when its files change
     * @throws IllegalArgumentException naming the property and the value that cannot be used
     *         (a missing file, a wrong password, an unknown client-auth mode)
     */
    TlsOptions fromProperties(Map<String, ?> properties);
}
