package org.wharf.transport.tck;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.Transport;

/**
 * A protocol that records what its transport does to it: the callbacks in order, the bytes
 * received, and any breach of the contract it can see (a callback before
 * {@code connectionMade} or after {@code connectionLost}, {@code connectionLost} twice,
 * callbacks from two threads or overlapping). Thread-safe to inspect from the test thread.
 */
public class RecordingProtocol implements Protocol {

    private final List<String> events = new ArrayList<>();
    private final List<String> violations = new ArrayList<>();
    private final ByteArrayOutputStream received = new ByteArrayOutputStream();
    private final CompletableFuture<Transport> made = new CompletableFuture<>();
    private final CompletableFuture<Throwable> lost = new CompletableFuture<>();
    private final CompletableFuture<Void> eof = new CompletableFuture<>();
    private volatile boolean keepOpenOnEof;
    private volatile boolean keepBytes = true;
    private long receivedCount;
    private Thread loopThread;
    private boolean inCallback;
    private boolean isMade;
    private boolean isLost;
    private boolean writingPaused;
    private int writingPauses;
    private int writingResumes;
    private Transport transport;

    /** A protocol that lets the transport close at end of input. */
    public RecordingProtocol() {
    }

    /**
     * Chooses what {@link #eofReceived()} answers.
     *
     * @param keepOpen {@code true} to keep the write side open (half-close)
     * @return this protocol
     */
    public RecordingProtocol keepOpenOnEof(boolean keepOpen) {
        this.keepOpenOnEof = keepOpen;
        return this;
    }

    /**
     * Chooses whether received bytes are kept for {@link #received()} (the default) or only
     * counted, for transfers too large to keep.
     *
     * @param keep {@code false} to count only
     * @return this protocol
     */
    public RecordingProtocol keepBytes(boolean keep) {
        this.keepBytes = keep;
        return this;
    }

    /**
     * The number of bytes received so far.
     *
     * @return the count
     */
    public synchronized long receivedCount() {
        return receivedCount;
    }

    /**
     * The callbacks so far, by name ({@code connectionMade}, {@code dataReceived},
     * {@code eofReceived}, {@code pauseWriting}, {@code resumeWriting}, {@code connectionLost}),
     * with consecutive {@code dataReceived} calls folded into one entry.
     *
     * @return a copy of the list
     */
    public synchronized List<String> events() {
        return new ArrayList<>(events);
    }

    /**
     * How often {@code pauseWriting} was called.
     *
     * @return the count
     */
    public synchronized int writingPauses() {
        return writingPauses;
    }

    /**
     * How often {@code resumeWriting} was called.
     *
     * @return the count
     */
    public synchronized int writingResumes() {
        return writingResumes;
    }

    /**
     * Breaches of the transport contract seen so far.
     *
     * @return a copy of the list; empty when the transport behaved
     */
    public synchronized List<String> violations() {
        return new ArrayList<>(violations);
    }

    /**
     * Every byte received so far, in order.
     *
     * @return a copy
     */
    public synchronized byte[] received() {
        return received.toByteArray();
    }

    /**
     * Completes with the transport when {@code connectionMade} is called.
     *
     * @return the stage
     */
    public CompletableFuture<Transport> made() {
        return made;
    }

    /**
     * Completes with the cause (or {@code null}) when {@code connectionLost} is called.
     *
     * @return the stage
     */
    public CompletableFuture<Throwable> lost() {
        return lost;
    }

    /**
     * Completes when {@code eofReceived} is called.
     *
     * @return the stage
     */
    public CompletableFuture<Void> eof() {
        return eof;
    }

    /**
     * The transport, once connected.
     *
     * @return the transport or {@code null}
     */
    public synchronized Transport transport() {
        return transport;
    }

    @Override
    public void connectionMade(Transport t) {
        enter("connectionMade");
        try {
            synchronized (this) {
                if (isMade) {
                    violations.add("connectionMade called twice");
                }
                isMade = true;
                transport = t;
            }
            onConnectionMade(t);
        } finally {
            leave();
        }
        made.complete(t);
    }

    @Override
    public void dataReceived(ByteBuffer data) {
        enter("dataReceived");
        try {
            synchronized (this) {
                receivedCount += data.remaining();
                if (keepBytes) {
                    byte[] copy = new byte[data.remaining()];
                    data.duplicate().get(copy);
                    received.write(copy, 0, copy.length);
                }
            }
            onDataReceived(data);
        } finally {
            leave();
        }
    }

    @Override
    public boolean eofReceived() {
        enter("eofReceived");
        try {
            return keepOpenOnEof;
        } finally {
            leave();
            eof.complete(null);
        }
    }

    @Override
    public void pauseWriting() {
        enter("pauseWriting");
        synchronized (this) {
            if (writingPaused) {
                violations.add("pauseWriting twice without resumeWriting");
            }
            writingPaused = true;
            writingPauses++;
        }
    }

    @Override
    public void resumeWriting() {
        enter("resumeWriting");
        synchronized (this) {
            if (!writingPaused) {
                violations.add("resumeWriting without pauseWriting");
            }
            writingPaused = false;
            writingResumes++;
        }
    }

    @Override
    public void connectionLost(Throwable cause) {
        enter("connectionLost");
        synchronized (this) {
            if (isLost) {
                violations.add("connectionLost called twice");
            }
            isLost = true;
        }
        leave();
        lost.complete(cause);
    }

    /**
     * Hook for subclasses, after the connection is recorded.
     *
     * @param t the transport
     */
    protected void onConnectionMade(Transport t) {
    }

    /**
     * Hook for subclasses, after the bytes are recorded (the buffer's position is untouched).
     *
     * @param data the bytes
     */
    protected void onDataReceived(ByteBuffer data) {
    }

    private synchronized void enter(String event) {
        Thread current = Thread.currentThread();
        if (loopThread == null) {
            loopThread = current;
        } else if (loopThread != current) {
            violations.add(event + " on thread " + current.getName() + ", earlier callbacks on " + loopThread.getName());
        }
        // pauseWriting/resumeWriting may come from within a write or setWriteBufferLimits
        // the protocol makes in another callback (as in asyncio); nothing else nests.
        boolean flowControl = event.equals("pauseWriting") || event.equals("resumeWriting");
        if (inCallback && !flowControl) {
            violations.add(event + " called inside another callback");
        }
        if (!isMade && !event.equals("connectionMade")) {
            violations.add(event + " before connectionMade");
        }
        if (isLost) {
            violations.add(event + " after connectionLost");
        }
        if (!flowControl) {
            inCallback = true;
        }
        if (!(event.equals("dataReceived") && !events.isEmpty() && events.get(events.size() - 1).equals(event))) {
            events.add(event);
        }
    }

    private synchronized void leave() {
        inCallback = false;
    }
}
