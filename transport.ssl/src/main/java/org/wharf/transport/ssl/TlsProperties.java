package org.wharf.transport.ssl;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.wharf.transport.api.TlsOptions;

/**
 * Turns configuration properties (as ConfigAdmin gives them to an endpoint) into
 * {@link TlsOptions}, with a context that reloads when its files change. A bad value fails
 * with a message naming the property and the value.
 *
 * <table>
 * <caption>Properties</caption>
 * <tr><th>property</th><th>meaning</th></tr>
 * <tr><td>{@value #CERTIFICATE}, {@value #KEY}, {@value #KEY_PASSWORD}</td><td>PEM certificate chain and key</td></tr>
 * <tr><td>{@value #KEYSTORE}, {@value #KEYSTORE_PASSWORD}</td><td>or a PKCS#12/JKS key store</td></tr>
 * <tr><td>{@value #CA}</td><td>PEM CA bundle to trust (peers' certificates)</td></tr>
 * <tr><td>{@value #TRUSTSTORE}, {@value #TRUSTSTORE_PASSWORD}</td><td>or a trust store</td></tr>
 * <tr><td>{@value #VERIFY}</td><td>{@code false} trusts every peer and skips host names (logged)</td></tr>
 * <tr><td>{@value #CLIENT_AUTH}</td><td>{@code none}, {@code optional} or {@code required}</td></tr>
 * <tr><td>{@value #PROTOCOLS}, {@value #CIPHERS}, {@value #ALPN}</td><td>lists (arrays or comma-separated)</td></tr>
 * <tr><td>{@value #SERVER_NAME}</td><td>client: the host name to send (SNI) and verify</td></tr>
 * <tr><td>{@value #HANDSHAKE_TIMEOUT}</td><td>milliseconds</td></tr>
 * <tr><td>{@value #RELOAD_INTERVAL}</td><td>milliseconds between looks at the files (default 1000)</td></tr>
 * </table>
 */
public final class TlsProperties {

    /** PEM certificate chain file. */
    public static final String CERTIFICATE = "tls.certificate";
    /** PEM private key file. */
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
    /** Enabled cipher suites. */
    public static final String CIPHERS = "tls.ciphers";
    /** ALPN protocols. */
    public static final String ALPN = "tls.alpn";
    /** Client: host name for SNI and verification. */
    public static final String SERVER_NAME = "tls.serverName";
    /** Handshake timeout in milliseconds. */
    public static final String HANDSHAKE_TIMEOUT = "tls.handshakeTimeout";
    /** Milliseconds between looks at the files for changes. */
    public static final String RELOAD_INTERVAL = "tls.reloadInterval";

    private TlsProperties() {
    }

    /**
     * Tells whether the properties ask for TLS at all (a key, a key store or a CA is given).
     *
     * @param properties the configuration
     * @return {@code true} if any TLS material is configured
     */
    public static boolean present(Map<String, ?> properties) {
        return properties.get(CERTIFICATE) != null || properties.get(KEYSTORE) != null || properties.get(CA) != null
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
        TlsContextBuilder builder = TlsContextBuilder.create();
        String certificate = string(properties, CERTIFICATE);
        String key = string(properties, KEY);
        if (certificate != null || key != null) {
            if (certificate == null || key == null) {
                throw new IllegalArgumentException(CERTIFICATE + " and " + KEY + " go together, got " + CERTIFICATE + "="
                        + certificate + " " + KEY + "=" + key);
            }
            builder.certificate(file(CERTIFICATE, certificate), file(KEY, key), password(properties, KEY_PASSWORD));
        }
        String keystore = string(properties, KEYSTORE);
        if (keystore != null) {
            builder.keyStore(file(KEYSTORE, keystore), password(properties, KEYSTORE_PASSWORD));
        }
        String ca = string(properties, CA);
        if (ca != null) {
            builder.trustCertificates(file(CA, ca));
        }
        String truststore = string(properties, TRUSTSTORE);
        if (truststore != null) {
            builder.trustStore(file(TRUSTSTORE, truststore), password(properties, TRUSTSTORE_PASSWORD));
        }
        boolean verify = bool(properties, VERIFY, true);
        if (!verify) {
            builder.trustAll();
        }
        long reload = number(properties, RELOAD_INTERVAL, 1000);
        TlsOptions options;
        try {
            options = TlsOptions.of(builder.reloading(Duration.ofMillis(reload)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("TLS configuration: " + e.getMessage(), e);
        }
        options = options.withVerifyHostName(verify);
        String clientAuth = string(properties, CLIENT_AUTH);
        if (clientAuth != null) {
            try {
                options = options.withClientAuth(TlsOptions.ClientAuth.valueOf(clientAuth.trim().toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(CLIENT_AUTH + "=" + clientAuth + " is not one of none, optional, required");
            }
        }
        List<String> protocols = list(properties, PROTOCOLS);
        if (!protocols.isEmpty()) {
            options = options.withProtocols(protocols);
        }
        options = options.withCipherSuites(list(properties, CIPHERS)).withApplicationProtocols(list(properties, ALPN))
                .withServerName(string(properties, SERVER_NAME));
        if (properties.get(HANDSHAKE_TIMEOUT) != null) {
            long millis = number(properties, HANDSHAKE_TIMEOUT, 0);
            if (millis <= 0) {
                throw new IllegalArgumentException(HANDSHAKE_TIMEOUT + "=" + properties.get(HANDSHAKE_TIMEOUT)
                        + " must be a positive number of milliseconds");
            }
            options = options.withHandshakeTimeout(Duration.ofMillis(millis));
        }
        return options;
    }

    private static Path file(String property, String value) {
        Path path = Path.of(value);
        if (!java.nio.file.Files.isReadable(path)) {
            throw new IllegalArgumentException(property + "=" + value + ": no readable file there");
        }
        return path;
    }

    private static String string(Map<String, ?> properties, String name) {
        Object v = properties.get(name);
        return v == null || v.toString().isBlank() ? null : v.toString();
    }

    private static char[] password(Map<String, ?> properties, String name) {
        String v = string(properties, name);
        return v == null ? null : v.toCharArray();
    }

    private static boolean bool(Map<String, ?> properties, String name, boolean fallback) {
        Object v = properties.get(name);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        String s = v.toString().trim().toLowerCase(Locale.ROOT);
        if (s.equals("true") || s.equals("false")) {
            return Boolean.parseBoolean(s);
        }
        throw new IllegalArgumentException(name + "=" + v + " is not true or false");
    }

    private static long number(Map<String, ?> properties, String name, long fallback) {
        Object v = properties.get(name);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Number n) {
            return n.longValue();
        }
        try {
            return Long.parseLong(v.toString().trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + "=" + v + " is not a number");
        }
    }

    private static List<String> list(Map<String, ?> properties, String name) {
        Object v = properties.get(name);
        List<String> out = new ArrayList<>();
        if (v instanceof String[] array) {
            out.addAll(Arrays.asList(array));
        } else if (v instanceof Collection<?> c) {
            c.forEach(x -> out.add(String.valueOf(x)));
        } else if (v != null) {
            out.addAll(Arrays.asList(v.toString().split(",")));
        }
        return out.stream().map(String::trim).filter(s -> !s.isEmpty()).toList();
    }
}
