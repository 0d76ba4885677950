package org.wharf.endpoints;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.wharf.endpoints.ProxyProtocolAcceptance.Versions;
import org.wharf.transport.tck.EchoProtocol;
import org.wharf.transport.tck.LogCapture;

/**
 * Limits per client address: the table alone on a manual clock, then a server with many client
 * sockets from several loopback addresses, and behind the PROXY protocol, where the header's
 * client is the one limited.
 */
class ClientLimitsTest {

    private static final Loops LOOPS = new Loops();

    @AfterAll
    static void stop() throws Exception {
        LOOPS.close();
    }

    private static InetAddress ip(String literal) throws IOException {
        return InetAddress.getByName(literal);
    }

    @Test
    void concurrentConnectionsAndTokenBucketPerAddress() throws Exception {
        AtomicLong now = new AtomicLong();
        ClientLimits limits = new ClientLimits(2, 10, 3, now::get);
        InetAddress a = ip("192.0.2.1");
        InetAddress b = ip("192.0.2.2");
        assertNull(limits.acquire(a));
        assertNull(limits.acquire(a));
        assertEquals(ClientLimits.Refusal.CONNECTIONS, limits.acquire(a), "two open");
        assertNull(limits.acquire(b), "another address has its own limits");
        limits.release(a);
        assertNull(limits.acquire(a), "the third token of the burst");
        limits.release(a);
        assertEquals(ClientLimits.Refusal.RATE, limits.acquire(a), "burst of 3 spent");
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(100)); // 10 a second: one token back
        assertNull(limits.acquire(a));
        assertEquals(ClientLimits.Refusal.CONNECTIONS, limits.acquire(a));
        limits.release(a);
        limits.release(a);
        limits.release(b);
        assertEquals(1, limits.size(), "b forgotten at once (nothing open, bucket full); a remembered while it refills");
        now.addAndGet(TimeUnit.SECONDS.toNanos(1)); // both buckets full again by now
        InetAddress c = ip("192.0.2.3");
        int admitted = 0;
        for (int i = 0; i < 1024; i++) {
            admitted += limits.acquire(c) == null ? 1 : 0;
        }
        assertEquals(2, admitted, "c: two open, the rest refused");
        assertEquals(1, limits.size(), "the sweep forgot a (nothing open, bucket full by now); c has two open");
    }

    /**
     * A successor's limits with a rate share the table with limits that had none: an entry the
     * rate-less ones made reads as a full bucket, not an empty one whose client is refused.
     */
    @Test
    void limitsWithARateReadAnEntryMadeWithoutOneAsAFullBucket() throws Exception {
        AtomicLong now = new AtomicLong(TimeUnit.SECONDS.toNanos(100));
        java.util.concurrent.ConcurrentHashMap<InetAddress, ClientLimits.Entry> table = new java.util.concurrent.ConcurrentHashMap<>();
        ClientLimits before = new ClientLimits(10, 0, 0, now::get, table);
        ClientLimits after = new ClientLimits(10, 1, 2, now::get, table);
        InetAddress a = ip("192.0.2.1");
        assertNull(before.acquire(a), "one open under the limits without a rate");
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(10)); // the change comes a moment later
        assertNull(after.acquire(a), "a full bucket of two");
        assertNull(after.acquire(a), "the second of the burst");
        assertEquals(ClientLimits.Refusal.RATE, after.acquire(a), "the bucket is empty now");
        assertEquals(1, table.size());
        for (int i = 0; i < 3; i++) {
            after.release(a); // the first one's too: the latest limits give every connection back
        }
        now.addAndGet(TimeUnit.SECONDS.toNanos(2));
        assertNull(after.acquire(a), "refilled");
    }

    /** Opens a connection from an address and tells whether the echo server admitted it. */
    private static Socket open(InetAddress from, InetSocketAddress to, byte[] first) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(from, 0));
        s.setSoTimeout(20_000);
        s.connect(to, 5000);
        s.getOutputStream().write(first);
        s.getOutputStream().flush();
        return s;
    }

    private static boolean admitted(Socket s, int expect) throws IOException {
        try {
            byte[] b = s.getInputStream().readNBytes(expect);
            return b.length == expect;
        } catch (java.net.SocketException e) {
            return false; // reset
        }
    }

    @Test
    void manyClientSocketsFromOneAddressAgainstTheConcurrentLimit() throws Exception {
        Server server = Loops.await(Server.builder(LOOPS.tcp).name("per-client")
                .address(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).clientLimits(3, 0, 0)
                .protocol(EchoProtocol::new).start());
        List<Socket> sockets = new ArrayList<>();
        try (LogCapture log = new LogCapture()) {
            InetSocketAddress to = server.addresses().get(0);
            int in = 0;
            for (int i = 0; i < 20; i++) {
                Socket s = open(ip("127.0.0.7"), to, new byte[] {'x'});
                sockets.add(s);
                if (admitted(s, 1)) {
                    in++;
                }
            }
            assertEquals(3, in, "three of twenty from 127.0.0.7");
            assertEquals(17, server.counters().refused().getOrDefault(ServerCounters.REFUSED_CLIENT_LIMIT, 0L).longValue(), "the refused are counted");
            for (int i = 0; i < 3; i++) {
                Socket s = open(ip("127.0.0.8"), to, new byte[] {'y'});
                sockets.add(s);
                assertTrue(admitted(s, 1), "127.0.0.8 has its own three");
            }
            assertEquals(6, server.counters().open());
            sockets.get(0).close(); // one of 127.0.0.7's goes: room for one more
            Loops.awaitTrue(() -> server.counters().open() == 5, "the closed one is gone");
            Socket again = open(ip("127.0.0.7"), to, new byte[] {'z'});
            sockets.add(again);
            assertTrue(admitted(again, 1));
            Loops.awaitTrue(() -> log.contains("server per-client: refusing a connection from 127.0.0.7:"), "logged");
            assertEquals(1, log.lines().stream().filter(l -> l.message().contains("maxConnectionsPerClient")).count(),
                    "one line for seventeen refusals: " + log.lines());
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
            Loops.await(server.close(Duration.ZERO));
        }
    }

    @Test
    void newConnectionRatePerAddress() throws Exception {
        Server server = Loops.await(Server.builder(LOOPS.tcp).name("per-client-rate")
                .address(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).clientLimits(0, 5, 5)
                .protocol(EchoProtocol::new).start());
        try {
            InetSocketAddress to = server.addresses().get(0);
            long t0 = System.nanoTime();
            int in = 0;
            for (int i = 0; i < 30; i++) {
                try (Socket s = open(ip("127.0.0.7"), to, new byte[] {'x'})) {
                    if (admitted(s, 1)) {
                        in++;
                    }
                }
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertTrue(in >= 5, "the burst is admitted: " + in);
            assertTrue(in <= 5 + Math.ceil(seconds * 5) + 1, in + " admitted in " + seconds + " s at 5 a second");
            assertEquals(30 - in, server.counters().refused().getOrDefault(ServerCounters.REFUSED_CLIENT_LIMIT, 0L).longValue());
            try (Socket s = open(ip("127.0.0.8"), to, new byte[] {'y'})) {
                assertTrue(admitted(s, 1), "another address has its own bucket");
            }
        } finally {
            Loops.await(server.close(Duration.ZERO));
        }
    }

    @Test
    void behindTheProxyProtocolTheHeadersClientIsLimited() throws Exception {
        Server server = Loops.await(Server.builder(LOOPS.tcp).name("per-client-proxied")
                .address(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).clientLimits(2, 0, 0)
                .proxyProtocol(ProxyProtocolAcceptance.of(Versions.V1, List.of("127.0.0.1"), Duration.ofSeconds(5)))
                .protocol(EchoProtocol::new).start());
        List<Socket> sockets = new ArrayList<>();
        try {
            InetSocketAddress to = server.addresses().get(0);
            int[] admittedFrom = new int[2];
            for (int i = 0; i < 8; i++) {
                int who = i % 2;
                byte[] header = ("PROXY TCP4 192.0.2." + (who + 1) + " 192.0.2.100 " + (1000 + i) + " 80\r\nx")
                        .getBytes(StandardCharsets.US_ASCII);
                Socket s = open(ip("127.0.0.1"), to, header); // every connection from the one balancer
                sockets.add(s);
                if (admitted(s, 1)) {
                    admittedFrom[who]++;
                }
            }
            assertEquals(2, admittedFrom[0], "192.0.2.1: two");
            assertEquals(2, admittedFrom[1], "192.0.2.2: two, though the balancer has eight open");
            assertEquals(4, server.counters().refused().getOrDefault(ServerCounters.REFUSED_CLIENT_LIMIT, 0L).longValue());
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
            Loops.await(server.close(Duration.ZERO));
        }
    }

    /**
     * A configuration change replaces a server while the old one drains: the new one takes over
     * its accounts, so the old one's open connections count against both limits, and its
     * counters go on rather than start again from zero.
     */
    @Test
    void aSuccessorCountsItsDrainingPredecessorsConnectionsAgainstItsLimits() throws Exception {
        Server first = Loops.await(Server.builder(LOOPS.tcp).name("before-the-change")
                .address(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).maxConnections(3)
                .clientLimits(2, 0, 0).protocol(EchoProtocol::new).start());
        List<Socket> sockets = new ArrayList<>();
        Server second = null;
        try {
            Socket a = open(ip("127.0.0.1"), first.addresses().get(0), new byte[] {'a'});
            Socket b = open(ip("127.0.0.1"), first.addresses().get(0), new byte[] {'b'});
            sockets.addAll(List.of(a, b));
            assertTrue(admitted(a, 1) && admitted(b, 1), "both served before the change");
            java.util.concurrent.CompletionStage<Void> drained = first.drain(Duration.ofMinutes(1));
            Loops.await(first.listenersClosed());
            second = Loops.await(Server.builder(LOOPS.tcp).name("after-the-change")
                    .address(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).maxConnections(3)
                    .clientLimits(2, 0, 0).protocol(EchoProtocol::new).accounts(first.accounts()).start());
            InetSocketAddress to = second.addresses().get(0);
            assertEquals(2, second.counters().sessions(), "the counters go on from the predecessor's");
            assertEquals(2, second.counters().open(), "its draining connections are open ones");

            Socket c = open(ip("127.0.0.1"), to, new byte[] {'c'});
            sockets.add(c);
            assertFalse(admitted(c, 1), "127.0.0.1 has two open, draining (maxConnectionsPerClient 2)");
            Server next = second;
            Loops.awaitTrue(() -> next.occupied() == 2, "the refused connection's slot given back");
            Socket d = open(ip("127.0.0.2"), to, new byte[] {'d'});
            sockets.add(d);
            assertTrue(admitted(d, 1), "another address is served: three open");
            Socket e = open(ip("127.0.0.3"), to, new byte[] {'e'});
            sockets.add(e);
            assertFalse(admitted(e, 1), "a fourth is over maxConnections 3, two of them draining");
            ServerCounters counters = second.counters();
            assertEquals(1L, counters.refused().get(ServerCounters.REFUSED_CLIENT_LIMIT), counters.toString());
            assertEquals(1L, counters.refused().get(ServerCounters.REFUSED_LIMIT));

            a.close();
            Loops.awaitTrue(() -> next.occupied() == 2 && first.connections().size() == 1,
                    "a's end reached the draining server: b and d hold slots");
            Socket f = open(ip("127.0.0.1"), to, new byte[] {'f'});
            sockets.add(f);
            assertTrue(admitted(f, 1), "a's slot, and its address's, came free as it ended");
            b.close();
            Loops.await(drained);
            assertEquals(2, second.counters().open(), "d and f; the predecessor is gone from the count");
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
            Loops.await(first.close(Duration.ZERO));
            if (second != null) {
                Loops.await(second.close(Duration.ZERO));
            }
        }
    }
}
