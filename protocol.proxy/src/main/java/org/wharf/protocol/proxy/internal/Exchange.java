package org.wharf.protocol.proxy.internal;

import java.nio.ByteBuffer;

/**
 * What one client has said through a pooled upstream connection and what came back, read
 * from the bytes as they pass (never changed, never held): the gateway gives the upstream
 * connection back to the pool only when this says the exchange is {@link State#COMPLETE},
 * so no byte owed to one client can reach the next. Made per client connection; used on its
 * event loop only.
 */
abstract class Exchange {

    /** Where the exchange stands. */
    enum State {
        /** Every request was answered in full, nothing is cut off either way: the connection can be reused. */
        COMPLETE,
        /** Answers are still owed or a message is cut off; they can be waited for. */
        OWED,
        /**
         * The connection can never be reused: it carries state past the exchange (a blocking
         * or subscribing command, an upgrade, a transaction left open, a response that ends
         * only when the connection does) or bytes the gateway cannot read.
         */
        UNSAFE
    }

    private String unsafe;

    /**
     * The tracker for a route's application protocol.
     *
     * @param protocol the route's {@code proxy.protocol}; not {@code tcp}, whose bytes say nothing
     * @return a new tracker
     */
    static Exchange of(Route.Application protocol) {
        return of(protocol, HttpExchange.Limits.DEFAULT);
    }

    /**
     * The tracker for a route's application protocol.
     *
     * @param protocol the route's {@code proxy.protocol}; not {@code tcp}, whose bytes say nothing
     * @param http what an HTTP tracker holds and counts at most
     * @return a new tracker
     */
    static Exchange of(Route.Application protocol, HttpExchange.Limits http) {
        return switch (protocol) {
            case REDIS -> new RedisExchange();
            case HTTP -> new HttpExchange(http);
            case TCP -> throw new IllegalArgumentException("opaque TCP has no exchanges to follow");
        };
    }

    /**
     * Bytes the client sent, on their way to the upstream.
     *
     * @param data the bytes from its position to its limit; read, never moved
     */
    final void fromClient(ByteBuffer data) {
        if (unsafe == null) {
            requests(data);
        }
    }

    /**
     * Bytes the upstream sent, on their way to the client.
     *
     * @param data the bytes from its position to its limit; read, never moved
     */
    final void fromUpstream(ByteBuffer data) {
        if (unsafe == null) {
            answers(data);
        }
    }

    /** The client ended its input: a request it cut off will never be answered. */
    final void clientEnded() {
        if (unsafe == null && midRequest()) {
            unsafe("the client ended its input in the middle of a request");
        }
        if (unsafe == null) {
            ended();
        }
    }

    /** @return where the exchange stands now */
    final State state() {
        return unsafe != null ? State.UNSAFE : settled() ? State.COMPLETE : State.OWED;
    }

    /** @return why the connection cannot be reused, or what is still owed; for log lines */
    final String reason() {
        return unsafe != null ? unsafe : settled() ? "complete" : owed();
    }

    /** @return whether the connection can no longer be reused */
    final boolean isUnsafe() {
        return unsafe != null;
    }

    /** Marks the connection as never to be reused; the first reason stays. */
    final void unsafe(String why) {
        if (unsafe == null) {
            unsafe = why;
        }
    }

    /** Reads request bytes (only while the exchange is not unsafe). */
    abstract void requests(ByteBuffer data);

    /** Reads answer bytes (only while the exchange is not unsafe). */
    abstract void answers(ByteBuffer data);

    /** @return whether the client's bytes so far end inside a request */
    abstract boolean midRequest();

    /** @return whether every request so far has its whole answer and no message is cut off */
    abstract boolean settled();

    /** @return what is owed, for log lines */
    abstract String owed();

    /** The client ended its input; a protocol whose connection state outlives requests says so here. */
    void ended() {
    }
}
