package org.wharf.bench;

import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

import javax.net.ssl.SSLContext;

/**
 * The driver's TLS: a context that trusts the servers' certificate, and the cipher suites it
 * offers. The bench offers one suite, the one every server is also pinned to, so every row
 * compares the same cipher.
 *
 * @param context the client's context
 * @param cipherSuites the suites offered, in order; empty for the context's defaults
 * @param contexts makes another context trusting the same certificates, with a session cache of
 *     its own (see {@link #ownSessions()})
 */
public record TlsClient(SSLContext context, List<String> cipherSuites, Supplier<SSLContext> contexts) {

    /**
     * Checks the values.
     *
     * @param context the client's context
     * @param cipherSuites the suites offered; empty for the context's defaults
     * @param contexts makes another context trusting the same certificates
     */
    public TlsClient {
        Objects.requireNonNull(context, "context");
        Objects.requireNonNull(contexts, "contexts");
        cipherSuites = List.copyOf(cipherSuites);
    }

    /**
     * A client whose every copy shares its one context (and session cache).
     *
     * @param context the client's context
     * @param cipherSuites the suites offered; empty for the context's defaults
     */
    public TlsClient(SSLContext context, List<String> cipherSuites) {
        this(context, cipherSuites, () -> context);
    }

    /**
     * The same client with a context, and so a session cache, of its own: a client thread that
     * resumes keeps it for its whole run, so the ticket a server gave it is the one it offers
     * next. (The JDK's client uses a TLS 1.3 ticket once and caches one session per server:
     * threads sharing a cache would now and then find the ticket taken by another and make a
     * full handshake.)
     *
     * @return the copy
     */
    public TlsClient ownSessions() {
        return new TlsClient(contexts.get(), cipherSuites, contexts);
    }
}
