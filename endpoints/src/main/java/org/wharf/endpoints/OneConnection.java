package org.wharf.endpoints;

import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

import org.wharf.transport.api.BaseProtocol;
import org.wharf.transport.api.BaseTransport;
import org.wharf.transport.api.Connected;

/**
 * What {@link Client} and {@link DatagramClient} share: one connection, made once, whose
 * transport and protocol are there once it is made.
 *
 * @param <T> the transport type
 * @param <P> the protocol type
 */
abstract class OneConnection<T extends BaseTransport, P extends BaseProtocol<?>> {

    private final String description;
    private volatile T transport;
    private volatile P protocol;
    private boolean connecting;

    OneConnection(String description) {
        this.description = description;
    }

    /** Connects once; a second call is an error. */
    final synchronized CompletionStage<P> connectOnce(Supplier<CompletionStage<Connected<T, P>>> connect) {
        if (connecting) {
            throw new IllegalStateException(description + " is connected already");
        }
        connecting = true;
        return connect.get().thenApply(c -> {
            transport = c.transport();
            protocol = c.protocol();
            return c.protocol();
        });
    }

    /**
     * The connection's transport.
     *
     * @return the transport, or {@code null} before the connect completes
     */
    public T transport() {
        return transport;
    }

    /**
     * The connection's protocol.
     *
     * @return the protocol, or {@code null} before the connect completes
     */
    public P protocol() {
        return protocol;
    }

    /** Closes the connection (queued writes go out first); harmless when not connected. */
    public void close() {
        T t = transport;
        if (t != null) {
            t.close();
        }
    }
}
