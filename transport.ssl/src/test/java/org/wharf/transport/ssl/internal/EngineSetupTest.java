package org.wharf.transport.ssl.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

import org.junit.jupiter.api.Test;
import org.wharf.transport.api.TlsOptions;

/**
 * A listener's engines take parameters worked out once per context: every engine gets the
 * options, and a context the supplier hands out later (a reload, here even another provider)
 * gets parameters of its own, not the last context's.
 */
class EngineSetupTest {

    @Test
    void everyEngineGetsTheOptionsAndANewContextGetsItsOwnParameters() throws Exception {
        SSLContext jdk = SSLContext.getInstance("TLS");
        jdk.init(null, null, null);
        SSLContext conscrypt = SSLContext.getInstance("TLS", SecurityProviders.named("Conscrypt"));
        conscrypt.init(null, null, null);
        AtomicReference<SSLContext> current = new AtomicReference<>(jdk);
        TlsOptions options = TlsOptions.of(current::get).withApplicationProtocols(List.of("h2", "http/1.1"))
                .withClientAuth(TlsOptions.ClientAuth.OPTIONAL).withProtocols(List.of("TLSv1.3"));
        EngineSetup setup = new EngineSetup(options);

        for (int i = 0; i < 3; i++) {
            SSLEngine e = setup.serverEngine(current.get());
            assertFalse(e.getUseClientMode());
            assertOptions(e, jdk);
        }
        current.set(conscrypt);
        for (int i = 0; i < 3; i++) {
            SSLEngine e = setup.serverEngine(current.get());
            assertTrue(e.getClass().getName().startsWith("org.conscrypt."), e.getClass().getName());
            assertOptions(e, conscrypt);
        }
        current.set(jdk);
        assertOptions(setup.serverEngine(current.get()), jdk);
    }

    @Test
    void optionsTheContextAlreadyHasAreTakenAsTheyAre() throws Exception {
        SSLContext jdk = SSLContext.getInstance("TLS");
        jdk.init(null, null, null);
        SSLEngine probe = jdk.createSSLEngine();
        probe.setUseClientMode(false);
        TlsOptions options = TlsOptions.of(jdk).withProtocols(List.of(probe.getEnabledProtocols()))
                .withCipherSuites(List.of(probe.getEnabledCipherSuites()));
        SSLEngine e = new EngineSetup(options).serverEngine(jdk);
        assertArrayEquals(probe.getEnabledProtocols(), e.getEnabledProtocols());
        assertArrayEquals(probe.getEnabledCipherSuites(), e.getEnabledCipherSuites());
    }

    @Test
    void aContextWhoseDefaultsDifferIsNotTakenForTheLastOne() throws Exception {
        SSLContext jdk = SSLContext.getInstance("TLS");
        jdk.init(null, null, null);
        SSLEngine probe = jdk.createSSLEngine();
        probe.setUseClientMode(false);
        List<String> protocols = List.of(probe.getEnabledProtocols());
        AtomicReference<SSLContext> current = new AtomicReference<>(jdk);
        // The first context already has these: its engines are given nothing.
        EngineSetup setup = new EngineSetup(TlsOptions.of(current::get).withProtocols(protocols)
                .withCipherSuites(List.of(probe.getEnabledCipherSuites())));
        assertEquals(protocols, List.of(setup.serverEngine(jdk).getEnabledProtocols()));
        // A reloaded context whose engines start with TLS 1.2 alone must still get the options.
        SSLContext narrowed = narrowed(jdk);
        current.set(narrowed);
        assertEquals(List.of("TLSv1.2"), List.of(narrowed.createSSLEngine().getEnabledProtocols()));
        assertEquals(protocols, List.of(setup.serverEngine(narrowed).getEnabledProtocols()));
    }

    /** A context like {@code inner} whose engines start with TLS 1.2 alone enabled. */
    private static SSLContext narrowed(SSLContext inner) {
        javax.net.ssl.SSLContextSpi spi = new javax.net.ssl.SSLContextSpi() {
            @Override
            protected void engineInit(javax.net.ssl.KeyManager[] km, javax.net.ssl.TrustManager[] tm,
                    java.security.SecureRandom random) {
            }

            @Override
            protected javax.net.ssl.SSLSocketFactory engineGetSocketFactory() {
                return inner.getSocketFactory();
            }

            @Override
            protected javax.net.ssl.SSLServerSocketFactory engineGetServerSocketFactory() {
                return inner.getServerSocketFactory();
            }

            @Override
            protected SSLEngine engineCreateSSLEngine() {
                return tls12(inner.createSSLEngine());
            }

            @Override
            protected SSLEngine engineCreateSSLEngine(String host, int port) {
                return tls12(inner.createSSLEngine(host, port));
            }

            @Override
            protected javax.net.ssl.SSLSessionContext engineGetServerSessionContext() {
                return inner.getServerSessionContext();
            }

            @Override
            protected javax.net.ssl.SSLSessionContext engineGetClientSessionContext() {
                return inner.getClientSessionContext();
            }
        };
        return new SSLContext(spi, inner.getProvider(), "TLS") { };
    }

    private static SSLEngine tls12(SSLEngine e) {
        e.setEnabledProtocols(new String[] {"TLSv1.2"});
        return e;
    }

    private static void assertOptions(SSLEngine e, SSLContext from) {
        SSLParameters p = e.getSSLParameters();
        assertArrayEquals(new String[] {"h2", "http/1.1"}, p.getApplicationProtocols());
        assertTrue(p.getWantClientAuth(), "client auth OPTIONAL");
        assertArrayEquals(new String[] {"TLSv1.3"}, p.getProtocols());
        List<String> supported = List.of(from.createSSLEngine().getSupportedCipherSuites());
        assertTrue(p.getCipherSuites().length > 0);
        for (String suite : p.getCipherSuites()) {
            assertTrue(supported.contains(suite), suite + " is one of " + from.getProvider().getName() + "'s");
        }
        assertEquals(from.getProvider().getName().equals("Conscrypt"), e.getClass().getName().startsWith("org.conscrypt."));
    }
}
