package org.wharf.protocol.http;

import java.nio.ByteBuffer;

import org.wharf.protocol.api.ConnectionHooks;
import org.wharf.protocol.api.FirstBytes;
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

    /** The longest method token taken for HTTP (registered methods have at most 17 characters). */
    private static final int MAX_METHOD = 24;

    /**
     * Whether a connection's first bytes begin an HTTP/1.x request, for a factory that
     * implements {@link FirstBytes}: a method token and a space, then a request target that
     * starts with {@code /} or {@code *} (decided there, after a few bytes), or any other target
     * followed by a space and {@code HTTP/}. So a RESP inline command ({@code GET key}) is not
     * taken for HTTP, and a client whose line ends before {@code HTTP/} is not either.
     *
     * @param first the bytes read so far, from its position to its limit (not moved)
     * @return {@link FirstBytes.Match#MATCH}, {@link FirstBytes.Match#NO} or
     *     {@link FirstBytes.Match#NEED_MORE}
     */
    public static FirstBytes.Match firstBytes(ByteBuffer first) {
        int start = first.position();
        int end = first.limit();
        int i = start;
        while (i < end && i - start <= MAX_METHOD && isTchar(first.get(i))) {
            i++;
        }
        if (i == end) {
            return i - start > MAX_METHOD ? FirstBytes.Match.NO : FirstBytes.Match.NEED_MORE;
        }
        if (i == start || i - start > MAX_METHOD || first.get(i) != ' ') {
            return FirstBytes.Match.NO;
        }
        i++;
        if (i == end) {
            return FirstBytes.Match.NEED_MORE;
        }
        byte target = first.get(i);
        if (target == '/' || target == '*') {
            return FirstBytes.Match.MATCH; // origin-form or asterisk-form: no other protocol begins so
        }
        // absolute-form (a proxy's request) or authority-form (CONNECT): the version must follow.
        while (i < end && first.get(i) != ' ') {
            byte b = first.get(i);
            if (b == '\r' || b == '\n' || b <= 0x20 || b == 0x7f) {
                return FirstBytes.Match.NO;
            }
            i++;
        }
        byte[] version = {' ', 'H', 'T', 'T', 'P', '/'};
        for (int k = 0; k < version.length; k++, i++) {
            if (i == end) {
                return FirstBytes.Match.NEED_MORE;
            }
            if (first.get(i) != version[k]) {
                return FirstBytes.Match.NO;
            }
        }
        return FirstBytes.Match.MATCH;
    }

    /** RFC 9110's tchar: what a method token is made of. */
    private static boolean isTchar(byte b) {
        return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b > 0 && "!#$%&'*+-.^_`|~"
                .indexOf(b) >= 0;
    }
}
