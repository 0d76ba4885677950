package org.wharf.endpoints.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.wharf.endpoints.Server;
import org.wharf.endpoints.ServerCounters;
import org.wharf.protocol.api.FirstBytes;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.Transport;
import org.wharf.transport.nio.internal.NioEventLoopGroup;
import org.wharf.transport.nio.internal.NioSettings;
import org.wharf.transport.nio.internal.NioTcpProvider;
import org.wharf.transport.nio.internal.Resolver;
import org.wharf.transport.tck.Await;
import org.wharf.transport.tck.LogCapture;

/**
 * The detection layer over real TCP: a connection goes to the first listed protocol that claims
 * its first bytes, with every byte it sent; garbage, silence and too many undecided bytes are
 * closed within the bounds, counted by reason and logged once per burst; a protocol that went
 * away in the meantime is passed over.
 */
class DetectingTest {

    private static final NioEventLoopGroup GROUP = new NioEventLoopGroup(new NioSettings(2, 64 * 1024,
            NioSettings.DEFAULT.writeBufferLimits()));
    private static final Resolver RESOLVER = new Resolver();
    private static final NioTcpProvider TCP = new NioTcpProvider(GROUP, RESOLVER);

    @AfterAll
    static void close() throws Exception {
        GROUP.shutdown().get(10, TimeUnit.SECONDS);
        RESOLVER.shutdown();
    }

    /** Answers its name and a colon, then echoes every byte. */
    private static class Echo implements Protocol {
        private final String name;
        private Transport transport;

        Echo(String name) {
            this.name = name;
        }

        @Override
        public void connectionMade(Transport t) {
            transport = t;
            t.write(ByteBuffer.wrap((name + ":").getBytes(StandardCharsets.US_ASCII)));
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            transport.writeCopy(data);
        }

        @Override
        public void connectionLost(Throwable cause) {
        }
    }

    /** A candidate that claims what starts with {@code prefix}; with {@code line}, only once a newline came. */
    private static Detecting.Candidate candidate(String name, char prefix, boolean line, AtomicBoolean gone) {
        return new Detecting.Candidate() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public FirstBytes.Match match(ByteBuffer first) {
                if (gone.get() || first.get(first.position()) != prefix) {
                    return FirstBytes.Match.NO;
                }
                if (!line) {
                    return FirstBytes.Match.MATCH;
                }
                for (int i = first.position(); i < first.limit(); i++) {
                    if (first.get(i) == '\n') {
                        return FirstBytes.Match.MATCH;
                    }
                }
                return FirstBytes.Match.NEED_MORE;
            }

            @Override
            public Protocol open(Detecting connection) {
                return gone.get() ? null : new Echo(name);
            }

            @Override
            public void closed(Detecting connection) {
            }

            @Override
            public boolean departed() {
                return gone.get();
            }
        };
    }

    private static Server start(String name, Detecting.Bounds bounds, List<Detecting.Candidate> candidates) {
        AtomicReference<Server> server = new AtomicReference<>();
        Server s = Await.await(Server.builder(TCP).name(name).address(new InetSocketAddress(InetAddress
                .getLoopbackAddress(), 0)).protocol(() -> new Detecting(name, bounds, candidates, false,
                        reason -> server.get().countRefused(reason))).start());
        server.set(s);
        return s;
    }

    /** Sends bytes, then reads until the server closes (it closes each of these connections). */
    private static byte[] exchange(int port, byte[] send, int expect) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(send);
            InputStream in = s.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            while (got.size() < expect) {
                int n = in.read(buffer);
                if (n < 0) {
                    break;
                }
                got.write(buffer, 0, n);
            }
            return got.toByteArray();
        }
    }

    private static long refused(Server s, String reason) {
        return s.counters().refused().getOrDefault(reason, 0L);
    }

    @Test
    void aConnectionGoesToTheFirstListedProtocolThatClaimsItWithEveryByteItSent() throws Exception {
        AtomicBoolean present = new AtomicBoolean();
        Server s = start("det-route", new Detecting.Bounds(16, Duration.ofSeconds(10)), List.of(
                candidate("b", 'B', true, present), candidate("a", 'A', false, present),
                candidate("a2", 'A', false, present)));
        try {
            int port = s.addresses().get(0).getPort();
            // Far more than maxBytes in the first reads: the detectors see 16, the protocol all of it.
            byte[] big = new byte[200_000];
            java.util.Arrays.fill(big, (byte) 'x');
            big[0] = 'A';
            byte[] answer = exchange(port, big, 2 + big.length);
            assertEquals("a:", new String(answer, 0, 2, StandardCharsets.US_ASCII), "the first listed that matches");
            assertArrayEquals(big, java.util.Arrays.copyOfRange(answer, 2, answer.length), "every byte, in order");
            // b needs its line: it waits for the newline, then has the connection.
            assertEquals("b:Bonjour\n", new String(exchange(port, "Bonjour\n".getBytes(StandardCharsets.US_ASCII), 10),
                    StandardCharsets.US_ASCII));
        } finally {
            Await.await(s.close(Duration.ZERO));
        }
    }

    /**
     * An undecided connection asked to drain (a listed protocol is upgraded while its first
     * bytes come) is not closed: it goes on to the protocol its bytes choose, which is asked to
     * drain in turn. Before, it was closed, and the request it was sending lost.
     */
    @Test
    void anUndecidedConnectionAskedToDrainGoesOnToItsProtocolWhichIsAskedToDrain() throws Exception {
        AtomicBoolean present = new AtomicBoolean();
        java.util.concurrent.CountDownLatch drained = new java.util.concurrent.CountDownLatch(1);
        Detecting.Candidate lines = candidate("b", 'B', true, present);
        Detecting.Candidate drainable = new Detecting.Candidate() {
            @Override
            public String name() {
                return "b";
            }

            @Override
            public FirstBytes.Match match(ByteBuffer first) {
                return lines.match(first);
            }

            @Override
            public Protocol open(Detecting connection) {
                class Drains extends Echo implements org.wharf.protocol.api.Drainable {
                    Drains() {
                        super("b");
                    }

                    @Override
                    public void drain() {
                        drained.countDown();
                    }
                }
                return new Drains();
            }

            @Override
            public void closed(Detecting connection) {
            }

            @Override
            public boolean departed() {
                return false;
            }
        };
        Server s = start("det-drain", new Detecting.Bounds(64, Duration.ofSeconds(10)), List.of(drainable));
        try (Socket c = new Socket(InetAddress.getLoopbackAddress(), s.addresses().get(0).getPort())) {
            c.setSoTimeout(20_000);
            c.getOutputStream().write("Bon".getBytes(StandardCharsets.US_ASCII)); // b needs its whole line
            Await.awaitTrue(() -> s.counters().bytesReceived() >= 3, "the first bytes are read");
            s.drainBefore(Integer.MAX_VALUE); // every connection: as a graceful stop asks of them all
            afterLoopTasks(s); // the drain, queued on the connection's loop, ran before the rest comes
            c.getOutputStream().write("jour\n".getBytes(StandardCharsets.US_ASCII));
            byte[] answer = c.getInputStream().readNBytes(10);
            assertEquals("b:Bonjour\n", new String(answer, StandardCharsets.US_ASCII),
                    "answered by the protocol its bytes chose, not closed while undecided");
            assertTrue(drained.await(20, TimeUnit.SECONDS), "which is asked to drain once it has the connection");
        } finally {
            Await.await(s.close(Duration.ZERO));
        }
    }

    /** An undecided connection that has sent nothing is at a clean boundary: a drain closes it at once. */
    @Test
    void anUndecidedConnectionThatSentNothingIsClosedByADrain() throws Exception {
        AtomicBoolean present = new AtomicBoolean();
        Server s = start("det-drain-silent", new Detecting.Bounds(64, Duration.ofSeconds(30)), List.of(
                candidate("b", 'B', true, present)));
        try (Socket c = new Socket(InetAddress.getLoopbackAddress(), s.addresses().get(0).getPort())) {
            c.setSoTimeout(20_000);
            Await.awaitTrue(() -> s.counters().open() >= 1, "the connection is accepted");
            s.drainBefore(Integer.MAX_VALUE);
            assertEquals(-1, c.getInputStream().read(), "closed by the drain, not at detect.timeout (30 s)");
        } finally {
            Await.await(s.close(Duration.ZERO));
        }
    }

    /** Waits until every connection's loop has run the tasks queued on it so far. */
    private static void afterLoopTasks(Server s) throws InterruptedException {
        java.util.Collection<Transport> open = s.connections();
        java.util.concurrent.CountDownLatch ran = new java.util.concurrent.CountDownLatch(open.size());
        open.forEach(t -> t.loop().execute(ran::countDown));
        assertTrue(ran.await(20, TimeUnit.SECONDS), "the loops ran their tasks");
    }

    @Test
    void garbageIsClosedAtOnceCountedAndLoggedOncePerBurst() throws Exception {
        AtomicBoolean present = new AtomicBoolean();
        Server s = start("det-garbage", new Detecting.Bounds(16, Duration.ofSeconds(10)), List.of(
                candidate("a", 'A', false, present)));
        try (LogCapture log = new LogCapture()) {
            int port = s.addresses().get(0).getPort();
            for (int i = 0; i < 5; i++) {
                long t0 = System.nanoTime();
                assertEquals(0, exchange(port, new byte[] {'Z', 0, 1}, 1).length, "closed without an answer");
                assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5), "long before detect.timeout");
            }
            Await.awaitTrue(() -> refused(s, ServerCounters.REFUSED_NO_MATCH) == 5, "five counted");
            List<LogCapture.Line> lines = log.lines().stream().filter(l -> l.message().contains(
                    "endpoint det-garbage: closing the connection from 127.0.0.1:")).toList();
            assertEquals(1, lines.size(), "one line for the burst: " + log.lines());
            assertTrue(lines.get(0).message().endsWith("no protocol (a) recognised the first 3 byte(s) (Z\\x00\\x01)"),
                    lines.get(0).message());
        } finally {
            Await.await(s.close(Duration.ZERO));
        }
    }

    @Test
    void aClientThatSendsNothingIsClosedAtTheTimeout() throws Exception {
        AtomicBoolean present = new AtomicBoolean();
        Server s = start("det-silent", new Detecting.Bounds(16, Duration.ofMillis(300)), List.of(
                candidate("a", 'A', false, present)));
        try (LogCapture log = new LogCapture(); Socket silent = new Socket(InetAddress.getLoopbackAddress(),
                s.addresses().get(0).getPort())) {
            silent.setSoTimeout(20_000);
            long t0 = System.nanoTime();
            assertEquals(-1, silent.getInputStream().read());
            long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(took >= 250 && took < 10_000, "closed at detect.timeout (300 ms), took " + took + " ms");
            assertEquals(1, refused(s, ServerCounters.REFUSED_DETECT_TIMEOUT));
            Await.awaitTrue(() -> log.contains("endpoint det-silent: closing the connection from 127.0.0.1:"),
                    "logged");
            assertTrue(log.contains("nothing was sent within 300 ms (detect.timeout)"), log.lines().toString());
        } finally {
            Await.await(s.close(Duration.ZERO));
        }
    }

    @Test
    void moreThanMaxBytesWithoutADecisionIsRefused() throws Exception {
        AtomicBoolean present = new AtomicBoolean();
        Server s = start("det-size", new Detecting.Bounds(16, Duration.ofSeconds(10)), List.of(
                candidate("b", 'B', true, present), candidate("b2", 'B', false, present)));
        try (LogCapture log = new LogCapture()) {
            int port = s.addresses().get(0).getPort();
            // b decides only at a newline and is asked first: b2, which would match, waits behind it.
            assertEquals(0, exchange(port, ("B" + "y".repeat(40)).getBytes(StandardCharsets.US_ASCII), 1).length);
            assertEquals(1, refused(s, ServerCounters.REFUSED_DETECT_SIZE));
            Await.awaitTrue(() -> log.contains("b wanted more than the first 16 bytes (detect.maxBytes) to decide"),
                    "logged");
        } finally {
            Await.await(s.close(Duration.ZERO));
        }
    }

    @Test
    void aProtocolThatWentAwayIsPassedOver() throws Exception {
        AtomicBoolean gone = new AtomicBoolean();
        AtomicBoolean present = new AtomicBoolean();
        Server s = start("det-gone", new Detecting.Bounds(16, Duration.ofSeconds(10)), List.of(
                candidate("a", 'A', false, gone), candidate("a2", 'A', false, present)));
        try {
            int port = s.addresses().get(0).getPort();
            assertEquals("a:A", new String(exchange(port, "A".getBytes(StandardCharsets.US_ASCII), 3),
                    StandardCharsets.US_ASCII));
            gone.set(true);
            assertEquals("a2:A", new String(exchange(port, "A".getBytes(StandardCharsets.US_ASCII), 4),
                    StandardCharsets.US_ASCII));
        } finally {
            Await.await(s.close(Duration.ZERO));
        }
    }

    /** A registered factory named {@code a} at a version, claiming what starts with 'A', answering {@code name:}. */
    private static ProtocolEntry entry(long id, String version, String name) {
        java.util.Map<String, Object> properties = new java.util.HashMap<>();
        properties.put(org.wharf.protocol.api.ProtocolFactory.NAME_PROPERTY, "a");
        properties.put(org.wharf.protocol.api.ProtocolFactory.VERSION_PROPERTY, version);
        ProtocolEntry e = new ProtocolEntry(id, ProtocolEntry.Kind.STREAM, null, properties, "a",
                org.osgi.framework.Version.parseVersion(version), ProtocolEntry.transports(ProtocolEntry.Kind.STREAM,
                        null), "test");
        interface Detector extends org.wharf.protocol.api.ProtocolFactory, FirstBytes {
        }
        Detector factory = new Detector() {
            @Override
            public Protocol newProtocol(org.wharf.protocol.api.ProtocolContext context) {
                return new Echo(name);
            }

            @Override
            public Match match(org.wharf.protocol.api.ProtocolContext context, ByteBuffer first) {
                return first.get(first.position()) == 'A' ? Match.MATCH : Match.NO;
            }
        };
        org.osgi.framework.BundleContext context = (org.osgi.framework.BundleContext) java.lang.reflect.Proxy
                .newProxyInstance(org.osgi.framework.BundleContext.class.getClassLoader(),
                        new Class<?>[] {org.osgi.framework.BundleContext.class}, (proxy, method, args) -> switch (method
                                .getName()) {
                            case "getService" -> factory;
                            case "ungetService" -> true;
                            default -> throw new UnsupportedOperationException(method.getName());
                        });
        assertTrue(e.acquire(context));
        return e;
    }

    @Test
    void anUnclaimedConnectionWaitsForAListedProtocolBeingReplacedAtMostTheReplaceWindow() throws Exception {
        Detection d = Detection.of("det-replace", org.wharf.transport.api.Settings.of(java.util.Map.of("protocol",
                "x, a", "detect.timeout", 10_000)));
        java.util.function.BiConsumer<Runnable, Duration> never = (task, delay) -> { };
        ProtocolEntry v1 = entry(1, "1.0.0", "a1");
        d.update(List.of(v1), e -> true, e -> { }, never, Duration.ofSeconds(30), Duration.ofSeconds(30));
        Server s = Await.await(Server.builder(TCP).name("det-replace").address(new InetSocketAddress(InetAddress
                .getLoopbackAddress(), 0)).protocol((hooks, budget) -> d.layer(new org.wharf.protocol.api
                        .ProtocolContext("det-replace", "tcp", java.util.Map.of(), hooks, budget), false)).start());
        d.server(s);
        try {
            int port = s.addresses().get(0).getPort();
            assertEquals("a1:A", new String(exchange(port, new byte[] {'A'}, 4), StandardCharsets.US_ASCII));

            v1.depart(); // its bundle is being updated: unregistered, the whiteboard has not looked yet
            try (Socket held = new Socket(InetAddress.getLoopbackAddress(), port)) {
                held.setSoTimeout(20_000);
                held.getOutputStream().write('A');
                // Held, not refused, until the new version is registered and the whiteboard updates the list.
                Await.awaitTrue(() -> s.counters().open() == 2 || s.counters().sessions() >= 2, "the connection is made");
                ProtocolEntry v2 = entry(2, "2.0.0", "a2");
                d.update(List.of(v2), e -> true, e -> { }, never, Duration.ofSeconds(30), Duration.ofMillis(300));
                byte[] answer = held.getInputStream().readNBytes(4);
                assertEquals("a2:A", new String(answer, StandardCharsets.US_ASCII), "the replacement has it");
                assertEquals(0, refused(s, ServerCounters.REFUSED_NO_MATCH));

                // Removed for good: unclaimed connections wait the replace window (300 ms), then are refused.
                v2.depart();
                d.update(List.of(), e -> true, e -> { }, never, Duration.ofSeconds(30), Duration.ofMillis(300));
                long t0 = System.nanoTime();
                assertEquals(0, exchange(port, new byte[] {'A'}, 1).length);
                long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                assertTrue(took < 10_000, "refused within the replace window, took " + took + " ms");
                assertEquals(1, refused(s, ServerCounters.REFUSED_NO_MATCH));
            }
        } finally {
            Await.await(s.close(Duration.ZERO));
        }
    }
}
