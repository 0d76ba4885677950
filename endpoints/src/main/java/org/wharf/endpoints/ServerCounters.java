package org.wharf.endpoints;

import java.util.Objects;

/**
 * A snapshot of a server's counters. A class, not a record, so that a counter added later is
 * a compatible change.
 */
public final class ServerCounters {

    /** All zero: a server that has not served yet. */
    public static final ServerCounters NONE = new ServerCounters(0, 0, 0, 0, 0, 0);

    private final long sessions;
    private final long open;
    private final long rejected;
    private final long requests;
    private final long bytesReceived;
    private final long bytesSent;

    ServerCounters(long sessions, long open, long rejected, long requests, long bytesReceived, long bytesSent) {
        this.sessions = sessions;
        this.open = open;
        this.rejected = rejected;
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
     * Connections accepted and closed at once because of the connection limit.
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
