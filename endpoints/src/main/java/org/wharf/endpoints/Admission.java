package org.wharf.endpoints;

import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.wharf.transport.api.ExtraInfo;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.SslTransport;
import org.wharf.transport.api.TimerHandle;
import org.wharf.transport.api.Transport;
import org.wharf.transport.core.LogLimiter;

/**
 * The first protocol of a server's connection when the server decides who it admits before
 * the real protocol is made: it reads a PROXY protocol header when the server accepts one
 * (from trusted sources only, within the header deadline), learns the client's address, asks
 * the server's {@link Gate} (per-client limits), and only then has the protocol made, hands
 * it the bytes that followed the header, and forwards every later callback to it.
 *
 * <p>Like TLS, a layer over the raw connection: a protocol sees the header's client as its
 * peer through {@link ProxiedTransport}. Refusals close the connection with one rate-limited
 * log line per kind.
 */
final class Admission implements Protocol {

    /** What the server decides once the client is known. */
    interface Gate {
        /**
         * A connection waits for its header: the server closes it if it closes meanwhile.
         *
         * @param layer the connection's layer
         */
        void waiting(Admission layer);

        /**
         * Admits a connection.
         *
         * @param layer the connection's layer
         * @param client the client's address (the header's, when there was one)
         * @return the connection's protocol, or null if it is refused (the layer closes it)
         */
        Protocol admit(Admission layer, InetSocketAddress client);

        /**
         * A connection's PROXY protocol header was refused (untrusted source, malformed,
         * late, or TLS expected and missing): counted before it closes.
         *
         * @param layer the connection's layer
         */
        void refused(Admission layer);

        /**
         * A connection that was never admitted is gone: its slot is free.
         *
         * @param layer the connection's layer
         */
        void abandoned(Admission layer);
    }

    private static final System.Logger LOG = System.getLogger("org.wharf.endpoints");
    /** Anyone who can reach the port can cause these: one line per kind and window, and a count. */
    static final LogLimiter REFUSALS = new LogLimiter(LOG, Duration.ofSeconds(10));
    /** The most a version 2 header can be (16 bytes and a 16-bit length). */
    private static final int MAX_HEADER = 16 + 65535;

    private final String server;
    private final ProxyProtocolAcceptance accept;
    private final Gate gate;
    private volatile Transport raw;
    private Protocol next;
    private ByteBuffer pending;
    /** Some bytes of a header came; on its loop. */
    private boolean sentAny;
    private TimerHandle deadline;
    /** The header, once read, while TLS starts after it; null otherwise. */
    private ProxyHeader header;

    /** TLS is started once the header is read; the protocol is made once its handshake completed. */
    private final boolean tlsAfterHeader;
    /** Settled once, by whichever comes first: admitted, refused, or closed as its server closes. */
    private final java.util.concurrent.atomic.AtomicBoolean settled = new java.util.concurrent.atomic.AtomicBoolean();
    /** Its header read, its TLS handshake under way: a failed one is counted by the server's TLS observer. */
    private volatile boolean handshaking;
    /** Decrypted bytes that came before the protocol was made (the handshake's completion runs first, normally). */
    private ByteBuffer early;

    Admission(String server, ProxyProtocolAcceptance accept, Gate gate, boolean tlsAfterHeader) {
        this.server = server;
        this.accept = accept;
        this.gate = gate;
        this.tlsAfterHeader = tlsAfterHeader;
    }

    Protocol next() {
        return next;
    }

    void setNext(Protocol protocol) {
        next = java.util.Objects.requireNonNull(protocol, "protocol");
    }

    @Override
    public void connectionMade(Transport transport) {
        raw = transport;
        SocketAddress peer = transport.extraInfo(ExtraInfo.PEER_ADDRESS).orElse(null);
        if (accept == null) {
            admit(peer instanceof InetSocketAddress a ? a : null, transport);
            return;
        }
        if (!(peer instanceof InetSocketAddress a) || !accept.isTrusted(a.getAddress())) {
            refuse("untrusted", "not a trusted source of PROXY protocol headers (" + accept.trustedSources() + ")");
            return;
        }
        deadline = transport.loop().schedule(this::timedOut, accept.headerTimeout().toNanos(), TimeUnit.NANOSECONDS);
        gate.waiting(this);
    }

    /** @return true for the one caller that settles this connection's fate; any thread */
    boolean settle() {
        return settled.compareAndSet(false, true);
    }

    /** @return whether its TLS handshake (after the header) has begun; any thread */
    boolean handshaking() {
        return handshaking;
    }

    /** Closes a connection still waiting for its header (its server is closing). Any thread. */
    void close() {
        Transport t = raw;
        if (t != null) {
            t.close();
        }
    }

    @Override
    public void dataReceived(ByteBuffer data) {
        if (next != null) {
            next.dataReceived(data);
            return;
        }
        if (raw.isClosing() || accept == null) {
            return; // refused (closing), or no header to read: nothing here is for anyone
        }
        sentAny = true;
        if (header != null) { // the TLS handshake after the header runs: hold what it decrypted
            early = ensure(early == null ? ByteBuffer.allocate(Math.max(256, data.remaining())) : early, data.remaining());
            early.put(data);
            return;
        }
        ByteBuffer in = data;
        if (pending != null) {
            pending = ensure(pending, data.remaining());
            pending.put(data).flip();
            in = pending;
        }
        ProxyHeader read;
        try {
            read = ProxyHeader.read(in, accept.versions());
        } catch (ProxyHeader.Malformed e) {
            refuse("malformed", "PROXY protocol header malformed: " + e.getMessage());
            return;
        }
        if (read == null) {
            if (in.remaining() >= MAX_HEADER) { // cannot happen with a complete v1/v2 check; kept as a bound
                refuse("malformed", "PROXY protocol header longer than " + MAX_HEADER + " bytes");
                return;
            }
            if (pending == null) {
                pending = ByteBuffer.allocate(Math.max(256, data.remaining() * 2)).put(data);
            } else {
                pending.compact();
            }
            return;
        }
        deadline.cancel();
        InetSocketAddress source = read.source;
        if (source == null && raw.extraInfo(ExtraInfo.PEER_ADDRESS).orElse(null) instanceof InetSocketAddress own) {
            source = own; // LOCAL or UNKNOWN: the balancer speaks for itself
        }
        InetSocketAddress client = source;
        ByteBuffer rest = in;
        if (pending != null) {
            // The protocol may keep what it is given only during the call, as with any read.
            rest = pending;
            pending = null;
        }
        if (tlsAfterHeader) {
            if (!(raw instanceof SslTransport ssl)) {
                refuse("no-tls", "TLS was to start after the PROXY protocol header, but the connection is not a TLS one");
                return;
            }
            header = read;
            read.length += rest.remaining(); // the start of the ClientHello: not the client's data either
            handshaking = true;
            ssl.handshake(rest).whenComplete((session, error) -> {
                // On the loop (a handshake completes there); a failed one closes the connection itself.
                if (error == null && !raw.isClosing()) {
                    try {
                        admit(client, new ProxiedTransport(raw, this, read));
                    } catch (RuntimeException e) {
                        // Not inside a transport callback here: a factory that throws must still end its connection.
                        LOG.log(Level.WARNING, "server " + server + ": the protocol for " + client + " failed to start",
                                e);
                        raw.abort(e);
                        return;
                    }
                    ByteBuffer held = early;
                    early = null;
                    if (next != null && held != null && held.flip().hasRemaining() && !raw.isClosing()) {
                        next.dataReceived(held);
                    }
                }
            });
            return;
        }
        Transport view = new ProxiedTransport(raw, this, read);
        admit(client, view);
        if (next != null && rest.hasRemaining() && !raw.isClosing()) {
            next.dataReceived(rest);
        }
    }

    /** A buffer in write mode with room for {@code more} bytes: this one, or a bigger copy. */
    private static ByteBuffer ensure(ByteBuffer buffer, int more) {
        if (buffer.remaining() >= more) {
            return buffer;
        }
        int size = buffer.capacity();
        while (size - buffer.position() < more) {
            size *= 2;
        }
        ByteBuffer bigger = ByteBuffer.allocate(size);
        return bigger.put(buffer.flip());
    }

    private void admit(InetSocketAddress client, Transport view) {
        Protocol p = gate.admit(this, client);
        if (p == null) {
            raw.close();
            return;
        }
        next = p;
        p.connectionMade(view);
    }

    private void timedOut() {
        if (next == null && !raw.isClosing()) {
            refuse("timeout", "no complete PROXY protocol header within " + accept.headerTimeout().toMillis() + " ms");
        }
    }

    private void refuse(String kind, String why) {
        tell(kind, "closing the connection from", why);
        raw.close();
    }

    /** Logs (rate-limited) and counts a refusal: the connection is closing or gone. */
    private void tell(String kind, String what, String why) {
        if (deadline != null) {
            deadline.cancel();
        }
        pending = null;
        SocketAddress peer = raw.extraInfo(ExtraInfo.PEER_ADDRESS).orElse(null);
        String from = peer instanceof InetSocketAddress a ? org.wharf.transport.api.Addresses.text(a) : String.valueOf(peer);
        REFUSALS.log(Level.WARNING, server + "/" + kind, () -> "server " + server + ": " + what + " " + from + ": " + why,
                null);
        gate.refused(this);
    }

    /** Still waiting for its PROXY header: neither admitted, refused nor closed with its server ({@link #settle()}). */
    private boolean awaitingHeader() {
        return accept != null && next == null && header == null && raw != null && !settled.get();
    }

    @Override
    public boolean eofReceived() {
        if (awaitingHeader() && !raw.isClosing() && sentAny) {
            // (A connection that sent nothing is a balancer's TCP check: not logged, as HAProxy's dontlognull.)
            int got = pending == null ? 0 : pending.position();
            refuse("truncated", "it ended its input before its PROXY protocol header was complete (" + got
                    + " byte(s) of it)");
            return false;
        }
        return next != null && next.eofReceived();
    }

    @Override
    public void pauseWriting() {
        if (next != null) {
            next.pauseWriting();
        }
    }

    @Override
    public void resumeWriting() {
        if (next != null) {
            next.resumeWriting();
        }
    }

    @Override
    public void connectionLost(Throwable cause) {
        if (deadline != null) {
            deadline.cancel();
        }
        if (awaitingHeader() && cause != null && sentAny) {
            // Reset (or failed) before its header was complete: refused as a header that never completes.
            tell("truncated", "lost the connection from", "before its PROXY protocol header was complete: " + cause);
        }
        pending = null;
        if (next != null) {
            next.connectionLost(cause);
        } else {
            gate.abandoned(this);
        }
    }
}
