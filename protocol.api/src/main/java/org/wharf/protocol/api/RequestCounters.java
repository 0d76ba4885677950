package org.wharf.protocol.api;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts sessions (connections made), open connections, requests finished and bytes
 * received across every connection it is given to as {@link ConnectionHooks}. Thread-safe.
 */
public final class RequestCounters implements ConnectionHooks {

    private final LongAdder sessions = new LongAdder();
    private final AtomicLong open = new AtomicLong();
    private final LongAdder requests = new LongAdder();
    private final LongAdder bytesReceived = new LongAdder();

    /** Counters that start at zero. */
    public RequestCounters() {
    }

    @Override
    public void connectionMade(Connection connection) {
        sessions.increment();
        open.incrementAndGet();
    }

    @Override
    public void connectionLost(Connection connection, Throwable cause) {
        open.decrementAndGet();
    }

    @Override
    public void postRequest(Connection connection, ProtocolConsumer consumer) {
        requests.increment();
    }

    @Override
    public void dataReceived(Connection connection, int bytes) {
        bytesReceived.add(bytes);
    }

    /**
     * Connections made so far.
     *
     * @return the count
     */
    public long sessions() {
        return sessions.sum();
    }

    /**
     * Connections made and not yet lost.
     *
     * @return the count
     */
    public long open() {
        return open.get();
    }

    /**
     * Requests finished so far, over all connections.
     *
     * @return the count
     */
    public long requests() {
        return requests.sum();
    }

    /**
     * Bytes received so far, over all connections.
     *
     * @return the count
     */
    public long bytesReceived() {
        return bytesReceived.sum();
    }
}
