package org.wharf.protocol.http.internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.wharf.protocol.api.Connection;
import org.wharf.protocol.api.ConnectionHooks;
import org.wharf.protocol.api.Drainable;
import org.wharf.protocol.api.MemoryBudget;
import org.wharf.protocol.http.HttpHandler;
import org.wharf.protocol.http.HttpLimits;
import org.wharf.transport.api.TimerHandle;
import org.wharf.transport.api.Transport;

/**
 * An HTTP/1.1 connection: the request cycle of {@link Connection} with one {@link HttpExchange}
 * per request, and the deadlines of {@link HttpLimits} on the connection's event loop.
 *
 * <p>The header deadline runs from the moment the server is ready for a request (the
 * connection is made, or the previous answer was written while the write buffer takes more,
 * or else when it drains) to the end of that request's header section; the body deadline from
 * there to the end of the body. When one passes, a request that had begun is answered 408 and
 * the connection closes; one that had not just closes. A peer that does not take even that
 * close is dropped once the header deadline has passed again. All of it runs on the loop.
 */
public final class HttpConnection extends Connection implements Drainable {

    /**
     * How long an idle connection of a draining endpoint waits for a request before it closes:
     * a request may be on its way already, and it is answered (with {@code Connection: close})
     * rather than cut off; a client idle for this long is not sending one.
     */
    static final Duration DRAIN_IDLE = Duration.ofMillis(500);

    private static final byte[] TIMED_OUT = ("HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + "Content-Length: 16\r\nConnection: close\r\n\r\nRequest Timeout\n").getBytes(StandardCharsets.US_ASCII);

    private final HttpLimits limits;
    private final MemoryBudget budget;
    private TimerHandle timer;
    /** The timer running is the body's ({@code http.bodyTimeout}), not the header's. */
    private boolean bodyArmed;
    /** Runs while an answer waits for the client to take it (the write buffer above its mark). */
    private TimerHandle writeTimer;
    /** The bytes still to write when {@link #writeTimer} was armed. */
    private long writeTimerSize;
    private boolean requestBegun;
    private boolean armWhenWritable;
    private boolean lost;
    private boolean draining;

    /**
     * A connection whose requests {@code handler} answers.
     *
     * @param handler answers the requests
     * @param limits what a request may hold and how long it may take
     * @param hooks the endpoint's request hooks
     * @return the connection, to be given to a transport
     */
    public static HttpConnection create(HttpHandler handler, HttpLimits limits, ConnectionHooks hooks) {
        return create(handler, limits, hooks, MemoryBudget.UNLIMITED);
    }

    /**
     * A connection whose requests {@code handler} answers, holding request bodies within a
     * memory budget.
     *
     * @param handler answers the requests
     * @param limits what a request may hold and how long it may take
     * @param hooks the endpoint's request hooks
     * @param budget the connection's share of the memory budget: a body it cannot hold is 503
     * @return the connection, to be given to a transport
     */
    public static HttpConnection create(HttpHandler handler, HttpLimits limits, ConnectionHooks hooks,
            MemoryBudget budget) {
        HttpConnection[] self = new HttpConnection[1];
        self[0] = new HttpConnection(() -> new HttpExchange(handler, limits, self[0]), limits, hooks, budget);
        return self[0];
    }

    private HttpConnection(java.util.function.Supplier<HttpExchange> exchanges, HttpLimits limits,
            ConnectionHooks hooks, MemoryBudget budget) {
        super(exchanges, hooks);
        this.limits = limits;
        this.budget = budget;
        setMaxHeldBytes(limits.maxPipelinedBytes());
        setRequestsPerTurn(limits.requestsPerTurn());
    }

    /** Where request bodies are reserved. */
    MemoryBudget budget() {
        return budget;
    }

    @Override
    public void connectionMade(Transport transport) {
        super.connectionMade(transport);
        arm(limits.headerTimeout());
    }

    @Override
    public void resumeWriting() {
        if (writeTimer != null) {
            writeTimer.cancel(); // the client took enough of the answer
            writeTimer = null;
        }
        if (armWhenWritable && !lost) {
            // Ready for the next request only now: its header deadline starts here.
            armWhenWritable = false;
            arm(limits.headerTimeout());
        }
        super.resumeWriting();
    }

    @Override
    public void connectionLost(Throwable cause) {
        lost = true;
        cancel();
        if (writeTimer != null) {
            writeTimer.cancel();
            writeTimer = null;
        }
        super.connectionLost(cause);
    }

    /**
     * The endpoint drains: the request in progress (or the next, if one comes within
     * {@link #DRAIN_IDLE}) is answered with {@code Connection: close}, then the connection
     * closes. On the loop.
     */
    @Override
    public void drain() {
        if (draining || lost) {
            return;
        }
        draining = true;
        if (!requestBegun) {
            cancel();
            timer = transport().loop().schedule(this::drainIdle, DRAIN_IDLE.toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    /** Whether the next answer ends the connection because its endpoint drains. */
    boolean isDraining() {
        return draining;
    }

    private void drainIdle() {
        timer = null;
        if (lost || transport().isClosing()) {
            return;
        }
        if (requestBegun) {
            arm(limits.headerTimeout()); // a request came meanwhile: its answer closes the connection
        } else {
            transport().close();
        }
    }

    // ---- what the exchanges tell ----

    /** The first byte of a request arrived: a timeout now answers 408. */
    void requestBegins() {
        requestBegun = true;
    }

    /** The header section is complete; the body deadline runs if a body follows. */
    void headerSectionEnds(boolean bodyFollows) {
        cancel();
        if (bodyFollows) {
            arm(limits.bodyTimeout());
            bodyArmed = !limits.bodyTimeout().isZero();
        }
    }

    /** The request is complete: no deadline while it is answered. */
    void requestEnds() {
        cancel();
    }

    /** The answer was written: the next request's header deadline starts once the buffer takes more. */
    void answered() {
        requestBegun = false;
        if (lost || transport().isClosing()) {
            return;
        }
        if (transport().isWritable()) {
            arm(limits.headerTimeout());
        } else {
            armWhenWritable = true;
            if (writeTimer == null) {
                armWriteTimer();
            }
        }
    }

    /**
     * The write timeout passed since the answer filled the buffer, or since the client last
     * took some of it: a client that took some gets another period (as nginx's send_timeout,
     * between two writes), one that took none is dropped with what it did not take. A closing
     * connection is the transport's close timeout's to bound.
     */
    private void writeTimedOut() {
        writeTimer = null;
        Transport t = transport();
        if (lost || t.isClosing()) {
            return;
        }
        long left = t.writeBufferSize();
        if (left < writeTimerSize) {
            armWriteTimer(); // it is taking the answer, slowly
            return;
        }
        requestRefused("HTTP: the client took none of its answer for " + limits.writeTimeout().toMillis()
                + " ms (http.writeTimeout)");
        t.abort();
    }

    private void armWriteTimer() {
        Duration write = limits.writeTimeout();
        if (!write.isZero()) {
            writeTimerSize = transport().writeBufferSize();
            writeTimer = transport().loop().schedule(this::writeTimedOut, write.toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    /** The protocol refused what the client sent: the endpoint hears of it (and logs it). */
    void refused(String why) {
        requestRefused(why);
    }

    // ---- the timer ----

    private void arm(Duration timeout) {
        bodyArmed = false;
        cancel();
        if (!timeout.isZero() && !lost) {
            timer = transport().loop().schedule(this::timedOut, timeout.toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel();
            timer = null;
        }
    }

    private void timedOut() {
        timer = null;
        Transport t = transport();
        if (lost || t.isClosing()) {
            return;
        }
        if (requestBegun) {
            // A slow client (slowloris, a slow body) is refused as any other: logged, rate-limited.
            requestRefused(bodyArmed
                    ? "HTTP 408: the request body did not come within " + limits.bodyTimeout().toMillis()
                            + " ms (http.bodyTimeout)"
                    : "HTTP 408: the request header did not come within " + limits.headerTimeout().toMillis()
                            + " ms (http.headerTimeout)");
            t.write(ByteBuffer.wrap(TIMED_OUT));
        }
        t.close();
        // close() waits for the buffer to drain; a peer that reads nothing would hold it open.
        Duration grace = limits.headerTimeout().isZero() ? limits.bodyTimeout() : limits.headerTimeout();
        if (!grace.isZero()) {
            t.loop().schedule(() -> t.abort(), grace.toNanos(), TimeUnit.NANOSECONDS);
        }
    }
}
