package org.wharf.protocol.api;

import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.function.Supplier;

import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.Transport;

/**
 * A protocol that serves a connection one request at a time (Pulsar's {@code Connection}).
 * Incoming bytes go to the current {@link ProtocolConsumer}, created by the consumer
 * factory when a request starts. When the consumer calls {@link #finished(ProtocolConsumer)},
 * the request is counted and the bytes it left over go to the next consumer. Bytes that
 * arrive while a consumer has finished reading but not answering are held, and reading is
 * paused until it finishes, so pipelined requests are served in order with bounded memory.
 *
 * <p>Answers are back-pressured: no request is started while the transport's writing is
 * paused (from {@code pauseWriting} until {@code resumeWriting}, as {@link
 * Transport#isWritable()} tells). Reading pauses meanwhile and the next request waits, unread,
 * so a client that sends requests and never reads the answers costs at most the write
 * buffer's high-water mark plus one answer, whatever it sends.
 *
 * <p>{@link #upgrade(Supplier)} changes the consumer factory from the next request on
 * (protocol switching). {@link ConnectionHooks} see every event, for server-wide counters.
 * Subclasses that override a callback call {@code super}.
 */
public class Connection implements Protocol {

    /** The most bytes held for the next request before the input is rejected: {@value}. */
    public static final int MAX_HELD_BYTES = 1024 * 1024;

    private final ConnectionHooks hooks;
    private final Accumulator held = new Accumulator();
    private Supplier<? extends ProtocolConsumer> consumerFactory;
    private Transport transport;
    private ProtocolConsumer current;
    private long requestsProcessed;
    private boolean feeding;
    private boolean readingPaused;
    private boolean waitingForWritable;
    private boolean endOfInput;
    private boolean lost;
    /** When the request in progress started (its first byte was handed to its consumer). */
    private long requestStarted;

    /**
     * A connection without hooks.
     *
     * @param consumerFactory creates the consumer of each request
     */
    public Connection(Supplier<? extends ProtocolConsumer> consumerFactory) {
        this(consumerFactory, ConnectionHooks.NONE);
    }

    /**
     * A connection whose events also go to {@code hooks}.
     *
     * @param consumerFactory creates the consumer of each request
     * @param hooks see every event of this connection; often shared by a whole server
     */
    public Connection(Supplier<? extends ProtocolConsumer> consumerFactory, ConnectionHooks hooks) {
        this.consumerFactory = Objects.requireNonNull(consumerFactory, "consumerFactory");
        this.hooks = Objects.requireNonNull(hooks, "hooks");
    }

    /**
     * Tells the hooks that the protocol refused what the client sent and is closing the
     * connection ({@link ConnectionHooks#requestRefused}): the endpoint logs it, rate-limited.
     *
     * @param why what was refused and why
     * @since 0.4
     */
    protected final void requestRefused(String why) {
        hooks.requestRefused(this, why);
    }

    /**
     * The transport of this connection.
     *
     * @return the transport, or {@code null} before {@link #connectionMade}
     */
    public Transport transport() {
        return transport;
    }

    /**
     * The consumer of the request in progress.
     *
     * @return the consumer, or {@code null} between requests
     */
    public ProtocolConsumer currentConsumer() {
        return current;
    }

    /**
     * When the request in progress (or the last one) started: its consumer was made for its
     * first bytes. Hooks measure a request's latency in {@link ConnectionHooks#postRequest}
     * as {@code System.nanoTime() - requestStarted()}.
     *
     * @return a {@link System#nanoTime()} value, 0 before the first request
     */
    public long requestStarted() {
        return requestStarted;
    }

    /**
     * The number of requests finished on this connection.
     *
     * @return the count
     */
    public long requestsProcessed() {
        return requestsProcessed;
    }

    /**
     * Switches to another consumer factory from the next request on; the current request
     * finishes with its own consumer.
     *
     * @param factory creates the consumers of the following requests
     */
    public void upgrade(Supplier<? extends ProtocolConsumer> factory) {
        this.consumerFactory = Objects.requireNonNull(factory, "factory");
    }

    /**
     * The current request is done: counts it, tells the hooks, and starts the next request
     * on the bytes left over. May be called from any thread; it takes effect on the loop.
     *
     * @param consumer the consumer that finished; must be the current one
     * @throws IllegalStateException if {@code consumer} is not the current consumer
     */
    public void finished(ProtocolConsumer consumer) {
        if (transport != null && !transport.loop().inEventLoop()) {
            transport.loop().execute(() -> finished(consumer));
            return;
        }
        if (consumer != current || consumer == null) {
            if (lost) {
                return;
            }
            throw new IllegalStateException("finished by " + consumer + " but the current consumer is " + current);
        }
        current = null;
        requestsProcessed++;
        hooks.postRequest(this, consumer);
        if (!feeding) {
            feedHeld();
        }
    }

    @Override
    public void connectionMade(Transport transport) {
        this.transport = transport;
        hooks.connectionMade(this);
    }

    @Override
    public void dataReceived(ByteBuffer data) {
        hooks.dataReceived(this, data.remaining());
        if (!held.isEmpty()) {
            hold(data);
            return;
        }
        feed(data);
    }

    /**
     * The answers are taken again: the request that waited starts now, on the bytes held for
     * it, and reading resumes once they are used.
     */
    @Override
    public void resumeWriting() {
        if (!waitingForWritable || lost) {
            return;
        }
        waitingForWritable = false;
        if (!feeding && current == null) {
            feedHeld();
        }
    }

    @Override
    public boolean eofReceived() {
        endOfInput = true;
        ProtocolConsumer consumer = current;
        if (consumer == null) {
            // Requests held while answers wait are still served; the connection closes after.
            return !held.isEmpty();
        }
        return consumer.eofReceived();
    }

    @Override
    public void connectionLost(Throwable cause) {
        lost = true;
        held.clear();
        ProtocolConsumer consumer = current;
        current = null;
        if (consumer != null) {
            consumer.connectionLost(cause);
        }
        hooks.connectionLost(this, cause);
    }

    private void feed(ByteBuffer data) {
        feeding = true;
        try {
            while (data.hasRemaining() && !lost && !transport.isClosing()) {
                if (current == null) {
                    if (!mayStartRequest()) {
                        hold(data);
                        break;
                    }
                    current = consumerFactory.get();
                    requestStarted = System.nanoTime();
                    hooks.preRequest(this, current);
                    current.start(this);
                }
                ProtocolConsumer consumer = current;
                int before = data.remaining();
                consumer.dataReceived(data);
                int used = before - data.remaining();
                if (used > 0) {
                    hooks.dataProcessed(this, used);
                }
                if (current == consumer) {
                    // Not finished: what it left belongs to the next request.
                    hold(data);
                    break;
                }
            }
        } finally {
            feeding = false;
        }
        if (current == null && !lost && !transport.isClosing()) {
            if (held.isEmpty() && endOfInput) {
                transport.close();
            } else if (!waitingForWritable && !transport.isWritable()) {
                // The last answer filled the buffer: read nothing more of the next request.
                mayStartRequest();
            }
        }
    }

    /**
     * Whether a new request may start: not while the transport's writing is paused, so answers
     * cannot pile up in its buffer. Otherwise reading pauses until {@code resumeWriting}.
     */
    private boolean mayStartRequest() {
        if (transport.isWritable()) {
            if (waitingForWritable) {
                waitingForWritable = false;
                updateReading();
            }
            return true;
        }
        // isWritable() is false from the write that crossed the high-water mark on, so the
        // resumeWriting of this crossing is still to come and will start the request.
        waitingForWritable = true;
        updateReading();
        return false;
    }

    /** Reading is paused while bytes are held for a later request or answers are not taken. */
    private void updateReading() {
        boolean pause = !lost && (!held.isEmpty() || waitingForWritable);
        if (pause != readingPaused) {
            readingPaused = pause;
            if (pause) {
                transport.pauseReading();
            } else {
                transport.resumeReading();
            }
        }
    }

    private void hold(ByteBuffer data) {
        int n = data.remaining();
        if (n == 0) {
            return;
        }
        if (held.size() + n > MAX_HELD_BYTES) {
            throw new ProtocolError("more than " + MAX_HELD_BYTES + " bytes of pipelined input wait for request "
                    + (requestsProcessed + 1) + " to finish");
        }
        held.append(data, n);
        updateReading();
    }

    private void feedHeld() {
        ByteBuffer next = held.copy(0, held.size());
        held.clear();
        feed(next);
        updateReading();
        // The input ended before this consumer started: it hears of it now.
        ProtocolConsumer consumer = current;
        if (endOfInput && consumer != null && !lost && !consumer.eofReceived()) {
            transport.close();
        }
    }
}
