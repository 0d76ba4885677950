package org.wharf.endpoints;

import java.util.Map;
import java.util.Objects;

import org.wharf.transport.api.Histogram;

/**
 * A snapshot of a server's counters. A class, not a record, so that a counter added later is
 * a compatible change.
 */
public final class ServerCounters {

    /** A connection refused because the server's {@code maxConnections} were open. */
    public static final String REFUSED_LIMIT = "limit";
    /** A connection refused because its TLS handshake failed (no protocol was made for it). */
    public static final String REFUSED_TLS = "tls";
    /**
     * Work refused because the server's memory budget was spent: requests answered 503 (HTTP)
     * rather than connections, counted by the budget where one is kept.
     */
    public static final String REFUSED_BUDGET = "budget";
    /** A connection refused because its client had too many (counted where per-client limits are kept). */
    public static final String REFUSED_CLIENT_LIMIT = "client_limit";
    /**
     * A connection refused because of its PROXY protocol header: from a source not trusted to
     * send one, malformed, not complete within the header timeout (counted where one is accepted).
     */
    public static final String REFUSED_PROXY_PROTOCOL = "proxy_protocol";
    /** A connection on an endpoint that detects its protocol whose first bytes no listed protocol claimed. */
    public static final String REFUSED_NO_MATCH = "no_match";
    /** A connection that sent too little within {@code detect.timeout} for any listed protocol to claim it. */
    public static final String REFUSED_DETECT_TIMEOUT = "detect_timeout";
    /** A connection whose first {@code detect.maxBytes} bytes were not enough for a listed protocol to decide. */
    public static final String REFUSED_DETECT_SIZE = "detect_size";
    /**
     * A connection accepted as the server began closing (stopped, drained, upgraded away), or
     * still waiting for its PROXY protocol header when the server closed it: never served.
     */
    public static final String REFUSED_SHUTDOWN = "shutdown";

    /** A connection its peer or its protocol closed cleanly. */
    public static final String CLOSED_NORMAL = "normal";
    /** A connection closed by the server's idle timeout. */
    public static final String CLOSED_IDLE = "idle";
    /** A connection closed because the server closed (stopped, drained, upgraded away). */
    public static final String CLOSED_SHUTDOWN = "shutdown";
    /** A connection lost to a transport error (reset, I/O error, timeout, TLS). */
    public static final String CLOSED_ERROR = "error";
    /** A connection aborted by its protocol (malformed input, a callback that threw). */
    public static final String CLOSED_PROTOCOL = "protocol";

    private static final Histogram.Snapshot NO_DURATIONS = Histogram.ofDurations().snapshot();

    /** All zero: a server that has not served yet. */
    public static final ServerCounters NONE = new ServerCounters(0, 0, 0, 0, 0, 0);

    private final long sessions;
    private final long open;
    private final long rejected;
    private final long requests;
    private final long bytesReceived;
    private final long bytesSent;
    private final Map<String, Long> refused;
    private final Map<String, Long> closed;
    private final Histogram.Snapshot connectionDurations;
    private final Histogram.Snapshot handshakeDurations;
    private final Map<String, Long> handshakeFailures;
    private final long memoryUsed;
    private final long memoryLimit;
    private final Histogram.Snapshot requestDurations;

    ServerCounters(long sessions, long open, long rejected, long requests, long bytesReceived, long bytesSent) {
        this(sessions, open, requests, bytesReceived, bytesSent, Map.of(REFUSED_LIMIT, rejected), Map.of(),
                NO_DURATIONS, NO_DURATIONS, Map.of(), 0, Long.MAX_VALUE, NO_DURATIONS);
    }

    ServerCounters(long sessions, long open, long requests, long bytesReceived, long bytesSent,
            Map<String, Long> refused, Map<String, Long> closed, Histogram.Snapshot connectionDurations,
            Histogram.Snapshot handshakeDurations, Map<String, Long> handshakeFailures, long memoryUsed,
            long memoryLimit, Histogram.Snapshot requestDurations) {
        this.requestDurations = requestDurations;
        this.memoryUsed = memoryUsed;
        this.memoryLimit = memoryLimit;
        this.refused = Map.copyOf(refused);
        this.closed = Map.copyOf(closed);
        this.connectionDurations = connectionDurations;
        this.handshakeDurations = handshakeDurations;
        this.handshakeFailures = Map.copyOf(handshakeFailures);
        this.rejected = refused.getOrDefault(REFUSED_LIMIT, 0L);
        this.sessions = sessions;
        this.open = open;
        this.requests = requests;
        this.bytesReceived = bytesReceived;
        this.bytesSent = bytesSent;
    }

    /**
     * Connections accepted and served since the start.
     *
     * @return the count
     */
    public long sessions() {
        return sessions;
    }

    /**
     * Connections open now.
     *
     * @return the count
     */
    public long open() {
        return open;
    }

    /**
     * Connections accepted and closed at once because of the connection limit (the
     * {@link #REFUSED_LIMIT} entry of {@link #refused()}).
     *
     * @return the count
     */
    public long rejected() {
        return rejected;
    }

    /**
     * Requests finished by protocols that count them (through the server's hooks).
     *
     * @return the count
     */
    public long requests() {
        return requests;
    }

    /**
     * Bytes received over all connections.
     *
     * @return the count
     */
    public long bytesReceived() {
        return bytesReceived;
    }

    /**
     * Bytes sent over all connections.
     *
     * @return the count
     */
    public long bytesSent() {
        return bytesSent;
    }

    /**
     * Connections refused, by reason: {@link #REFUSED_LIMIT}, {@link #REFUSED_TLS} (for a TLS
     * server), and others where the server keeps them.
     *
     * @return counts by reason
     */
    public Map<String, Long> refused() {
        return refused;
    }

    /**
     * Connections closed, by reason: {@link #CLOSED_NORMAL}, {@link #CLOSED_IDLE},
     * {@link #CLOSED_SHUTDOWN}, {@link #CLOSED_ERROR}, {@link #CLOSED_PROTOCOL}.
     *
     * @return counts by reason
     */
    public Map<String, Long> closed() {
        return closed;
    }

    /**
     * How long closed connections were open, in nanoseconds.
     *
     * @return the distribution
     */
    public Histogram.Snapshot connectionDurations() {
        return connectionDurations;
    }

    /**
     * How long the TLS handshakes of accepted connections took (those that completed), in nanoseconds.
     *
     * @return the distribution; empty for a clear-text server
     */
    public Histogram.Snapshot handshakeDurations() {
        return handshakeDurations;
    }

    /**
     * TLS handshakes that failed, by cause (the {@link org.wharf.transport.api.TransportObserver} causes).
     *
     * @return counts by cause
     */
    public Map<String, Long> handshakeFailures() {
        return handshakeFailures;
    }

    /**
     * How long requests took, from their first byte to their end, for protocols built on
     * {@link org.wharf.protocol.api.Connection} (the request cycle); in nanoseconds.
     *
     * @return the distribution; empty for protocols without requests
     */
    public Histogram.Snapshot requestDurations() {
        return requestDurations;
    }

    /**
     * Bytes the server's connections hold for their clients now, out of its memory budget.
     *
     * @return the bytes reserved
     */
    public long memoryUsed() {
        return memoryUsed;
    }

    /**
     * The server's memory budget.
     *
     * @return its limit in bytes, {@link Long#MAX_VALUE} when unlimited
     */
    public long memoryLimit() {
        return memoryLimit;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ServerCounters c && c.sessions == sessions && c.open == open && c.rejected == rejected
                && c.requests == requests && c.bytesReceived == bytesReceived && c.bytesSent == bytesSent;
    }

    @Override
    public int hashCode() {
        return Objects.hash(sessions, open, rejected, requests, bytesReceived, bytesSent);
    }

    @Override
    public String toString() {
        return "sessions " + sessions + ", open " + open + ", rejected " + rejected + ", requests " + requests
                + ", bytes received " + bytesReceived + ", sent " + bytesSent;
    }
}
