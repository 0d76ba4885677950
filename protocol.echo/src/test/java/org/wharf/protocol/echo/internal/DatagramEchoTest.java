package org.wharf.protocol.echo.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.wharf.protocol.api.ConnectionHooks;
import org.wharf.protocol.api.ProtocolContext;
import org.wharf.transport.api.Connected;
import org.wharf.transport.api.DatagramOptions;
import org.wharf.transport.api.DatagramProtocol;
import org.wharf.transport.api.DatagramTransport;
import org.wharf.transport.api.ExtraInfo;
import org.wharf.transport.nio.internal.NioEventLoopGroup;
import org.wharf.transport.nio.internal.NioSettings;
import org.wharf.transport.nio.internal.NioUdpProvider;
import org.wharf.transport.nio.internal.Resolver;
import org.wharf.transport.tck.Await;
import org.wharf.transport.tck.Peers;

/**
 * The datagram echo on a real UDP socket, with real senders: forged datagrams whose source
 * is the endpoint itself (a raw socket, as root), senders on other loopback addresses
 * flooding it, and its counters.
 */
class DatagramEchoTest {

    /**
     * Sends one UDP datagram with a forged source through a raw socket (IP_HDRINCL). Exits 77
     * when not root, so the test can say why it skips.
     */
    private static final String FORGE = String.join("\n",
            "import os, socket, struct, sys",
            "if os.geteuid() != 0:",
            "    sys.exit(77)",
            "src, sport, dst, dport, payload = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5].encode()",
            "udp = struct.pack('!HHHH', sport, dport, 8 + len(payload), 0) + payload  # checksum 0: none (IPv4)",
            "ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0, 64, socket.IPPROTO_UDP, 0,",
            "                 socket.inet_aton(src), socket.inet_aton(dst))  # the kernel fills in id and checksum",
            "s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)",
            "s.sendto(ip + udp, (dst, 0))", "");

    private static NioEventLoopGroup loops;
    private static Resolver resolver;
    private static NioUdpProvider udp;

    @BeforeAll
    static void start() {
        loops = new NioEventLoopGroup(new NioSettings(1, 64 * 1024, NioSettings.DEFAULT.writeBufferLimits()));
        resolver = new Resolver();
        udp = new NioUdpProvider(loops, resolver);
    }

    @AfterAll
    static void stop() throws Exception {
        loops.shutdown().get(10, TimeUnit.SECONDS);
        resolver.shutdown();
    }

    /**
     * One datagram whose source is the endpoint's own address and port. Before, the echo
     * answered it to itself, and again, without end (a loop thread busy with it, the
     * socket's received bytes climbing); now it is dropped and counted, and other senders,
     * on the same address too, are still answered.
     */
    @ParameterizedTest(name = "bound to {0}, forged from {1}")
    @CsvSource({"127.0.0.1, 127.0.0.1", "0.0.0.0, 127.0.0.1", "0.0.0.0, an interface address"})
    void aForgedDatagramFromTheEndpointItselfIsDroppedNotAnsweredForever(String bind, String from) throws Exception {
        String source = from.equals("an interface address") ? interfaceAddress() : from;
        EchoFactory factory = new EchoFactory();
        Connected<DatagramTransport, DatagramProtocol> echo = bind(factory, bind, Map.of());
        try {
            int port = port(echo);
            forge(source, port, "127.0.0.1", port, "loop!");
            // A real client on the same address, another port: answered, and after the forged one.
            try (DatagramSocket client = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
                client.setSoTimeout(10_000);
                assertArrayEquals(bytes("ping"), exchange(client, port, "ping"));
            }
            long received = received(echo);
            assertEquals(5 + 4, received, "the forged datagram and the client's, once each");
            // No loop: nothing more arrives at the socket (before the fix its received bytes climbed at once).
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
            while (System.nanoTime() < end) {
                assertEquals(received, received(echo), "the endpoint keeps receiving: it is answering itself");
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10)); // the pace of looking, not a wait for an event
            }
            Map<String, Long> figures = factory.metrics("udp-echo");
            assertEquals(2L, figures.get("echo.udp.datagrams.in"), figures.toString());
            assertEquals(1L, figures.get("echo.udp.dropped.ownAddress"), figures.toString());
            assertEquals(1L, figures.get("echo.udp.datagrams.out"), figures.toString());
            assertEquals(4L, figures.get("echo.udp.bytes.out"), figures.toString());
        } finally {
            echo.transport().close();
        }
    }

    /**
     * A flood from one source address (a victim's, if it were forged) gets a burst and then
     * the rate, not an answer per datagram. Before, all 200 were answered.
     */
    @Test
    void oneSourceGetsItsBurstAndRateAndTheRestIsDroppedAndCounted() throws Exception {
        EchoFactory factory = new EchoFactory();
        Connected<DatagramTransport, DatagramProtocol> echo = bind(factory, "127.0.0.1", Map.of(UdpEchoSettings.RATE,
                "10", UdpEchoSettings.BURST, "20", UdpEchoSettings.TOTAL_RATE, "0"));
        try (DatagramChannel victim = receiver("127.0.0.2");
                DatagramSocket sentinel = new DatagramSocket(new InetSocketAddress("127.0.0.3", 0))) {
            int port = port(echo);
            long start = System.nanoTime();
            for (int i = 0; i < 200; i++) {
                victim.send(ByteBuffer.wrap(bytes("flood " + i)), new InetSocketAddress("127.0.0.1", port));
            }
            // Another source is not limited by the first; its answer comes after every flood datagram was handled.
            sentinel.setSoTimeout(10_000);
            assertArrayEquals(bytes("sentinel"), exchange(sentinel, port, "sentinel"));
            double seconds = (System.nanoTime() - start) / 1e9;
            int answers = drain(victim);
            long allowed = 20 + (long) Math.ceil(10 * seconds) + 1;
            assertTrue(answers >= 20 && answers <= allowed, answers + " answers to 200 datagrams in " + seconds
                    + " s; allowed " + allowed);
            Map<String, Long> figures = factory.metrics("udp-echo");
            assertEquals(201L, figures.get("echo.udp.datagrams.in"), figures.toString());
            assertEquals(answers + 1L, figures.get("echo.udp.datagrams.out"), figures.toString());
            assertEquals(200L - answers, figures.get("echo.udp.dropped.sourceRate"), figures.toString());
            assertEquals(2L, figures.get("echo.udp.sources"), figures.toString());
        } finally {
            echo.transport().close();
        }
    }

    /** Many sources, each within its own rate, together get at most the total rate. Before, all were answered. */
    @Test
    void allSourcesTogetherGetAtMostTheTotalRate() throws Exception {
        EchoFactory factory = new EchoFactory();
        Connected<DatagramTransport, DatagramProtocol> echo = bind(factory, "127.0.0.1", Map.of(UdpEchoSettings.RATE,
                "1000", UdpEchoSettings.TOTAL_RATE, "50"));
        List<DatagramChannel> senders = new ArrayList<>();
        try {
            int port = port(echo);
            long start = System.nanoTime();
            for (int s = 0; s < 20; s++) {
                DatagramChannel sender = receiver("127.0.0." + (10 + s));
                senders.add(sender);
                for (int i = 0; i < 10; i++) {
                    sender.send(ByteBuffer.wrap(bytes("12345678")), new InetSocketAddress("127.0.0.1", port));
                }
            }
            Await.awaitTrue(() -> received(echo) == 200 * 8, "the endpoint received all 200 datagrams");
            double seconds = (System.nanoTime() - start) / 1e9;
            int answers = 0;
            for (DatagramChannel sender : senders) {
                answers += drain(sender);
            }
            long allowed = 50 + (long) Math.ceil(50 * seconds) + 1;
            assertTrue(answers >= 50 && answers <= allowed, answers + " answers to 200 datagrams from 20 sources in "
                    + seconds + " s; allowed " + allowed);
            Map<String, Long> figures = factory.metrics("udp-echo");
            assertEquals(200L - answers, figures.get("echo.udp.dropped.totalRate"), figures.toString());
            assertEquals(0L, figures.get("echo.udp.dropped.sourceRate"), figures.toString());
        } finally {
            for (DatagramChannel sender : senders) {
                sender.close();
            }
            echo.transport().close();
        }
    }

    @Test
    void theDefaultsAnswerAnOrdinaryClientAndCountBytesBothWays() throws Exception {
        EchoFactory factory = new EchoFactory();
        Connected<DatagramTransport, DatagramProtocol> echo = bind(factory, "127.0.0.1", Map.of());
        try (DatagramSocket client = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            client.setSoTimeout(10_000);
            for (int i = 0; i < 50; i++) {
                assertArrayEquals(bytes("datagram " + i), exchange(client, port(echo), "datagram " + i));
            }
            Map<String, Long> figures = factory.metrics("udp-echo");
            assertEquals(50L, figures.get("echo.udp.datagrams.in"));
            assertEquals(50L, figures.get("echo.udp.datagrams.out"));
            assertEquals(figures.get("echo.udp.bytes.in"), figures.get("echo.udp.bytes.out"));
            assertEquals(10 * 10 + 40 * 11L, figures.get("echo.udp.bytes.in")); // "datagram 0" to "datagram 49"
            assertEquals(Map.of(), factory.metrics("another endpoint"));
        } finally {
            echo.transport().close();
        }
    }

    /**
     * A datagram from another echo (this endpoint's port on another address, or a port listed
     * in echo.udp.reflectorPorts) is not answered: two echoes would answer each other for ever,
     * each within any rate. Before, both were answered.
     */
    @Test
    void datagramsFromPortsThatAnswerThemselvesAreDroppedAndCounted() throws Exception {
        try (DatagramSocket reflector = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            EchoFactory factory = new EchoFactory();
            Connected<DatagramTransport, DatagramProtocol> echo = bind(factory, "127.0.0.1",
                    Map.of(UdpEchoSettings.REFLECTOR_PORTS, "1-1023, " + reflector.getLocalPort()));
            try {
                int port = port(echo);
                byte[] data = bytes("loop?");
                reflector.send(new DatagramPacket(data, data.length, InetAddress.getByName("127.0.0.1"), port));
                // Another host's echo on this endpoint's own port (127.0.0.2 is loopback too).
                try (DatagramSocket twin = new DatagramSocket(new InetSocketAddress("127.0.0.2", port))) {
                    twin.send(new DatagramPacket(data, data.length, InetAddress.getByName("127.0.0.1"), port));
                }
                Await.awaitTrue(() -> factory.metrics("udp-echo").get("echo.udp.dropped.reflectorPort") == 2,
                        "both dropped: " + factory.metrics("udp-echo"));
                try (DatagramSocket client = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
                    client.setSoTimeout(10_000);
                    assertArrayEquals(bytes("ping"), exchange(client, port, "ping"), "an ordinary client is answered");
                }
                assertEquals(1L, factory.metrics("udp-echo").get("echo.udp.datagrams.out"));
            } finally {
                echo.transport().close();
            }
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new EchoFactory().checkSettings(
                new ProtocolContext("udp-echo", "udp", Map.of(UdpEchoSettings.REFLECTOR_PORTS, "7, 70000"),
                        ConnectionHooks.NONE)));
        assertTrue(e.getMessage().startsWith("echo.udp.reflectorPorts = '7, 70000': '70000' is no port"), e.getMessage());
    }

    @Test
    void badSettingsAreRefusedNamingPropertyAndValue() {
        EchoFactory factory = new EchoFactory();
        for (var bad : List.of(
                List.of(UdpEchoSettings.RATE, "fast", "echo.udp.rate = 'fast': not a whole number"),
                List.of(UdpEchoSettings.RATE, "-1", "echo.udp.rate = '-1': at least 0"),
                List.of(UdpEchoSettings.BURST, "0", "echo.udp.burst = '0': at least 1"),
                List.of(UdpEchoSettings.TOTAL_RATE, "1.5", "echo.udp.totalRate = '1.5': not a whole number"),
                List.of(UdpEchoSettings.SOURCES, "0", "echo.udp.sources = '0': at least 1"))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> factory.checkSettings(
                    new ProtocolContext("udp-echo", "udp", Map.of(bad.get(0), bad.get(1)), ConnectionHooks.NONE)));
            assertEquals(bad.get(2), e.getMessage());
        }
        factory.checkSettings(new ProtocolContext("udp-echo", "udp", Map.of(UdpEchoSettings.RATE, "0",
                UdpEchoSettings.TOTAL_RATE, 0), ConnectionHooks.NONE)); // 0: no limit
    }

    private static Connected<DatagramTransport, DatagramProtocol> bind(EchoFactory factory, String host,
            Map<String, Object> settings) {
        ProtocolContext context = new ProtocolContext("udp-echo", "udp", settings, ConnectionHooks.NONE);
        factory.checkSettings(context);
        return Await.await(udp.bind(new InetSocketAddress(host, 0), DatagramOptions.DEFAULT,
                () -> factory.newDatagramProtocol(context)));
    }

    private static int port(Connected<DatagramTransport, DatagramProtocol> echo) {
        return ((InetSocketAddress) echo.transport().extraInfo(ExtraInfo.LOCAL_ADDRESS).orElseThrow()).getPort();
    }

    private static long received(Connected<DatagramTransport, DatagramProtocol> echo) {
        return echo.transport().extraInfo(ExtraInfo.BYTES_RECEIVED).orElseThrow();
    }

    private static byte[] exchange(DatagramSocket client, int port, String text) throws IOException {
        byte[] data = bytes(text);
        client.send(new DatagramPacket(data, data.length, InetAddress.getByName("127.0.0.1"), port));
        DatagramPacket back = new DatagramPacket(new byte[1024], 1024);
        client.receive(back);
        return java.util.Arrays.copyOf(back.getData(), back.getLength());
    }

    /** A non-blocking socket on a loopback address with room for every answer it may get. */
    private static DatagramChannel receiver(String host) throws IOException {
        DatagramChannel channel = DatagramChannel.open();
        channel.setOption(StandardSocketOptions.SO_RCVBUF, 1 << 20);
        channel.bind(new InetSocketAddress(host, 0));
        channel.configureBlocking(false);
        return channel;
    }

    /** Answers waiting in the socket now (loopback delivers within the sender's send call). */
    private static int drain(DatagramChannel channel) throws IOException {
        int n = 0;
        ByteBuffer buffer = ByteBuffer.allocate(1024);
        while (channel.receive(buffer.clear()) != null) {
            n++;
        }
        return n;
    }

    private static void forge(String source, int sourcePort, String target, int targetPort, String payload)
            throws Exception {
        Process python = Peers.process("python3", "-c", FORGE, source, Integer.toString(sourcePort), target,
                Integer.toString(targetPort), payload).redirectErrorStream(true).start();
        String out = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(python.waitFor(30, TimeUnit.SECONDS), "python3 did not finish");
        Assumptions.assumeTrue(python.exitValue() != 77, "forging a source address needs a raw socket, so root: skipped");
        assertEquals(0, python.exitValue(), "the raw-socket sender failed: " + out);
    }

    /** An IPv4 address of a non-loopback interface that is up, or the test is skipped. */
    private static String interfaceAddress() throws Exception {
        return NetworkInterface.networkInterfaces().filter(i -> {
            try {
                return i.isUp() && !i.isLoopback();
            } catch (java.net.SocketException e) {
                return false;
            }
        }).flatMap(NetworkInterface::inetAddresses).filter(Inet4Address.class::isInstance).map(InetAddress::getHostAddress)
                .findFirst().orElseGet(() -> {
                    Assumptions.abort("no non-loopback IPv4 interface to forge a source from");
                    return null;
                });
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
