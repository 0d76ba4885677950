package org.wharf.transport.api;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

import javax.net.ssl.SSLContext;

/**
 * How a TLS transport secures a connection: where its {@link SSLContext} comes from and what
 * it negotiates. Immutable; each {@code with...} method returns a changed copy.
 *
 * <p>The context is taken from a supplier for every new connection, so reloaded
 * certificates reach new connections while existing ones keep theirs.
 */
public final class TlsOptions {

    /** Whether a TLS server asks for a client certificate. */
    public enum ClientAuth {
        /** No client certificate is requested. */
        NONE,
        /** A client certificate is requested and verified if sent. */
        OPTIONAL,
        /** A verified client certificate is required; the handshake fails without one. */
        REQUIRED
    }

    /** The protocols enabled by default: TLS 1.3 and 1.2 only. */
    public static final List<String> DEFAULT_PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    /**
     * The cipher suites enabled by default: TLS 1.3's three, and for TLS 1.2 only AEAD suites
     * (AES-GCM, ChaCha20-Poly1305) with ephemeral elliptic-curve key exchange. No CBC suite
     * (padding oracles: Lucky13 and its successors), no static RSA key exchange (no forward
     * secrecy), no finite-field DHE (costly handshakes; every TLS 1.2 client has ECDHE). Suites
     * the JVM's TLS provider lacks are left out when a connection is made.
     */
    public static final List<String> DEFAULT_CIPHER_SUITES = List.of(
            "TLS_AES_256_GCM_SHA384",
            "TLS_AES_128_GCM_SHA256",
            "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    /** The handshake timeout used unless another is set: 10 seconds. */
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);

    private final Supplier<SSLContext> context;
    private final ClientAuth clientAuth;
    private final List<String> protocols;
    private final List<String> cipherSuites;
    private final List<String> applicationProtocols;
    private final boolean handshakeOnConnect;
    private final Duration handshakeTimeout;
    private final boolean verifyHostName;
    private final String serverName;

    private TlsOptions(Supplier<SSLContext> context, ClientAuth clientAuth, List<String> protocols,
            List<String> cipherSuites, List<String> applicationProtocols, boolean handshakeOnConnect,
            Duration handshakeTimeout, boolean verifyHostName, String serverName) {
        this.context = context;
        this.clientAuth = clientAuth;
        this.protocols = protocols;
        this.cipherSuites = cipherSuites;
        this.applicationProtocols = applicationProtocols;
        this.handshakeOnConnect = handshakeOnConnect;
        this.handshakeTimeout = handshakeTimeout;
        this.verifyHostName = verifyHostName;
        this.serverName = serverName;
    }

    /**
     * Options with the defaults: no client authentication, TLS 1.3 and 1.2, the
     * {@linkplain #DEFAULT_CIPHER_SUITES AEAD cipher suites}, no ALPN, handshake on connect
     * within 10 s, host name verified.
     *
     * @param context gives the context for each new connection
     * @return the options
     */
    public static TlsOptions of(Supplier<SSLContext> context) {
        return new TlsOptions(Objects.requireNonNull(context, "context"), ClientAuth.NONE, DEFAULT_PROTOCOLS,
                DEFAULT_CIPHER_SUITES, List.of(), true, DEFAULT_HANDSHAKE_TIMEOUT, true, null);
    }

    /**
     * Options for a fixed context, with the defaults of {@link #of(Supplier)}.
     *
     * @param context the context for every connection
     * @return the options
     */
    public static TlsOptions of(SSLContext context) {
        Objects.requireNonNull(context, "context");
        return of(() -> context);
    }

    /**
     * Gives the context for a new connection.
     *
     * @return the supplier of contexts
     */
    public Supplier<SSLContext> context() {
        return context;
    }

    /**
     * Whether a server asks for client certificates.
     *
     * @return the client authentication mode
     */
    public ClientAuth clientAuth() {
        return clientAuth;
    }

    /**
     * The enabled protocols, such as {@code TLSv1.3}.
     *
     * @return the protocol names
     */
    public List<String> protocols() {
        return protocols;
    }

    /**
     * The enabled cipher suites, by their standard names ({@code TLS_AES_128_GCM_SHA256}).
     *
     * @return the suite names: {@link #DEFAULT_CIPHER_SUITES} unless set; empty for the JDK
     *         engine's own defaults
     */
    public List<String> cipherSuites() {
        return cipherSuites;
    }

    /**
     * The application protocols offered (client) or accepted (server) with ALPN, in order of
     * preference.
     *
     * @return the protocol names; empty for no ALPN
     */
    public List<String> applicationProtocols() {
        return applicationProtocols;
    }

    /**
     * Whether the handshake starts as soon as the connection is made. When {@code false}
     * the connection starts in clear text until {@link SslTransport#handshake()}.
     *
     * @return {@code true} for handshake on connect
     */
    public boolean handshakeOnConnect() {
        return handshakeOnConnect;
    }

    /**
     * How long a handshake may take before the connection fails with
     * {@link TransportTimeoutError}.
     *
     * @return the timeout
     */
    public Duration handshakeTimeout() {
        return handshakeTimeout;
    }

    /**
     * Whether a client checks that the server's certificate matches the host name.
     *
     * @return {@code true} unless turned off explicitly
     */
    public boolean verifyHostName() {
        return verifyHostName;
    }

    /**
     * The host name a client sends with SNI and verifies; {@code null} for the host name it
     * connects to.
     *
     * @return the server name, or {@code null}
     */
    public String serverName() {
        return serverName;
    }

    /**
     * A copy with another client authentication mode.
     *
     * @param mode the mode
     * @return the changed options
     */
    public TlsOptions withClientAuth(ClientAuth mode) {
        return new TlsOptions(context, Objects.requireNonNull(mode, "mode"), protocols, cipherSuites,
                applicationProtocols, handshakeOnConnect, handshakeTimeout, verifyHostName, serverName);
    }

    /**
     * A copy with other enabled protocols.
     *
     * @param names the protocol names, at least one
     * @return the changed options
     */
    public TlsOptions withProtocols(List<String> names) {
        if (names.isEmpty()) {
            throw new IllegalArgumentException("TLS protocols must not be empty");
        }
        return new TlsOptions(context, clientAuth, List.copyOf(names), cipherSuites, applicationProtocols,
                handshakeOnConnect, handshakeTimeout, verifyHostName, serverName);
    }

    /**
     * A copy with other cipher suites. An explicit list is used as given: a suite the TLS
     * provider does not support fails the connection.
     *
     * @param names the suite names; empty for the JDK engine's own defaults, which include
     *        TLS 1.2's CBC suites
     * @return the changed options
     */
    public TlsOptions withCipherSuites(List<String> names) {
        return new TlsOptions(context, clientAuth, protocols, List.copyOf(names), applicationProtocols,
                handshakeOnConnect, handshakeTimeout, verifyHostName, serverName);
    }

    /**
     * A copy with other ALPN protocols.
     *
     * @param names the protocol names in order of preference; empty for no ALPN
     * @return the changed options
     */
    public TlsOptions withApplicationProtocols(List<String> names) {
        return new TlsOptions(context, clientAuth, protocols, cipherSuites, List.copyOf(names),
                handshakeOnConnect, handshakeTimeout, verifyHostName, serverName);
    }

    /**
     * A copy that starts the handshake on connect, or waits for
     * {@link SslTransport#handshake()}.
     *
     * @param onConnect {@code true} to handshake on connect
     * @return the changed options
     */
    public TlsOptions withHandshakeOnConnect(boolean onConnect) {
        return new TlsOptions(context, clientAuth, protocols, cipherSuites, applicationProtocols, onConnect,
                handshakeTimeout, verifyHostName, serverName);
    }

    /**
     * A copy with another handshake timeout.
     *
     * @param timeout the timeout, positive
     * @return the changed options
     */
    public TlsOptions withHandshakeTimeout(Duration timeout) {
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("TLS handshake timeout must be positive, got " + timeout);
        }
        return new TlsOptions(context, clientAuth, protocols, cipherSuites, applicationProtocols,
                handshakeOnConnect, timeout, verifyHostName, serverName);
    }

    /**
     * A copy that does or does not verify the server's host name (client side). Turning it
     * off is logged as a warning by the transport.
     *
     * @param verify {@code false} to skip host name verification
     * @return the changed options
     */
    public TlsOptions withVerifyHostName(boolean verify) {
        return new TlsOptions(context, clientAuth, protocols, cipherSuites, applicationProtocols,
                handshakeOnConnect, handshakeTimeout, verify, serverName);
    }

    /**
     * A copy with the host name a client sends with SNI and verifies.
     *
     * @param name the server name, or {@code null} for the host connected to
     * @return the changed options
     */
    public TlsOptions withServerName(String name) {
        return new TlsOptions(context, clientAuth, protocols, cipherSuites, applicationProtocols,
                handshakeOnConnect, handshakeTimeout, verifyHostName, name);
    }
}
