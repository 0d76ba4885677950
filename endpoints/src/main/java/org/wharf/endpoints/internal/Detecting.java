package org.wharf.endpoints.internal;

import java.lang.System.Logger.Level;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.wharf.endpoints.ServerCounters;
import org.wharf.protocol.api.Drainable;
import org.wharf.protocol.api.FirstBytes;
import org.wharf.transport.api.ExtraInfo;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.SslTransport;
import org.wharf.transport.api.TimerHandle;
import org.wharf.transport.api.Transport;
import org.wharf.transport.core.LogLimiter;

/**
 * The first protocol of a connection on an endpoint that serves several protocols on one
 * port: it reads the first bytes (at most {@code maxBytes} are looked at, within
 * {@code timeout} of the connection), asks the candidates' detectors in their order, and hands
 * the connection, with every byte read so far, to the first that matches; every later callback
 * goes to it. A ClientHello (first byte 0x16) on a connection that can start TLS starts the
 * handshake, and detection runs again on the decrypted bytes. No match, no decision within the
 * bytes, or none within the time closes the connection with one rate-limited log line per kind
 * and a counted refusal. Runs on the connection's loop, as every protocol does.
 */
final class Detecting implements Protocol, Drainable {

    /** A protocol the connection may be handed to. */
    interface Candidate {
        /** The protocol's name, for the log. */
        String name();

        /** Its detector's answer; {@link FirstBytes.Match#NO} once its factory departed. */
        FirstBytes.Match match(ByteBuffer first);

        /** Its protocol for this connection, or null if its factory departed meanwhile. */
        Protocol open(Detecting connection);

        /** The connection it was handed to is gone. */
        void closed(Detecting connection);

        /** Whether its factory's unregistration began (it is being updated or removed). */
        boolean departed();
    }

    /**
     * Where a connection no listed protocol claims may wait for one that is being replaced (a
     * bundle update), as a one-protocol endpoint holds new connections for its replace window.
     */
    interface Replacements {
        /** None: an unclaimed connection is refused at once. */
        Replacements NONE = new Replacements() {
            @Override
            public long window(List<? extends Candidate> asked) {
                return 0;
            }

            @Override
            public void waiting(Detecting connection) {
            }

            @Override
            public void done(Detecting connection) {
            }
        };

        /**
         * How long, from now, an unclaimed connection may wait: 0 unless a listed protocol went
         * away within the replace window (or is among those asked and departed).
         */
        long window(List<? extends Candidate> asked);

        /** The connection waits; {@link Detecting#retry()} when a protocol comes. */
        void waiting(Detecting connection);

        /** It no longer waits. */
        void done(Detecting connection);
    }

    /** The bounds of detection on one endpoint. */
    record Bounds(int maxBytes, Duration timeout) {
    }

    /** The record type of a TLS handshake message: what a ClientHello begins with. */
    static final byte TLS_HANDSHAKE = 0x16;

    private static final System.Logger LOG = System.getLogger("org.wharf.endpoints");
    /** Anyone who can reach the port can cause these: one line per endpoint, kind and window. */
    static final LogLimiter REFUSALS = new LogLimiter(LOG, Duration.ofSeconds(10));

    private final String endpoint;
    private final Bounds bounds;
    private final java.util.function.Supplier<List<? extends Candidate>> current;
    private final Replacements replacements;
    /** The candidates asked: those registered when the bytes were last looked at. */
    private List<? extends Candidate> candidates;
    /** Waiting, reading paused, for a listed protocol that is being replaced. */
    private boolean waiting;
    private final boolean tls;
    private final Consumer<String> refusals;
    private Transport transport;
    private TimerHandle deadline;
    /** What was read while undecided (write mode); null when nothing is held. */
    private ByteBuffer pending;
    private boolean handshaking;
    private boolean decrypted;
    private Candidate chosen;
    private volatile Protocol next;
    /** Drainable's contract: its protocol is asked at most once. */
    private boolean drainAsked;
    /** Asked to drain before a protocol had the connection: asked of the protocol once one has it. */
    private boolean drainPending;

    /**
     * @param endpoint the endpoint's name, for the log
     * @param bounds how many bytes and how long
     * @param candidates in the order they are asked
     * @param tls whether a ClientHello starts TLS (the listener did not start it on connect)
     * @param refusals counts a refusal by its reason ({@code ServerCounters.REFUSED_*})
     */
    Detecting(String endpoint, Bounds bounds, List<? extends Candidate> candidates, boolean tls,
            Consumer<String> refusals) {
        this(endpoint, bounds, () -> candidates, tls, refusals, Replacements.NONE);
    }

    /**
     * @param current the candidates now, in the order they are asked
     * @param replacements where an unclaimed connection may wait for a protocol being replaced
     */
    Detecting(String endpoint, Bounds bounds, java.util.function.Supplier<List<? extends Candidate>> current,
            boolean tls, Consumer<String> refusals, Replacements replacements) {
        this.endpoint = endpoint;
        this.bounds = bounds;
        this.current = current;
        this.candidates = current.get();
        this.tls = tls;
        this.refusals = refusals;
        this.replacements = replacements;
    }

    /** The protocol the connection was handed to, or null while undecided. */
    Protocol next() {
        return next;
    }

    @Override
    public void connectionMade(Transport t) {
        transport = t;
        deadline = t.loop().schedule(this::timedOut, bounds.timeout().toNanos(), TimeUnit.NANOSECONDS);
    }

    @Override
    public void dataReceived(ByteBuffer data) {
        Protocol p = next;
        if (p != null) {
            p.dataReceived(data);
            return;
        }
        if (transport.isClosing() || !data.hasRemaining()) {
            return;
        }
        // Everything is kept, also past maxBytes in one read: the protocol that matches gets it all.
        pending = ensure(pending, data.remaining());
        pending.put(data);
        if (!handshaking && worthAsking()) {
            decide();
        }
    }

    /**
     * The detectors read the bytes from the first each time they are asked, so a client that
     * sends one byte per read would have them do work quadratic in its bytes. Within a budget
     * of {@value #ASK_BUDGET} times {@code detect.maxBytes} bytes examined they are asked at
     * every read; past it, only once the bytes have doubled since the last ask (or reach
     * {@code detect.maxBytes}), and once more at the timeout: linear work whatever the split.
     */
    private boolean worthAsking() {
        int have = pending.position();
        return examined <= (long) ASK_BUDGET * bounds.maxBytes() || have >= 2 * lastAsked
                || have >= bounds.maxBytes();
    }

    /** Bytes examined by all the asks so far, each ask counting what it showed. */
    private long examined;
    /** How many bytes the last ask showed. */
    private int lastAsked;
    /** Asks of {@code detect.maxBytes} bytes each that a connection gets before asking slows down. */
    static final int ASK_BUDGET = 8;

    private void decide() {
        candidates = current.get(); // those registered now: one that came since the connection was made too
        ByteBuffer all = pending.duplicate().flip();
        int seen = Math.min(all.remaining(), bounds.maxBytes());
        examined += seen;
        lastAsked = seen;
        ByteBuffer first = all.slice(0, seen).asReadOnlyBuffer();
        if (tls && !decrypted && first.get(0) == TLS_HANDSHAKE && transport instanceof SslTransport ssl) {
            startTls(ssl, all);
            return;
        }
        for (Candidate c : candidates) {
            FirstBytes.Match m;
            try {
                m = c.match(first.duplicate());
            } catch (RuntimeException | LinkageError e) {
                // A broken detector costs its own protocol the connection, not the others.
                LOG.log(Level.WARNING, "endpoint " + endpoint + ": the detector of " + c.name() + " failed", e);
                m = FirstBytes.Match.NO;
            }
            if (m == FirstBytes.Match.NEED_MORE) {
                if (waiting) { // the replacement needs more than the bytes held: read on, within detect.timeout
                    stopWaiting();
                    deadline.cancel();
                    deadline = transport.loop().schedule(this::timedOut, bounds.timeout().toNanos(), TimeUnit.NANOSECONDS);
                }
                if (all.remaining() >= bounds.maxBytes()) {
                    refuse(ServerCounters.REFUSED_DETECT_SIZE, () -> c.name() + " wanted more than the first "
                            + bounds.maxBytes() + " bytes (detect.maxBytes) to decide");
                }
                return; // the order decides: a later candidate waits for this one
            }
            if (m == FirstBytes.Match.MATCH) {
                Protocol p = c.open(this);
                if (p == null) {
                    continue; // its factory departed after it matched: as if it had said no
                }
                stopWaiting();
                deadline.cancel();
                pending = null;
                chosen = c;
                next = p;
                p.connectionMade(transport);
                if (!transport.isClosing()) {
                    p.dataReceived(all);
                }
                if (drainPending) {
                    drain(); // asked while undecided: the protocol it chose ends at its next boundary
                }
                return;
            }
        }
        long window = waiting ? 0 : replacements.window(candidates);
        if (window > 0) {
            // A listed protocol is being replaced: wait for it as a one-protocol endpoint holds.
            waiting = true;
            transport.pauseReading();
            deadline.cancel();
            deadline = transport.loop().schedule(() -> {
                if (next == null && !transport.isClosing()) {
                    stopWaiting();
                    refuse(ServerCounters.REFUSED_NO_MATCH, () -> "no protocol (" + names() + ") recognised the first "
                            + seen + " byte(s) " + preview(first) + ", and none came within the replace window");
                }
            }, window, TimeUnit.NANOSECONDS);
            replacements.waiting(this);
            retry(); // a protocol that came while this looked is not missed
            return;
        }
        if (waiting) {
            return; // a retry that found nothing new: the window's timer decides
        }
        refuse(ServerCounters.REFUSED_NO_MATCH, () -> "no protocol (" + names() + ") recognised the first "
                + seen + " byte(s) " + preview(first));
    }

    /** A protocol came: a waiting connection asks again, on its loop; from any thread. */
    void retry() {
        Transport t = transport;
        t.loop().execute(() -> {
            if (waiting && next == null && !t.isClosing()) {
                decide();
            }
        });
    }

    private void stopWaiting() {
        if (waiting) {
            waiting = false;
            replacements.done(this);
            transport.resumeReading();
        }
    }

    /** The ClientHello: TLS starts with it, and detection runs again on what it decrypts. */
    private void startTls(SslTransport ssl, ByteBuffer hello) {
        handshaking = true;
        pending = null;
        lastAsked = 0; // the decrypted bytes are asked about afresh
        // The handshake has its own deadline (tls.handshakeTimeout); the decrypted first bytes get a new detect.timeout.
        deadline.cancel();
        ssl.handshake(hello).whenComplete((session, error) -> {
            // On the loop; a failed handshake closes the connection itself (counted as refused: tls).
            handshaking = false;
            if (error == null && !transport.isClosing()) {
                decrypted = true;
                deadline = transport.loop().schedule(this::timedOut, bounds.timeout().toNanos(), TimeUnit.NANOSECONDS);
                if (pending != null && pending.position() > 0) {
                    decide();
                }
            }
        });
    }

    private String names() {
        return String.join(", ", candidates.stream().map(Candidate::name).toList());
    }

    /** Up to 16 of the bytes, as text where printable, for the log line. */
    private static String preview(ByteBuffer first) {
        StringBuilder s = new StringBuilder("(");
        for (int i = 0; i < Math.min(16, first.remaining()); i++) {
            int b = first.get(first.position() + i) & 0xff;
            s.append(b >= 0x20 && b < 0x7f && b != '\\' ? String.valueOf((char) b) : String.format("\\x%02x", b));
        }
        return s.append(first.remaining() > 16 ? "...)" : ")").toString();
    }

    private void timedOut() {
        if (next == null && !transport.isClosing() && !handshaking && !waiting && pending != null
                && pending.position() > lastAsked) {
            decide(); // bytes that came since the last ask, when asking had slowed down
            if (waiting) {
                return; // a listed protocol is being replaced: its window's timer decides now
            }
        }
        if (next == null && !transport.isClosing()) {
            int read = pending == null ? 0 : pending.position();
            refuse(ServerCounters.REFUSED_DETECT_TIMEOUT, () -> (read == 0 ? "nothing was sent"
                    : "no protocol (" + names() + ") recognised the " + read + " byte(s) sent") + " within "
                    + bounds.timeout().toMillis() + " ms (detect.timeout)");
        }
    }

    private void refuse(String reason, java.util.function.Supplier<String> why) {
        deadline.cancel();
        pending = null;
        refusals.accept(reason);
        SocketAddress peer = transport.extraInfo(ExtraInfo.PEER_ADDRESS).orElse(null);
        REFUSALS.log(Level.WARNING, endpoint + "/" + reason, () -> "endpoint " + endpoint + ": closing the connection from "
                + (peer instanceof java.net.InetSocketAddress a ? org.wharf.transport.api.Addresses.text(a) : String.valueOf(peer))
                + ": " + why.get(), null);
        transport.close();
    }

    /** A buffer in write mode with room for {@code more} bytes: this one, or a bigger copy. */
    private ByteBuffer ensure(ByteBuffer buffer, int more) {
        if (buffer == null) {
            return ByteBuffer.allocate(Math.max(more, Math.min(256, bounds.maxBytes())));
        }
        if (buffer.remaining() >= more) {
            return buffer;
        }
        ByteBuffer bigger = ByteBuffer.allocate(Math.max(buffer.capacity() * 2, buffer.position() + more));
        return bigger.put(buffer.flip());
    }

    @Override
    public boolean eofReceived() {
        Protocol p = next;
        return p != null && p.eofReceived(); // undecided: the client is gone before it said anything usable
    }

    @Override
    public void pauseWriting() {
        Protocol p = next;
        if (p != null) {
            p.pauseWriting();
        }
    }

    @Override
    public void resumeWriting() {
        Protocol p = next;
        if (p != null) {
            p.resumeWriting();
        }
    }

    /** @return whether no protocol has the connection yet (its first bytes are still being read) */
    boolean undecided() {
        return next == null;
    }

    /**
     * Drains the protocol it was handed to, if that can. An undecided connection that has sent
     * nothing is closed. One that has sent some bytes is not (closing it lost a request sent a
     * moment before a protocol bundle's update): it goes on to the protocol its first bytes
     * choose among those registered by then, which is asked to drain in turn once it has the
     * connection; {@code detect.timeout} bounds the wait.
     */
    @Override
    public void drain() {
        Protocol p = next;
        if (p == null) {
            if (!handshaking && (pending == null || pending.position() == 0)) {
                transport.close(); // nothing sent yet: a clean boundary (a preconnect, a health check)
            } else {
                drainPending = true;
            }
        } else if (p instanceof Drainable d && !drainAsked && !transport.isClosing()) {
            drainAsked = true;
            d.drain();
        }
    }

    @Override
    public void connectionLost(Throwable cause) {
        if (deadline != null) {
            deadline.cancel();
        }
        if (waiting) {
            waiting = false;
            replacements.done(this);
        }
        pending = null;
        Protocol p = next;
        if (p != null) {
            try {
                p.connectionLost(cause);
            } finally {
                chosen.closed(this);
            }
        }
    }

    /** Closes the connection; from any thread (its protocol departed and the drain time is over). */
    void close() {
        transport.close();
    }

    /** Asks the protocol it was handed to, on its loop, to end at a clean boundary; from any thread. */
    void askToDrain() {
        Transport t = transport;
        t.loop().execute(this::drain);
    }

    @Override
    public String toString() {
        Protocol p = next;
        return p == null ? "(detecting: " + names() + ")" : p.toString();
    }
}
