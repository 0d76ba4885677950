package org.wharf.transport.tck;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;

import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.Transport;

/**
 * A client protocol that streams a given number of pseudo-random bytes to an echo server as
 * fast as write flow control allows, and hashes what it sends and what comes back. It
 * closes once everything came back. Counts the pause/resume cycles it went through.
 */
public class StreamSender implements Protocol {

    private final long total;
    private final int chunk;
    private final SplittableRandom random;
    private final MessageDigest sentDigest = sha256();
    private final MessageDigest receivedDigest = sha256();
    private final CompletableFuture<String> done = new CompletableFuture<>();
    private final CompletableFuture<Throwable> lost = new CompletableFuture<>();
    private Transport transport;
    private long sent;
    private long received;
    private boolean paused;
    private int pauses;
    private int resumes;
    private boolean halfClose;
    /** The one buffer reused for every write, in writeCopy mode; else {@code null}. */
    private ByteBuffer reused;

    /**
     * A sender of {@code total} bytes in writes of {@code chunk} bytes.
     *
     * @param total bytes to send
     * @param chunk bytes per write
     * @param seed seeds the pseudo-random content
     */
    public StreamSender(long total, int chunk, long seed) {
        this.total = total;
        this.chunk = chunk;
        this.random = new SplittableRandom(seed);
    }

    /**
     * Also half-closes once everything is written, so the server sees end of input.
     *
     * @return this sender
     */
    public StreamSender halfCloseWhenSent() {
        this.halfClose = true;
        return this;
    }

    /**
     * Writes every chunk from one reused direct buffer with {@link Transport#writeCopy},
     * overwriting it right after each write.
     *
     * @return this sender
     */
    public StreamSender copying() {
        this.reused = ByteBuffer.allocateDirect(chunk);
        return this;
    }

    @Override
    public void connectionMade(Transport t) {
        transport = t;
        produce();
    }

    @Override
    public void pauseWriting() {
        paused = true;
        pauses++;
    }

    @Override
    public void resumeWriting() {
        paused = false;
        resumes++;
        produce();
    }

    private void produce() {
        while (!paused && sent < total && !transport.isClosing()) {
            int n = (int) Math.min(chunk, total - sent);
            byte[] bytes = new byte[n];
            for (int i = 0; i < n; i += 8) {
                long v = random.nextLong();
                for (int j = 0; j < 8 && i + j < n; j++) {
                    bytes[i + j] = (byte) (v >>> (8 * j));
                }
            }
            sentDigest.update(bytes);
            sent += n;
            if (reused == null) {
                transport.write(ByteBuffer.wrap(bytes));
            } else {
                reused.clear().put(bytes).flip();
                transport.writeCopy(reused);
                EchoProtocol.scribble(reused, 0, n);
            }
        }
        if (sent == total && halfClose && transport.canWriteEof() && !transport.isClosing()) {
            halfClose = false;
            transport.writeEof();
        }
    }

    @Override
    public void dataReceived(ByteBuffer data) {
        received += data.remaining();
        receivedDigest.update(data);
        if (received == total) {
            done.complete(HexFormat.of().formatHex(receivedDigest.digest()));
            if (!transport.isClosing()) {
                transport.close();
            }
        } else if (received > total) {
            done.completeExceptionally(new AssertionError("received " + received + " bytes, sent " + total));
        }
    }

    @Override
    public boolean eofReceived() {
        if (received < total) {
            done.completeExceptionally(new AssertionError("end of input after " + received + " of " + total + " bytes"));
        }
        return false;
    }

    @Override
    public void connectionLost(Throwable cause) {
        if (!done.isDone()) {
            done.completeExceptionally(new AssertionError("connection lost after " + received + " of " + total
                    + " bytes", cause));
        }
        lost.complete(cause);
    }

    /**
     * Completes with the SHA-256 (hex) of what came back, once all of it did.
     *
     * @return the stage
     */
    public CompletableFuture<String> receivedHash() {
        return done;
    }

    /**
     * The SHA-256 (hex) of what was sent; call once all was sent.
     *
     * @return the hash
     */
    public String sentHash() {
        return HexFormat.of().formatHex(sentDigest.digest());
    }

    /**
     * Completes when the connection is lost.
     *
     * @return the stage, with the cause or {@code null}
     */
    public CompletableFuture<Throwable> lost() {
        return lost;
    }

    /**
     * How often write flow control paused this sender.
     *
     * @return the count
     */
    public int pauses() {
        return pauses;
    }

    /**
     * How often write flow control resumed this sender.
     *
     * @return the count
     */
    public int resumes() {
        return resumes;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
