package org.wharf.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLEngineResult.Status;

/**
 * A TLS 1.3 client connection written on plain NIO and the JDK's {@link SSLEngine}, so the
 * driver owes nothing to either library under test. The handshake runs in blocking mode when
 * the link is opened; after that the link works in either mode.
 */
final class TlsLink implements Link {

    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    private final SocketChannel channel;
    private final SSLEngine engine;
    /** Bytes read from the socket, not yet decrypted (write mode). */
    private final ByteBuffer netIn;
    /** One encrypted record still to be sent (read mode). */
    private final ByteBuffer netOut;
    /** Decrypted bytes not yet taken (read mode). */
    private final ByteBuffer plainIn;
    /** The ClientHello the driver sent and the ServerHello it got: whether a session was offered, and resumed. */
    private final HelloWatch clientHello = HelloWatch.clientHello();
    private final HelloWatch serverHello = HelloWatch.serverHello();

    private TlsLink(SocketChannel channel, SSLEngine engine) {
        this.channel = channel;
        this.engine = engine;
        int packet = engine.getSession().getPacketBufferSize();
        this.netIn = ByteBuffer.allocateDirect(2 * packet);
        this.netOut = ByteBuffer.allocateDirect(packet).flip();
        this.plainIn = ByteBuffer.allocateDirect(engine.getSession().getApplicationBufferSize()).flip();
    }

    /**
     * Connects and completes a full TLS 1.3 handshake (the engine has no peer name, so no
     * session is resumed), offering only the client's cipher suites. The channel is left in
     * blocking mode.
     *
     * @param server the server
     * @param client the client's TLS context (it must trust the server) and suites
     * @return the connected link
     * @throws IOException if the connection or the handshake fails
     */
    static TlsLink open(InetSocketAddress server, TlsClient client) throws IOException {
        return open(server, client, false);
    }

    /**
     * Connects and completes a TLS 1.3 handshake, offering only the client's cipher suites;
     * with {@code resume}, the engine is made for the server's address and port, so the client
     * context's session cache offers the session (the ticket) the server issued on an earlier
     * connection, if it issued one: {@link #offeredSession()} and {@link #resumed()} tell
     * what happened, as read from the hellos on the wire. The address is given as an IP
     * literal, so no server name is sent, as in a full handshake. The channel is left in
     * blocking mode.
     *
     * @param server the server
     * @param client the client's TLS context (it must trust the server) and suites
     * @param resume whether to offer a session the client context holds for this server
     * @return the connected link
     * @throws IOException if the connection or the handshake fails
     */
    static TlsLink open(InetSocketAddress server, TlsClient client, boolean resume) throws IOException {
        SocketChannel channel = SocketChannel.open(server);
        try {
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            SSLEngine engine = resume
                    ? client.context().createSSLEngine(server.getAddress().getHostAddress(), server.getPort())
                    : client.context().createSSLEngine();
            engine.setUseClientMode(true);
            engine.setEnabledProtocols(new String[] {"TLSv1.3"});
            if (!client.cipherSuites().isEmpty()) {
                engine.setEnabledCipherSuites(client.cipherSuites().toArray(String[]::new));
            }
            TlsLink link = new TlsLink(channel, engine);
            link.handshake();
            return link;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private void handshake() throws IOException {
        engine.beginHandshake();
        HandshakeStatus status = engine.getHandshakeStatus();
        while (status != HandshakeStatus.NOT_HANDSHAKING && status != HandshakeStatus.FINISHED) {
            switch (status) {
                case NEED_WRAP -> {
                    status = wrap(EMPTY).getHandshakeStatus();
                    clientHello.feed(netOut);
                    while (netOut.hasRemaining()) {
                        channel.write(netOut);
                    }
                }
                case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                    SSLEngineResult result = unwrap();
                    if (result.getStatus() == Status.BUFFER_UNDERFLOW) {
                        int from = netIn.position();
                        if (channel.read(netIn) < 0) {
                            throw new IOException("the server closed the connection during the handshake");
                        }
                        serverHello.feed(netIn.duplicate().flip().position(from));
                    }
                    status = result.getHandshakeStatus();
                }
                case NEED_TASK -> {
                    runTasks();
                    status = engine.getHandshakeStatus();
                }
                default -> throw new IllegalStateException("handshake status " + status);
            }
        }
    }

    private void runTasks() {
        for (Runnable task; (task = engine.getDelegatedTask()) != null;) {
            task.run();
        }
    }

    private SSLEngineResult wrap(ByteBuffer src) throws IOException {
        netOut.clear();
        SSLEngineResult result = engine.wrap(src, netOut);
        netOut.flip();
        if (result.getStatus() != Status.OK) {
            throw new IOException("wrap: " + result);
        }
        return result;
    }

    private SSLEngineResult unwrap() throws IOException {
        netIn.flip();
        plainIn.compact();
        try {
            SSLEngineResult result = engine.unwrap(netIn, plainIn);
            if (result.getStatus() == Status.BUFFER_OVERFLOW) {
                throw new IOException("unwrap: " + result);
            }
            return result;
        } finally {
            plainIn.flip();
            netIn.compact();
        }
    }

    @Override
    public String negotiated() {
        return engine.getSession().getProtocol() + " " + engine.getSession().getCipherSuite();
    }

    /**
     * @return whether the ClientHello offered a session to resume ({@code pre_shared_key}):
     *     the client held a ticket from this server
     * @throws IllegalStateException if the ClientHello could not be read
     */
    boolean offeredSession() {
        return clientHello.preSharedKey();
    }

    /**
     * @return whether the server accepted the session offered (its ServerHello carries
     *     {@code pre_shared_key}): the handshake was a resumed one
     * @throws IllegalStateException if the ServerHello could not be read
     */
    boolean resumed() {
        return serverHello.preSharedKey();
    }

    @Override
    public SocketChannel channel() {
        return channel;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        int consumed = 0;
        while (src.hasRemaining() && flush()) {
            consumed += wrap(src).bytesConsumed();
        }
        flush();
        return consumed;
    }

    @Override
    public boolean flush() throws IOException {
        while (netOut.hasRemaining()) {
            if (channel.write(netOut) == 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean pendingWrite() {
        return netOut.hasRemaining();
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        int n = 0;
        while (true) {
            n += take(dst);
            if (!dst.hasRemaining()) {
                return n;
            }
            SSLEngineResult result = unwrap();
            if (result.getStatus() == Status.CLOSED) {
                return n > 0 ? n : -1;
            }
            switch (result.getHandshakeStatus()) {
                case NEED_TASK -> runTasks();
                case NEED_WRAP -> { // a post-handshake message (KeyUpdate) to answer
                    if (flush()) {
                        wrap(EMPTY);
                        flush();
                    }
                }
                default -> {
                }
            }
            if (result.getStatus() == Status.BUFFER_UNDERFLOW) {
                int got = channel.read(netIn);
                if (got < 0) {
                    return n > 0 ? n : -1;
                }
                if (got == 0) {
                    return n;
                }
            }
        }
    }

    private int take(ByteBuffer dst) {
        int n = Math.min(plainIn.remaining(), dst.remaining());
        if (n > 0) {
            dst.put(plainIn.slice(plainIn.position(), n));
            plainIn.position(plainIn.position() + n);
        }
        return n;
    }

    @Override
    public boolean buffered() {
        return plainIn.hasRemaining() || netIn.position() > 0;
    }

    /** Sends close_notify if the socket takes it at once, then closes the socket. */
    @Override
    public void close() throws IOException {
        try {
            engine.closeOutbound();
            if (flush()) {
                netOut.clear();
                engine.wrap(EMPTY, netOut);
                netOut.flip();
                flush();
            }
        } catch (IOException ignored) {
            // the server may be gone already; the socket is closed below either way
        } finally {
            channel.close();
        }
    }
}
