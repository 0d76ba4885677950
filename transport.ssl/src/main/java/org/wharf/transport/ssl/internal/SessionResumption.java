package org.wharf.transport.ssl.internal;

import java.lang.reflect.Method;
import java.security.KeyManagementException;
import java.security.SecureRandom;

import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLContextSpi;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;

/**
 * Session resumption settings that a provider applies per engine rather than per context,
 * carried by a context that delegates everything to the one it wraps. Conscrypt issues no
 * session tickets unless asked engine by engine ({@code Conscrypt.setUseSessionTickets}, for
 * server engines: {@link #serverEngine}; its client engines keep their default);
 * a server without a session cache gives up each session once its handshake is done
 * ({@link #afterServerHandshake}). The JDK's tickets are a JVM-wide switch
 * ({@code jdk.tls.server.enableSessionTicketExtension}), read when a context is made.
 */
public final class SessionResumption extends SSLContext {

    private static volatile Method setUseSessionTickets;

    private final boolean tickets;
    private final boolean cache;

    private SessionResumption(SSLContext delegate, boolean tickets, boolean cache) {
        super(new Spi(delegate), delegate.getProvider(), delegate.getProtocol());
        this.tickets = tickets;
        this.cache = cache;
    }

    /**
     * The context, wrapped when its provider needs per-engine settings for these choices.
     *
     * @param context an initialised context
     * @param tickets whether a server issues session tickets
     * @param cache whether a server keeps its sessions for resumption by session ID
     * @return the context or its wrapper
     */
    public static SSLContext apply(SSLContext context, boolean tickets, boolean cache) {
        boolean conscrypt = "Conscrypt".equals(context.getProvider().getName());
        if (!conscrypt && cache) {
            return context; // the JDK: tickets per JVM, the cache per context (already sized)
        }
        return new SessionResumption(context, tickets && conscrypt, cache);
    }

    /**
     * Called for a server engine before its handshake: on Conscrypt, turns its session tickets
     * on (a client engine keeps Conscrypt's default).
     *
     * @param context the context the engine came from
     * @param engine the engine, in server mode
     */
    public static void serverEngine(SSLContext context, SSLEngine engine) {
        if (context instanceof SessionResumption r && r.tickets) {
            useSessionTickets(engine);
        }
    }

    /**
     * Called by a server connection once its handshake is done: without a session cache the
     * session is invalidated, so neither its ID nor a stateful ticket resumes it.
     *
     * @param context the context the engine came from
     * @param engine the engine
     */
    public static void afterServerHandshake(SSLContext context, SSLEngine engine) {
        if (context instanceof SessionResumption r && !r.cache) {
            engine.getSession().invalidate();
        }
    }

    private static void useSessionTickets(SSLEngine engine) {
        try {
            Method m = setUseSessionTickets;
            if (m == null) {
                Class<?> c = Class.forName("org.conscrypt.Conscrypt", true, engine.getClass().getClassLoader());
                m = c.getMethod("setUseSessionTickets", SSLEngine.class, boolean.class);
                setUseSessionTickets = m;
            }
            m.invoke(null, engine, true);
        } catch (ReflectiveOperationException | LinkageError e) {
            throw new IllegalStateException("cannot turn on Conscrypt's session tickets: " + e, e);
        }
    }

    /** Everything from the wrapped context. */
    private static final class Spi extends SSLContextSpi {
        private final SSLContext delegate;

        Spi(SSLContext delegate) {
            this.delegate = delegate;
        }

        @Override
        protected void engineInit(KeyManager[] km, TrustManager[] tm, SecureRandom sr) throws KeyManagementException {
            delegate.init(km, tm, sr);
        }

        @Override
        protected SSLSocketFactory engineGetSocketFactory() {
            return delegate.getSocketFactory();
        }

        @Override
        protected SSLServerSocketFactory engineGetServerSocketFactory() {
            return delegate.getServerSocketFactory();
        }

        @Override
        protected SSLEngine engineCreateSSLEngine() {
            return delegate.createSSLEngine();
        }

        @Override
        protected SSLEngine engineCreateSSLEngine(String host, int port) {
            return delegate.createSSLEngine(host, port);
        }

        @Override
        protected SSLSessionContext engineGetServerSessionContext() {
            return delegate.getServerSessionContext();
        }

        @Override
        protected SSLSessionContext engineGetClientSessionContext() {
            return delegate.getClientSessionContext();
        }

        @Override
        protected SSLParameters engineGetDefaultSSLParameters() {
            return delegate.getDefaultSSLParameters();
        }

        @Override
        protected SSLParameters engineGetSupportedSSLParameters() {
            return delegate.getSupportedSSLParameters();
        }
    }
}
