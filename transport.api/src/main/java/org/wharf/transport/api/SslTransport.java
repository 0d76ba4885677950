package org.wharf.transport.api;

import java.security.cert.Certificate;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

import javax.net.ssl.SSLSession;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A stream transport secured with TLS. It may also run in clear text, before a STARTTLS
 * {@link #handshake()} or after {@link #unwrap()}, so clear, TLS, clear, TLS on one
 * connection works.
 *
 * <p>{@link #close()} sends close_notify and closes once the peer's arrives or the output
 * is flushed; a close_notify from the peer is answered and ends the connection.
 * {@link #canWriteEof()} is {@code false}: TLS cannot half-close.
 */
@ProviderType
public interface SslTransport extends Transport {

    /**
     * Starts a handshake if TLS is not active (handshake on demand, or STARTTLS after a clear
     * phase) and tells when it completes. While TLS is active it returns the stage of the
     * last handshake.
     *
     * @return completes with the session, or fails with {@link TlsError} or
     *         {@link TransportTimeoutError}
     */
    CompletionStage<SSLSession> handshake();

    /**
     * Starts a handshake as {@link #handshake()} does, on a connection in its clear phase that
     * has already received the first bytes of the peer's handshake in clear text: they are read
     * as the first bytes of the handshake. For a server that reads something before TLS on the
     * same connection (a PROXY protocol header) and was handed the start of the ClientHello
     * with it.
     *
     * @param received bytes the peer sent after the clear phase, as received (copied; may be
     *        empty)
     * @return completes with the session, or fails with {@link TlsError} or
     *         {@link TransportTimeoutError}
     * @throws IllegalStateException through the stage, if TLS is already active
     */
    CompletionStage<SSLSession> handshake(java.nio.ByteBuffer received);

    /**
     * Tells whether data is currently encrypted (a handshake completed and no
     * {@link #unwrap()} since).
     *
     * @return {@code true} while TLS is active
     */
    boolean isEncrypted();

    /**
     * The current TLS session.
     *
     * @return the session, or empty before the first handshake completes or after unwrap
     */
    Optional<SSLSession> session();

    /**
     * The certificate chain the peer presented, peer first.
     *
     * @return the chain, empty when none was presented or TLS is not active
     */
    List<Certificate> peerCertificates();

    /**
     * The application protocol negotiated with ALPN.
     *
     * @return the protocol name, or empty when none was negotiated
     */
    Optional<String> applicationProtocol();

    /**
     * Ends TLS on this connection: sends close_notify, waits for the peer's, and continues
     * in clear text.
     *
     * @return completes when the connection is clear again, or fails with {@link TlsError}
     */
    CompletionStage<Void> unwrap();
}
