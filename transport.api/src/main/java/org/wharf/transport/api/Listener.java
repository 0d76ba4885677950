package org.wharf.transport.api;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletionStage;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A listening socket made by {@link StreamTransportProvider#listen}; closing it stops
 * accepting. Connections already accepted are not touched: they belong to their protocols.
 */
@ProviderType
public interface Listener {

    /**
     * The address actually bound: with the real port when port 0 was asked for.
     *
     * @return the bound address
     */
    InetSocketAddress localAddress();

    /**
     * Tells whether new connections are still accepted.
     *
     * @return {@code true} until {@link #close()}
     */
    boolean isListening();

    /**
     * Stops accepting and releases the port. Harmless when already closed. May be called from
     * any thread.
     *
     * @return completes once the port is released
     */
    CompletionStage<Void> close();
}
