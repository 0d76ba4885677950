package org.wharf.transport.api;

import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * What every transport offers, stream or datagram: closing, extra information, read and
 * write flow control, and the event loop its callbacks run on.
 *
 * <p>Every method may be called from any thread; calls from other threads are handed to
 * the transport's {@link #loop() loop}, so their effect may come a moment later.
 */
@ProviderType
public interface BaseTransport {

    /**
     * The event loop that runs this transport's callbacks, for running tasks and timers
     * in step with them.
     *
     * @return the loop, never {@code null}
     */
    EventLoop loop();

    /**
     * The protocol this transport currently drives.
     *
     * @return the protocol, never {@code null}
     */
    BaseProtocol<?> protocol();

    /**
     * An optional fact about the transport, such as its peer address or TLS session.
     *
     * @param <T> the value type
     * @param key which fact
     * @return the value, or empty when this transport does not know it (yet)
     */
    <T> Optional<T> extraInfo(ExtraInfo<T> key);

    /**
     * Closes the transport once the data already queued has been written. No data is read
     * afterwards; {@link BaseProtocol#connectionLost(Throwable)} follows with {@code null}
     * once the buffer has been flushed. A peer that takes none of the queued data for the
     * transport's close timeout (NIO's {@code closeTimeout}) has the connection aborted
     * instead, and {@code connectionLost} gets a {@link TransportError}. Harmless when already
     * closing or closed.
     */
    void close();

    /**
     * Closes the transport at once and drops what is still queued for writing.
     * {@link BaseProtocol#connectionLost(Throwable)} follows with {@code null}. Harmless when
     * already closed.
     */
    void abort();

    /**
     * Closes the transport at once, drops what is queued, and hands {@code cause} to
     * {@link BaseProtocol#connectionLost(Throwable)}: for a protocol that gives up on its
     * connection, such as on a malformed message. Harmless when already closed.
     *
     * @param cause why the connection is aborted, or {@code null} for the same as {@link #abort()}
     */
    void abort(Throwable cause);

    /**
     * Tells whether {@link #close()} or {@link #abort()} was called or the connection was
     * lost.
     *
     * @return {@code true} once the transport is closing or closed
     */
    boolean isClosing();

    /**
     * Stops delivering received data to the protocol until {@link #resumeReading()}.
     * Idempotent; allowed while closing (then it does nothing).
     */
    void pauseReading();

    /**
     * Delivers received data again after {@link #pauseReading()}, including what arrived
     * meanwhile. Idempotent; allowed while closing.
     */
    void resumeReading();

    /**
     * Tells whether data is delivered to the protocol (not paused, not closed).
     *
     * @return {@code true} while reading
     */
    boolean isReading();

    /**
     * The number of bytes written and not yet handed to the operating system. Bytes count
     * from the moment {@code write} returns, on whichever thread called it, so this is right
     * on any thread.
     *
     * @return bytes queued, zero or more
     */
    long writeBufferSize();

    /**
     * Tells whether the protocol may go on writing: {@code false} from the moment the write
     * buffer rises above the high-water mark until it drains to the low-water mark, the span
     * between {@link BaseProtocol#pauseWriting()} and {@link BaseProtocol#resumeWriting()}.
     * Right on any thread at once (the callbacks follow on the loop), so a producer on another
     * thread that checks it before each write stays within one write of the mark.
     *
     * @return {@code true} while writes are welcome
     * @since 0.2
     */
    boolean isWritable();

    /**
     * The current write-buffer marks.
     *
     * @return the limits in force
     */
    WriteBufferLimits writeBufferLimits();

    /**
     * Sets the write-buffer marks; {@code pauseWriting}/{@code resumeWriting} follow at once
     * if the buffer is now on the other side of a mark.
     *
     * @param limits the new limits
     */
    void setWriteBufferLimits(WriteBufferLimits limits);
}
