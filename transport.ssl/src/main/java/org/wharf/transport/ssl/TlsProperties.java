package org.wharf.transport.ssl;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.wharf.transport.api.Settings;
import org.wharf.transport.api.TlsOptions;

/**
 * Turns configuration properties (as ConfigAdmin gives them to an endpoint) into
 * {@link TlsOptions}, with a context that reloads when its files change. A bad value fails
 * with a message naming the property and the value.
 *
 * <table>
 * <caption>Properties</caption>
 * <tr><th>property</th><th>meaning</th></tr>
 * <tr><td>{@value #CERTIFICATE}, {@value #KEY}, {@value #KEY_PASSWORD}</td><td>PEM certificate chain and key; or
 *     lists of the same length (arrays or comma-separated), such as an ECDSA and an RSA certificate: the server
 *     picks by the client's host name (SNI) and signature algorithms</td></tr>
 * <tr><td>{@value #KEYSTORE}, {@value #KEYSTORE_PASSWORD}</td><td>or a PKCS#12/JKS key store</td></tr>
 * <tr><td>{@value #CA}</td><td>PEM CA bundle to trust (peers' certificates)</td></tr>
 * <tr><td>{@value #TRUSTSTORE}, {@value #TRUSTSTORE_PASSWORD}</td><td>or a trust store</td></tr>
 * <tr><td>{@value #VERIFY}</td><td>{@code false} trusts every peer and skips host names (logged)</td></tr>
 * <tr><td>{@value #CLIENT_AUTH}</td><td>{@code none}, {@code optional} or {@code required}</td></tr>
 * <tr><td>{@value #PROTOCOLS}, {@value #CIPHERS}, {@value #ALPN}</td><td>lists (arrays or comma-separated);
 *     without {@value #CIPHERS}, {@link TlsOptions#DEFAULT_CIPHER_SUITES} (AEAD only)</td></tr>
 * <tr><td>{@value #SERVER_NAME}</td><td>client: the host name to send (SNI) and verify</td></tr>
 * <tr><td>{@value #HANDSHAKE_TIMEOUT}</td><td>milliseconds</td></tr>
 * <tr><td>{@value #RELOAD_INTERVAL}</td><td>milliseconds between looks at the files (default 1000)</td></tr>
 * <tr><td>{@value #SESSION_CACHE_SIZE}</td><td>sessions a server keeps for resumption by ID (default 20480);
 *     0 keeps none</td></tr>
 * <tr><td>{@value #SESSION_TIMEOUT}</td><td>seconds a session or ticket can be resumed (default 86400, at most
 *     604800)</td></tr>
 * <tr><td>{@value #SESSION_TICKETS}</td><td>whether a server issues session tickets (default on; on the JDK's
 *     provider the JVM-wide {@code jdk.tls.server.enableSessionTicketExtension}); with
 *     {@value #SESSION_CACHE_SIZE} 0 as well, nothing resumes</td></tr>
 * <tr><td>{@value #PROVIDER}</td><td>the JCA provider of the engine, such as {@code Conscrypt} (BoringSSL,
 *     when org.conscrypt:conscrypt-openjdk-uber is beside Wharf); the JVM's default without</td></tr>
 * </table>
 */
public final class TlsProperties {

    /** PEM certificate chain file, or several (a list, each with its key in {@link #KEY}). */
    public static final String CERTIFICATE = "tls.certificate";
    /** PEM private key file, or several: one per chain in {@link #CERTIFICATE}, in the same order. */
    public static final String KEY = "tls.key";
    /** Password of an encrypted PEM key. */
    public static final String KEY_PASSWORD = "tls.key.password";
    /** PKCS#12 or JKS key store file. */
    public static final String KEYSTORE = "tls.keystore";
    /** Password of the key store. */
    public static final String KEYSTORE_PASSWORD = "tls.keystore.password";
    /** PEM bundle of CA certificates to trust. */
    public static final String CA = "tls.ca";
    /** Trust store file. */
    public static final String TRUSTSTORE = "tls.truststore";
    /** Password of the trust store. */
    public static final String TRUSTSTORE_PASSWORD = "tls.truststore.password";
    /** Whether peers are verified (default true). */
    public static final String VERIFY = "tls.verify";
    /** none, optional or required. */
    public static final String CLIENT_AUTH = "tls.clientAuth";
    /** Enabled protocols. */
    public static final String PROTOCOLS = "tls.protocols";
    /** Enabled cipher suites (standard names); unset for {@link TlsOptions#DEFAULT_CIPHER_SUITES}. */
    public static final String CIPHERS = "tls.ciphers";
    /** ALPN protocols. */
    public static final String ALPN = "tls.alpn";
    /** Client: host name for SNI and verification. */
    public static final String SERVER_NAME = "tls.serverName";
    /** Handshake timeout in milliseconds. */
    public static final String HANDSHAKE_TIMEOUT = "tls.handshakeTimeout";
    /** Milliseconds between looks at the files for changes. */
    public static final String RELOAD_INTERVAL = "tls.reloadInterval";
    /** Sessions a server keeps for resumption by session ID; 0 for none. */
    public static final String SESSION_CACHE_SIZE = "tls.sessionCacheSize";
    /** Seconds a session (or a ticket) can be resumed. */
    public static final String SESSION_TIMEOUT = "tls.sessionTimeout";
    /** Whether a server issues session tickets. */
    public static final String SESSION_TICKETS = "tls.sessionTickets";
    /** Property: the JCA provider of the TLS engine, such as {@code Conscrypt}; the JVM's default without. */
    public static final String PROVIDER = "tls.provider";

    private TlsProperties() {
    }

    /**
     * Tells whether the properties ask for TLS at all (a key, a key store or a CA is given).
     *
     * @param properties the configuration
     * @return {@code true} if any TLS material is configured
     */
    public static boolean present(Map<String, ?> properties) {
        return !Settings.of(properties).list(CERTIFICATE).isEmpty() || properties.get(KEYSTORE) != null || properties.get(CA) != null
                || properties.get(TRUSTSTORE) != null;
    }

    /**
     * Builds TLS options from configuration properties.
     *
     * @param properties the configuration
     * @return the options, their context reloading when the files change
     * @throws IllegalArgumentException naming the property and value that is wrong
     */
    public static TlsOptions options(Map<String, ?> properties) {
        Settings settings = Settings.of(properties);
        TlsContextBuilder builder = TlsContextBuilder.create();
        List<String> certificates = settings.list(CERTIFICATE);
        List<String> keys = settings.list(KEY);
        if (!certificates.isEmpty() || !keys.isEmpty()) {
            if (certificates.isEmpty() || keys.isEmpty()) {
                throw new IllegalArgumentException(CERTIFICATE + " and " + KEY + " go together, got " + CERTIFICATE + " = "
                        + Settings.describe(properties.get(CERTIFICATE)) + " and " + KEY + " = "
                        + Settings.describe(properties.get(KEY)));
            }
            if (certificates.size() != keys.size()) {
                throw Settings.wrong(KEY, properties.get(KEY), certificates.size() + " certificate chains in "
                        + CERTIFICATE + " but " + keys.size() + " keys: one key per chain, in the same order");
            }
            for (int i = 0; i < certificates.size(); i++) {
                builder.certificate(file(CERTIFICATE, certificates.get(i)), file(KEY, keys.get(i)),
                        password(settings, KEY_PASSWORD));
            }
        }
        Optional<String> keystore = settings.text(KEYSTORE);
        if (keystore.isPresent()) {
            builder.keyStore(file(KEYSTORE, keystore.get()), password(settings, KEYSTORE_PASSWORD));
        }
        Optional<String> ca = settings.text(CA);
        if (ca.isPresent()) {
            builder.trustCertificates(file(CA, ca.get()));
        }
        Optional<String> truststore = settings.text(TRUSTSTORE);
        if (truststore.isPresent()) {
            builder.trustStore(file(TRUSTSTORE, truststore.get()), password(settings, TRUSTSTORE_PASSWORD));
        }
        settings.text(PROVIDER).ifPresent(builder::provider);
        builder.sessionCacheSize(settings.integer(SESSION_CACHE_SIZE, TlsContextBuilder.DEFAULT_SESSION_CACHE_SIZE, 0,
                Integer.MAX_VALUE));
        builder.sessionTimeout(Duration.ofSeconds(settings.number(SESSION_TIMEOUT,
                TlsContextBuilder.DEFAULT_SESSION_TIMEOUT.toSeconds(), 1, TlsContextBuilder.MAX_SESSION_TIMEOUT.toSeconds())));
        if (settings.has(SESSION_TICKETS)) {
            builder.sessionTickets(settings.flag(SESSION_TICKETS, true));
        }
        boolean verify = settings.flag(VERIFY, true);
        if (!verify) {
            builder.trustAll();
        }
        Duration reload = settings.positiveMillis(RELOAD_INTERVAL, Duration.ofSeconds(1));
        TlsOptions options;
        try {
            options = TlsOptions.of(builder.reloading(reload));
        } catch (IllegalArgumentException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("session tickets ")) {
                throw Settings.wrong(SESSION_TICKETS, settings.asMap().get(SESSION_TICKETS), e.getMessage());
            }
            throw new IllegalArgumentException("TLS configuration: " + e.getMessage(), e);
        }
        options = options.withVerifyHostName(verify).withClientAuth(settings.choice(CLIENT_AUTH, TlsOptions.ClientAuth.NONE));
        List<String> protocols = settings.list(PROTOCOLS);
        if (!protocols.isEmpty()) {
            options = options.withProtocols(protocols);
        }
        List<String> ciphers = settings.list(CIPHERS);
        if (!ciphers.isEmpty()) {
            options = options.withCipherSuites(supported(ciphers, options));
        }
        options = options.withApplicationProtocols(settings.list(ALPN)).withServerName(settings.text(SERVER_NAME)
                .orElse(null));
        if (settings.has(HANDSHAKE_TIMEOUT)) {
            options = options.withHandshakeTimeout(settings.positiveMillis(HANDSHAKE_TIMEOUT, null));
        }
        return options;
    }

    /** An explicit suite list, each name checked here so a typo fails the configuration, not every connection. */
    private static List<String> supported(List<String> ciphers, TlsOptions options) {
        List<String> known = List.of(options.context().get().getSupportedSSLParameters().getCipherSuites());
        for (String suite : ciphers) {
            if (!known.contains(suite)) {
                throw Settings.wrong(CIPHERS, String.join(",", ciphers), suite + " is not a cipher suite the TLS provider "
                        + options.context().get().getProvider().getName() + " supports (standard names, such as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)");
            }
        }
        return ciphers;
    }

    private static Path file(String property, String value) {
        Path path = Path.of(value);
        if (!java.nio.file.Files.isReadable(path)) {
            throw Settings.wrong(property, value, "no readable file there");
        }
        return path;
    }

    private static char[] password(Settings settings, String name) {
        return settings.text(name).map(String::toCharArray).orElse(null);
    }
}
