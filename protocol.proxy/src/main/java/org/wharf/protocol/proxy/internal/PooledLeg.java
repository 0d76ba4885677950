package org.wharf.protocol.proxy.internal;

import java.nio.ByteBuffer;

import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.Transport;

/**
 * The protocol of a pooled upstream connection: hands its events to the client connection
 * that holds it now. Idle in the pool, it belongs to nobody; bytes that arrive then (an
 * answer the last client did not wait for) would reach the wrong client, so they end the
 * connection instead.
 */
final class PooledLeg implements Protocol {

    private volatile ProxyConnection owner;
    private volatile Route.Upstream upstream;
    private volatile Transport transport;

    /** The client connection that holds this one from now on. */
    void attach(ProxyConnection holder, Route.Upstream to) {
        this.upstream = to;
        this.owner = holder;
    }

    /** Back to the pool: nobody's. */
    void detach() {
        owner = null;
    }

    Transport transport() {
        return transport;
    }

    @Override
    public void connectionMade(Transport t) {
        transport = t;
    }

    @Override
    public void dataReceived(ByteBuffer data) {
        ProxyConnection o = owner;
        if (o != null) {
            o.fromUpstream(data, transport);
        } else {
            transport.abort(); // stale bytes for a client that is gone: never hand them to the next one
        }
    }

    @Override
    public boolean eofReceived() {
        ProxyConnection o = owner;
        if (o != null) {
            o.upstreamEof();
        }
        return false; // a pooled connection the upstream ended is not reused
    }

    @Override
    public void pauseWriting() {
        ProxyConnection o = owner;
        if (o != null) {
            o.upstreamPause();
        }
    }

    @Override
    public void resumeWriting() {
        ProxyConnection o = owner;
        if (o != null) {
            o.upstreamResume();
        }
    }

    @Override
    public void connectionLost(Throwable cause) {
        ProxyConnection o = owner;
        if (o != null) {
            o.upstreamLost(cause, upstream);
        }
    }
}
