package org.wharf.protocol.http;

import org.wharf.protocol.api.Connection;
import org.wharf.protocol.api.ConnectionHooks;
import org.wharf.protocol.http.internal.HttpExchange;
import org.wharf.transport.api.Protocol;

/** Makes the HTTP/1.1 protocol of a connection. */
public final class HttpProtocol {

    private HttpProtocol() {
    }

    /**
     * The protocol of one connection: each request is parsed and answered in turn
     * (pipelined requests wait, with reading paused, for the one before).
     *
     * @param handler answers the requests
     * @param limits what a request may hold
     * @param hooks the endpoint's request hooks (counters), or {@link ConnectionHooks#NONE}
     * @return a new protocol
     */
    public static Protocol create(HttpHandler handler, HttpLimits limits, ConnectionHooks hooks) {
        return new Connection(() -> new HttpExchange(handler, limits), hooks);
    }
}
