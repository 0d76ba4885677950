package org.wharf.transport.ssl.internal;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.security.cert.Certificate;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

import org.wharf.transport.api.ExtraInfo;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.SslTransport;
import org.wharf.transport.api.TimerHandle;
import org.wharf.transport.api.TlsError;
import org.wharf.transport.api.TlsOptions;
import org.wharf.transport.api.Transport;
import org.wharf.transport.api.TransportClosedError;
import org.wharf.transport.api.TransportError;
import org.wharf.transport.api.TransportObserver;
import org.wharf.transport.api.TransportTimeoutError;
import org.wharf.transport.core.AbstractTransport;
import org.wharf.transport.core.LogLimiter;
import org.wharf.transport.core.OutboundBuffer;

/**
 * TLS as an engine on the transport core: the application's {@link SslTransport}, layered
 * over a stream transport built on the same core (the "raw" one, normally TCP). Lifecycle,
 * read control and flow control are the core's; this class adds a state machine over
 * {@link SSLEngine}.
 *
 * <p>The engine is in one of the states of {@link Tls}: clear (before an on-demand handshake,
 * or after {@link #unwrap()}), handshaking, encrypted, unwrapping (our close_notify sent for
 * an unwrap), or closed. A new engine is made for every handshake, so clear, TLS, clear, TLS on
 * one connection works.
 *
 * <p>The application's protocol is created only when the first handshake has succeeded (at
 * once for a connection that starts clear): a failed handshake never creates one, so nothing
 * above counts it. Writes count in the raw transport's {@link OutboundBuffer}, from any
 * thread, whether they wait for a handshake as plaintext or for the socket as records: the
 * application sees one buffer and one writability. Everything else runs on the raw
 * transport's loop; {@link #handshake()} and {@link #unwrap()} may be called from any thread.
 */
final class SslConnection extends AbstractTransport<Protocol> implements SslTransport {

    /** The states of the TLS engine. */
    private enum Tls { CLEAR, HANDSHAKING, ENCRYPTED, UNWRAPPING, CLOSED }

    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
    /** The content type of a TLS record that carries handshake messages (RFC 5246, 6.2.1). */
    private static final byte HANDSHAKE_RECORD = 22;
    /** The signalling pseudo-suite of RFC 5746: enabled alone, it leaves an engine nothing to negotiate. */
    private static final String[] NOTHING_TO_NEGOTIATE = {"TLS_EMPTY_RENEGOTIATION_INFO_SCSV"};
    /**
     * Where records are made, one per thread (each loop's): a small record is copied out at
     * its size instead of leaving a whole packet-sized buffer per write.
     */
    private static final ThreadLocal<ByteBuffer> SCRATCH = new ThreadLocal<>();
    /**
     * The same for engines of other providers than the JDK's, direct: Conscrypt copies what it
     * made into a heap buffer through a native buffer of one record's size and, when it holds
     * more (its TLS 1.3 session tickets, then a full record), leaves the rest inside while
     * saying OK. Into a direct buffer it writes all it holds, up to the buffer's room.
     */
    private static final ThreadLocal<ByteBuffer> DIRECT_SCRATCH = new ThreadLocal<>();
    /** The most a wrap may ask room for: an engine that keeps saying overflow past it is broken. */
    private static final int MAX_SCRATCH = 1 << 22;
    /**
     * The longest record TLS allows (RFC 5246, 6.2.3: 2^14 + 2048 bytes of ciphertext; TLS 1.3
     * allows less). A header that says more ends the connection at once: the JDK's engine would
     * wait for up to about 33 KiB of it (it takes oversized records from old peers), Conscrypt for
     * up to 64 KiB, buffering it all.
     */
    private static final int MAX_RECORD = (1 << 14) + 2048;

    private final Layer layer;
    private final Transport raw;
    private final OutboundBuffer out;
    private volatile Tls tls = Tls.CLEAR;
    private SSLEngine engine;
    /** The context {@link #engine} came from (a reloaded context does not change it). */
    private SSLContext engineContext;
    /**
     * Gathers the ClientHello across its records while its signature algorithms are still to
     * be noted for the key manager (Conscrypt servers); null otherwise.
     */
    private ClientHelloSignatures.Gatherer helloGatherer;
    /** Whether the engine is another provider's than the JDK's: its records are made in a direct buffer. */
    private boolean directScratch;
    /** The key type the client prefers to verify, from its ClientHello; null if unknown. */
    private String clientKeyType;
    private ByteBuffer netIn = ByteBuffer.allocate(0);
    private ByteBuffer appIn = ByteBuffer.allocate(0);
    /** Plaintext written while a handshake or an unwrap runs; counted in {@link #out}. */
    private final ArrayDeque<ByteBuffer> pending = new ArrayDeque<>();
    /** Decrypted data held while the application does not read. */
    private final ArrayDeque<ByteBuffer> held = new ArrayDeque<>();
    /** The stage of the handshake running or last completed. */
    private CompletableFuture<SSLSession> handshake = new CompletableFuture<>();
    private CompletableFuture<Void> unwrapped;
    private TimerHandle handshakeTimer;
    private volatile SSLSession session;
    private boolean rawPausedForApp;
    private boolean processing;
    private Throwable failure;
    /** The peer ended TLS with close_notify: what goes wrong afterwards (our reply) is no error. */
    private boolean peerClosedCleanly;
    /**
     * A server's TLS 1.2 (or older) session is up: a handshake record from the client now can
     * only be a ClientHello, a renegotiation, which is refused.
     */
    private boolean refuseHandshakeRecords;
    /** Why the connection ends once the engine has answered a refused renegotiation; null until one is asked for. */
    private String renegotiationRefused;
    /** Application bytes delivered and written (not the encrypted ones). */
    private volatile long bytesReceived;
    private volatile long bytesSent;
    /** When the first handshake started (System.nanoTime), 0 before; its outcome goes to the observer once. */
    private long firstHandshakeStart;
    private boolean firstHandshakeObserved;

    private SslConnection(Layer layer, AbstractTransport<?> raw) {
        super(raw);
        this.layer = layer;
        this.raw = (Transport) raw;
        this.out = raw.outboundBuffer();
    }

    // ---- the raw transport's protocol ----

    /**
     * The raw transport's protocol: made by the listener's or connector's factory, it makes
     * the {@link SslConnection} once the raw connection is made and forwards every callback.
     */
    static final class Layer implements Protocol {
        final boolean client;
        final TlsOptions options;
        final String peerHost;
        final int peerPort;
        final Supplier<? extends Protocol> appFactory;
        /** The provider's: failed handshakes are logged at most once per window, the rest counted. */
        final LogLimiter failures;
        /** Hears of the first handshake's outcome and time (a server's metrics). */
        final TransportObserver observer;
        /** Completes when the application's protocol is made (after the first handshake). */
        final CompletableFuture<SslConnection> ready = new CompletableFuture<>();
        /** How its engine is made: a listener's connections share one, so a server's parameters are worked out once. */
        final EngineSetup setup;
        private SslConnection connection;

        Layer(boolean client, TlsOptions options, String peerHost, int peerPort, Supplier<? extends Protocol> appFactory,
                LogLimiter failures, TransportObserver observer) {
            this(client, new EngineSetup(options), peerHost, peerPort, appFactory, failures, observer);
        }

        Layer(boolean client, EngineSetup setup, String peerHost, int peerPort, Supplier<? extends Protocol> appFactory,
                LogLimiter failures, TransportObserver observer) {
            this.observer = Objects.requireNonNull(observer, "observer");
            this.client = client;
            this.setup = setup;
            this.options = setup.options();
            this.peerHost = peerHost;
            this.peerPort = peerPort;
            this.appFactory = Objects.requireNonNull(appFactory, "protocolFactory");
            this.failures = failures;
        }

        @Override
        public void connectionMade(Transport transport) {
            if (!(transport instanceof AbstractTransport<?> core)) {
                throw new IllegalArgumentException("TLS runs over transports built on org.wharf.transport.core, not "
                        + transport.getClass().getName());
            }
            connection = new SslConnection(this, core);
            connection.begin();
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            connection.received(data);
        }

        @Override
        public boolean eofReceived() {
            return connection.rawEof();
        }

        @Override
        public void pauseWriting() {
            connection.writabilityChanged(false);
        }

        @Override
        public void resumeWriting() {
            connection.writabilityChanged(true);
        }

        @Override
        public void connectionLost(Throwable cause) {
            if (connection != null) {
                connection.rawLost(cause);
            } else {
                ready.completeExceptionally(cause != null ? cause : new TransportError("connection lost"));
            }
        }
    }

    private void begin() {
        if (layer.options.handshakeOnConnect()) {
            startHandshake();
        } else {
            handshake.complete(null);
            startApp();
        }
    }

    /** Makes the application's protocol (connectionMade); the connect's stage completes after it. */
    private void startApp() {
        Protocol app = start(layer.appFactory);
        if (app != null) {
            layer.ready.complete(this);
        }
        // else: the factory failed (logged) and the connection is aborted; rawLost fails `ready`.
    }

    private void received(ByteBuffer data) {
        switch (tls) {
            case CLEAR -> deliver(data);
            case CLOSED -> { }
            default -> {
                append(data);
                process();
            }
        }
    }

    private boolean rawEof() {
        switch (tls) {
            case CLEAR:
                if (!isOpen()) {
                    return false;
                }
                try {
                    return protocol().eofReceived();
                } catch (Throwable e) {
                    callbackFailed("eofReceived", e);
                    return false;
                }
            case HANDSHAKING:
                fail(new TlsError("TLS handshake with " + peer() + " failed: the peer closed the connection", null));
                return false;
            case ENCRYPTED:
            case UNWRAPPING:
                fail(new TlsError("connection from " + peer() + " ended without close_notify (truncated TLS stream)",
                        null));
                return false;
            default:
                return false;
        }
    }

    /** The raw transport is gone: so is this one, with the reason TLS knows best. */
    private void rawLost(Throwable cause) {
        Tls was = tls;
        tls = Tls.CLOSED;
        cancelHandshakeTimer();
        // After the peer's close_notify, an I/O error (our answer hitting a closed socket) is
        // no error; an exception of the application still is.
        Throwable reason = failure != null ? failure
                : peerClosedCleanly && cause instanceof TransportError ? null : cause;
        if (!handshake.isDone()) {
            handshake.completeExceptionally(reason instanceof TlsError || reason instanceof TransportTimeoutError
                    ? reason : new TlsError("TLS handshake with " + peer() + " failed: connection lost", reason));
        }
        if (unwrapped != null && !unwrapped.isDone()) {
            unwrapped.completeExceptionally(new TlsError("connection to " + peer() + " lost during unwrap", reason));
        }
        if (!layer.ready.isDone()) {
            Throwable why = handshake.isCompletedExceptionally() ? handshake.handle((s, e) -> e).join() : reason;
            layer.ready.completeExceptionally(why != null ? why : new TlsError("TLS with " + peer() + " closed", null));
        }
        if (firstHandshakeStart != 0 && !firstHandshakeObserved) {
            // The first handshake started and never finished (fail() may have closed it already).
            firstHandshakeObserved = true;
            layer.observer.handshakeFailed(System.nanoTime() - firstHandshakeStart, cause(reason));
        }
        if (isCreated() && !layer.client && reason != null && was != Tls.CLEAR) {
            // Anyone who reaches a TLS port can make these: a burst becomes a count.
            layer.failures.log(System.Logger.Level.WARNING, "handshake", () -> handshakeFailure(reason), null);
        }
        dropPending();
        held.clear();
        dispose(engine);
        closed(reason);
    }

    /**
     * Closes an engine both ways, as the connection is gone or back to clear text. The JDK's
     * engine needs nothing more than the garbage collector; an engine on native memory
     * (Conscrypt's, BoringSSL) frees its native state only when both directions are closed, and
     * until then holds more than memory (each held a pipe: 50,000 connections ran out of file
     * descriptors long before a collection came).
     */
    private static void dispose(SSLEngine engine) {
        if (engine != null) {
            EngineSetup.discard(engine);
        }
    }

    // ---- the engine ----

    private void startHandshake() {
        try {
            engine = newEngine();
            engine.beginHandshake();
        } catch (SSLException | RuntimeException e) {
            fail(new TlsError("cannot start TLS with " + peer() + ": " + e.getMessage(), e));
            return;
        }
        tls = Tls.HANDSHAKING;
        if (firstHandshakeStart == 0) {
            firstHandshakeStart = System.nanoTime();
        }
        refuseHandshakeRecords = false;
        if (handshake.isDone()) {
            handshake = new CompletableFuture<>();
        }
        long millis = layer.options.handshakeTimeout().toMillis();
        handshakeTimer = loop().schedule(() -> {
            if (tls == Tls.HANDSHAKING) {
                fail(new TransportTimeoutError("TLS handshake with " + peer() + " did not complete within " + millis
                        + " ms"));
            }
        }, millis, TimeUnit.MILLISECONDS);
        process();
    }

    private SSLEngine newEngine() {
        TlsOptions options = layer.options;
        SSLContext context = options.context().get();
        engineContext = context;
        // Conscrypt does not tell the key manager what the client can verify: read it ourselves.
        boolean conscrypt = EngineSetup.conscrypt(context);
        helloGatherer = null;
        directScratch = !"SunJSSE".equals(context.getProvider().getName());
        clientKeyType = null;
        if (!layer.client) {
            SSLEngine server = layer.setup.serverEngine(context);
            if (conscrypt) {
                helloGatherer = new ClientHelloSignatures.Gatherer(
                        java.util.Arrays.asList(server.getEnabledProtocols()).contains("TLSv1.3"));
            }
            return server;
        }
        SSLEngine e = layer.peerHost != null
                ? context.createSSLEngine(serverName(), layer.peerPort)
                : context.createSSLEngine();
        try {
            e.setUseClientMode(true);
            SSLParameters p = EngineSetup.parameters(e, options, true, conscrypt);
            if (options.verifyHostName()) {
                p.setEndpointIdentificationAlgorithm("HTTPS");
            }
            String name = serverName();
            if (name != null && !isIpLiteral(name)) {
                p.setServerNames(List.of(new SNIHostName(name)));
            }
            e.setSSLParameters(p);
        } catch (RuntimeException failed) {
            EngineSetup.discard(e); // never this connection's: its native state goes now
            throw failed;
        }
        return e;
    }

    private String serverName() {
        return layer.options.serverName() != null ? layer.options.serverName() : layer.peerHost;
    }

    /** Runs the engine until it can make no progress without more input. */
    private void process() {
        if (processing) {
            return; // re-entered from a callback: the outer loop carries on
        }
        processing = true;
        try {
            boolean progress = true;
            while (progress && engine != null && (tls == Tls.HANDSHAKING || tls == Tls.ENCRYPTED
                    || tls == Tls.UNWRAPPING)) {
                HandshakeStatus status = engine.getHandshakeStatus();
                switch (status) {
                    case NEED_TASK -> {
                        for (Runnable task; (task = engine.getDelegatedTask()) != null;) {
                            task.run();
                        }
                        progress = true;
                    }
                    case NEED_WRAP -> progress = wrap(EMPTY);
                    // An application that does not read gets no further records decrypted: they
                    // wait, in order, with the peer's close_notify among them, for it to read again.
                    default -> {
                        if (tls == Tls.ENCRYPTED && (!held.isEmpty() || !wantsToRead())) {
                            holdInput();
                            progress = false;
                        } else {
                            progress = unwrapRecord();
                        }
                    }
                }
            }
        } catch (SSLException e) {
            fail(new TlsError(renegotiationRefused != null ? renegotiationRefused
                    : "TLS with " + peer() + " failed: " + e.getMessage(), e));
        } finally {
            processing = false;
        }
        out.settle(false);
    }

    /** One unwrap of buffered input; false when more input is needed. */
    private boolean unwrapRecord() throws SSLException {
        if (netIn.position() == 0 && engine.getHandshakeStatus() != HandshakeStatus.NEED_UNWRAP_AGAIN) {
            return false;
        }
        if (renegotiationRefused != null && engine.getHandshakeStatus() != HandshakeStatus.NOT_HANDSHAKING) {
            // The engine answered the ClientHello instead of failing it: end it here all the same.
            fail(new TlsError(renegotiationRefused, null));
            return false;
        }
        if (refuseHandshakeRecords && renegotiationRefused == null && netIn.position() > 0
                && netIn.get(0) == HANDSHAKE_RECORD && !refuseRenegotiation()) {
            return false;
        }
        if (netIn.position() >= 5 && netIn.get(0) >= 20 && netIn.get(0) <= 24) { // a TLS record header
            int length = (netIn.get(3) & 0xff) << 8 | netIn.get(4) & 0xff;
            if (length > MAX_RECORD) {
                String why = "a record of " + length + " bytes, more than TLS allows (" + MAX_RECORD + ")";
                fail(new TlsError("TLS with " + peer() + " failed: " + why,
                        new javax.net.ssl.SSLProtocolException(why))); // counted as a protocol failure
                return false;
            }
        }
        if (helloGatherer != null) {
            String type = helloGatherer.offer(netIn);
            if (type != null) {
                helloGatherer = null;
                clientKeyType = type.isEmpty() ? null : type;
            }
        }
        ensureAppIn();
        netIn.flip();
        SSLEngineResult result;
        if (clientKeyType != null && tls == Tls.HANDSHAKING) {
            ClientHelloSignatures.set(clientKeyType);
        }
        try {
            result = engine.unwrap(netIn, appIn);
        } finally {
            netIn.compact();
            if (clientKeyType != null) {
                ClientHelloSignatures.clear();
            }
        }
        if (helloGatherer != null) {
            helloGatherer.consumed(result.bytesConsumed()); // records of a hello split across several
        }
        switch (result.getStatus()) {
            case BUFFER_UNDERFLOW -> {
                int need = engine.getSession().getPacketBufferSize();
                if (netIn.capacity() < need) {
                    netIn = ByteBuffer.allocate(need).put(netIn.flip());
                }
                return false;
            }
            case BUFFER_OVERFLOW -> {
                deliverDecrypted();
                appIn = ByteBuffer.allocate(Math.max(appIn.capacity() * 2, engine.getSession().getApplicationBufferSize()));
                return true;
            }
            case CLOSED -> {
                deliverDecrypted();
                closeNotifyReceived();
                return false;
            }
            default -> {
                if (result.getHandshakeStatus() == HandshakeStatus.FINISHED) {
                    handshakeFinished();
                }
                deliverDecrypted();
                return result.bytesConsumed() > 0 || result.bytesProduced() > 0
                        || result.getHandshakeStatus() == HandshakeStatus.FINISHED;
            }
        }
    }

    /**
     * One wrap of application data (or of handshake data when {@code src} is empty); the record
     * goes to the raw transport, which counts what it cannot send at once. False if nothing
     * came out.
     */
    private boolean wrap(ByteBuffer... src) throws SSLException {
        int size = engine.getSession().getPacketBufferSize();
        ThreadLocal<ByteBuffer> local = directScratch ? DIRECT_SCRATCH : SCRATCH;
        ByteBuffer scratch = local.get();
        if (scratch == null || scratch.capacity() < size) {
            scratch = directScratch ? ByteBuffer.allocateDirect(size) : ByteBuffer.allocate(size);
            local.set(scratch);
        }
        scratch.clear();
        SSLEngineResult result = engine.wrap(src, scratch);
        boolean taken = result.bytesConsumed() > 0;
        while (result.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
            // An engine may hold more than a record's worth: Conscrypt keeps what its last wrap made
            // (TLS 1.3 session tickets, then a full record) and, even having taken the plaintext, says
            // only "overflow". A bigger buffer, and a wrap of nothing new once it took something, sends it.
            if (scratch.capacity() >= MAX_SCRATCH) {
                throw new SSLException("the TLS engine asks for more than " + MAX_SCRATCH + " bytes to wrap one write");
            }
            int bigger = scratch.capacity() * 2;
            scratch = directScratch ? ByteBuffer.allocateDirect(bigger) : ByteBuffer.allocate(bigger);
            local.set(scratch);
            result = engine.wrap(taken ? new ByteBuffer[] {EMPTY} : src, scratch);
            taken |= result.bytesConsumed() > 0;
        }
        scratch.flip();
        if (scratch.hasRemaining() && !raw.isClosing()) {
            raw.writeCopy(scratch); // sent at once or copied by the raw transport: the scratch stays ours
        }
        if (result.getHandshakeStatus() == HandshakeStatus.FINISHED) {
            handshakeFinished();
        }
        return result.bytesProduced() > 0 || result.getHandshakeStatus() == HandshakeStatus.FINISHED;
    }

    private void handshakeFinished() {
        if (tls != Tls.HANDSHAKING) {
            return; // a key update, or a renegotiation a server asked our client for: nothing changes above
        }
        cancelHandshakeTimer();
        session = engine.getSession();
        tls = Tls.ENCRYPTED;
        if (!layer.client) {
            clientKeyType = null;
            SessionResumption.afterServerHandshake(engineContext, engine);
        }
        if (!firstHandshakeObserved) {
            firstHandshakeObserved = true;
            layer.observer.handshakeCompleted(System.nanoTime() - firstHandshakeStart);
        }
        // TLS 1.3 has no renegotiation: its post-handshake messages (KeyUpdate) travel in
        // application data records and are the engine's business.
        refuseHandshakeRecords = !layer.client && !"TLSv1.3".equals(session.getProtocol());
        if (isCreated()) {
            startApp();
        }
        handshake.complete(session);
        flushPending();
        if (isOpen()) {
            readingChanged(); // pausing was deferred while the engine needed to read
        }
    }

    private void closeNotifyReceived() {
        if (tls == Tls.UNWRAPPING) {
            // Our own unwrap(): the peer answered; what follows is clear text.
            dispose(engine);
            engine = null;
            session = null;
            tls = Tls.CLEAR;
            refuseHandshakeRecords = false;
            ByteBuffer rest = takeNetIn();
            unwrapped.complete(null);
            flushPending();
            if (rest.hasRemaining()) {
                deliver(rest);
            }
            return;
        }
        // The peer closes: answer close_notify and close. TLS has no half-close, so the
        // protocol's wish to keep writing cannot be granted.
        peerClosedCleanly = true;
        // The application hears of it first: if it throws, that is why the connection ends
        // (our answer may meet a closed socket and end it with an I/O error instead).
        if (isOpen()) {
            try {
                protocol().eofReceived();
            } catch (Throwable e) {
                callbackFailed("eofReceived", e);
                return;
            }
        }
        if (isCreated()) {
            sendCloseNotify();
            raw.close();
        } else {
            close();
        }
    }

    /**
     * Refuses a client-initiated renegotiation (TLS 1.2 and older), seen before the engine reads
     * the ClientHello: a renegotiation costs the server a full handshake's work for a few bytes
     * of the client's, over and over on one connection (the DoS testssl.sh reports). The JDK
     * refuses it only JVM-wide ({@code jdk.tls.rejectClientInitiatedRenegotiation}), which a
     * library must not set; the record's content type, in clear in the record header, tells it
     * per connection. Only the engine can send an alert under this session's keys, so it is
     * left nothing it could negotiate and reads the ClientHello: it answers with a fatal
     * handshake_failure ("no cipher suites in common", the alert the JDK's own refusal sends),
     * before any key exchange, and the connection fails with a {@link TlsError} naming the peer.
     *
     * @return whether the engine is to read the ClientHello; false if the connection already failed
     */
    private boolean refuseRenegotiation() {
        renegotiationRefused = "TLS renegotiation requested by " + peer() + " refused: client-initiated renegotiation is "
                + "not allowed (" + session.getProtocol() + ")";
        try {
            engine.setEnabledCipherSuites(NOTHING_TO_NEGOTIATE);
            return true; // the engine reads the ClientHello and fails it
        } catch (RuntimeException e) {
            // A provider without the pseudo-suite: the connection ends with close_notify instead.
            fail(new TlsError(renegotiationRefused, e));
            return false;
        }
    }

    /** Encrypts what was written while a handshake or unwrap ran, in order; a close waiting for them follows. */
    private void flushPending() {
        while (!pending.isEmpty() && (tls == Tls.ENCRYPTED || tls == Tls.CLEAR)) {
            ByteBuffer data = pending.poll();
            int n = data.remaining();
            if (tls == Tls.CLEAR) {
                raw.write(data);
            } else {
                encrypt(data);
            }
            out.count(-n);
        }
        out.settle(false);
        if (isClosingGracefully() && pending.isEmpty()) {
            closeGracefully();
        }
    }

    private void encrypt(ByteBuffer... data) {
        try {
            while (hasRemaining(data) && tls == Tls.ENCRYPTED) {
                if (!wrap(data)) {
                    break;
                }
            }
        } catch (SSLException e) {
            fail(new TlsError("TLS with " + peer() + " failed: " + e.getMessage(), e));
        }
    }

    private void sendCloseNotify() {
        if (engine == null) {
            return;
        }
        engine.closeOutbound();
        try {
            while (!engine.isOutboundDone() && wrap(EMPTY)) {
                // sends close_notify
            }
        } catch (SSLException e) {
            // closing anyway
        }
    }

    /** Ends the connection for a TLS reason: the engine's alert goes out, then the transport closes. */
    private void fail(Throwable error) {
        if (failure == null) {
            failure = error;
        }
        cancelHandshakeTimer();
        if (engine != null && tls != Tls.CLOSED) {
            try {
                engine.closeOutbound();
                while (engine.getHandshakeStatus() == HandshakeStatus.NEED_WRAP && wrap(EMPTY)) {
                    // flushes the alert that tells the peer why
                }
            } catch (SSLException | RuntimeException ignored) {
                // the alert is a courtesy
            }
        }
        tls = Tls.CLOSED;
        raw.close();
    }

    // ---- the core's hooks ----

    @Override
    protected void closeGracefully() {
        switch (tls) {
            case ENCRYPTED -> {
                if (pending.isEmpty()) {
                    sendCloseNotify();
                    tls = Tls.CLOSED;
                    raw.close();
                }
                // else flushPending closes once they are out
            }
            case HANDSHAKING, UNWRAPPING -> {
                // closes once the handshake or unwrap is done and what was written went out
            }
            default -> raw.close();
        }
    }

    /** A failed handshake's cause in one word of a bounded set, for a metric's label. */
    static String cause(Throwable reason) {
        if (reason instanceof TransportTimeoutError) {
            return TransportObserver.TIMEOUT;
        }
        for (Throwable t = reason; t != null; t = t.getCause()) {
            if (t instanceof java.security.cert.CertificateException
                    || t instanceof java.security.cert.CertPathValidatorException
                    || t instanceof javax.net.ssl.SSLPeerUnverifiedException) {
                return TransportObserver.CERTIFICATE;
            }
        }
        for (Throwable t = reason; t != null; t = t.getCause()) {
            String m = String.valueOf(t.getMessage()).toLowerCase(java.util.Locale.ROOT);
            if (m.contains("certificate")) {
                return TransportObserver.CERTIFICATE; // the peer's alert: bad_certificate, certificate_unknown
            }
            if (t instanceof javax.net.ssl.SSLHandshakeException) {
                return TransportObserver.HANDSHAKE;
            }
            if (t instanceof javax.net.ssl.SSLException) {
                return TransportObserver.PROTOCOL;
            }
        }
        if (reason == null || reason instanceof TlsError || reason instanceof TransportError) {
            return TransportObserver.CLOSED; // the peer closed, or the connection was lost, mid-handshake
        }
        return TransportObserver.OTHER;
    }

    /** One line for a failed handshake: our own errors name the peer already, so it is not said twice. */
    private String handshakeFailure(Throwable reason) {
        String m = String.valueOf(reason.getMessage());
        if (m.startsWith("TLS handshake with ")) {
            return m;
        }
        int said = m.indexOf(" failed: ");
        if (m.startsWith("TLS with ") && said > 0) {
            m = m.substring(said + " failed: ".length());
        }
        return "TLS handshake with " + peer() + " failed: " + m;
    }

    @Override
    protected void abortNow(Throwable cause) {
        if (failure == null && cause != null) {
            failure = cause;
        }
        dropPending();
        held.clear();
        if (resetRequested()) {
            raw.reset(); // no close_notify: the peer sees the connection cut
        } else {
            raw.abort(cause);
        }
    }

    private void dropPending() {
        long dropped = 0;
        for (ByteBuffer b; (b = pending.poll()) != null;) {
            dropped += b.remaining();
        }
        out.count(-dropped);
    }

    @Override
    protected void readingChanged() {
        if (wantsToRead()) {
            while (wantsToRead() && !held.isEmpty()) {
                ByteBuffer data = held.poll();
                deliverNow(data);
            }
            if (held.isEmpty() && wantsToRead() && tls == Tls.ENCRYPTED && netIn.position() > 0) {
                process(); // records left undecrypted while it did not read
            }
            if (rawPausedForApp && held.isEmpty() && wantsToRead()) {
                rawPausedForApp = false;
                raw.resumeReading();
            }
        } else if (tls != Tls.HANDSHAKING) {
            holdInput(); // while the engine needs to read (a handshake) the raw transport reads on
        }
    }

    /**
     * The application does not read: the raw transport stops reading now, not when the
     * pause's own turn comes (a pause from another thread arrives as a task), so no more
     * records, and no end of input, arrive behind the ones left encrypted.
     */
    private void holdInput() {
        if (!rawPausedForApp && isOpen()) {
            rawPausedForApp = true;
            raw.pauseReading();
        }
    }

    // ---- data to the application ----

    private void deliverDecrypted() {
        if (appIn.position() > 0) {
            appIn.flip();
            deliver(appIn);
            appIn.clear();
        }
    }

    private void deliver(ByteBuffer data) {
        // After close(), or once the connection failed, no more data reaches the application
        // (as with a TCP transport), even from records that came in the same read.
        if (!isOpen() || !data.hasRemaining() || raw.isClosing()) {
            return;
        }
        if (!wantsToRead() || !held.isEmpty()) {
            held.add(ByteBuffer.allocate(data.remaining()).put(data).flip());
            readingChanged(); // pauses the raw transport too
            return;
        }
        deliverNow(data);
    }

    private void deliverNow(ByteBuffer data) {
        bytesReceived += data.remaining();
        lend(data);
        try {
            protocol().dataReceived(data);
        } catch (Throwable e) {
            callbackFailed("dataReceived", e);
        }
    }

    // ---- SslTransport, for the application ----

    @Override
    public CompletionStage<SSLSession> handshake() {
        return handshake(EMPTY);
    }

    @Override
    public CompletionStage<SSLSession> handshake(ByteBuffer received) {
        ByteBuffer early = received.hasRemaining() ? ByteBuffer.allocate(received.remaining()).put(received).flip()
                : EMPTY; // the caller's buffer may be one lent to it
        CompletableFuture<SSLSession> result = new CompletableFuture<>();
        Runnable start = () -> {
            switch (tls) {
                case CLEAR -> {
                    if (isOpen()) {
                        handshake = new CompletableFuture<>();
                        link(handshake, result);
                        if (early.hasRemaining()) {
                            append(early.duplicate()); // read by the engine as the handshake starts
                        }
                        startHandshake();
                    } else {
                        result.completeExceptionally(new TransportClosedError("handshake on a closing TLS transport ("
                                + this + ")", closedWith()));
                    }
                }
                case HANDSHAKING, ENCRYPTED -> {
                    if (early.hasRemaining()) {
                        result.completeExceptionally(new IllegalStateException("TLS is already active: received "
                                + "bytes cannot be handed to its handshake"));
                    } else {
                        link(handshake, result);
                    }
                }
                default -> result.completeExceptionally(new IllegalStateException("no handshake while the connection is "
                        + tls.name().toLowerCase()));
            }
        };
        runOnLoop(start, result);
        return result;
    }

    private static <T> void link(CompletableFuture<T> from, CompletableFuture<T> to) {
        from.whenComplete((v, e) -> {
            if (e != null) {
                to.completeExceptionally(e);
            } else {
                to.complete(v);
            }
        });
    }

    /** Runs on the loop, or fails the stage when the loop has ended. */
    private void runOnLoop(Runnable action, CompletableFuture<?> stage) {
        if (loop().inEventLoop()) {
            action.run();
            return;
        }
        try {
            loop().execute(action);
        } catch (RejectedExecutionException e) {
            stage.completeExceptionally(new TransportClosedError("TLS transport closed: its event loop has ended", e));
        }
    }

    @Override
    public boolean isEncrypted() {
        return tls == Tls.ENCRYPTED;
    }

    @Override
    public Optional<SSLSession> session() {
        return Optional.ofNullable(tls == Tls.ENCRYPTED ? session : null);
    }

    @Override
    public List<Certificate> peerCertificates() {
        SSLSession s = session;
        if (s == null || tls != Tls.ENCRYPTED) {
            return List.of();
        }
        try {
            return List.of(s.getPeerCertificates());
        } catch (SSLPeerUnverifiedException e) {
            return List.of();
        }
    }

    @Override
    public Optional<String> applicationProtocol() {
        SSLEngine e = engine;
        String p = e == null || tls != Tls.ENCRYPTED ? null : e.getApplicationProtocol();
        return p == null || p.isEmpty() ? Optional.empty() : Optional.of(p);
    }

    @Override
    public CompletionStage<Void> unwrap() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        runOnLoop(() -> {
            if (tls != Tls.ENCRYPTED || !isOpen()) {
                done.completeExceptionally(new IllegalStateException("unwrap needs an open encrypted connection, this "
                        + "one is " + (isOpen() ? tls.name().toLowerCase() : "closing")));
                return;
            }
            unwrapped = done;
            tls = Tls.UNWRAPPING;
            engine.closeOutbound();
            try {
                while (!engine.isOutboundDone() && wrap(EMPTY)) {
                    // sends close_notify
                }
            } catch (SSLException e) {
                fail(new TlsError("unwrap with " + peer() + " failed: " + e.getMessage(), e));
                return;
            }
            process(); // the peer's close_notify may be here already
        }, done);
        return done;
    }

    @Override
    public void write(ByteBuffer data) {
        checkAppWritable();
        checkOwned(data);
        int n = data.remaining();
        if (n == 0) {
            return;
        }
        if (loop().inEventLoop()) {
            writeOnLoop(data, false);
            out.settle(false);
        } else {
            submitWrite(n, () -> writeOnLoop(data, true));
        }
    }

    @Override
    public void write(ByteBuffer... data) {
        checkAppWritable();
        long n = 0;
        for (ByteBuffer b : data) {
            checkOwned(b);
            n += b.remaining();
        }
        if (loop().inEventLoop()) {
            for (ByteBuffer b : data) {
                writeOnLoop(b, false);
            }
            out.settle(false);
        } else if (n > 0) {
            submitWrite(n, () -> {
                for (ByteBuffer b : data) {
                    writeOnLoop(b, true);
                }
            });
        }
    }

    /**
     * On the loop, with the session up (or in clear text), the bytes are encrypted (or handed
     * to the raw transport) before this returns, so nothing needs copying; otherwise a copy
     * waits for its turn.
     */
    @Override
    public void writeCopy(ByteBuffer data) {
        checkAppWritable();
        if (!data.hasRemaining()) {
            return;
        }
        if (loop().inEventLoop() && (tls == Tls.ENCRYPTED || tls == Tls.CLEAR) && !raw.isClosing()) {
            bytesSent += data.remaining();
            if (tls == Tls.CLEAR) {
                raw.writeCopy(data);
            } else {
                encrypt(data);
                data.position(data.limit()); // what the engine refused goes with the failed connection
            }
            out.settle(false);
            return;
        }
        write(ByteBuffer.allocate(data.remaining()).put(data).flip());
    }

    /**
     * Writes on the loop as the engine's state allows: to the raw transport in clear text,
     * encrypted at once, or held (counted) while a handshake or unwrap runs.
     *
     * @param counted whether the bytes were counted when submitted (from another thread)
     */
    private void writeOnLoop(ByteBuffer data, boolean counted) {
        int n = data.remaining();
        if (n == 0) {
            return;
        }
        if (isClosed() || raw.isClosing() || tls == Tls.CLOSED) {
            uncount(counted, n); // closed meanwhile: dropped, as abort promises
            return;
        }
        switch (tls) {
            case CLEAR -> {
                bytesSent += n;
                uncount(counted, n);
                raw.write(data);
            }
            case ENCRYPTED -> {
                bytesSent += n;
                encrypt(data);
                uncount(counted, n);
            }
            default -> {
                bytesSent += n;
                pending.add(data);
                if (!counted) {
                    out.count(n);
                }
            }
        }
    }

    private void uncount(boolean counted, long bytes) {
        if (counted) {
            out.count(-bytes);
        }
    }

    private void checkAppWritable() {
        checkWritable();
        if (raw.isClosing() || tls == Tls.CLOSED) {
            throw new TransportClosedError("write to a closed TLS transport (" + peer() + ")", failure);
        }
    }

    @Override
    public void writeEof() {
        throw new UnsupportedOperationException("TLS cannot half-close: use close(), which sends close_notify");
    }

    @Override
    public boolean canWriteEof() {
        return false;
    }

    @Override
    public <T> Optional<T> extraInfo(ExtraInfo<T> key) {
        SSLSession s = tls == Tls.ENCRYPTED ? session : null;
        Object value = null;
        if (key.equals(ExtraInfo.SSL_SESSION)) {
            value = s;
        } else if (key.equals(ExtraInfo.PEER_CERTIFICATES)) {
            List<Certificate> chain = peerCertificates();
            value = chain.isEmpty() ? null : chain;
        } else if (key.equals(ExtraInfo.TLS_PROTOCOL)) {
            value = s == null ? null : s.getProtocol();
        } else if (key.equals(ExtraInfo.CIPHER_SUITE)) {
            value = s == null ? null : s.getCipherSuite();
        } else if (key.equals(ExtraInfo.APPLICATION_PROTOCOL)) {
            value = applicationProtocol().orElse(null);
        } else if (key.equals(ExtraInfo.BYTES_RECEIVED)) {
            value = bytesReceived;
        } else if (key.equals(ExtraInfo.BYTES_SENT)) {
            value = bytesSent;
        } else if (key.equals(ExtraInfo.SNI_HOST_NAME)) {
            value = s instanceof ExtendedSSLSession e && !layer.client ? requestedName(e) : null;
        } else {
            return raw.extraInfo(key);
        }
        return key.type().isInstance(value) ? Optional.of(key.type().cast(value)) : Optional.empty();
    }

    private static String requestedName(ExtendedSSLSession s) {
        for (SNIServerName name : s.getRequestedServerNames()) {
            if (name instanceof SNIHostName host) {
                return host.getAsciiName();
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return "ssl " + raw;
    }

    // ---- helpers ----

    private void append(ByteBuffer data) {
        if (netIn.remaining() < data.remaining()) {
            ByteBuffer bigger = ByteBuffer.allocate(Math.max(netIn.capacity() * 2, netIn.position() + data.remaining()));
            netIn.flip();
            bigger.put(netIn);
            netIn = bigger;
        }
        netIn.put(data);
    }

    private ByteBuffer takeNetIn() {
        netIn.flip();
        ByteBuffer rest = ByteBuffer.allocate(netIn.remaining()).put(netIn).flip();
        netIn = ByteBuffer.allocate(0);
        return rest;
    }

    private void ensureAppIn() {
        int size = engine.getSession().getApplicationBufferSize();
        if (appIn.capacity() < size) {
            appIn = ByteBuffer.allocate(size);
        }
    }

    private void cancelHandshakeTimer() {
        if (handshakeTimer != null) {
            handshakeTimer.cancel();
            handshakeTimer = null;
        }
    }

    private String peer() {
        return raw.extraInfo(ExtraInfo.PEER_ADDRESS).map(Object::toString).orElse(String.valueOf(layer.peerHost));
    }

    private static boolean hasRemaining(ByteBuffer[] data) {
        for (ByteBuffer b : data) {
            if (b.hasRemaining()) {
                return true;
            }
        }
        return false;
    }

    private static boolean isIpLiteral(String host) {
        return host.indexOf(':') >= 0 || host.chars().allMatch(c -> c == '.' || Character.isDigit(c))
                || InetAddress.getLoopbackAddress().getHostAddress().equals(host);
    }
}
