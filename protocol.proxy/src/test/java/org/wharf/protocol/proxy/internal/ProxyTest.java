package org.wharf.protocol.proxy.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.wharf.transport.tck.LogCapture;
import org.wharf.transport.tck.EchoProtocol;
import org.wharf.transport.tck.RecordingProtocol;
import org.wharf.transport.tck.StreamSender;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.Transport;

/** The proxy between real clients and real upstream servers, over TCP and TLS legs. */
class ProxyTest {

    private static Legs legs;

    @BeforeAll
    static void start() throws Exception {
        legs = new Legs();
    }

    @AfterAll
    static void stop() throws Exception {
        legs.close();
    }

    @BeforeEach
    void clearLog() {
        legs.log.clear();
    }

    @Test
    void aThousandMessagesGoUpAndComeBackInOrder() throws Exception {
        Legs.Server<EchoProtocol> upstream = legs.serve("tcp", EchoProtocol::new);
        Legs.Proxy proxy = legs.proxy("tcp", Map.of(Route.UPSTREAMS, Legs.hostPort(upstream.address())));
        RecordingProtocol client = legs.connect("tcp", proxy.address(), new RecordingProtocol());
        byte[] all = new byte[1000 * 100];
        new java.util.Random(3).nextBytes(all);
        for (int i = 0; i < 1000; i++) {
            client.transport().write(ByteBuffer.wrap(all, i * 100, 100).slice());
        }
        Legs.awaitTrue(() -> client.receivedCount() == all.length, "all 1,000 messages came back");
        client.transport().close();
        EchoProtocol echo = upstream.next();
        assertNull(Legs.await(echo.lost()), "the upstream connection ends cleanly");
        assertNull(Legs.await(client.lost()));
        assertArrayEquals(all, echo.received());
        assertArrayEquals(all, client.received());
        Route.Counters counters = proxy.route().counters;
        Legs.awaitTrue(() -> counters.active.get() == 0, "the route has no connection open");
        assertEquals(1, counters.connections.sum());
        assertEquals(all.length, counters.bytesToUpstream.sum());
        assertEquals(all.length, counters.bytesToClient.sum());
        assertEquals(0, counters.upstreamFailures.sum());
        // A changed route (another upstream list) keeps counting where it was.
        Route changed = proxy.factory().route(new org.wharf.protocol.api.ProtocolContext("gw", "tcp",
                Map.of(Route.UPSTREAMS, Legs.hostPort(upstream.address()) + ",127.0.0.1:1"),
                org.wharf.protocol.api.ConnectionHooks.NONE));
        assertEquals(2, changed.upstreams().size());
        assertEquals(all.length, changed.counters.bytesToClient.sum());
    }

    @ParameterizedTest(name = "client {0}, upstream {1}")
    @CsvSource({"tcp, tcp", "ssl, tcp", "tcp, ssl", "ssl, ssl"})
    void twoHundredFiftySixMebibytesPassByteExact(String clientLeg, String upstreamLeg) throws Exception {
        Legs.Server<EchoProtocol> upstream = legs.serve(upstreamLeg, () -> (EchoProtocol) new EchoProtocol()
                .keepBytes(false));
        Map<String, Object> route = upstreamLeg.equals("ssl")
                ? Map.of(Route.UPSTREAMS, "localhost:" + upstream.address().getPort(), Route.TRANSPORT, "ssl",
                        "proxy.upstream.tls.ca", legs.pki.resolve("server.pem").toString())
                : Map.of(Route.UPSTREAMS, Legs.hostPort(upstream.address()));
        Legs.Proxy proxy = legs.proxy(clientLeg, route);
        StreamSender sender = new StreamSender(256L << 20, 64 * 1024, 11).halfCloseWhenSent();
        legs.connect(clientLeg, proxy.address(), sender);
        String received = Legs.await(sender.receivedHash());
        assertEquals(sender.sentHash(), received, "SHA-256 of what was sent and what came back");
        Legs.await(sender.lost());
        assertEquals(List.of(), upstream.next().violations());
        assertEquals(256L << 20, proxy.route().counters.bytesToClient.sum());
    }

    /**
     * A connection the proxy took just before its transport reference went (SCR unbinds a
     * deactivating component's references right after its service unregisters, as when the
     * proxy bundle is updated) still connects upstream with the transport it was made with.
     * Before, it found none and was closed: "no upstream took the connection".
     */
    @Test
    void aConnectionTakenBeforeTheTransportReferenceWentStillConnectsUpstream() throws Exception {
        Legs.Server<EchoProtocol> upstream = legs.serve("tcp", EchoProtocol::new);
        Map<String, org.wharf.transport.api.StreamTransportProvider> providers =
                new java.util.concurrent.ConcurrentHashMap<>(Map.of("tcp", legs.tcp));
        ProxyFactory factory = new ProxyFactory(new ProxyServices(providers::get, () -> null, () -> null));
        org.wharf.protocol.api.ProtocolContext context = new org.wharf.protocol.api.ProtocolContext("gw", "tcp",
                Map.<String, Object>of(Route.UPSTREAMS, Legs.hostPort(upstream.address())),
                org.wharf.protocol.api.ConnectionHooks.NONE);
        Legs.Server<org.wharf.transport.api.Protocol> proxy = legs.serve("tcp", () -> {
            org.wharf.transport.api.Protocol p = factory.newProtocol(context);
            providers.remove("tcp"); // unbound between the proxy taking the connection and its connect
            return p;
        });
        RecordingProtocol client = legs.connect("tcp", proxy.address(), new RecordingProtocol());
        client.transport().write(ByteBuffer.wrap("hello".getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
        Legs.awaitTrue(() -> client.receivedCount() == 5 || client.lost().isDone(), "the upstream echoes, or the proxy closes");
        assertEquals(5, client.receivedCount(), "echoed through the upstream it connected to");
        client.transport().close();
    }

    @Test
    void aSlowClientBehindAFastUpstreamKeepsTheGatewaysMemoryFlat() throws Exception {
        long total = 1L << 30;
        Legs.Server<StreamSender> upstream = legs.serve("tcp", () -> new StreamSender(total, 64 * 1024, 5));
        Legs.Proxy proxy = legs.proxy("tcp", Map.of(Route.UPSTREAMS, Legs.hostPort(upstream.address())));
        SlowReader client = legs.connect("tcp", proxy.address(), new SlowReader(total));
        ProxyConnection gateway = (ProxyConnection) proxy.accepted().next();
        java.lang.management.MemoryMXBean memory = java.lang.management.ManagementFactory.getMemoryMXBean();
        System.gc();
        long baseline = memory.getHeapMemoryUsage().getUsed();
        long maxHeapGrowth = 0;
        long maxBuffered = 0;
        int samples = 0;
        while (!client.done.isDone()) {
            maxBuffered = Math.max(maxBuffered, Legs.await(gateway.buffered()));
            if (++samples % 50 == 0) {
                System.gc();
                maxHeapGrowth = Math.max(maxHeapGrowth, memory.getHeapMemoryUsage().getUsed() - baseline);
            }
            java.util.concurrent.locks.LockSupport.parkNanos(2_000_000); // sampling pace, not synchronisation
        }
        StreamSender sender = upstream.next();
        assertEquals(sender.sentHash(), Legs.await(client.done), "1 GiB arrived intact");
        // The transports' write limits (64 KiB high mark) plus one 64 KiB read in flight per leg.
        assertTrue(maxBuffered <= 4 * 64 * 1024, "the gateway held at most " + maxBuffered + " bytes");
        assertTrue(maxHeapGrowth < 64L << 20, "heap grew by " + maxHeapGrowth + " bytes while 1 GiB passed");
        assertTrue(client.pauses > 100, "the client really was slow: paused " + client.pauses + " times");
        System.getLogger("test").log(System.Logger.Level.INFO, "1 GiB through a slow client: the gateway held at most "
                + maxBuffered + " bytes; heap after GC grew at most " + maxHeapGrowth + " bytes over " + samples
                + " samples");
    }

    /** Reads 1 MiB, then pauses reading for 2 ms, until {@code total} bytes arrived; hashes them. */
    static final class SlowReader implements org.wharf.transport.api.Protocol {
        final java.util.concurrent.CompletableFuture<String> done = new java.util.concurrent.CompletableFuture<>();
        private final long total;
        private final java.security.MessageDigest digest;
        private org.wharf.transport.api.Transport transport;
        private long received;
        private long sincePause;
        int pauses;

        SlowReader(long total) throws java.security.NoSuchAlgorithmException {
            this.total = total;
            this.digest = java.security.MessageDigest.getInstance("SHA-256");
        }

        @Override
        public void connectionMade(org.wharf.transport.api.Transport t) {
            transport = t;
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            received += data.remaining();
            sincePause += data.remaining();
            digest.update(data);
            if (received == total) {
                done.complete(java.util.HexFormat.of().formatHex(digest.digest()));
                transport.close();
            } else if (sincePause >= 1 << 20) {
                sincePause = 0;
                pauses++;
                transport.pauseReading();
                transport.loop().schedule(transport::resumeReading, 2, java.util.concurrent.TimeUnit.MILLISECONDS);
            }
        }

        @Override
        public boolean eofReceived() {
            return false;
        }

        @Override
        public void connectionLost(Throwable cause) {
            done.completeExceptionally(new AssertionError("lost after " + received + " bytes", cause));
        }
    }

    @Test
    void endOfInputIsForwardedEachWay() throws Exception {
        Legs.Server<RecordingProtocol> upstream = legs.serve("tcp", () -> new RecordingProtocol().keepOpenOnEof(true));
        Legs.Proxy proxy = legs.proxy("tcp", Map.of(Route.UPSTREAMS, Legs.hostPort(upstream.address())));
        RecordingProtocol client = legs.connect("tcp", proxy.address(), new RecordingProtocol().keepOpenOnEof(true));
        client.transport().write(ByteBuffer.wrap(bytes("request")));
        client.transport().writeEof();
        RecordingProtocol server = upstream.next();
        Legs.await(server.eof());
        assertEquals("request", text(server.received()), "everything before the end arrives first");
        server.transport().write(ByteBuffer.wrap(bytes("reply")));
        server.transport().writeEof();
        Legs.await(client.eof());
        assertEquals("reply", text(client.received()));
        assertNull(Legs.await(client.lost()), "both directions ended: the client connection closes cleanly");
        assertNull(Legs.await(server.lost()));
        assertEquals(List.of(), client.violations());
        assertEquals(List.of(), server.violations());
    }

    @ParameterizedTest(name = "a reset of the {0} resets the other leg")
    @ValueSource(strings = {"client", "upstream"})
    void aResetOnOneLegResetsTheOther(String side) throws Exception {
        Legs.Server<RecordingProtocol> upstream = legs.serve("tcp", RecordingProtocol::new);
        Legs.Proxy proxy = legs.proxy("tcp", Map.of(Route.UPSTREAMS, Legs.hostPort(upstream.address())));
        RecordingProtocol client = legs.connect("tcp", proxy.address(), new RecordingProtocol());
        client.transport().write(ByteBuffer.wrap(bytes("x")));
        RecordingProtocol server = upstream.next();
        Legs.awaitTrue(() -> server.receivedCount() == 1, "the first byte went up");
        boolean clientSide = side.equals("client");
        reset(clientSide ? client : server);
        assertNotNull(Legs.await((clientSide ? server : client).lost()), "the other leg is reset, not closed cleanly");
        if (!clientSide) {
            Legs.awaitTrue(() -> legs.log.contains("upstream 127.0.0.1:" + upstream.address().getPort() + " failed"),
                    "a log line names the upstream");
        }
    }

    /**
     * A leg reset while the other streams: the streaming side's next bytes meet a leg that is
     * closing but has not yet said so (its connectionLost comes on a later turn of the loop).
     * They are dropped, and the streaming side is reset by that connectionLost; nothing throws
     * out of a protocol callback (which would log a protocol failure with a stack trace).
     * Run many times: the window is a turn of the loop wide.
     */
    @ParameterizedTest(name = "the {0} resets while the other streams")
    @ValueSource(strings = {"upstream", "client"})
    void aLegResetWhileTheOtherStreamsEndsWithoutAProtocolFailure(String side) throws Exception {
        boolean upstreamResets = side.equals("upstream");
        Legs.Server<Protocol> upstream = legs.serve("tcp", () -> upstreamResets ? new ResetOnFirstData()
                : new StreamSender(16L << 20, 16 * 1024, 1));
        Legs.Proxy proxy = legs.proxy("tcp", Map.of(Route.UPSTREAMS, Legs.hostPort(upstream.address())));
        for (int i = 0; i < 200; i++) {
            if (upstreamResets) {
                StreamSender client = legs.connect("tcp", proxy.address(), new StreamSender(16L << 20, 16 * 1024, i));
                assertNotNull(Legs.await(client.lost()), "the client is reset, not closed cleanly");
            } else {
                legs.connect("tcp", proxy.address(), new ResetOnFirstData());
                assertNotNull(Legs.await(((StreamSender) upstream.next()).lost()), "the upstream leg is reset");
            }
            upstream.accepted().clear();
        }
        Legs.awaitTrue(() -> proxy.route().counters.active.get() == 0, "the route has no connection open");
        assertEquals(List.of(), legs.log.lines().stream().filter(l -> l.text().contains(" failed in "))
                .map(LogCapture.Line::text).toList(), "no protocol failed in a callback");
    }

    /** Resets its connection at the first bytes it receives. */
    private static final class ResetOnFirstData implements Protocol {
        private Transport transport;

        @Override
        public void connectionMade(Transport t) {
            transport = t;
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            if (!transport.isClosing()) {
                transport.reset();
            }
        }

        @Override
        public void connectionLost(Throwable cause) {
        }
    }

    @Test
    void aRefusingUpstreamFailsOverToTheNext() throws Exception {
        Legs.Server<EchoProtocol> upstream = legs.serve("tcp", EchoProtocol::new);
        String down = Legs.hostPort(Legs.refusing());
        Legs.Proxy proxy = legs.proxy("tcp", Map.of(Route.UPSTREAMS, down + "," + Legs.hostPort(upstream.address())));
        for (int i = 0; i < 4; i++) { // round robin starts at each upstream in turn
            RecordingProtocol client = legs.connect("tcp", proxy.address(), new RecordingProtocol());
            client.transport().write(ByteBuffer.wrap(bytes("ping")));
            Legs.awaitTrue(() -> client.receivedCount() == 4, "connection served by the live upstream");
            client.transport().close();
            Legs.await(client.lost());
        }
        assertEquals(2, proxy.route().counters.upstreamFailures.sum(), "the refusing upstream came first twice");
        assertTrue(legs.log.contains("upstream " + down + " failed for"), legs.log.lines().toString());
    }

    @Test
    void withEveryUpstreamDownTheClientIsClosedPromptlyWithALogLine() throws Exception {
        String a = Legs.hostPort(Legs.refusing());
        String b = Legs.hostPort(Legs.refusing());
        Legs.Proxy proxy = legs.proxy("tcp", Map.of(Route.UPSTREAMS, a + "," + b));
        RecordingProtocol client = legs.connect("tcp", proxy.address(), new RecordingProtocol());
        long start = System.nanoTime();
        Legs.await(client.lost());
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(millis < 5_000, "closed after " + millis + " ms");
        assertTrue(legs.log.contains("no upstream took the connection"), legs.log.lines().toString());
        assertTrue(legs.log.contains(a) && legs.log.contains(b), "the line names both: " + legs.log.lines());
        assertEquals(2, proxy.route().counters.upstreamFailures.sum());
    }

    @Test
    void pooledUpstreamConnectionsAreReusedByTheNextClient() throws Exception {
        // An echo upstream answers a RESP simple string with itself: to the gateway, one command and its reply.
        Legs.Server<EchoProtocol> upstream = legs.serve("tcp", EchoProtocol::new);
        Legs.Proxy proxy = legs.proxy("tcp", Map.of(Route.UPSTREAMS, Legs.hostPort(upstream.address()),
                Route.POOLED, "true", Route.PROTOCOL, "redis"));
        for (int i = 0; i < 5; i++) {
            RecordingProtocol client = legs.connect("tcp", proxy.address(), new RecordingProtocol());
            client.transport().write(ByteBuffer.wrap(bytes("+ping " + i + "\r\n")));
            Legs.awaitTrue(() -> client.receivedCount() == 9, "echo through the pooled connection");
            assertEquals("+ping " + i + "\r\n", text(client.received()));
            client.transport().close();
            assertNull(Legs.await(client.lost()));
            Legs.awaitTrue(() -> proxy.route().upstreams().get(0).active.get() == 0, "the upstream connection is back");
        }
        EchoProtocol only = upstream.next();
        assertEquals(null, upstream.accepted().poll(), "five clients, one upstream connection");
        assertEquals("+ping 0\r\n+ping 1\r\n+ping 2\r\n+ping 3\r\n+ping 4\r\n", text(only.received()));
        assertTrue(only.events().stream().noneMatch("eofReceived"::equals), "the pooled connection never saw an end");
        Legs.awaitTrue(() -> proxy.factory().metrics("gw").get("proxy.pool.released") == 5L,
                "five releases: " + proxy.factory().metrics("gw"));
    }

    @Test
    void aPooledConnectionThatOwesAnAnswerIsClosedNotReused() throws Exception {
        Legs.Server<RecordingProtocol> upstream = legs.serve("tcp", RecordingProtocol::new);
        Legs.Proxy proxy = legs.proxy("tcp", Map.of(Route.UPSTREAMS, Legs.hostPort(upstream.address()),
                Route.POOLED, "true", Route.PROTOCOL, "redis", Route.IDLE_TIMEOUT, "300"));
        RecordingProtocol first = legs.connect("tcp", proxy.address(), new RecordingProtocol());
        first.transport().write(ByteBuffer.wrap(bytes("GET a\r\nGET b\r\n")));
        RecordingProtocol server = upstream.next();
        Legs.awaitTrue(() -> server.receivedCount() == 14, "both commands went up");
        server.transport().write(ByteBuffer.wrap(bytes("$1\r\n"))); // the first reply, cut off
        Legs.awaitTrue(() -> first.receivedCount() == 4, "the start of the first reply came through");
        // The client ends its input with a reply and a half owed: the gateway waits for them (here
        // until the idle timeout), then closes the upstream connection instead of pooling it.
        first.transport().writeEof();
        assertNull(Legs.await(first.lost()));
        Legs.await(server.lost());
        assertEquals("$1\r\n", text(first.received()));
        RecordingProtocol second = legs.connect("tcp", proxy.address(), new RecordingProtocol());
        second.transport().write(ByteBuffer.wrap(bytes("PING\r\n")));
        RecordingProtocol fresh = upstream.next();
        Legs.awaitTrue(() -> fresh.receivedCount() == 6, "the second client's command went up a new connection");
        fresh.transport().write(ByteBuffer.wrap(bytes("+PONG\r\n")));
        Legs.awaitTrue(() -> second.receivedCount() == 7, "the second client's answer");
        assertEquals("+PONG\r\n", text(second.received()));
        Map<String, Long> figures = proxy.factory().metrics("gw");
        assertEquals(1L, figures.get("proxy.pool.discarded"), figures.toString());
        second.transport().close();
        Legs.await(second.lost());
    }

    @Test
    void anUpstreamCertificateForAnotherHostIsRefused() throws Exception {
        Legs.Server<EchoProtocol> upstream = legs.serve("ssl", EchoProtocol::new);
        Legs.Proxy proxy = legs.proxy("tcp", Map.of(Route.UPSTREAMS, "localhost:" + upstream.address().getPort(),
                Route.TRANSPORT, "ssl", "proxy.upstream.tls.ca", legs.pki.resolve("server.pem").toString(),
                "proxy.upstream.tls.serverName", "elsewhere.example"));
        RecordingProtocol client = legs.connect("tcp", proxy.address(), new RecordingProtocol());
        Legs.await(client.lost()); // closed: no upstream was acceptable
        assertEquals(0, client.receivedCount());
        assertTrue(legs.log.contains("no upstream took the connection"), legs.log.lines().toString());
        assertTrue(legs.log.lines().stream().map(LogCapture.Line::text).anyMatch(l -> l.contains("elsewhere.example") || l.contains("No subject")
                || l.contains("No name matching")), "the log says why: " + legs.log.lines());
        assertEquals(1, proxy.route().counters.upstreamFailures.sum());
    }

    @Test
    void anIdleConnectionIsClosedOnBothLegs() throws Exception {
        Legs.Server<RecordingProtocol> upstream = legs.serve("tcp", RecordingProtocol::new);
        Legs.Proxy proxy = legs.proxy("tcp", Map.of(Route.UPSTREAMS, Legs.hostPort(upstream.address()),
                Route.IDLE_TIMEOUT, "200"));
        RecordingProtocol client = legs.connect("tcp", proxy.address(), new RecordingProtocol());
        RecordingProtocol server = upstream.next();
        assertNull(Legs.await(client.lost()));
        Legs.await(server.lost());
        assertTrue(legs.log.contains("idle for 200 ms"), legs.log.lines().toString());
    }

    /** An abort the peer sees as one: a reset, not a clean end of input. */
    private static void reset(RecordingProtocol side) throws Exception {
        side.transport().extraInfo(org.wharf.transport.api.ExtraInfo.CHANNEL).orElseThrow()
                .setOption(java.net.StandardSocketOptions.SO_LINGER, 0);
        side.transport().abort();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.US_ASCII);
    }
}
