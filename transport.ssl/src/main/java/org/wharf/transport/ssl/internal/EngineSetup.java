package org.wharf.transport.ssl.internal;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

import org.wharf.transport.api.TlsOptions;

/**
 * How engines are made for one set of TLS options. A server's engines all get the same
 * parameters, so those are worked out once per context (the options' supplier may hand out a
 * new context when files change) and each new engine only takes them, or nothing when the
 * context's own defaults already say the same: reading an engine's parameters and filtering
 * the suites for every connection was a tenth of the Java time of a full handshake on
 * Conscrypt. A client's engine depends on the host it connects to and is set up in full.
 * Thread-safe: a listener's connections come from several loops.
 */
final class EngineSetup {

    private final TlsOptions options;
    /** The server parameters for the last context seen; recomputed (harmlessly twice in a race) for another. */
    private volatile Server server;

    /**
     * @param context the context the parameters were worked out for
     * @param parameters what each engine is given, or {@code null} when its defaults are the same
     */
    private record Server(SSLContext context, SSLParameters parameters) {
    }

    EngineSetup(TlsOptions options) {
        this.options = options;
    }

    TlsOptions options() {
        return options;
    }

    /** Whether a context's provider is Conscrypt (which needs the ClientHello read for it). */
    static boolean conscrypt(SSLContext context) {
        return "Conscrypt".equals(context.getProvider().getName());
    }

    /**
     * A server engine from the context, with the options' protocols, suites, ALPN protocols
     * and client authentication.
     *
     * @param context the context, from the options' supplier
     * @return the engine, in server mode
     */
    SSLEngine serverEngine(SSLContext context) {
        Server s = server;
        if (s == null || s.context != context) {
            s = prepare(context);
            server = s;
        }
        SSLEngine e = newServerEngine(context);
        try {
            if (s.parameters != null) {
                e.setSSLParameters(s.parameters);
            }
        } catch (RuntimeException failed) {
            discard(e);
            throw failed;
        }
        return e;
    }

    private static SSLEngine newServerEngine(SSLContext context) {
        SSLEngine e = context.createSSLEngine();
        try {
            e.setUseClientMode(false);
            SessionResumption.serverEngine(context, e);
        } catch (RuntimeException failed) {
            discard(e);
            throw failed;
        }
        return e;
    }

    /**
     * Closes an engine both ways, as it is done with (or will never be used): an engine on native
     * memory (Conscrypt's) frees its state only then, not when it is dropped.
     *
     * @param e the engine
     */
    static void discard(SSLEngine e) {
        e.closeOutbound();
        try {
            e.closeInbound();
        } catch (javax.net.ssl.SSLException beforeCloseNotify) {
            // "closed before the peer's close_notify": known, the engine is done with
        }
    }

    private Server prepare(SSLContext context) {
        SSLEngine probe = newServerEngine(context);
        SSLParameters defaults;
        SSLParameters wanted;
        try {
            defaults = probe.getSSLParameters();
            wanted = parameters(probe, options, false, conscrypt(context));
        } finally {
            discard(probe);
        }
        boolean same = new HashSet<>(List.of(defaults.getProtocols())).equals(new HashSet<>(List.of(wanted.getProtocols())))
                && Arrays.equals(defaults.getCipherSuites(), wanted.getCipherSuites())
                && Arrays.equals(defaults.getApplicationProtocols(), wanted.getApplicationProtocols())
                && defaults.getNeedClientAuth() == wanted.getNeedClientAuth()
                && defaults.getWantClientAuth() == wanted.getWantClientAuth();
        return new Server(context, same ? null : wanted);
    }

    /**
     * The engine's parameters with the options applied: protocols, suites, ALPN and, for a
     * server, client authentication (a client's host name settings are its caller's).
     *
     * @param e a fresh engine of the context
     * @param options the options
     * @param client whether it is a client engine
     * @param conscrypt whether the context's provider is Conscrypt
     * @return new parameters
     */
    static SSLParameters parameters(SSLEngine e, TlsOptions options, boolean client, boolean conscrypt) {
        SSLParameters p = e.getSSLParameters();
        p.setProtocols(options.protocols().toArray(String[]::new));
        if (!options.cipherSuites().isEmpty()) {
            String[] suites = cipherSuites(options.cipherSuites(), e);
            if (conscrypt && onlyTls13(suites)) {
                // BoringSSL's TLS 1.3 suites cannot be chosen and Conscrypt drops their names: set
                // alone they leave no suite to pick a certificate by. Named alone, they mean TLS 1.3 only.
                p.setProtocols(options.protocols().stream().filter("TLSv1.3"::equals).toArray(String[]::new));
            } else {
                p.setCipherSuites(suites);
            }
        }
        if (!options.applicationProtocols().isEmpty()) {
            p.setApplicationProtocols(options.applicationProtocols().toArray(String[]::new));
        }
        if (!client) {
            switch (options.clientAuth()) {
                case REQUIRED -> p.setNeedClientAuth(true);
                case OPTIONAL -> p.setWantClientAuth(true);
                default -> { }
            }
        }
        return p;
    }

    /**
     * The defaults less what this provider lacks (a FIPS provider may have no ChaCha20); an
     * explicit list as given, so a wrong name fails instead of silently weakening the list.
     */
    private static String[] cipherSuites(List<String> wanted, SSLEngine e) {
        if (!wanted.equals(TlsOptions.DEFAULT_CIPHER_SUITES)) {
            return wanted.toArray(String[]::new);
        }
        List<String> supported = List.of(e.getSupportedCipherSuites());
        String[] usable = wanted.stream().filter(supported::contains).toArray(String[]::new);
        if (usable.length == 0) {
            throw new IllegalArgumentException("this JVM's TLS provider supports none of the default cipher suites "
                    + wanted + "; set them explicitly (tls.ciphers)");
        }
        return usable;
    }

    /** Whether every suite is a TLS 1.3 one (their names say no key exchange: no "_WITH_"). */
    private static boolean onlyTls13(String[] suites) {
        for (String suite : suites) {
            if (suite.contains("_WITH_")) {
                return false;
            }
        }
        return true;
    }
}
