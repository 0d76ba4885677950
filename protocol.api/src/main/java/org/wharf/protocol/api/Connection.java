package org.wharf.protocol.api;

import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
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
 * <p>A client cannot keep the loop to itself: after {@link #setRequestsPerTurn(int)} requests
 * started from one read, the rest of what it sent waits, with reading paused, for the loop's
 * next turn, so the loop's other connections are served between bursts of pipelined requests.
 * The bytes a consumer is handed are valid during its {@code dataReceived} only, as a
 * transport's are.
 *
 * <p>{@link #upgrade(Supplier)} changes the consumer factory from the next request on
 * (protocol switching). {@link ConnectionHooks} see every event, for server-wide counters.
 * Subclasses that override a callback call {@code super}.
 */
public class Connection implements Protocol {

    /** The most bytes held for the next request before the input is rejected, by default: {@value}. */
    public static final int MAX_HELD_BYTES = 1024 * 1024;

    /**
     * How many requests one read starts before the rest waits for the loop's next turn, by
     * default: {@value} (as Netty's messages per read).
     *
     * @since 0.5
     */
    public static final int REQUESTS_PER_TURN = 16;

    private static final ByteBuffer NOTHING = ByteBuffer.allocate(0);

    private final ConnectionHooks hooks;
    private int maxHeldBytes = MAX_HELD_BYTES;
    private int requestsPerTurn = REQUESTS_PER_TURN;
    /**
     * The bytes that wait for a later request, from position to limit, or {@code null}. They
     * are fed from where they are, so serving a held burst copies each byte once.
     */
    private ByteBuffer held;
    /** The rest of a burst waits for the loop's next turn. */
    private boolean yielded;
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
     * Sets the most bytes held for later requests while one is served; more is a {@link
     * ProtocolError} that closes the connection. Set it before the connection is made.
     *
     * @param bytes at least 1
     * @since 0.5
     */
    public final void setMaxHeldBytes(int bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("maxHeldBytes must be at least 1, got " + bytes);
        }
        this.maxHeldBytes = bytes;
    }

    /**
     * Sets how many requests one read, or one turn of the loop, starts; the rest of the input
     * waits, with reading paused, for the loop's next turn. Set it before the connection is made.
     *
     * @param requests at least 1
     * @since 0.5
     */
    public final void setRequestsPerTurn(int requests) {
        if (requests < 1) {
            throw new IllegalArgumentException("requestsPerTurn must be at least 1, got " + requests);
        }
        this.requestsPerTurn = requests;
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
            // Not inside this connection's own callback (a task, a backend's answer): what the
            // next requests throw ends this connection, not the caller's.
            feedHeldOrAbort();
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
        if (!heldIsEmpty()) {
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
            return !heldIsEmpty();
        }
        return consumer.eofReceived();
    }

    @Override
    public void connectionLost(Throwable cause) {
        lost = true;
        held = null;
        ProtocolConsumer consumer = current;
        current = null;
        if (consumer != null) {
            consumer.connectionLost(cause);
        }
        hooks.connectionLost(this, cause);
    }

    private void feed(ByteBuffer data) {
        feeding = true;
        int started = 0;
        try {
            while (data.hasRemaining() && !lost && !transport.isClosing()) {
                if (current == null) {
                    if (!mayStartRequest()) {
                        hold(data);
                        break;
                    }
                    if (started == requestsPerTurn) {
                        // Enough for one turn: the rest waits for the next, after other connections.
                        hold(data);
                        yieldTurn();
                        break;
                    }
                    started++;
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
        if (current == null && !lost && !transport.isClosing() && !yielded) {
            if (heldIsEmpty() && endOfInput) {
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
        boolean pause = !lost && (!heldIsEmpty() || waitingForWritable);
        if (pause != readingPaused) {
            readingPaused = pause;
            if (pause) {
                transport.pauseReading();
            } else {
                transport.resumeReading();
            }
        }
    }

    private boolean heldIsEmpty() {
        return held == null || !held.hasRemaining();
    }

    private void hold(ByteBuffer data) {
        if (data == held) {
            updateReading(); // what the held bytes' consumers left stays where it is
            return;
        }
        int n = data.remaining();
        if (n == 0) {
            return;
        }
        int size = held == null ? 0 : held.remaining();
        if (size + n > maxHeldBytes) {
            throw new ProtocolError("more than " + maxHeldBytes + " bytes of pipelined input wait for request "
                    + (requestsProcessed + 1) + " to finish");
        }
        // Reading pauses as soon as bytes are held, so this grows only by what was in flight.
        ByteBuffer all = ByteBuffer.allocate(size + n);
        if (held != null) {
            all.put(held);
        }
        held = all.put(data).flip();
        updateReading();
    }

    private void yieldTurn() {
        if (!yielded) {
            yielded = true;
            // A timer due now runs after this turn's I/O and tasks, and one set while timers
            // run waits for the next turn's selection: the loop's other connections go first.
            transport.loop().schedule(this::resumeAfterYield, 0, TimeUnit.NANOSECONDS);
        }
    }

    private void resumeAfterYield() {
        yielded = false;
        if (lost || feeding || current != null || waitingForWritable) {
            return;
        }
        feedHeldOrAbort();
    }

    /** Feeds the held bytes outside a callback of this connection's transport. */
    private void feedHeldOrAbort() {
        try {
            feedHeld();
        } catch (RuntimeException e) {
            // No callback of this transport is on the stack to report it: this connection alone ends.
            requestRefused("request " + (requestsProcessed + 1) + " failed: " + e);
            transport.abort(e);
        }
    }

    private void feedHeld() {
        ByteBuffer next = held == null ? NOTHING : held;
        feed(next);
        if (held == next && !next.hasRemaining()) {
            held = null;
        }
        updateReading();
        // The input ended before this consumer started: it hears of it now.
        ProtocolConsumer consumer = current;
        if (endOfInput && consumer != null && !lost && !consumer.eofReceived()) {
            transport.close();
        }
    }
}
