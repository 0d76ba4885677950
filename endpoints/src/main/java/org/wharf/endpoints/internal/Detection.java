package org.wharf.endpoints.internal;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Predicate;

import org.wharf.endpoints.Server;
import org.wharf.protocol.api.FirstBytes;
import org.wharf.protocol.api.ProtocolContext;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.Settings;

/**
 * The protocols of an endpoint that serves several on one port ({@code protocol = status,
 * proxy}): which registered factories they are now, in the order listed, and the
 * {@link Detecting} layer each new connection gets. Kept up to date on the whiteboard's
 * thread; read by connections on their loops.
 *
 * <p>Hot install and removal as for one protocol: a factory that departs stops matching at
 * once (its entry's gate), the connections it was handed keep it until they end or
 * {@code drainTimeout} has passed (a {@link org.wharf.protocol.api.Drainable} one is asked to
 * end at a clean boundary first), and a factory that comes is asked from the next connection
 * on.
 */
final class Detection {

    /** How many first bytes the detectors may look at unless {@code detect.maxBytes} says otherwise. */
    static final int DEFAULT_MAX_BYTES = 512;
    /** How long a connection has to send what decides unless {@code detect.timeout} says otherwise. */
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

    private final String endpoint;
    private final List<ProtocolSelector> selectors;
    private final Detecting.Bounds bounds;
    /** The candidates asked now, in order; replaced as a whole. */
    private volatile List<Candidate> candidates = List.of();
    /** The server whose refusals are counted; set once it started. */
    private volatile Server server;
    /** Connections no listed protocol claimed, waiting for one being replaced. */
    private final Set<Detecting> waiting = ConcurrentHashMap.newKeySet();
    /** Until when (nanoTime) unclaimed connections wait: a listed protocol went away within the replace window. */
    private volatile long holdUntil = System.nanoTime();
    private volatile Duration replaceWindow = Duration.ZERO;

    private Detection(String endpoint, List<ProtocolSelector> selectors, Detecting.Bounds bounds) {
        this.endpoint = endpoint;
        this.selectors = selectors;
        this.bounds = bounds;
    }

    /**
     * Reads an endpoint's {@code protocol} list and {@code detect.*} bounds.
     *
     * @return the detection, or null if {@code protocol} names one protocol
     * @throws IllegalArgumentException naming the property and the value that is wrong
     */
    static Detection of(String endpoint, Settings settings) {
        List<String> listed = settings.text("protocol").filter(p -> !p.trim().startsWith("(")).isPresent()
                ? settings.list("protocol") : List.of();
        if (listed.size() < 2) {
            return null;
        }
        List<ProtocolSelector> selectors = new ArrayList<>();
        for (String one : listed) {
            selectors.add(ProtocolSelector.of(Settings.of(java.util.Map.of("protocol", one))));
        }
        int maxBytes = settings.integer("detect.maxBytes", DEFAULT_MAX_BYTES, 1, 65536);
        Duration timeout = settings.positiveMillis("detect.timeout", DEFAULT_TIMEOUT);
        return new Detection(endpoint, List.copyOf(selectors), new Detecting.Bounds(maxBytes, timeout));
    }

    /**
     * The registered protocols the list names now, in its order, each once: for each item the
     * one its selector prefers.
     */
    List<ProtocolEntry> wanted(Collection<ProtocolEntry> registered, String transport) {
        Set<ProtocolEntry> found = new LinkedHashSet<>();
        for (ProtocolSelector s : selectors) {
            s.best(registered, transport).ifPresent(found::add);
        }
        return List.copyOf(found);
    }

    /** The first protocol of the list that is registered: what the endpoint shows as its protocol. */
    Optional<ProtocolEntry> lead(Collection<ProtocolEntry> registered, String transport) {
        return wanted(registered, transport).stream().findFirst();
    }

    /**
     * Makes the candidates these entries. New ones are acquired ({@code use}); one no longer
     * wanted keeps its connections for the drain time, then they are closed and it is released
     * ({@code later} runs a task after the drain time, on the whiteboard's thread). One that
     * cannot be acquired (gone meanwhile) is left out: the next reconcile finds out.
     */
    void update(List<ProtocolEntry> entries, Predicate<ProtocolEntry> use, Consumer<ProtocolEntry> unuse,
            BiConsumer<Runnable, Duration> later, Duration drainTimeout, Duration replaceWindow) {
        this.replaceWindow = replaceWindow;
        List<Candidate> before = candidates;
        boolean added = false;
        List<Candidate> now = new ArrayList<>();
        for (ProtocolEntry e : entries) {
            Candidate kept = before.stream().filter(c -> c.entry == e).findFirst().orElse(null);
            if (kept != null) {
                now.add(kept);
            } else if (use.test(e)) {
                now.add(new Candidate(e));
                added = true;
            }
        }
        candidates = List.copyOf(now);
        if (added) {
            waiting.forEach(Detecting::retry); // a replacement, perhaps: they ask again
        }
        for (Candidate c : before) {
            if (!now.contains(c)) {
                holdUntil = System.nanoTime() + replaceWindow.toNanos();
                c.open.forEach(Detecting::askToDrain);
                later.accept(() -> {
                    c.open.forEach(Detecting::close);
                    unuse.accept(c.entry);
                }, drainTimeout);
            }
        }
    }

    /** The endpoint stopped: the candidates are released now. */
    void clear(Consumer<ProtocolEntry> unuse) {
        List<Candidate> before = candidates;
        candidates = List.of();
        before.forEach(c -> unuse.accept(c.entry));
    }

    /** The names of protocols in the list whose factory has no detector: they are never chosen. */
    List<String> undetectable() {
        return candidates.stream().filter(c -> !c.entry.detects()).map(c -> c.entry.name()).toList();
    }

    /** The server whose refusals this detection counts. */
    void server(Server value) {
        server = value;
    }

    /**
     * The first protocol of a new connection.
     *
     * @param context the connection's context (endpoint, settings, hooks, memory share)
     * @param tls whether a ClientHello starts TLS on it
     */
    Protocol layer(ProtocolContext context, boolean tls) {
        return new Detecting(endpoint, bounds, () -> {
            List<Candidate> now = candidates;
            List<Detecting.Candidate> bound = new ArrayList<>(now.size());
            for (Candidate c : now) {
                bound.add(c.on(context));
            }
            return bound;
        }, tls, reason -> {
            Server s = server;
            if (s != null) {
                s.countRefused(reason);
            }
        }, replacements);
    }

    /** Unclaimed connections wait while a listed protocol is being replaced, at most the replace window. */
    private final Detecting.Replacements replacements = new Detecting.Replacements() {
        @Override
        public long window(List<? extends Detecting.Candidate> asked) {
            if (asked.stream().anyMatch(Detecting.Candidate::departed)) {
                return replaceWindow.toNanos(); // gone a moment ago: the whiteboard has not seen it yet
            }
            return Math.max(0, holdUntil - System.nanoTime());
        }

        @Override
        public void waiting(Detecting connection) {
            waiting.add(connection);
        }

        @Override
        public void done(Detecting connection) {
            waiting.remove(connection);
        }
    };

    @Override
    public String toString() {
        return String.join(", ", selectors.stream().map(ProtocolSelector::toString).toList());
    }

    /** One listed protocol and the connections it was handed. */
    private static final class Candidate {
        final ProtocolEntry entry;
        final Set<Detecting> open = ConcurrentHashMap.newKeySet();

        Candidate(ProtocolEntry entry) {
            this.entry = entry;
        }

        /** This candidate for one connection, with its context. */
        Detecting.Candidate on(ProtocolContext context) {
            return new Detecting.Candidate() {
                @Override
                public String name() {
                    return entry.name();
                }

                @Override
                public FirstBytes.Match match(ByteBuffer first) {
                    return entry.firstBytes(context, first);
                }

                @Override
                public Protocol open(Detecting connection) {
                    Protocol p = entry.newProtocol(context, () -> null);
                    if (p != null) {
                        open.add(connection);
                    }
                    return p;
                }

                @Override
                public void closed(Detecting connection) {
                    open.remove(connection);
                }

                @Override
                public boolean departed() {
                    return entry.departed();
                }
            };
        }
    }
}
