package org.wharf.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The load generator both servers face: plain NIO on one thread, so neither side's client
 * library helps it. Each connection has one request outstanding: it sends a message, waits
 * for all of it to come back, checks every byte, records the round trip and sends the next.
 */
public final class EchoLoad {

    /** Latencies are counted per microsecond up to this bound; slower ones share the last slot. */
    private static final int MAX_MICROS = 1_000_000;

    private EchoLoad() {
    }

    /**
     * What one run measured.
     *
     * @param trips round trips completed in the measured window
     * @param seconds length of the measured window
     * @param p50Micros median round-trip latency, microseconds
     * @param p99Micros 99th percentile round-trip latency, microseconds
     * @param lost datagrams sent in the measured window that never came back (0 for TCP)
     * @param tls the TLS protocol and cipher suite a connection of the run agreed on, or null
     * @param offered for handshakes, of the {@code trips}, those whose ClientHello offered a
     *     session to resume (the client held a ticket from the server); 0 otherwise
     * @param resumed for handshakes, of the {@code trips}, those the server resumed (its
     *     ServerHello accepted the session); 0 otherwise
     */
    public record Result(long trips, double seconds, long p50Micros, long p99Micros, long lost, String tls,
            long offered, long resumed) {

        /**
         * The figures of a run that makes no handshakes to count.
         *
         * @param trips round trips completed in the measured window
         * @param seconds length of the measured window
         * @param p50Micros median round-trip latency, microseconds
         * @param p99Micros 99th percentile round-trip latency, microseconds
         * @param lost datagrams lost (0 for TCP)
         * @param tls the TLS protocol and cipher suite agreed on, or null
         */
        public Result(long trips, double seconds, long p50Micros, long p99Micros, long lost, String tls) {
            this(trips, seconds, p50Micros, p99Micros, lost, tls, 0, 0);
        }

        /** @return round trips per second */
        public double rate() {
            return trips / seconds;
        }
    }

    /**
     * Drives an echo server.
     *
     * @param server the server's address
     * @param connections connections, each with one message outstanding
     * @param size bytes per message
     * @param warmup time run before measuring
     * @param measure time measured
     * @return the figures of the measured window
     * @throws IOException if a connection fails or an echo differs from what was sent
     */
    public static Result run(InetSocketAddress server, int connections, int size, Duration warmup, Duration measure)
            throws IOException {
        return run(server, null, connections, size, warmup, measure);
    }

    /**
     * Drives an echo server, over TLS if a client is given, with one measured window.
     *
     * @param server the server's address
     * @param tls the driver's TLS, or {@code null} for plain TCP
     * @param connections connections, each with one message outstanding
     * @param size bytes per message
     * @param warmup time run before measuring
     * @param measure time measured
     * @return the figures of the measured window
     * @throws IOException if a connection fails or an echo differs from what was sent
     */
    public static Result run(InetSocketAddress server, TlsClient tls, int connections, int size, Duration warmup,
            Duration measure) throws IOException {
        return run(server, tls, connections, size, Windows.of(warmup, measure), Windows.Listener.NONE).get(0);
    }

    /**
     * Drives an echo server, over TLS if a client is given. Every connection is open (and its
     * handshake done) before the load, and so the windows' clock, starts.
     *
     * @param server the server's address
     * @param tls the driver's TLS, or {@code null} for plain TCP
     * @param connections connections, each with one message outstanding
     * @param size bytes per message
     * @param windows when to measure, from the start of the load
     * @param listener told as each window opens and closes
     * @return the figures of each window
     * @throws IOException if a connection fails or an echo differs from what was sent
     */
    static List<Result> run(InetSocketAddress server, TlsClient tls, int connections, int size, Windows windows,
            Windows.Listener listener) throws IOException {
        if (size < 8) {
            throw new IllegalArgumentException("size = " + size + ": at least 8 bytes (a sequence number)");
        }
        List<Conn> conns = new ArrayList<>();
        try (Selector selector = Selector.open()) {
            for (int i = 0; i < connections; i++) {
                Link link = open(server, tls);
                Conn c = new Conn(link, size, i);
                conns.add(c);
                link.channel().configureBlocking(false);
                c.key = link.channel().register(selector, SelectionKey.OP_READ, c);
            }
            long[][] histograms = new long[windows.count()][MAX_MICROS + 1];
            long[] trips = new long[windows.count()];
            long now = System.nanoTime();
            Windows.Clock clock = windows.start(now, listener);
            for (Conn c : conns) {
                c.send(now);
            }
            while (!clock.finished(now = System.nanoTime())) {
                clock.advance(now);
                selector.select(Math.max(1, clock.nanosToNextBoundary(now) / 1_000_000));
                for (SelectionKey key : selector.selectedKeys()) {
                    Conn c = (Conn) key.attachment();
                    if (key.isValid() && key.isWritable()) {
                        c.flush();
                    }
                    if (key.isValid() && key.isReadable() && c.read()) {
                        long done = System.nanoTime();
                        int window = clock.advance(done);
                        if (window >= 0) {
                            trips[window]++;
                            histograms[window][(int) Math.min(MAX_MICROS, (done - c.sentAt) / 1_000)]++;
                        }
                        c.send(done);
                    }
                }
                selector.selectedKeys().clear();
            }
            clock.advance(now);
            String negotiated = conns.isEmpty() ? null : conns.get(0).link.negotiated();
            List<Result> results = new ArrayList<>();
            for (int w = 0; w < windows.count(); w++) {
                results.add(new Result(trips[w], windows.length().toNanos() / 1e9, percentile(histograms[w], trips[w], 0.50),
                        percentile(histograms[w], trips[w], 0.99), 0, negotiated));
            }
            return results;
        } finally {
            for (Conn c : conns) {
                c.link.close();
            }
        }
    }

    /** Connects in blocking mode, with the TLS handshake done if {@code tls} is given. */
    private static Link open(InetSocketAddress server, TlsClient tls) throws IOException {
        if (tls != null) {
            return TlsLink.open(server, tls);
        }
        SocketChannel channel = SocketChannel.open(server);
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        return Link.plain(channel);
    }

    /** Bulk data repeats with a prime period, so a lost, doubled or shifted chunk shows. */
    private static final int PERIOD = 65_521;

    /**
     * Streams data through an echo server over one connection, writing {@code chunk}-byte
     * buffers as fast as the server takes them while reading the echo back, and checks every
     * byte.
     *
     * @param server the server's address
     * @param chunk bytes per write
     * @param warmup time run before measuring
     * @param measure time measured
     * @return bytes echoed back in the measured window (as {@code trips}) and the window;
     *     latencies are zero
     * @throws IOException if the connection fails or the echo differs from what was sent
     */
    public static Result bulk(InetSocketAddress server, int chunk, Duration warmup, Duration measure)
            throws IOException {
        return bulk(server, null, chunk, warmup, measure);
    }

    /**
     * Streams data through an echo server, over TLS if a client is given, with one measured
     * window; see {@link #bulk(InetSocketAddress, int, Duration, Duration)}.
     *
     * @param server the server's address
     * @param tls the driver's TLS, or {@code null} for plain TCP
     * @param chunk bytes per write
     * @param warmup time run before measuring
     * @param measure time measured
     * @return bytes echoed back in the measured window (as {@code trips}) and the window
     * @throws IOException if the connection fails or the echo differs from what was sent
     */
    public static Result bulk(InetSocketAddress server, TlsClient tls, int chunk, Duration warmup, Duration measure)
            throws IOException {
        return bulk(server, tls, chunk, Windows.of(warmup, measure), Windows.Listener.NONE).get(0);
    }

    /**
     * Streams data through an echo server, over TLS if a client is given: the connection is
     * open (and its handshake done) before the windows' clock starts.
     *
     * @param server the server's address
     * @param tls the driver's TLS, or {@code null} for plain TCP
     * @param chunk bytes per write
     * @param windows when to measure, from the start of the load
     * @param listener told as each window opens and closes
     * @return bytes echoed back in each window (as {@code trips}); latencies are zero
     * @throws IOException if the connection fails or the echo differs from what was sent
     */
    static List<Result> bulk(InetSocketAddress server, TlsClient tls, int chunk, Windows windows,
            Windows.Listener listener) throws IOException {
        byte[] period = new byte[PERIOD];
        new java.util.Random(PERIOD).nextBytes(period);
        byte[] pattern = new byte[PERIOD + chunk]; // any chunk-long window of the endless stream
        for (int i = 0; i < pattern.length; i++) {
            pattern[i] = period[i % PERIOD];
        }
        ByteBuffer source = ByteBuffer.wrap(pattern);
        try (Selector selector = Selector.open(); Link link = open(server, tls)) {
            link.channel().configureBlocking(false);
            SelectionKey key = link.channel().register(selector, SelectionKey.OP_READ | SelectionKey.OP_WRITE);
            ByteBuffer out = ByteBuffer.allocateDirect(chunk);
            ByteBuffer in = ByteBuffer.allocateDirect(chunk);
            out.limit(0);
            long sent = 0;
            long received = 0;
            long[] bytes = new long[windows.count()];
            long now = System.nanoTime();
            Windows.Clock clock = windows.start(now, listener);
            while (!clock.finished(now = System.nanoTime())) {
                clock.advance(now);
                boolean buffered = link.buffered(); // TLS: records taken from the socket, not yet read
                if (buffered) {
                    selector.selectNow();
                } else {
                    selector.select(Math.max(1, clock.nanosToNextBoundary(now) / 1_000_000));
                }
                if (key.isWritable()) {
                    if (link.pendingWrite()) {
                        link.flush();
                    } else {
                        if (!out.hasRemaining()) {
                            int at = (int) (sent % PERIOD);
                            out.clear();
                            out.put(source.slice(at, chunk));
                            out.flip();
                        }
                        sent += link.write(out);
                    }
                }
                if (key.isReadable() || buffered) {
                    in.clear();
                    int n = link.read(in);
                    if (n < 0) {
                        throw new IOException("the server closed the connection");
                    }
                    in.flip();
                    int at = (int) (received % PERIOD);
                    if (in.mismatch(source.slice(at, n)) >= 0) {
                        throw new IOException("echo at byte " + received + " differs from what was sent");
                    }
                    received += n;
                    int window = clock.advance(System.nanoTime());
                    if (window >= 0) {
                        bytes[window] += n;
                    }
                }
                selector.selectedKeys().clear();
            }
            clock.advance(now);
            List<Result> results = new ArrayList<>();
            for (int w = 0; w < windows.count(); w++) {
                results.add(new Result(bytes[w], windows.length().toNanos() / 1e9, 0, 0, 0, link.negotiated()));
            }
            return results;
        }
    }

    /**
     * Full TLS handshakes with one measured window; see
     * {@link #handshakes(InetSocketAddress, TlsClient, int, int, Windows, Windows.Listener)}.
     *
     * @param server the server's address
     * @param tls the driver's TLS
     * @param clients concurrent clients, one thread each
     * @param size bytes of the message echoed on each connection, at least 8
     * @param warmup time run before measuring
     * @param measure time measured
     * @return connections completed in the measured window (as {@code trips}) and the
     *     latencies from connect to echo
     * @throws IOException if a handshake fails or an echo differs from what was sent
     */
    public static Result handshakes(InetSocketAddress server, TlsClient tls, int clients, int size, Duration warmup,
            Duration measure) throws IOException {
        return handshakes(server, tls, false, clients, size, Windows.of(warmup, measure), Windows.Listener.NONE).get(0);
    }

    /**
     * Handshakes that resume a session where the server lets them, with one measured window;
     * see {@link #handshakes(InetSocketAddress, TlsClient, boolean, int, int, Windows, Windows.Listener)}.
     *
     * @param server the server's address
     * @param tls the driver's TLS: its context's session cache keeps each server's tickets
     * @param clients concurrent clients, one thread each
     * @param size bytes of the message echoed on each connection, at least 8
     * @param warmup time run before measuring
     * @param measure time measured
     * @return connections completed in the measured window (as {@code trips}), and how many
     *     offered a session and how many the server resumed
     * @throws IOException if a handshake fails or an echo differs from what was sent
     */
    public static Result resumedHandshakes(InetSocketAddress server, TlsClient tls, int clients, int size,
            Duration warmup, Duration measure) throws IOException {
        return handshakes(server, tls, true, clients, size, Windows.of(warmup, measure), Windows.Listener.NONE).get(0);
    }

    /**
     * TLS handshakes: {@code clients} threads each connect in blocking mode, complete a
     * handshake, echo one message (so the server has finished its side too, and any ticket it
     * issues has reached the client), close, and start over. Without {@code resume} every
     * handshake is a full one; with it, each client keeps a context of its own for the run (see
     * {@link TlsClient#ownSessions()}) whose session cache offers the session the server's last
     * ticket gave it, so each handshake after a client's first is resumed if the server issued
     * a ticket and accepts it. Either way the driver reads each handshake's hellos and
     * counts the sessions offered and those resumed: what the server did is measured, not
     * assumed. A connection counts in the window in which its echo came back; the calling
     * thread keeps the windows' clock (and tells the listener) while the clients run.
     *
     * @param server the server's address
     * @param tls the driver's TLS
     * @param resume whether to offer the sessions the client context holds
     * @param clients concurrent clients, one thread each
     * @param size bytes of the message echoed on each connection, at least 8
     * @param windows when to measure, from the start of the load
     * @param listener told as each window opens and closes
     * @return connections completed in each window (as {@code trips}), the latencies from
     *     connect to echo, and of those connections the ones that offered a session and the
     *     ones resumed
     * @throws IOException if a handshake fails or an echo differs from what was sent
     */
    static List<Result> handshakes(InetSocketAddress server, TlsClient tls, boolean resume, int clients, int size,
            Windows windows, Windows.Listener listener) throws IOException {
        long start = System.nanoTime();
        Windows.Clock clock = windows.start(start, listener);
        long end = start + windows.spanNanos();
        List<long[][]> histograms = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicReference<String> negotiated = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicLongArray trips = new java.util.concurrent.atomic.AtomicLongArray(windows.count());
        java.util.concurrent.atomic.AtomicLongArray offered = new java.util.concurrent.atomic.AtomicLongArray(windows.count());
        java.util.concurrent.atomic.AtomicLongArray resumed = new java.util.concurrent.atomic.AtomicLongArray(windows.count());
        for (int t = 0; t < clients; t++) {
            long[][] histogram = new long[windows.count()][MAX_MICROS + 1];
            histograms.add(histogram);
            int id = t;
            Thread thread = new Thread(() -> {
                ByteBuffer out = ByteBuffer.allocate(size);
                ByteBuffer in = ByteBuffer.allocate(size);
                try {
                    // Resuming, each client keeps one context whose session cache holds its ticket.
                    TlsClient client = resume ? tls.ownSessions() : tls;
                    for (long sequence = 0; System.nanoTime() - end < 0 && failure.get() == null; sequence++) {
                        long started = System.nanoTime();
                        out.clear().putLong(sequence);
                        while (out.hasRemaining()) {
                            out.put((byte) (id + out.position()));
                        }
                        out.flip();
                        in.clear();
                        boolean wasOffered;
                        boolean wasResumed;
                        try (TlsLink link = TlsLink.open(server, client, resume)) {
                            negotiated.compareAndSet(null, link.negotiated());
                            wasOffered = link.offeredSession();
                            wasResumed = link.resumed();
                            while (out.hasRemaining()) {
                                link.write(out);
                            }
                            while (in.hasRemaining()) {
                                if (link.read(in) < 0) {
                                    throw new IOException("the server closed a connection before echoing");
                                }
                            }
                        }
                        if (!in.flip().equals(out.flip())) {
                            throw new IOException("echo " + sequence + " differs from what was sent");
                        }
                        long finished = System.nanoTime();
                        int window = windows.at(finished - start);
                        if (window >= 0) {
                            trips.incrementAndGet(window);
                            histogram[window][(int) Math.min(MAX_MICROS, (finished - started) / 1_000)]++;
                            if (wasOffered) {
                                offered.incrementAndGet(window);
                            }
                            if (wasResumed) {
                                resumed.incrementAndGet(window);
                            }
                        }
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }, "handshake-client-" + t);
            threads.add(thread);
            thread.start();
        }
        // The windows open and close on time while the clients work (this thread only waits).
        for (long now; !clock.finished(now = System.nanoTime()) && failure.get() == null;) {
            clock.advance(now);
            java.util.concurrent.locks.LockSupport.parkNanos(Math.max(100_000, clock.nanosToNextBoundary(now)));
        }
        clock.advance(System.nanoTime());
        for (Thread thread : threads) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }
        if (failure.get() != null) {
            throw new IOException("a handshake client failed: " + failure.get(), failure.get());
        }
        List<Result> results = new ArrayList<>();
        for (int w = 0; w < windows.count(); w++) {
            long[] histogram = new long[MAX_MICROS + 1];
            for (long[][] h : histograms) {
                for (int i = 0; i < histogram.length; i++) {
                    histogram[i] += h[w][i];
                }
            }
            long total = trips.get(w);
            results.add(new Result(total, windows.length().toNanos() / 1e9, percentile(histogram, total, 0.50),
                    percentile(histogram, total, 0.99), 0, negotiated.get(), offered.get(w), resumed.get(w)));
        }
        return results;
    }

    /**
     * Opens {@code count} connections and has one byte echoed on each, so every connection
     * has been accepted and has carried data; then leaves them idle and open.
     *
     * @param server the server's address
     * @param count connections to open
     * @return the open connections, for the caller to close
     * @throws IOException if a connection fails or an echo is wrong
     */
    public static List<SocketChannel> idle(InetSocketAddress server, int count) throws IOException {
        List<SocketChannel> open = new ArrayList<>(count);
        try {
            ByteBuffer one = ByteBuffer.allocateDirect(1);
            for (int i = 0; i < count; i++) {
                SocketChannel channel = SocketChannel.open(server);
                open.add(channel);
                channel.write(one.clear().put(0, (byte) i));
            }
            for (int i = 0; i < count; i++) {
                one.clear();
                if (open.get(i).read(one) != 1 || one.get(0) != (byte) i) {
                    throw new IOException("connection " + i + " did not echo its byte");
                }
            }
            return open;
        } catch (IOException | RuntimeException e) {
            for (SocketChannel channel : open) {
                channel.close();
            }
            throw e;
        }
    }

    /**
     * Drives a UDP echo server with one measured window; see
     * {@link #udp(InetSocketAddress, int, int, Windows, Windows.Listener)}.
     *
     * @param server the server's address
     * @param outstanding datagrams in flight
     * @param size bytes per datagram, at least 8
     * @param warmup time run before measuring
     * @param measure time measured
     * @return answers in the measured window (as {@code trips}), latencies, and losses
     * @throws IOException if the socket fails or an answer differs from every datagram sent
     */
    public static Result udp(InetSocketAddress server, int outstanding, int size, Duration warmup, Duration measure)
            throws IOException {
        return udp(server, outstanding, size, Windows.of(warmup, measure), Windows.Listener.NONE).get(0);
    }

    /**
     * Drives a UDP echo server with {@code outstanding} datagrams in flight: each answer (its
     * bytes checked) sends the next; a datagram with no answer after 50 ms counts as lost (in
     * the window it was sent in) and is replaced.
     *
     * @param server the server's address
     * @param outstanding datagrams in flight
     * @param size bytes per datagram, at least 8
     * @param windows when to measure, from the start of the load
     * @param listener told as each window opens and closes
     * @return answers in each window (as {@code trips}), latencies, and losses
     * @throws IOException if the socket fails or an answer differs from every datagram sent
     */
    static List<Result> udp(InetSocketAddress server, int outstanding, int size, Windows windows,
            Windows.Listener listener) throws IOException {
        long lossAfter = TimeUnit.MILLISECONDS.toNanos(50);
        try (Selector selector = Selector.open(); DatagramChannel channel = DatagramChannel.open()) {
            channel.bind(new InetSocketAddress(server.getAddress(), 0)).connect(server);
            channel.configureBlocking(false);
            channel.register(selector, SelectionKey.OP_READ);
            java.util.LinkedHashMap<Long, Long> inFlight = new java.util.LinkedHashMap<>(); // sequence -> sent at
            ByteBuffer out = ByteBuffer.allocateDirect(size);
            ByteBuffer in = ByteBuffer.allocateDirect(size + 1);
            long[][] histograms = new long[windows.count()][MAX_MICROS + 1];
            long[] trips = new long[windows.count()];
            long[] lost = new long[windows.count()];
            long sequence = 0;
            long now = System.nanoTime();
            Windows.Clock clock = windows.start(now, listener);
            while (!clock.finished(now = System.nanoTime())) {
                clock.advance(now);
                while (inFlight.size() < outstanding) {
                    sequence++;
                    fillDatagram(out, sequence);
                    if (channel.write(out) == 0) {
                        break; // the socket buffer is full: try again after a select
                    }
                    inFlight.put(sequence, now);
                }
                selector.select(1);
                selector.selectedKeys().clear();
                for (int n; (n = read(channel, in)) > 0;) {
                    long at = System.nanoTime();
                    in.flip();
                    if (n != size) {
                        throw new IOException("a " + n + "-byte answer to " + size + "-byte datagrams");
                    }
                    long answered = in.getLong(0);
                    fillDatagram(out, answered);
                    if (!in.equals(out)) {
                        throw new IOException("answer " + answered + " differs from what was sent");
                    }
                    Long sentAt = inFlight.remove(answered);
                    int window = clock.advance(at);
                    if (sentAt != null && window >= 0) {
                        trips[window]++;
                        histograms[window][(int) Math.min(MAX_MICROS, (at - sentAt) / 1_000)]++;
                    }
                }
                for (var i = inFlight.entrySet().iterator(); i.hasNext();) {
                    var e = i.next();
                    if (now - e.getValue() < lossAfter) {
                        break; // in sending order: the rest are younger
                    }
                    int window = windows.at(e.getValue() - clock.startNanos());
                    if (window >= 0) {
                        lost[window]++;
                    }
                    i.remove();
                }
            }
            clock.advance(now);
            List<Result> results = new ArrayList<>();
            for (int w = 0; w < windows.count(); w++) {
                results.add(new Result(trips[w], windows.length().toNanos() / 1e9, percentile(histograms[w], trips[w], 0.50),
                        percentile(histograms[w], trips[w], 0.99), lost[w], null));
            }
            return results;
        }
    }

    private static int read(DatagramChannel channel, ByteBuffer in) throws IOException {
        in.clear();
        return channel.read(in);
    }

    /** A datagram: its sequence number, then bytes derived from it. */
    private static void fillDatagram(ByteBuffer out, long sequence) {
        out.clear();
        out.putLong(sequence);
        while (out.hasRemaining()) {
            out.put((byte) (sequence * 31 + out.position()));
        }
        out.flip();
    }

    private static long percentile(long[] histogram, long total, double p) {
        long rank = (long) Math.ceil(total * p);
        long seen = 0;
        for (int micros = 0; micros < histogram.length; micros++) {
            seen += histogram[micros];
            if (seen >= rank && seen > 0) {
                return micros;
            }
        }
        return 0;
    }

    /** One connection: the message in flight and the echo coming back. */
    private static final class Conn {
        final Link link;
        final ByteBuffer out;
        final ByteBuffer in;
        final ByteBuffer expected;
        SelectionKey key;
        long sequence;
        long sentAt;

        Conn(Link link, int size, int id) {
            this.link = link;
            this.out = ByteBuffer.allocateDirect(size);
            this.in = ByteBuffer.allocateDirect(size);
            this.expected = ByteBuffer.allocate(size);
            for (int i = 8; i < size; i++) {
                expected.put(i, (byte) (id + i));
            }
        }

        void send(long now) throws IOException {
            sequence++;
            expected.putLong(0, sequence);
            out.clear();
            out.put(expected.duplicate().clear());
            out.flip();
            in.clear();
            sentAt = now;
            flush();
        }

        void flush() throws IOException {
            if (link.flush()) {
                link.write(out);
            }
            key.interestOps(out.hasRemaining() || link.pendingWrite() ? SelectionKey.OP_READ | SelectionKey.OP_WRITE
                    : SelectionKey.OP_READ);
        }

        /** @return whether the whole echo has arrived (and matched) */
        boolean read() throws IOException {
            if (link.read(in) < 0) {
                throw new IOException("the server closed a connection");
            }
            if (in.hasRemaining()) {
                return false;
            }
            in.flip();
            if (!in.equals(expected.duplicate().clear())) {
                throw new IOException("echo " + sequence + " differs from what was sent");
            }
            return true;
        }
    }
}
