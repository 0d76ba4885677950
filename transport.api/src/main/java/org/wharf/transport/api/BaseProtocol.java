package org.wharf.transport.api;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * The callbacks every protocol receives from its transport. All run on the transport's
 * {@link EventLoop}, one at a time; none may block.
 *
 * @param <T> the kind of transport that drives this protocol
 */
@ConsumerType
public interface BaseProtocol<T extends BaseTransport> {

    /**
     * The connection is made: called once, first, with the transport that drives this
     * protocol from now on.
     *
     * @param transport the transport; keep it to write and close
     */
    void connectionMade(T transport);

    /**
     * The connection is gone: called exactly once per {@link #connectionMade}, last.
     *
     * @param cause {@code null} for a clean close (by either side), otherwise what ended it:
     *        a {@link TransportError}, or the exception a callback of this protocol threw
     */
    void connectionLost(Throwable cause);

    /**
     * The transport's write buffer went above its high-water mark: stop writing until
     * {@link #resumeWriting()}. Called once per crossing.
     */
    default void pauseWriting() {
    }

    /**
     * The transport's write buffer drained to its low-water mark: writing may go on. Called
     * once per crossing, only after {@link #pauseWriting()}.
     */
    default void resumeWriting() {
    }
}
