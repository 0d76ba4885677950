package org.wharf.transport.api;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Makes stream transports (TCP, TLS): listens for connections and connects to servers.
 * Registered as an OSGi service with {@value TransportProvider#TRANSPORT_PROPERTY} set to its
 * kind, and found with {@link java.util.ServiceLoader} outside a framework.
 */
@ProviderType
public interface StreamTransportProvider extends TransportProvider {

    /**
     * Listens on an address. For each accepted connection the factory is called on the
     * connection's event loop to create its protocol, which then gets
     * {@link Protocol#connectionMade}. A factory that throws closes that connection and is
     * logged.
     *
     * @param address where to listen; port 0 for an ephemeral port
     * @param options backlog, socket options, limits, TLS
     * @param protocolFactory creates one protocol per connection
     * @return completes with the listener once bound, or fails with {@link TransportError}
     *         naming the address (for example when the port is in use)
     * @throws IllegalArgumentException if the options ask for something this provider does
     *         not do (such as TLS from a clear-text provider)
     */
    CompletionStage<Listener> listen(InetSocketAddress address, ListenOptions options,
            Supplier<? extends Protocol> protocolFactory);

    /**
     * Connects to a server. An unresolved address is resolved and each of its addresses is
     * tried in turn until one connects; the factory is then called on the connection's loop
     * and its protocol gets {@link Protocol#connectionMade} before the stage completes.
     *
     * @param <P> the protocol type
     * @param address the server; may be unresolved ({@link InetSocketAddress#createUnresolved})
     * @param options timeout, local address, socket options, limits, TLS
     * @param protocolFactory creates the connection's protocol
     * @return completes with transport and protocol, or fails with
     *         {@link ConnectionRefusedError}, {@link TransportTimeoutError}, {@link TlsError}
     *         or another {@link TransportError} for the last address tried
     * @throws IllegalArgumentException if the options ask for something this provider does
     *         not do
     */
    <P extends Protocol> CompletionStage<Connected<Transport, P>> connect(InetSocketAddress address,
            ConnectOptions options, Supplier<P> protocolFactory);

    /**
     * Starts TLS, as the server, on a connection that is open already: one accepted in clear
     * text by the provider this one layers over, whose protocol has read the start of the
     * client's handshake to decide what to do with it (a gateway that picks the certificate by
     * the server name the ClientHello asks for). The caller's protocol stays the connection's
     * protocol, so whatever wraps it hears of the connection as before, and hands each later
     * callback of the connection to the returned protocol: {@code dataReceived},
     * {@code eofReceived} (answering what it answers), {@code pauseWriting},
     * {@code resumeWriting}, {@code connectionLost}. It no longer writes to the connection
     * itself. Once the handshake succeeds the factory's protocol is made and gets
     * {@code connectionMade} with an {@link SslTransport}; a failed handshake makes none and
     * closes the connection. Call it on the connection's loop.
     *
     * @param connection the open connection, as its protocol was given it
     * @param options server TLS settings (a certificate); the handshake starts at once whatever
     *        {@link TlsOptions#handshakeOnConnect()} says
     * @param received the client's bytes read so far, as received: the start of its handshake
     *        (copied; may be empty)
     * @param protocolFactory makes the protocol of the TLS connection
     * @return the protocol the caller hands the connection's callbacks to
     * @throws UnsupportedOperationException if this provider does not layer TLS over a
     *         connection (the default)
     * @throws IllegalArgumentException if it cannot layer over this connection (one not made by
     *         the provider below it, such as a view another layer made of it)
     */
    default Protocol startTls(Transport connection, TlsOptions options, java.nio.ByteBuffer received,
            Supplier<? extends Protocol> protocolFactory) {
        throw new UnsupportedOperationException("the " + kind() + " transport cannot start TLS on an open connection");
    }
}
