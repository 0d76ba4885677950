package org.wharf.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * The driver's side of one connection: plain bytes over a {@link SocketChannel}, or TLS
 * ({@link TlsLink}). Works in blocking and non-blocking mode alike.
 */
interface Link extends AutoCloseable {

    /** @return the socket */
    SocketChannel channel();

    /**
     * Sends as much of {@code src} as the socket takes now.
     *
     * @param src bytes to send
     * @return bytes of {@code src} consumed
     * @throws IOException if the socket fails
     */
    int write(ByteBuffer src) throws IOException;

    /**
     * Retries what an earlier write left unsent.
     *
     * @return whether nothing is left
     * @throws IOException if the socket fails
     */
    boolean flush() throws IOException;

    /** @return whether an earlier write left bytes unsent */
    boolean pendingWrite();

    /**
     * Reads what has arrived into {@code dst}.
     *
     * @param dst where the bytes go
     * @return bytes read, or -1 at the end of the stream
     * @throws IOException if the socket fails
     */
    int read(ByteBuffer dst) throws IOException;

    /** @return whether bytes already taken from the socket wait to be read */
    boolean buffered();

    /** @return the TLS protocol and cipher suite agreed on, as {@code TLSv1.3 TLS_AES_128_GCM_SHA256}; null for plain TCP */
    default String negotiated() {
        return null;
    }

    @Override
    void close() throws IOException;

    /**
     * A plain connection.
     *
     * @param channel the socket
     * @return its link
     */
    static Link plain(SocketChannel channel) {
        return new Link() {
            @Override
            public SocketChannel channel() {
                return channel;
            }

            @Override
            public int write(ByteBuffer src) throws IOException {
                return channel.write(src);
            }

            @Override
            public boolean flush() {
                return true;
            }

            @Override
            public boolean pendingWrite() {
                return false;
            }

            @Override
            public int read(ByteBuffer dst) throws IOException {
                return channel.read(dst);
            }

            @Override
            public boolean buffered() {
                return false;
            }

            @Override
            public void close() throws IOException {
                channel.close();
            }
        };
    }
}
