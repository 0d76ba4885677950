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
import java.util.concurrent.TimeUnit;

import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

import org.wharf.transport.api.EventLoop;
import org.wharf.transport.api.ExtraInfo;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.SslTransport;
import org.wharf.transport.api.TimerHandle;
import org.wharf.transport.api.TlsError;
import org.wharf.transport.api.TlsOptions;
import org.wharf.transport.api.Transport;
import org.wharf.transport.api.TransportClosedError;
import org.wharf.transport.api.TransportTimeoutError;
import org.wharf.transport.api.WriteBufferLimits;

/**
 * TLS over a stream transport: to the underlying ("raw") transport this is its protocol; to
 * the application protocol it is an {@link SslTransport}. An {@link SSLEngine} with memory
 * buffers does the work; everything runs on the raw transport's loop.
 *
 * <p>The connection is either clear (before an on-demand handshake, or after
 * {@link #unwrap()}), handshaking, or encrypted. The application's {@code connectionMade}
 * comes once the first handshake completes (at once for a connection that starts clear).
 * A new engine is made for every handshake, so clear, TLS, clear, TLS on one connection
 * works.
 */
final class SslConnection implements Protocol, SslTransport {

    private enum Mode { CLEAR, HANDSHAKING, ENCRYPTED, UNWRAPPING, CLOSED }

    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
    /**
     * Where records are made, one per thread (each loop's): a small record is copied out at
     * its size instead of leaving a whole packet-sized buffer per write (16.7 KiB for a
     * 64-byte message, 99% of the allocation of a TLS echo before).
     */
    private static final ThreadLocal<ByteBuffer> SCRATCH = new ThreadLocal<>();

    private final boolean client;
    private final TlsOptions options;
    private final String peerHost;
    private final int peerPort;
    private final TlsLog log;
    private volatile Protocol app;
    private Transport raw;
    private SSLEngine engine;
    private volatile Mode mode = Mode.CLEAR;
    private ByteBuffer netIn = ByteBuffer.allocate(0);
    private ByteBuffer appIn = ByteBuffer.allocate(0);
    private final ArrayDeque<ByteBuffer> pendingWrites = new ArrayDeque<>();
    private final ArrayDeque<ByteBuffer> heldForApp = new ArrayDeque<>();
    private volatile long pendingBytes;
    /** Application bytes delivered and written (not the encrypted ones); changed on the loop. */
    private volatile long bytesReceived;
    private volatile long bytesSent;
    private CompletableFuture<SSLSession> handshake = new CompletableFuture<>();
    private CompletableFuture<Void> unwrapped;
    private TimerHandle handshakeTimer;
    private volatile SSLSession session;
    private boolean appConnected;
    private volatile boolean appPaused;
    private boolean rawPausedForApp;
    private volatile boolean closing;
    private boolean processing;
    private Throwable failure;
    /** The peer ended TLS with close_notify: what goes wrong afterwards (our reply) is no error. */
    private boolean peerClosedCleanly;

    SslConnection(boolean client, TlsOptions options, String peerHost, int peerPort, Protocol app, TlsLog log) {
        this.client = client;
        this.options = options;
        this.peerHost = peerHost;
        this.peerPort = peerPort;
        this.app = Objects.requireNonNull(app, "protocol");
        this.log = log;
    }

    /** Completes when the first handshake does (at once for a connection that starts clear). */
    CompletionStage<SSLSession> firstHandshake() {
        return handshake;
    }

    // ---- the raw transport's protocol ----

    @Override
    public void connectionMade(Transport transport) {
        raw = transport;
        if (options.handshakeOnConnect()) {
            startHandshake();
        } else {
            connectApp();
        }
    }

    @Override
    public void dataReceived(ByteBuffer data) {
        if (mode == Mode.CLEAR) {
            deliver(data);
            return;
        }
        if (mode == Mode.CLOSED) {
            return;
        }
        append(data);
        process();
    }

    @Override
    public boolean eofReceived() {
        switch (mode) {
            case CLEAR:
                return appConnected && app.eofReceived();
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

    @Override
    public void pauseWriting() {
        if (appConnected) {
            app.pauseWriting();
        }
    }

    @Override
    public void resumeWriting() {
        if (appConnected) {
            app.resumeWriting();
        }
    }

    @Override
    public void connectionLost(Throwable cause) {
        Mode was = mode;
        mode = Mode.CLOSED;
        cancelHandshakeTimer();
        // After the peer's close_notify, an I/O error (our answer hitting a closed socket) is
        // no error; an exception of the application still is.
        Throwable reason = failure != null ? failure
                : peerClosedCleanly && cause instanceof org.wharf.transport.api.TransportError ? null : cause;
        if (!handshake.isDone()) {
            handshake.completeExceptionally(reason instanceof TlsError || reason instanceof TransportTimeoutError
                    ? reason : new TlsError("TLS handshake with " + peer() + " failed: connection lost", reason));
        }
        if (unwrapped != null && !unwrapped.isDone()) {
            unwrapped.completeExceptionally(new TlsError("connection to " + peer() + " lost during unwrap", reason));
        }
        if (appConnected) {
            app.connectionLost(reason);
        } else if (!client && reason != null && was != Mode.CLEAR) {
            log.warn("TLS handshake with " + peer() + " failed: " + reason.getMessage(), null);
        }
        if (engine != null) {
            engine.closeOutbound();
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
        mode = Mode.HANDSHAKING;
        if (handshake.isDone()) {
            handshake = new CompletableFuture<>();
        }
        long millis = options.handshakeTimeout().toMillis();
        handshakeTimer = raw.loop().schedule(() -> {
            if (mode == Mode.HANDSHAKING) {
                fail(new TransportTimeoutError("TLS handshake with " + peer() + " did not complete within " + millis
                        + " ms"));
            }
        }, millis, TimeUnit.MILLISECONDS);
        process();
    }

    private SSLEngine newEngine() {
        SSLEngine e = client && peerHost != null
                ? options.context().get().createSSLEngine(serverName(), peerPort)
                : options.context().get().createSSLEngine();
        e.setUseClientMode(client);
        SSLParameters p = e.getSSLParameters();
        p.setProtocols(options.protocols().toArray(String[]::new));
        if (!options.cipherSuites().isEmpty()) {
            p.setCipherSuites(options.cipherSuites().toArray(String[]::new));
        }
        if (!options.applicationProtocols().isEmpty()) {
            p.setApplicationProtocols(options.applicationProtocols().toArray(String[]::new));
        }
        if (client) {
            if (options.verifyHostName()) {
                p.setEndpointIdentificationAlgorithm("HTTPS");
            }
            String name = serverName();
            if (name != null && !isIpLiteral(name)) {
                p.setServerNames(List.of(new SNIHostName(name)));
            }
        } else {
            switch (options.clientAuth()) {
                case REQUIRED -> p.setNeedClientAuth(true);
                case OPTIONAL -> p.setWantClientAuth(true);
                default -> { }
            }
        }
        e.setSSLParameters(p);
        return e;
    }

    private String serverName() {
        return options.serverName() != null ? options.serverName() : peerHost;
    }

    /** Runs the engine until it can make no progress without more input. */
    private void process() {
        if (processing) {
            return; // re-entered from a callback: the outer loop carries on
        }
        processing = true;
        try {
            boolean progress = true;
            while (progress && engine != null && mode != Mode.CLOSED && mode != Mode.CLEAR) {
                HandshakeStatus status = engine.getHandshakeStatus();
                switch (status) {
                    case NEED_TASK -> {
                        for (Runnable task; (task = engine.getDelegatedTask()) != null;) {
                            task.run();
                        }
                        progress = true;
                    }
                    case NEED_WRAP -> progress = wrap(EMPTY);
                    default -> progress = unwrapRecord();
                }
            }
        } catch (SSLException e) {
            fail(new TlsError("TLS with " + peer() + " failed: " + e.getMessage(), e));
        } finally {
            processing = false;
        }
    }

    /** One unwrap of buffered input; false when more input is needed. */
    private boolean unwrapRecord() throws SSLException {
        if (netIn.position() == 0 && engine.getHandshakeStatus() != HandshakeStatus.NEED_UNWRAP_AGAIN) {
            return false;
        }
        ensureAppIn();
        netIn.flip();
        SSLEngineResult result;
        try {
            result = engine.unwrap(netIn, appIn);
        } finally {
            netIn.compact();
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

    /** One wrap of application data (or of handshake data when {@code src} is empty); false if nothing came out. */
    private boolean wrap(ByteBuffer... src) throws SSLException {
        int size = engine.getSession().getPacketBufferSize();
        ByteBuffer scratch = SCRATCH.get();
        if (scratch == null || scratch.capacity() < size) {
            scratch = ByteBuffer.allocate(size);
            SCRATCH.set(scratch);
        }
        scratch.clear();
        SSLEngineResult result = engine.wrap(src, scratch);
        scratch.flip();
        int produced = scratch.remaining();
        if (produced > 0) {
            raw.writeCopy(scratch); // sent at once or copied by the raw transport: the scratch stays ours
        }
        if (result.getHandshakeStatus() == HandshakeStatus.FINISHED) {
            handshakeFinished();
        }
        return result.bytesProduced() > 0 || result.getHandshakeStatus() == HandshakeStatus.FINISHED;
    }

    private void handshakeFinished() {
        if (mode != Mode.HANDSHAKING) {
            return; // a renegotiation or key update: nothing changes for the application
        }
        cancelHandshakeTimer();
        session = engine.getSession();
        mode = Mode.ENCRYPTED;
        if (!appConnected) {
            connectApp();
        }
        handshake.complete(session);
        if (appPaused && !rawPausedForApp) {
            // Pausing was deferred while the engine needed to read.
            rawPausedForApp = true;
            raw.pauseReading();
        }
        flushPendingWrites();
    }

    private void closeNotifyReceived() {
        if (mode == Mode.UNWRAPPING) {
            // Our own unwrap(): the peer answered; what follows is clear text.
            engine = null;
            session = null;
            mode = Mode.CLEAR;
            ByteBuffer rest = takeNetIn();
            unwrapped.complete(null);
            if (rest.hasRemaining()) {
                deliver(rest);
            }
            return;
        }
        // The peer closes: answer close_notify and close. TLS has no half-close, so the
        // protocol's wish to keep writing cannot be granted.
        closing = true;
        peerClosedCleanly = true;
        // The application hears of it first: if it throws, that is why the connection ends
        // (our answer below may meet a closed socket and end it with an I/O error instead).
        if (appConnected) {
            app.eofReceived();
        }
        try {
            engine.closeOutbound();
            while (!engine.isOutboundDone() && wrap(EMPTY)) {
                // sends close_notify
            }
        } catch (SSLException e) {
            // the peer is gone anyway
        }
        raw.close();
    }

    private void flushPendingWrites() {
        while (!pendingWrites.isEmpty() && mode == Mode.ENCRYPTED) {
            ByteBuffer data = pendingWrites.poll();
            pendingBytes -= data.remaining();
            encrypt(data);
        }
        if (closing && mode == Mode.ENCRYPTED) {
            closeOnLoop();
        }
    }

    private void encrypt(ByteBuffer... data) {
        try {
            while (hasRemaining(data)) {
                if (!wrap(data)) {
                    break;
                }
            }
        } catch (SSLException e) {
            fail(new TlsError("TLS with " + peer() + " failed: " + e.getMessage(), e));
        }
    }

    /** Ends the connection for a TLS reason: the engine's alert goes out, then the transport closes. */
    private void fail(Throwable error) {
        if (failure == null) {
            failure = error;
        }
        cancelHandshakeTimer();
        if (engine != null && mode != Mode.CLOSED) {
            try {
                engine.closeOutbound();
                while (engine.getHandshakeStatus() == HandshakeStatus.NEED_WRAP && wrap(EMPTY)) {
                    // flushes the alert that tells the peer why
                }
            } catch (SSLException | RuntimeException ignored) {
                // the alert is a courtesy
            }
        }
        raw.close();
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
        if (!appConnected || !data.hasRemaining() || closing || raw.isClosing()) {
            return;
        }
        if (appPaused || !heldForApp.isEmpty()) {
            heldForApp.add(ByteBuffer.allocate(data.remaining()).put(data).flip());
            return;
        }
        bytesReceived += data.remaining();
        app.dataReceived(data);
    }

    private void connectApp() {
        appConnected = true;
        if (mode == Mode.CLEAR && !handshake.isDone()) {
            handshake.complete(null);
        }
        app.connectionMade(this);
    }

    // ---- SslTransport, for the application ----

    @Override
    public CompletionStage<SSLSession> handshake() {
        onLoop(() -> {
            if (mode == Mode.CLEAR && !closing) {
                if (handshake.isDone()) {
                    handshake = new CompletableFuture<>();
                }
                startHandshake();
            }
        });
        return handshake;
    }

    @Override
    public boolean isEncrypted() {
        return mode == Mode.ENCRYPTED;
    }

    @Override
    public Optional<SSLSession> session() {
        return Optional.ofNullable(mode == Mode.ENCRYPTED ? session : null);
    }

    @Override
    public List<Certificate> peerCertificates() {
        SSLSession s = session;
        if (s == null || mode != Mode.ENCRYPTED) {
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
        String p = e == null || mode != Mode.ENCRYPTED ? null : e.getApplicationProtocol();
        return p == null || p.isEmpty() ? Optional.empty() : Optional.of(p);
    }

    @Override
    public CompletionStage<Void> unwrap() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        onLoop(() -> {
            if (mode != Mode.ENCRYPTED) {
                done.completeExceptionally(new IllegalStateException("unwrap needs an encrypted connection, this one is "
                        + mode.name().toLowerCase()));
                return;
            }
            unwrapped = done;
            mode = Mode.UNWRAPPING;
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
        });
        return done;
    }

    @Override
    public void write(ByteBuffer data) {
        checkWritable();
        if (!data.hasRemaining()) {
            return;
        }
        onLoop(() -> writeOnLoop(data));
    }

    @Override
    public void write(ByteBuffer... data) {
        checkWritable();
        onLoop(() -> {
            for (ByteBuffer b : data) {
                writeOnLoop(b);
            }
        });
    }

    /**
     * On the loop, with the session up (or in clear text), the bytes are encrypted (or handed
     * to the raw transport) before this returns, so nothing needs copying; otherwise a copy
     * waits for its turn.
     */
    @Override
    public void writeCopy(ByteBuffer data) {
        checkWritable();
        if (!data.hasRemaining()) {
            return;
        }
        if (raw.loop().inEventLoop() && (mode == Mode.ENCRYPTED || mode == Mode.CLEAR)) {
            bytesSent += data.remaining();
            if (mode == Mode.CLEAR) {
                raw.writeCopy(data);
            } else {
                encrypt(data);
                data.position(data.limit()); // what the engine refused goes with the failed connection
            }
            return;
        }
        SslTransport.super.writeCopy(data); // a copy, written in its turn
    }

    private void writeOnLoop(ByteBuffer data) {
        if (mode != Mode.CLOSED) {
            bytesSent += data.remaining();
        }
        switch (mode) {
            case CLEAR -> raw.write(data);
            case ENCRYPTED -> encrypt(data);
            case HANDSHAKING, UNWRAPPING -> {
                pendingWrites.add(data);
                pendingBytes += data.remaining();
            }
            default -> { }
        }
    }

    private void checkWritable() {
        if (mode == Mode.CLOSED || raw.isClosing() && !closing) {
            throw new TransportClosedError("write to a closed TLS transport (" + peer() + ")", failure);
        }
        if (closing) {
            throw new TransportClosedError("write to a closing TLS transport (" + peer() + ")", null);
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
    public void close() {
        if (closing || mode == Mode.CLOSED) {
            return;
        }
        closing = true;
        onLoop(this::closeOnLoop);
    }

    private void closeOnLoop() {
        switch (mode) {
            case ENCRYPTED -> {
                if (!pendingWrites.isEmpty()) {
                    return; // flushPendingWrites closes once they are out
                }
                engine.closeOutbound();
                try {
                    while (!engine.isOutboundDone() && wrap(EMPTY)) {
                        // sends close_notify
                    }
                } catch (SSLException e) {
                    // closing anyway
                }
                raw.close();
            }
            case HANDSHAKING -> {
                // closes once the handshake is done and what was written went out
            }
            default -> raw.close();
        }
    }

    @Override
    public void abort() {
        abort(null);
    }

    @Override
    public void abort(Throwable cause) {
        closing = true;
        raw.abort(cause);
    }

    @Override
    public boolean isClosing() {
        return closing || mode == Mode.CLOSED || raw.isClosing();
    }

    @Override
    public void pauseReading() {
        appPaused = true;
        onLoop(() -> {
            // While the engine needs to read (handshake, key update) the raw transport reads on.
            if (mode != Mode.HANDSHAKING && !rawPausedForApp) {
                rawPausedForApp = true;
                raw.pauseReading();
            }
        });
    }

    @Override
    public void resumeReading() {
        if (!appPaused) {
            return;
        }
        appPaused = false;
        onLoop(() -> {
            while (!appPaused && !heldForApp.isEmpty() && appConnected && mode != Mode.CLOSED) {
                ByteBuffer held = heldForApp.poll();
                bytesReceived += held.remaining();
                app.dataReceived(held);
            }
            if (rawPausedForApp && !appPaused) {
                rawPausedForApp = false;
                raw.resumeReading();
            }
        });
    }

    @Override
    public boolean isReading() {
        return !appPaused && !isClosing();
    }

    @Override
    public long writeBufferSize() {
        return raw.writeBufferSize() + pendingBytes;
    }

    @Override
    public WriteBufferLimits writeBufferLimits() {
        return raw.writeBufferLimits();
    }

    @Override
    public void setWriteBufferLimits(WriteBufferLimits limits) {
        raw.setWriteBufferLimits(limits);
    }

    @Override
    public EventLoop loop() {
        return raw.loop();
    }

    @Override
    public Protocol protocol() {
        return app;
    }

    @Override
    public void setProtocol(Protocol protocol) {
        app = Objects.requireNonNull(protocol, "protocol");
    }

    @Override
    public <T> Optional<T> extraInfo(ExtraInfo<T> key) {
        SSLSession s = mode == Mode.ENCRYPTED ? session : null;
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
            value = s instanceof ExtendedSSLSession e && !client ? requestedName(e) : null;
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
        return "ssl " + (raw == null ? "(not connected)" : raw.toString());
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

    private void onLoop(Runnable action) {
        if (raw.loop().inEventLoop()) {
            action.run();
        } else {
            raw.loop().execute(action);
        }
    }

    private String peer() {
        return raw == null ? String.valueOf(peerHost) : raw.extraInfo(ExtraInfo.PEER_ADDRESS).map(Object::toString)
                .orElse(String.valueOf(peerHost));
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
