package org.wharf.protocol.api;

import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

import org.wharf.transport.api.ExtraInfo;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.Transport;

/**
 * A protocol of whole messages: bytes are decoded by a {@link FrameDecoder} and handed, in
 * order, to a {@link MessageHandler} (Gruvi's {@code MessageProtocol}).
 *
 * <p>By default the handler runs on the transport's event loop as each message is decoded.
 * Given an executor, it runs there instead, one message at a time per connection; decoded
 * messages wait in a queue, and when {@code maxQueued} messages wait reading is paused, to be
 * resumed once the queue has drained to {@code resumeAt}. Malformed input ({@link
 * ProtocolError}) or a handler that throws aborts the connection with that exception; at
 * end of input the messages already queued are still handled, then the connection closes.
 *
 * <p>Replies are back-pressured: no message is handed to the handler while the transport's
 * writing is paused (from {@code pauseWriting} until {@code resumeWriting}, as {@link
 * Transport#isWritable()} tells). On the event loop, decoded messages then wait in the queue
 * and reading pauses at once; with an executor they wait in the queue, which pauses reading
 * at {@code maxQueued}. A client that sends requests and never reads the replies costs at
 * most the write buffer's high-water mark, one reply, and the messages of one read.
 *
 * <p>Subclasses that override a callback call {@code super}.
 *
 * @param <M> the message type
 */
public class MessageProtocol<M> implements Protocol {

    /** How many decoded messages may wait before reading pauses, by default: {@value}. */
    public static final int DEFAULT_MAX_QUEUED = 10;

    private static final System.Logger LOG = System.getLogger("org.wharf.protocol.api");

    private final FrameDecoder<M> decoder;
    private final MessageHandler<? super M> handler;
    private final Executor executor;
    private final int maxQueued;
    private final int resumeAt;
    private final ArrayDeque<M> queue = new ArrayDeque<>();

    private Transport transport;
    private boolean readingPaused;
    private boolean draining;
    private boolean handling;
    private boolean endOfInput;
    private boolean done;

    /**
     * A protocol that handles each message on the event loop as soon as it is decoded.
     *
     * @param decoder splits the stream into messages; one per connection
     * @param handler handles each message; must not block
     */
    public MessageProtocol(FrameDecoder<M> decoder, MessageHandler<? super M> handler) {
        this.decoder = Objects.requireNonNull(decoder, "decoder");
        this.handler = Objects.requireNonNull(handler, "handler");
        this.executor = null;
        this.maxQueued = DEFAULT_MAX_QUEUED;
        this.resumeAt = DEFAULT_MAX_QUEUED / 2;
    }

    /**
     * A protocol that handles messages on an executor, pausing reading while {@code maxQueued}
     * messages wait and resuming when half as many do.
     *
     * @param decoder splits the stream into messages; one per connection
     * @param handler handles each message; may block
     * @param executor runs the handler, one message of this connection at a time
     * @param maxQueued how many messages may wait before reading pauses, positive
     */
    public MessageProtocol(FrameDecoder<M> decoder, MessageHandler<? super M> handler, Executor executor,
            int maxQueued) {
        this(decoder, handler, executor, maxQueued, maxQueued / 2);
    }

    /**
     * A protocol that handles messages on an executor, with both queue bounds given.
     *
     * @param decoder splits the stream into messages; one per connection
     * @param handler handles each message; may block
     * @param executor runs the handler, one message of this connection at a time
     * @param maxQueued how many messages may wait before reading pauses, positive
     * @param resumeAt reading resumes once no more than this many wait, from 0 to {@code maxQueued - 1}
     */
    public MessageProtocol(FrameDecoder<M> decoder, MessageHandler<? super M> handler, Executor executor,
            int maxQueued, int resumeAt) {
        if (maxQueued <= 0 || resumeAt < 0 || resumeAt >= maxQueued) {
            throw new IllegalArgumentException("need maxQueued > resumeAt >= 0, got maxQueued=" + maxQueued
                    + " resumeAt=" + resumeAt);
        }
        this.decoder = Objects.requireNonNull(decoder, "decoder");
        this.handler = Objects.requireNonNull(handler, "handler");
        this.executor = Objects.requireNonNull(executor, "executor");
        this.maxQueued = maxQueued;
        this.resumeAt = resumeAt;
    }

    /**
     * The transport this protocol was connected to.
     *
     * @return the transport, or {@code null} before {@link #connectionMade}
     */
    protected Transport transport() {
        return transport;
    }

    /**
     * The number of decoded messages waiting for the handler (always 0 without an executor).
     *
     * @return messages queued
     */
    public int queued() {
        return queue.size();
    }

    @Override
    public void connectionMade(Transport transport) {
        this.transport = transport;
    }

    @Override
    public void dataReceived(ByteBuffer data) {
        decoder.decode(data, this::received);
        dispatch();
    }

    /** The replies are taken again: the messages that waited are handled. */
    @Override
    public void resumeWriting() {
        if (executor == null) {
            drain();
        } else {
            dispatch();
        }
    }

    @Override
    public boolean eofReceived() {
        decoder.endOfInput(this::received);
        dispatch();
        if (handling || !queue.isEmpty()) {
            endOfInput = true; // close once the queue is handled
            return true;
        }
        return false;
    }

    @Override
    public void connectionLost(Throwable cause) {
        done = true;
        queue.clear();
    }

    private void received(M message) {
        if (done || transport.isClosing()) {
            return;
        }
        if (executor == null) {
            if (queue.isEmpty() && transport.isWritable()) {
                handle(message);
                return;
            }
            // Replies are not being taken: the message waits, and nothing more is read.
            queue.add(message);
            if (!readingPaused) {
                readingPaused = true;
                transport.pauseReading();
            }
            return;
        }
        queue.add(message);
        dispatch(); // an idle handler takes it at once: only messages that wait count
        if (!readingPaused && queue.size() >= maxQueued) {
            readingPaused = true;
            transport.pauseReading();
        }
    }

    private void handle(M message) {
        try {
            handler.handle(message, transport);
        } catch (Exception e) {
            fail(e);
        }
    }

    /** On the loop, without an executor: handles the queued messages while replies are taken. */
    private void drain() {
        if (draining) {
            return;
        }
        draining = true;
        try {
            while (!done && !queue.isEmpty() && transport.isWritable() && !transport.isClosing()) {
                handle(queue.poll());
            }
        } finally {
            draining = false;
        }
        if (done || !queue.isEmpty()) {
            return; // the next resumeWriting goes on
        }
        if (endOfInput) {
            transport.close();
        } else if (readingPaused) {
            readingPaused = false;
            transport.resumeReading();
        }
    }

    /**
     * Hands the next queued message to the executor unless one is being handled or replies are
     * not being taken (then {@code resumeWriting} calls again). On the loop.
     */
    private void dispatch() {
        if (executor == null || handling || done) {
            return;
        }
        if (!transport.isWritable() && !queue.isEmpty()) {
            return;
        }
        M message = queue.poll();
        if (message == null) {
            if (endOfInput) {
                transport.close();
            }
            return;
        }
        if (readingPaused && queue.size() <= resumeAt) {
            readingPaused = false;
            transport.resumeReading();
        }
        handling = true;
        Transport t = transport;
        try {
            executor.execute(() -> {
                Throwable failure = null;
                try {
                    if (!t.isClosing()) {
                        handler.handle(message, t);
                    }
                } catch (Throwable e) {
                    failure = e;
                }
                Throwable f = failure;
                t.loop().execute(() -> handled(f));
            });
        } catch (RejectedExecutionException e) {
            handling = false;
            fail(e);
        }
    }

    private void handled(Throwable failure) {
        handling = false;
        if (failure != null) {
            fail(failure);
        } else {
            dispatch();
        }
    }

    private void fail(Throwable failure) {
        if (done) {
            return;
        }
        done = true;
        queue.clear();
        LOG.log(Level.WARNING, () -> "message handler failed, aborting connection "
                + transport.extraInfo(ExtraInfo.PEER_ADDRESS).map(Object::toString).orElse("")
                + ": " + failure, failure);
        transport.abort(failure);
    }
}
