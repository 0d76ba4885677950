package org.wharf.transport.ssl;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * Serves several certificates and chooses by the host name the client asked for with SNI
 * (matched against each certificate's DNS names, wildcards included), falling back to the
 * first certificate of a suitable key type.
 */
final class SniKeyManager extends X509ExtendedKeyManager {

    /** One certificate chain with its key and the host names it is for. */
    record Entry(String alias, X509Certificate[] chain, PrivateKey key, List<String> hostNames) {
        Entry withKey(PrivateKey other) {
            return new Entry(alias, chain, other, hostNames);
        }
    }

    private final List<Entry> entries;

    SniKeyManager(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    static List<String> hostNames(X509Certificate certificate) {
        List<String> names = new ArrayList<>();
        try {
            if (certificate.getSubjectAlternativeNames() != null) {
                for (List<?> san : certificate.getSubjectAlternativeNames()) {
                    if (Integer.valueOf(2).equals(san.get(0))) {
                        names.add(((String) san.get(1)).toLowerCase(Locale.ROOT));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            // no usable names: reachable as the default only
        }
        return names;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        String requested = requestedHost(engine == null ? null : engine.getHandshakeSession());
        String preferred = org.wharf.transport.ssl.internal.ClientHelloSignatures.preferredKeyType();
        if (preferred != null && !suitsType(preferred, keyType) && hasType(preferred, requested)) {
            // An engine that asks for every key type and keeps the last answer (Conscrypt): answer only for
            // the key type the client prefers to verify, when there is a certificate of that type.
            return null;
        }
        Entry fallback = null;
        for (Entry e : entries) {
            if (!suits(e, keyType)) {
                continue;
            }
            if (requested != null && e.hostNames.stream().anyMatch(n -> matches(n, requested))) {
                return e.alias;
            }
            if (fallback == null) {
                fallback = e;
            }
        }
        return fallback == null ? null : fallback.alias;
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return chooseEngineServerAlias(keyType, issuers, null);
    }

    @Override
    public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers, SSLEngine engine) {
        for (String type : keyTypes) {
            for (Entry e : entries) {
                if (suits(e, type)) {
                    return e.alias;
                }
            }
        }
        return null;
    }

    @Override
    public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
        return chooseEngineClientAlias(keyTypes, issuers, null);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        return entries.stream().filter(e -> suits(e, keyType)).map(Entry::alias).toArray(String[]::new);
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return getServerAliases(keyType, issuers);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        return entries.stream().filter(e -> e.alias.equals(alias)).map(e -> e.chain.clone()).findFirst().orElse(null);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        return entries.stream().filter(e -> e.alias.equals(alias)).map(Entry::key).findFirst().orElse(null);
    }

    private static boolean suitsType(String algorithm, String keyType) {
        String type = keyType.contains("_") ? keyType.substring(0, keyType.indexOf('_')) : keyType;
        return algorithm.equalsIgnoreCase(type) || "EC".equals(algorithm) && type.startsWith("ECDSA");
    }

    /** Whether a certificate with a key of that algorithm is there (for the requested host, if one has it). */
    private boolean hasType(String algorithm, String requested) {
        boolean forHost = requested != null && entries.stream().anyMatch(e -> e.hostNames.stream()
                .anyMatch(n -> matches(n, requested)));
        return entries.stream().anyMatch(e -> e.key.getAlgorithm().equals(algorithm) && (!forHost
                || e.hostNames.stream().anyMatch(n -> matches(n, requested))));
    }

    private static boolean suits(Entry e, String keyType) {
        String algorithm = e.key.getAlgorithm();
        String type = keyType.contains("_") ? keyType.substring(0, keyType.indexOf('_')) : keyType;
        return algorithm.equalsIgnoreCase(type) || "RSA".equals(algorithm) && type.startsWith("RSA")
                || "EC".equals(algorithm) && (type.equals("EC") || type.startsWith("ECDSA"));
    }

    private static String requestedHost(SSLSession handshake) {
        if (handshake instanceof ExtendedSSLSession extended) {
            for (SNIServerName name : extended.getRequestedServerNames()) {
                if (name instanceof SNIHostName host) {
                    return host.getAsciiName().toLowerCase(Locale.ROOT);
                }
            }
        }
        return null;
    }

    private static boolean matches(String pattern, String host) {
        if (pattern.startsWith("*.")) {
            int dot = host.indexOf('.');
            return dot > 0 && host.substring(dot).equals(pattern.substring(1));
        }
        return pattern.equals(host);
    }
}
