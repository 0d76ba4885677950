package org.wharf.protocol.echo.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.wharf.transport.api.DatagramTransport;
import org.wharf.transport.api.ExtraInfo;
import org.wharf.transport.tck.LogCapture;

/**
 * The datagram echo's decisions without a socket: datagrams handed to it with crafted source
 * addresses, on a clock the test moves, answers and log lines kept.
 */
class DatagramEchoDropsTest {

    private static final InetSocketAddress LOCAL = new InetSocketAddress("127.0.0.1", 40_000);

    /** An echo on a writable fake socket bound to {@link #LOCAL}; what it sends is kept. */
    static final class Rig {
        final AtomicLong now = new AtomicLong(1_000);
        final UdpEchoCounters counters = new UdpEchoCounters();
        final List<InetSocketAddress> answered = new ArrayList<>();
        final DatagramEcho echo;

        Rig(String endpoint, Map<String, ?> settings) {
            echo = new DatagramEcho(endpoint, UdpEchoSettings.from(settings), counters, now::get);
            echo.connectionMade((DatagramTransport) Proxy.newProxyInstance(getClass().getClassLoader(),
                    new Class<?>[] {DatagramTransport.class}, (proxy, method, args) -> switch (method.getName()) {
                        case "extraInfo" -> args[0] == ExtraInfo.LOCAL_ADDRESS ? Optional.of(LOCAL) : Optional.empty();
                        case "isWritable" -> true;
                        case "sendTo", "sendCopyTo" -> {
                            answered.add((InetSocketAddress) args[1]);
                            yield null;
                        }
                        default -> throw new UnsupportedOperationException(method.getName());
                    }));
        }

        void receive(int datagrams, InetSocketAddress from) {
            for (int i = 0; i < datagrams; i++) {
                echo.datagramReceived(ByteBuffer.wrap(new byte[] {'x'}), from);
            }
        }

        void advanceSeconds(long seconds) {
            now.addAndGet(TimeUnit.SECONDS.toNanos(seconds));
        }
    }

    /**
     * A kind of drop goes on for 12 s, and the socket closes: a line at the first drop, none for
     * the rest of the window, one at the first drop after it counting every drop since the
     * first line, and at the close one for what no line told of. Before, the first drop of each
     * kind was the only line in the socket's life: later attacks were never heard of.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "ownAddress    | 127.0.0.1 | 40000 | 100 | 10000 | 0 | 9 | 4",
        "reflectorPort | 127.0.0.2 | 7     | 100 | 10000 | 0 | 9 | 4",
        // The rates let one datagram through at 0 s, 5 s, 11 s and 12 s.
        "sourceRate    | 127.0.0.2 | 50000 | 1   | 0     | 1 | 7 | 2",
        "totalRate     | 127.0.0.2 | 50000 | 0   | 1     | 1 | 7 | 2"})
    void eachKindOfDropIsLoggedOnceAWindowWithHowManySinceTheLastLine(String kind, String host, int port,
            String rate, String totalRate, int answeredPerStep, int secondLine, int atClose) {
        String endpoint = "udp-echo-" + kind; // only this test's lines, whatever else logs meanwhile
        String counter = "echo.udp.dropped." + kind;
        InetSocketAddress from = new InetSocketAddress(host, port);
        try (LogCapture log = new LogCapture()) {
            Rig rig = new Rig(endpoint, Map.of(UdpEchoSettings.RATE, rate, UdpEchoSettings.BURST, "1",
                    UdpEchoSettings.TOTAL_RATE, totalRate));
            rig.receive(5, from);
            assertEquals(1, lines(log, endpoint).size(), lines(log, endpoint).toString());
            rig.advanceSeconds(5);
            rig.receive(4, from);
            assertEquals(1, lines(log, endpoint).size(), "within the window: only counted " + lines(log, endpoint));
            rig.advanceSeconds(6);
            rig.receive(2, from);
            assertEquals(2, lines(log, endpoint).size(), "a window after the first line, another: "
                    + lines(log, endpoint));
            rig.advanceSeconds(1);
            rig.receive(3, from);
            assertEquals(2, lines(log, endpoint).size(), lines(log, endpoint).toString());
            rig.echo.connectionLost(null);
            List<String> lines = lines(log, endpoint);
            assertEquals(3, lines.size(), "what no line told of, at the close: " + lines);

            assertLine(lines.get(0), counter, "dropped 1 datagram ", "since the socket bound");
            assertLine(lines.get(1), counter, "dropped " + secondLine + " datagrams ",
                    "in the 11 s since the last line like it");
            assertLine(lines.get(2), counter, "the socket closed; " + atClose + " datagrams ",
                    "were dropped since the last line like it");
            assertEquals(4 * answeredPerStep, rig.answered.size());
            assertEquals(14 - 4 * answeredPerStep, rig.counters.figures().get(counter));
            assertEquals(14 - 4 * answeredPerStep, 1 + secondLine + atClose, "the lines count every drop");
        }
    }

    /**
     * One host owns a /64 and sends from a thousand of its addresses: one source, one burst,
     * the rest dropped. Another /64 is another source, and IPv4 sources are their full
     * address. Before, each IPv6 address was a source of its own: all 1,000 were answered.
     */
    @Test
    void anIpv6HostRotatingThroughItsSlash64IsOneSource() {
        Rig rig = new Rig("udp-echo-v6", Map.of(UdpEchoSettings.RATE, "1", UdpEchoSettings.BURST, "1",
                UdpEchoSettings.TOTAL_RATE, "0"));
        for (int i = 1; i <= 1000; i++) {
            rig.receive(1, new InetSocketAddress("2001:db8:0:0:" + Integer.toHexString(i) + "::" + i, 50_000 + i));
        }
        rig.receive(1, new InetSocketAddress("2001:db8::ffff:ffff:ffff:ffff", 50_000));
        assertEquals(1, rig.answered.size(), "answers to one host sending from 1,001 addresses of its /64");
        // Other /64s, one each; the prefix is all eight bytes, unsigned.
        List<String> others = List.of("2001:db8:0:1::1", "feff:ffff:ffff:ffff::1", "feff:ffff:ffff:fffe::1",
                "7eff:ffff:ffff:ffff::1", "fe80::1");
        for (String other : others) {
            rig.receive(2, new InetSocketAddress(other, 50_000));
        }
        rig.receive(1, new InetSocketAddress("127.0.0.2", 50_000));
        rig.receive(1, new InetSocketAddress("127.0.0.3", 50_000)); // IPv4: each address a source
        List<InetSocketAddress> expected = new ArrayList<>(List.of(new InetSocketAddress("2001:db8::1:0:0:1", 50_001)));
        others.forEach(other -> expected.add(new InetSocketAddress(other, 50_000)));
        expected.add(new InetSocketAddress("127.0.0.2", 50_000));
        expected.add(new InetSocketAddress("127.0.0.3", 50_000));
        assertEquals(expected, rig.answered);
        Map<String, Long> figures = rig.counters.figures();
        assertEquals(1000L + others.size(), figures.get("echo.udp.dropped.sourceRate"), figures.toString());
        assertEquals(1L + others.size() + 2, figures.get("echo.udp.sources"), figures.toString());
    }

    /**
     * IPv4 hosts reached through NAT64 (64:ff9b::/96) all come from the translator's /64: each
     * is the IPv4 source it stands for, so one does not use up the others' rate, and the same
     * host coming over IPv4 itself shares its own. Before, the second NAT64 host got no answer.
     */
    @Test
    void eachIpv4HostBehindNat64IsASourceOfItsOwn() {
        Rig rig = new Rig("udp-echo-nat64", Map.of(UdpEchoSettings.RATE, "1", UdpEchoSettings.BURST, "1",
                UdpEchoSettings.TOTAL_RATE, "0"));
        rig.receive(1, new InetSocketAddress("64:ff9b::c000:201", 50_000)); // 192.0.2.1
        rig.receive(1, new InetSocketAddress("64:ff9b::c000:202", 50_000)); // 192.0.2.2
        rig.receive(1, new InetSocketAddress("64:ff9b::c000:201", 50_001)); // 192.0.2.1 again: over its burst
        rig.receive(1, new InetSocketAddress("192.0.2.2", 50_000)); // the same host as the second
        rig.receive(1, new InetSocketAddress("64:ff9b:0:1::c000:201", 50_000)); // not the /96: a /64 of its own
        assertEquals(List.of(new InetSocketAddress("64:ff9b::c000:201", 50_000),
                new InetSocketAddress("64:ff9b::c000:202", 50_000),
                new InetSocketAddress("64:ff9b:0:1::c000:201", 50_000)), rig.answered);
        Map<String, Long> figures = rig.counters.figures();
        assertEquals(2L, figures.get("echo.udp.dropped.sourceRate"), figures.toString());
        assertEquals(3L, figures.get("echo.udp.sources"), figures.toString());
    }

    /**
     * The rate table is bounded by echo.udp.sources: sources from more /64s than that make it
     * forget the least recently seen, not grow; a forgotten source starts again with a burst.
     */
    @Test
    void theRateTableHoldsAtMostEchoUdpSourcesSources() {
        Rig rig = new Rig("udp-echo-table", Map.of(UdpEchoSettings.RATE, "1", UdpEchoSettings.BURST, "1",
                UdpEchoSettings.TOTAL_RATE, "0", UdpEchoSettings.SOURCES, "100"));
        for (int round = 0; round < 2; round++) {
            for (int i = 0; i < 1000; i++) {
                rig.receive(1, new InetSocketAddress("2001:db8:" + Integer.toHexString(i) + "::1", 50_000));
            }
        }
        assertEquals(100L, rig.counters.figures().get("echo.udp.sources"));
        assertEquals(2000, rig.answered.size(), "each came back forgotten, with a burst");
        rig.echo.connectionLost(null);
        assertEquals(0L, rig.counters.figures().get("echo.udp.sources"));
    }

    /**
     * Answering and limiting a source that sent before allocates nothing per datagram: for
     * IPv4 as before the /64 keying, and for IPv6 too (a probe key, the last prefix kept).
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"127.0.0.2", "2001:db8::2"})
    void aKnownSourceCostsNoAllocationPerDatagram(String host) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Assumptions.assumeTrue(threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled(),
                "this JVM does not count allocated bytes per thread");
        Rig rig = new Rig("udp-echo-alloc", Map.of(UdpEchoSettings.RATE, "1", UdpEchoSettings.BURST, "1"));
        InetSocketAddress from = new InetSocketAddress(host, 50_000);
        ByteBuffer data = ByteBuffer.allocate(16);
        long id = Thread.currentThread().getId();
        long[] allocated = new long[2];
        for (int round = 0; round < 2; round++) { // the first round warms up
            long before = threads.getThreadAllocatedBytes(id);
            for (int i = 0; i < 100_000; i++) {
                rig.echo.datagramReceived(data.clear(), from);
            }
            allocated[round] = threads.getThreadAllocatedBytes(id) - before;
        }
        assertEquals(200_000L - 1, rig.counters.figures().get("echo.udp.dropped.sourceRate"));
        assertTrue(allocated[1] < 100_000, allocated[1] + " bytes allocated for 100,000 datagrams");
    }

    private static List<String> lines(LogCapture log, String endpoint) {
        return log.lines().stream().map(LogCapture.Line::message)
                .filter(m -> m.matches("echo endpoint " + endpoint + "[ :].*")).toList();
    }

    private static void assertLine(String line, String counter, String count, String since) {
        assertTrue(line.contains(count), line);
        assertTrue(line.contains(since), line);
        assertTrue(line.contains("(" + counter + ")"), line);
    }
}
