package org.wharf.protocol.api;

import java.util.List;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Server-wide hooks on the events of {@link Connection}s (Pulsar's connection_made,
 * connection_lost, pre_request, post_request, data_received and data_processed events):
 * counters, logging, limits. One hooks object is usually shared by every connection of an
 * endpoint, so implementations are thread-safe. Every method runs on the event loop of the
 * connection concerned and must not block.
 */
@ConsumerType
public interface ConnectionHooks {

    /** Hooks that do nothing. */
    ConnectionHooks NONE = new ConnectionHooks() {
    };

    /**
     * A connection was made.
     *
     * @param connection the connection
     */
    default void connectionMade(Connection connection) {
    }

    /**
     * A connection was lost.
     *
     * @param connection the connection
     * @param cause {@code null} for a clean close, otherwise what ended it
     */
    default void connectionLost(Connection connection, Throwable cause) {
    }

    /**
     * A request starts: its consumer was just created.
     *
     * @param connection the connection
     * @param consumer the consumer of the new request
     */
    default void preRequest(Connection connection, ProtocolConsumer consumer) {
    }

    /**
     * A request finished.
     *
     * @param connection the connection
     * @param consumer the consumer that finished
     */
    default void postRequest(Connection connection, ProtocolConsumer consumer) {
    }

    /**
     * Bytes arrived on a connection.
     *
     * @param connection the connection
     * @param bytes how many
     */
    default void dataReceived(Connection connection, int bytes) {
    }

    /**
     * A consumer consumed bytes.
     *
     * @param connection the connection
     * @param bytes how many
     */
    default void dataProcessed(Connection connection, int bytes) {
    }

    /**
     * The protocol refused what the client sent (malformed input, a limit, a deadline it
     * missed, a request its handler failed on), and usually closes the connection. The endpoint
     * says so in its log, rate-limited: a protocol bundle need not log what any client can make
     * happen.
     *
     * @param connection the connection
     * @param why what was refused and why, for a log line (no client bytes beyond a short printable preview)
     * @since 0.4
     */
    default void requestRefused(Connection connection, String why) {
    }

    /**
     * Hooks that call each of the given hooks in order.
     *
     * @param hooks the hooks to combine
     * @return the combination
     */
    static ConnectionHooks all(ConnectionHooks... hooks) {
        List<ConnectionHooks> list = List.of(hooks);
        return new ConnectionHooks() {
            @Override
            public void connectionMade(Connection c) {
                list.forEach(h -> h.connectionMade(c));
            }

            @Override
            public void connectionLost(Connection c, Throwable cause) {
                list.forEach(h -> h.connectionLost(c, cause));
            }

            @Override
            public void preRequest(Connection c, ProtocolConsumer consumer) {
                list.forEach(h -> h.preRequest(c, consumer));
            }

            @Override
            public void postRequest(Connection c, ProtocolConsumer consumer) {
                list.forEach(h -> h.postRequest(c, consumer));
            }

            @Override
            public void dataReceived(Connection c, int bytes) {
                list.forEach(h -> h.dataReceived(c, bytes));
            }

            @Override
            public void dataProcessed(Connection c, int bytes) {
                list.forEach(h -> h.dataProcessed(c, bytes));
            }

            @Override
            public void requestRefused(Connection c, String why) {
                list.forEach(h -> h.requestRefused(c, why));
            }
        };
    }
}
