package org.wharf.protocol.api;

import java.nio.ByteBuffer;

/**
 * What a {@link ProtocolFactory} implements to claim connections by their first bytes, so one
 * port can serve several protocols (HTTP, RESP, and TLS before either): an endpoint configured
 * with a list of protocols ({@code protocol = status, proxy}) reads the first bytes a client
 * sends and asks the listed protocols' factories, in the order listed, whose they are. The
 * first that does not answer {@link Match#NO} decides: {@link Match#MATCH} gets the
 * connection, with the bytes already read, {@link Match#NEED_MORE} waits for more. The
 * endpoint bounds the wait in bytes and time ({@code detect.maxBytes}, {@code detect.timeout});
 * a detector never sees more than that.
 *
 * <p>A detector is pure and cheap: it looks at the bytes, keeps nothing, does no I/O, and may
 * be called for any number of connections at once, on their event loops. A factory that does
 * not implement this interface is never chosen by detection. Protocols the server speaks
 * first (a greeting before the client's first byte) cannot be detected.
 */
@org.osgi.annotation.versioning.ConsumerType
public interface FirstBytes {

    /** What a detector says of the bytes read so far. */
    enum Match {
        /** They begin this protocol: the connection is its. */
        MATCH,
        /** They do not begin this protocol, and no more bytes would change that. */
        NO,
        /** Not enough to tell yet. */
        NEED_MORE
    }

    /**
     * Says whether the bytes a client sent first begin this protocol.
     *
     * @param context the endpoint and its settings (a gateway claims RESP only on a route
     *     that forwards it, say)
     * @param first the bytes read so far, from its position to its limit, read-only; never
     *     empty; the same start each time, with more bytes after a {@link Match#NEED_MORE}
     * @return what they are
     */
    Match match(ProtocolContext context, ByteBuffer first);
}
