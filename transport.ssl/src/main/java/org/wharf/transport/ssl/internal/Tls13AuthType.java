package org.wharf.transport.ssl.internal;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The JDK's trust manager under another provider's engine. For a TLS 1.3 server, Conscrypt
 * (like BoringSSL) names the key exchange {@code GENERIC}, which the JDK's end-entity check
 * does not know ("Unknown authType: GENERIC"); the JDK's own engine says {@code UNKNOWN} for
 * the same case, which that check accepts. Nothing else changes.
 */
public final class Tls13AuthType extends X509ExtendedTrustManager {

    private final X509ExtendedTrustManager delegate;

    private Tls13AuthType(X509ExtendedTrustManager delegate) {
        this.delegate = delegate;
    }

    /**
     * The managers, each X.509 one wrapped.
     *
     * @param managers from a TrustManagerFactory
     * @return the same, wrapped
     */
    public static TrustManager[] wrap(TrustManager[] managers) {
        TrustManager[] wrapped = managers.clone();
        for (int i = 0; i < wrapped.length; i++) {
            if (wrapped[i] instanceof X509ExtendedTrustManager x) {
                wrapped[i] = new Tls13AuthType(x);
            }
        }
        return wrapped;
    }

    private static String jdk(String authType) {
        return "GENERIC".equals(authType) ? "UNKNOWN" : authType;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        delegate.checkServerTrusted(chain, jdk(authType), engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        delegate.checkServerTrusted(chain, jdk(authType), socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        delegate.checkServerTrusted(chain, jdk(authType));
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        delegate.checkClientTrusted(chain, authType, engine);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        delegate.checkClientTrusted(chain, authType, socket);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        delegate.checkClientTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return delegate.getAcceptedIssuers();
    }
}
