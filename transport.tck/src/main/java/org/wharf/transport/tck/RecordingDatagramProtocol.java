package org.wharf.transport.tck;

import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;

import org.wharf.transport.api.DatagramProtocol;
import org.wharf.transport.api.DatagramTransport;

/**
 * A datagram protocol that keeps what it receives (a copy of each datagram with its sender)
 * and the errors reported to it, for tests to take in order.
 */
public class RecordingDatagramProtocol implements DatagramProtocol {

    /** A datagram as received. */
    public record Datagram(byte[] data, SocketAddress sender) {
    }

    private final BlockingQueue<Datagram> datagrams = new LinkedBlockingQueue<>();
    private final BlockingQueue<Exception> errors = new LinkedBlockingQueue<>();
    private final CompletableFuture<DatagramTransport> made = new CompletableFuture<>();
    private final CompletableFuture<Throwable> lost = new CompletableFuture<>();
    private volatile int lostCalls;

    /** A protocol that records. */
    public RecordingDatagramProtocol() {
    }

    @Override
    public void connectionMade(DatagramTransport transport) {
        made.complete(transport);
    }

    @Override
    public void datagramReceived(ByteBuffer data, SocketAddress sender) {
        byte[] copy = new byte[data.remaining()];
        data.get(copy);
        datagrams.add(new Datagram(copy, sender));
        onDatagram(copy, sender);
    }

    /**
     * Hook for subclasses, after the datagram is recorded.
     *
     * @param data a copy of the datagram
     * @param sender where it came from
     */
    protected void onDatagram(byte[] data, SocketAddress sender) {
    }

    @Override
    public void errorReceived(Exception error) {
        errors.add(error);
    }

    @Override
    public void connectionLost(Throwable cause) {
        lostCalls++;
        lost.complete(cause);
    }

    /**
     * The datagrams received, in order.
     *
     * @return the queue to take from
     */
    public BlockingQueue<Datagram> datagrams() {
        return datagrams;
    }

    /**
     * The errors reported, in order.
     *
     * @return the queue to take from
     */
    public BlockingQueue<Exception> errors() {
        return errors;
    }

    /**
     * Completes with the transport once connected.
     *
     * @return the stage
     */
    public CompletableFuture<DatagramTransport> made() {
        return made;
    }

    /**
     * Completes when the transport is closed.
     *
     * @return the stage, with the cause or {@code null}
     */
    public CompletableFuture<Throwable> lost() {
        return lost;
    }

    /**
     * How often {@code connectionLost} was called.
     *
     * @return the count
     */
    public int lostCalls() {
        return lostCalls;
    }

    /**
     * The transport, once connected.
     *
     * @return the transport
     */
    public DatagramTransport transport() {
        return made.getNow(null);
    }
}
