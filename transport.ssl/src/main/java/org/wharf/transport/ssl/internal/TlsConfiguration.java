package org.wharf.transport.ssl.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.AttributeType;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

/**
 * A named TLS setup (factory PID {@code org.wharf.tls}). Property names are those of
 * {@link org.wharf.transport.ssl.TlsProperties} ({@code tls_certificate} is
 * {@code tls.certificate}).
 */
@ObjectClassDefinition(id = "org.wharf.tls", name = "Wharf TLS",
        description = "Certificates, trust and protocol settings for TLS, referenced by endpoints by name. "
                + "Files are watched: replaced certificates reach new connections without a restart.")
@interface TlsConfiguration {

    @AttributeDefinition(name = "Name", description = "The name endpoints use to refer to these settings.")
    String name();

    @AttributeDefinition(name = "Certificate chains (PEM)", required = false,
            description = "Path of the PEM certificate chain, leaf first; or several, such as an ECDSA and an RSA "
            + "certificate, each with its key below: the server picks by SNI and the client's signature algorithms.")
    String[] tls_certificate();

    @AttributeDefinition(name = "Private keys (PEM)", required = false,
            description = "Path of the private key of each certificate chain, in the same order: PKCS#8, RSA PKCS#1 "
            + "or SEC1 EC, encrypted or not.")
    String[] tls_key();

    @AttributeDefinition(name = "Private key password", type = AttributeType.PASSWORD, required = false,
            description = "Password of an encrypted private key.")
    String tls_key_password();

    @AttributeDefinition(name = "Key store", required = false, description = "Path of a PKCS#12 or JKS key store.")
    String tls_keystore();

    @AttributeDefinition(name = "Key store password", type = AttributeType.PASSWORD, required = false,
            description = "Password of the key store and its keys.")
    String tls_keystore_password();

    @AttributeDefinition(name = "Trusted CA certificates (PEM)", required = false,
            description = "Path of a PEM bundle of CA certificates that peers' certificates must chain to.")
    String tls_ca();

    @AttributeDefinition(name = "Trust store", required = false, description = "Path of a PKCS#12 or JKS trust store.")
    String tls_truststore();

    @AttributeDefinition(name = "Trust store password", type = AttributeType.PASSWORD, required = false,
            description = "Password of the trust store.")
    String tls_truststore_password();

    @AttributeDefinition(name = "Verify peers", description = "Off trusts every certificate and host name (logged).")
    boolean tls_verify() default true;

    @AttributeDefinition(name = "Client authentication", options = {
        @Option(label = "None", value = "none"), @Option(label = "Optional", value = "optional"),
        @Option(label = "Required", value = "required")})
    String tls_clientAuth() default "none";

    @AttributeDefinition(name = "Protocols", description = "Enabled TLS versions.")
    String[] tls_protocols() default {"TLSv1.3", "TLSv1.2"};

    @AttributeDefinition(name = "Cipher suites", required = false, description = "Enabled suites (standard names, "
            + "such as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256); empty for the defaults: TLS 1.3's, and TLS 1.2's AEAD "
            + "suites with ECDHE (no CBC).")
    String[] tls_ciphers();

    @AttributeDefinition(name = "TLS provider", required = false, description = "The JCA provider of the TLS "
            + "engine, such as Conscrypt (BoringSSL: install org.conscrypt:conscrypt-openjdk-uber beside Wharf); "
            + "empty for the JVM's own.")
    String tls_provider();

    @AttributeDefinition(name = "Session cache size", min = "0", description = "Sessions a server keeps for "
            + "resumption by session ID; 0 keeps none (with session tickets off too, nothing resumes).")
    int tls_sessionCacheSize() default 20_480;

    @AttributeDefinition(name = "Session timeout (s)", min = "1", max = "604800", description = "How long a session "
            + "or a session ticket can be resumed, in seconds (at most 7 days).")
    long tls_sessionTimeout() default 86_400;

    @AttributeDefinition(name = "Session tickets", required = false, options = {
        @Option(label = "On", value = "true"), @Option(label = "Off", value = "false")},
            description = "Whether a server issues session tickets (TLS 1.3 and RFC 5077); empty for on. On the "
            + "JDK's provider this is the JVM-wide system property jdk.tls.server.enableSessionTicketExtension, "
            + "which a value here must match.")
    String tls_sessionTickets();

    @AttributeDefinition(name = "ALPN protocols", required = false, description = "Application protocols, preferred first.")
    String[] tls_alpn();

    @AttributeDefinition(name = "Handshake timeout (ms)", min = "1")
    long tls_handshakeTimeout() default 10_000;

    @AttributeDefinition(name = "Reload check interval (ms)", min = "0",
            description = "Least time between two looks at the files for changes.")
    long tls_reloadInterval() default 1_000;
}
