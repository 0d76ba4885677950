package org.wharf.protocol.http;

import org.wharf.protocol.api.ConnectionHooks;
import org.wharf.protocol.api.ProtocolContext;
import org.wharf.protocol.http.internal.HttpConnection;
import org.wharf.transport.api.Protocol;

/** Makes the HTTP/1.1 protocol of a connection. */
public final class HttpProtocol {

    private HttpProtocol() {
    }

    /**
     * The protocol of one connection: each request is parsed strictly (RFC 9112) and answered
     * in turn. Pipelined requests wait, with reading paused, for the one before, and no request
     * is read while the transport's writing is paused. A malformed request, or one beyond the
     * limits or too slow, is answered with its status (400, 413, 414, 431, 408, 501, 505) and
     * the connection closes; nothing is logged for it.
     *
     * @param handler answers the requests
     * @param limits what a request may hold and how long it may take
     * @param hooks the endpoint's request hooks (counters), or {@link ConnectionHooks#NONE}
     * @return a new protocol
     */
    public static Protocol create(HttpHandler handler, HttpLimits limits, ConnectionHooks hooks) {
        return HttpConnection.create(handler, limits, hooks);
    }

    /**
     * The protocol of one connection of an endpoint, as {@link #create(HttpHandler, HttpLimits,
     * ConnectionHooks)}, with the endpoint's request hooks, and request bodies held within the
     * connection's {@linkplain ProtocolContext#budget() memory budget}: a body it cannot hold
     * is answered 503 before it is read, and the connection closes.
     *
     * @param handler answers the requests
     * @param limits what a request may hold and how long it may take
     * @param context the connection's endpoint: its hooks and memory budget
     * @return a new protocol
     */
    public static Protocol create(HttpHandler handler, HttpLimits limits, ProtocolContext context) {
        return HttpConnection.create(handler, limits, context.hooks(), context.budget());
    }
}
