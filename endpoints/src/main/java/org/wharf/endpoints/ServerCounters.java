package org.wharf.endpoints;

/**
 * A snapshot of a server's counters.
 *
 * @param sessions connections accepted and served since the start
 * @param open connections open now
 * @param rejected connections accepted and closed at once because of the connection limit
 * @param requests requests finished by protocols that count them (through the server's hooks)
 * @param bytesReceived bytes received over all connections
 * @param bytesSent bytes sent over all connections
 */
public record ServerCounters(long sessions, long open, long rejected, long requests, long bytesReceived,
        long bytesSent) {
}
