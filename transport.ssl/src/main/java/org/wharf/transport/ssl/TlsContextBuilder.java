package org.wharf.transport.ssl;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;

import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Builds an {@link SSLContext} from files: certificate chains with their keys (PEM, or PKCS#12
 * and JKS key stores), and what to trust (PEM CA bundles, trust stores, the JDK's defaults).
 * Several certificates may be given; a server chooses among them by the host name the client
 * asks for with SNI. Misconfigurations fail at {@link #build()} with a message naming the file.
 *
 * <pre>
 * SSLContext server = TlsContextBuilder.create()
 *         .certificate(Path.of("etc/server.pem"), Path.of("etc/server.key"))
 *         .trustCertificates(Path.of("etc/clients-ca.pem"))
 *         .build();
 * </pre>
 */
public final class TlsContextBuilder {

    private static final System.Logger LOG = System.getLogger("org.wharf.transport.ssl");

    private record PemKey(Path chain, Path key, char[] password) {
    }

    private record Store(Path file, char[] password) {
    }

    private final List<PemKey> pemKeys = new ArrayList<>();
    private final List<Store> keyStores = new ArrayList<>();
    private final List<Path> trustedPem = new ArrayList<>();
    private final List<Store> trustStores = new ArrayList<>();
    private boolean trustSystem;
    private boolean trustAll;
    private String provider;
    private int sessionCacheSize = DEFAULT_SESSION_CACHE_SIZE;
    private Duration sessionTimeout = DEFAULT_SESSION_TIMEOUT;
    private Boolean sessionTickets;

    /** Sessions a server keeps for resumption by default (the JDK's own default). */
    public static final int DEFAULT_SESSION_CACHE_SIZE = 20_480;
    /** How long a session (and a ticket) can be resumed by default: a day, as the JDK. */
    public static final Duration DEFAULT_SESSION_TIMEOUT = Duration.ofDays(1);
    /** The longest session lifetime: TLS 1.3 tickets live 7 days at most (RFC 8446). */
    public static final Duration MAX_SESSION_TIMEOUT = Duration.ofDays(7);
    /** The JDK's JVM-wide switch for session tickets on servers. */
    public static final String JDK_SERVER_TICKETS = "jdk.tls.server.enableSessionTicketExtension";

    private TlsContextBuilder() {
    }

    /**
     * A builder with no key and the JDK's default trust.
     *
     * @return the builder
     */
    public static TlsContextBuilder create() {
        return new TlsContextBuilder();
    }

    /**
     * Adds a certificate chain (PEM, leaf first) and its unencrypted private key (PEM: PKCS#8,
     * PKCS#1 RSA or SEC1 EC).
     *
     * @param chain the certificate chain file
     * @param key the private key file
     * @return this builder
     */
    public TlsContextBuilder certificate(Path chain, Path key) {
        return certificate(chain, key, null);
    }

    /**
     * Adds a certificate chain (PEM) and its private key (PEM), encrypted or not: PKCS#8
     * ({@code PRIVATE KEY}; {@code ENCRYPTED PRIVATE KEY} with PBES2, PBKDF2 and AES-CBC or
     * DES-EDE3-CBC, or PBES1), PKCS#1 RSA ({@code RSA PRIVATE KEY}) or SEC1 EC
     * ({@code EC PRIVATE KEY}), the last two also with OpenSSL's legacy encryption
     * ({@code Proc-Type: 4,ENCRYPTED}, AES-128/192/256-CBC or DES-EDE3-CBC). A wrong password
     * fails {@link #build()} with "wrong password for" the file.
     *
     * @param chain the certificate chain file
     * @param key the private key file
     * @param password the key's password, or {@code null}
     * @return this builder
     */
    public TlsContextBuilder certificate(Path chain, Path key, char[] password) {
        pemKeys.add(new PemKey(Objects.requireNonNull(chain, "chain"), Objects.requireNonNull(key, "key"),
                password == null ? null : password.clone()));
        return this;
    }

    /**
     * Adds every key entry of a key store (PKCS#12 or JKS, told apart by content).
     *
     * @param file the key store
     * @param password the store's (and its keys') password
     * @return this builder
     */
    public TlsContextBuilder keyStore(Path file, char[] password) {
        keyStores.add(new Store(Objects.requireNonNull(file, "file"), password == null ? null : password.clone()));
        return this;
    }

    /**
     * Trusts the certificates of a PEM bundle (instead of the JDK's defaults, unless
     * {@link #trustSystemDefaults()} is also called).
     *
     * @param pemBundle the CA certificates
     * @return this builder
     */
    public TlsContextBuilder trustCertificates(Path pemBundle) {
        trustedPem.add(Objects.requireNonNull(pemBundle, "pemBundle"));
        return this;
    }

    /**
     * Trusts the certificates of a trust store (PKCS#12 or JKS).
     *
     * @param file the trust store
     * @param password its password, or {@code null}
     * @return this builder
     */
    public TlsContextBuilder trustStore(Path file, char[] password) {
        trustStores.add(new Store(Objects.requireNonNull(file, "file"), password == null ? null : password.clone()));
        return this;
    }

    /**
     * Also trusts the JDK's default CA certificates.
     *
     * @return this builder
     */
    public TlsContextBuilder trustSystemDefaults() {
        trustSystem = true;
        return this;
    }

    /**
     * Trusts every peer certificate: no verification at all. For tests and closed networks
     * only; logged as a warning when built.
     *
     * @return this builder
     */
    public TlsContextBuilder trustAll() {
        trustAll = true;
        return this;
    }

    /**
     * Builds the context from a named JCA provider instead of the JVM's default, such as
     * {@code Conscrypt} (BoringSSL; found when org.conscrypt:conscrypt-openjdk-uber is beside
     * Wharf) or one installed in {@link java.security.Security}.
     *
     * @param name the provider's name; {@code null} for the JVM's default
     * @return this builder
     */
    public TlsContextBuilder provider(String name) {
        provider = name;
        return this;
    }

    /**
     * How many sessions a server keeps for resumption by session ID (TLS 1.2, and TLS 1.3
     * tickets that point into the cache); {@value #DEFAULT_SESSION_CACHE_SIZE} unless set.
     * {@code 0} keeps none: each session is given up once its handshake is done (unlike
     * {@link javax.net.ssl.SSLSessionContext#setSessionCacheSize}, where 0 means no limit).
     * Session tickets ({@link #sessionTickets}) need no cache; with both off nothing resumes.
     *
     * @param sessions the number of sessions, 0 or more
     * @return this builder
     */
    public TlsContextBuilder sessionCacheSize(int sessions) {
        if (sessions < 0) {
            throw new IllegalArgumentException("session cache size " + sessions + " is negative");
        }
        sessionCacheSize = sessions;
        return this;
    }

    /**
     * How long a session can be resumed, by ID or ticket; a day unless set, a second to
     * {@link #MAX_SESSION_TIMEOUT 7 days}.
     *
     * @param timeout the lifetime of a session
     * @return this builder
     */
    public TlsContextBuilder sessionTimeout(Duration timeout) {
        if (timeout.compareTo(Duration.ofSeconds(1)) < 0 || timeout.compareTo(MAX_SESSION_TIMEOUT) > 0) {
            throw new IllegalArgumentException("session timeout " + timeout.toSeconds() + " s is not between 1 s and "
                    + MAX_SESSION_TIMEOUT.toSeconds() + " s (7 days, the longest a TLS 1.3 ticket lives)");
        }
        sessionTimeout = timeout;
        return this;
    }

    /**
     * Whether a server issues session tickets (TLS 1.3 NewSessionTicket, TLS 1.2 RFC 5077);
     * on unless set. On Conscrypt this is set per engine. On the JDK it is the JVM-wide
     * system property {@value #JDK_SERVER_TICKETS} (on by default in JDK 17), which an unset
     * choice follows and {@link #build()} checks: asking for the opposite fails, naming it.
     *
     * @param on whether tickets are issued
     * @return this builder
     */
    public TlsContextBuilder sessionTickets(boolean on) {
        sessionTickets = on;
        return this;
    }

    /**
     * The files this context is built from, for watching.
     *
     * @return the files
     */
    public Set<Path> files() {
        Set<Path> files = new LinkedHashSet<>();
        pemKeys.forEach(k -> {
            files.add(k.chain);
            files.add(k.key);
        });
        keyStores.forEach(s -> files.add(s.file));
        files.addAll(trustedPem);
        trustStores.forEach(s -> files.add(s.file));
        return files;
    }

    /**
     * Builds the context.
     *
     * @return a new context
     * @throws IllegalArgumentException naming the file, for an unreadable file, a wrong password, a key that does
     *         not match its certificate, or a file without a certificate or key
     */
    public SSLContext build() {
        try {
            List<SniKeyManager.Entry> entries = new ArrayList<>();
            for (PemKey k : pemKeys) {
                List<X509Certificate> chain = Pem.certificates(k.chain);
                PrivateKey key = Pem.privateKey(k.key, k.password);
                checkPair(chain.get(0), key, k.chain, k.key);
                entries.add(new SniKeyManager.Entry("pem-" + entries.size(), chain.toArray(X509Certificate[]::new), key,
                        SniKeyManager.hostNames(chain.get(0))));
            }
            for (Store s : keyStores) {
                KeyStore store = load(s);
                for (String alias : Collections.list(store.aliases())) {
                    if (!store.isKeyEntry(alias)) {
                        continue;
                    }
                    Key key = store.getKey(alias, s.password);
                    Certificate[] chain = store.getCertificateChain(alias);
                    if (key instanceof PrivateKey pk && chain != null && chain.length > 0) {
                        X509Certificate[] x509 = Arrays.stream(chain).map(X509Certificate.class::cast)
                                .toArray(X509Certificate[]::new);
                        entries.add(new SniKeyManager.Entry("store-" + entries.size() + "-" + alias, x509, pk,
                                SniKeyManager.hostNames(x509[0])));
                    }
                }
                if (entries.isEmpty()) {
                    throw new IllegalArgumentException("no private key entry in key store " + s.file);
                }
            }
            java.security.Provider named = provider == null ? null
                    : org.wharf.transport.ssl.internal.SecurityProviders.named(provider);
            if (named != null && "Conscrypt".equals(named.getName())) {
                entries.replaceAll(e -> e.withKey(nativeKey(e.key(), named)));
            }
            KeyManager[] keyManagers = entries.isEmpty() ? null : new KeyManager[] {new SniKeyManager(entries)};
            SSLContext context = named == null ? SSLContext.getInstance("TLS") : SSLContext.getInstance("TLS", named);
            context.init(keyManagers, trustManagers(), null);
            return sessions(context);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot build a TLS context: " + e.getMessage(), e);
        }
    }

    /**
     * A supplier of contexts that rebuilds when any of the files changes, checking at most
     * once per {@code checkEvery}. A rebuild that fails (a file half written, a key that does
     * not match yet) is logged and the last good context stays in use until the files
     * change again. Built once now, so a misconfiguration fails here.
     *
     * @param checkEvery the least time between two looks at the files
     * @return the supplier, for {@link org.wharf.transport.api.TlsOptions#of(Supplier)}
     * @throws IllegalArgumentException as {@link #build()}
     */
    public Supplier<SSLContext> reloading(Duration checkEvery) {
        return new Reloading(this, checkEvery);
    }

    /** Resumption settings: per context where the provider has them, per engine or per JVM where not. */
    private SSLContext sessions(SSLContext context) {
        boolean jdk = !"Conscrypt".equals(context.getProvider().getName());
        if (jdk) {
            boolean jvmTickets = !"false".equalsIgnoreCase(System.getProperty(JDK_SERVER_TICKETS, "true"));
            if (sessionTickets != null && jvmTickets != sessionTickets) {
                throw new IllegalArgumentException("session tickets " + (sessionTickets ? "on" : "off")
                        + ": on the JDK's TLS provider " + context.getProvider().getName()
                        + " tickets are switched for the whole JVM by the system property " + JDK_SERVER_TICKETS
                        + ", which is " + System.getProperty(JDK_SERVER_TICKETS, "true (unset)") + "; start Java with -D"
                        + JDK_SERVER_TICKETS + "=" + sessionTickets);
            }
        }
        SSLSessionContext server = context.getServerSessionContext();
        if (server != null) {
            // The JDK and Conscrypt read 0 as "no limit": without a cache, sessions are invalidated instead.
            server.setSessionCacheSize(Math.max(sessionCacheSize, 1));
            server.setSessionTimeout((int) sessionTimeout.toSeconds());
        }
        return org.wharf.transport.ssl.internal.SessionResumption.apply(context, sessionTickets == null || sessionTickets,
                sessionCacheSize > 0);
    }

    private TrustManager[] trustManagers() throws GeneralSecurityException {
        if (trustAll) {
            LOG.log(Level.WARNING, "TLS certificate verification is off: every peer certificate is trusted");
            return new TrustManager[] {new TrustEverything()};
        }
        if (trustedPem.isEmpty() && trustStores.isEmpty()) {
            if (provider == null) {
                return null; // the JDK's default trust
            }
            TrustManagerFactory system = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            system.init((KeyStore) null);
            return org.wharf.transport.ssl.internal.Tls13AuthType.wrap(system.getTrustManagers());
        }
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        try {
            trusted.load(null, null);
        } catch (IOException e) {
            throw new GeneralSecurityException(e);
        }
        int n = 0;
        for (Path pem : trustedPem) {
            for (X509Certificate c : Pem.certificates(pem)) {
                trusted.setCertificateEntry("pem-" + n++, c);
            }
        }
        for (Store s : trustStores) {
            KeyStore store = load(s);
            for (String alias : Collections.list(store.aliases())) {
                Certificate c = store.getCertificate(alias);
                if (c != null) {
                    trusted.setCertificateEntry("store-" + n++, c);
                }
            }
        }
        if (trustSystem) {
            TrustManagerFactory system = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            system.init((KeyStore) null);
            for (TrustManager tm : system.getTrustManagers()) {
                if (tm instanceof javax.net.ssl.X509TrustManager x) {
                    for (X509Certificate c : x.getAcceptedIssuers()) {
                        trusted.setCertificateEntry("system-" + n++, c);
                    }
                }
            }
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(trusted);
        return provider == null ? factory.getTrustManagers()
                : org.wharf.transport.ssl.internal.Tls13AuthType.wrap(factory.getTrustManagers());
    }

    private static KeyStore load(Store s) {
        try {
            return KeyStore.getInstance(s.file.toFile(), s.password);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot open key store " + s.file + " (wrong password or not a PKCS#12/JKS "
                    + "file?): " + e.getMessage(), e);
        }
    }

    /**
     * The key as the provider's own: Conscrypt turns any other key into a BoringSSL one (a
     * PKCS#8 parse) in every full handshake, about a tenth of its cost; its own keys it uses as
     * they are. A key it cannot take stays as it was.
     */
    static PrivateKey nativeKey(PrivateKey key, java.security.Provider provider) {
        if (!"PKCS#8".equals(key.getFormat())) {
            return key;
        }
        try {
            return java.security.KeyFactory.getInstance(key.getAlgorithm(), provider)
                    .generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(key.getEncoded()));
        } catch (GeneralSecurityException | RuntimeException e) {
            LOG.log(Level.DEBUG, () -> "a " + key.getAlgorithm() + " key stays a JDK key for " + provider.getName()
                    + ", which converts it in each handshake: " + e);
            return key;
        }
    }

    private static void checkPair(X509Certificate certificate, PrivateKey key, Path chainFile, Path keyFile) {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "RSASSA-PSS" -> null;
            default -> key.getAlgorithm();
        };
        if (algorithm == null) {
            return;
        }
        try {
            byte[] probe = "wharf key check".getBytes(StandardCharsets.US_ASCII);
            Signature sign = Signature.getInstance(algorithm);
            sign.initSign(key);
            sign.update(probe);
            byte[] signature = sign.sign();
            Signature verify = Signature.getInstance(algorithm);
            verify.initVerify(certificate.getPublicKey());
            verify.update(probe);
            if (verify.verify(signature)) {
                return;
            }
        } catch (GeneralSecurityException e) {
            // falls through to the mismatch below
        }
        throw new IllegalArgumentException("the private key in " + keyFile + " does not belong to the certificate "
                + certificate.getSubjectX500Principal() + " in " + chainFile);
    }

    /** Trusts every certificate; only by explicit request. */
    private static final class TrustEverything extends X509ExtendedTrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }

    /** Rebuilds the context when the files' content changes. */
    private static final class Reloading implements Supplier<SSLContext> {
        private final TlsContextBuilder builder;
        private final long checkEveryNanos;
        private Map<Path, String> fingerprints;
        private SSLContext current;
        private long lastCheck;

        Reloading(TlsContextBuilder builder, Duration checkEvery) {
            this.builder = builder;
            this.checkEveryNanos = checkEvery.toNanos();
            this.fingerprints = fingerprints(builder.files());
            this.current = builder.build();
            this.lastCheck = System.nanoTime();
        }

        @Override
        public synchronized SSLContext get() {
            long now = System.nanoTime();
            if (now - lastCheck >= checkEveryNanos) {
                lastCheck = now;
                Map<Path, String> seen = fingerprints(builder.files());
                if (!seen.equals(fingerprints)) {
                    fingerprints = seen;
                    try {
                        current = builder.build();
                        LOG.log(Level.INFO, "TLS material reloaded from " + builder.files());
                    } catch (RuntimeException e) {
                        LOG.log(Level.WARNING, "TLS material in " + builder.files() + " changed but cannot be used ("
                                + e.getMessage() + "); new connections keep the previous certificates", e);
                    }
                }
            }
            return current;
        }

        private static Map<Path, String> fingerprints(Set<Path> files) {
            Map<Path, String> result = new HashMap<>();
            for (Path f : files) {
                try {
                    byte[] digest = MessageDigest.getInstance("SHA-256").digest(java.nio.file.Files.readAllBytes(f));
                    result.put(f, java.util.HexFormat.of().formatHex(digest));
                } catch (IOException | GeneralSecurityException e) {
                    result.put(f, "unreadable: " + e.getMessage());
                }
            }
            return result;
        }
    }
}
