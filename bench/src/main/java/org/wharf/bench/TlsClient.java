package org.wharf.bench;

import java.util.List;
import java.util.Objects;

import javax.net.ssl.SSLContext;

/**
 * The driver's TLS: a context that trusts the servers' certificate, and the cipher suites it
 * offers. The bench offers one suite, the one every server is also pinned to, so every row
 * compares the same cipher.
 *
 * @param context the client's context
 * @param cipherSuites the suites offered, in order; empty for the context's defaults
 */
public record TlsClient(SSLContext context, List<String> cipherSuites) {

    /**
     * Checks the values.
     *
     * @param context the client's context
     * @param cipherSuites the suites offered; empty for the context's defaults
     */
    public TlsClient {
        Objects.requireNonNull(context, "context");
        cipherSuites = List.copyOf(cipherSuites);
    }
}
