package org.wharf.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The driver and every server work (Wharf, and Netty on each transport and TLS engine this
 * machine can load), the driver's measuring windows are the ones it counts in, and the driver
 * notices a wrong echo. No speed is asserted here.
 */
class EchoLoadTest {

    /** Skips a Netty configuration whose native library does not load here, saying why. */
    static void assumeRuns(String implementation) {
        Peer peer = Peer.of(implementation);
        assumeTrue(peer.unavailable().isEmpty(), () -> implementation + " cannot run here: " + peer.unavailable().get());
    }

    /** One measuring run of the driver with a window of the given length. */
    interface Measure {
        EchoLoad.Result run(Duration window) throws Exception;
    }

    /**
     * Runs a measurement with a window doubled from {@code first} until its result holds or
     * 20 s of windows have passed: a busy machine slows a server down, it does not make it wrong,
     * so a short window that counts nothing is tried again longer, never passed.
     *
     * @return the first result that holds, or the last one
     */
    static EchoLoad.Result enough(Duration first, java.util.function.Predicate<EchoLoad.Result> holds, Measure measure)
            throws Exception {
        Duration window = first;
        Duration spent = Duration.ZERO;
        while (true) {
            EchoLoad.Result result = measure.run(window);
            spent = spent.plus(window);
            if (holds.test(result) || spent.compareTo(Duration.ofSeconds(20)) >= 0) {
                return result;
            }
            window = window.multipliedBy(2);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"wharf", "netty-nio", "netty-epoll", "netty-io_uring"})
    void everyServerEchoesEveryMessageTheDriverSends(String implementation) throws Exception {
        assumeRuns(implementation);
        try (EchoServer server = EchoServer.start(implementation, 1)) {
            InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port());
            EchoLoad.Result result = enough(Duration.ofMillis(200), r -> r.trips() > 0,
                    window -> EchoLoad.run(address, 8, 64, Duration.ofMillis(50), window));
            assertTrue(result.trips() > 0, "no round trip completed: " + result);
            assertTrue(result.p50Micros() <= result.p99Micros(), result.toString());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"wharf", "netty-nio", "netty-epoll", "netty-io_uring"})
    void everyServerStreamsBulkDataBackIntact(String implementation) throws Exception {
        assumeRuns(implementation);
        try (EchoServer server = EchoServer.start(implementation, 1)) {
            InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port());
            EchoLoad.Result result = enough(Duration.ofMillis(300), r -> r.trips() > 64 * 1024,
                    window -> EchoLoad.bulk(address, 64 * 1024, Duration.ofMillis(50), window));
            assertTrue(result.trips() > 64 * 1024, "less than one chunk echoed: " + result);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"wharf", "netty-nio", "netty-epoll", "netty-io_uring"})
    void everyServerEchoesDatagrams(String implementation) throws Exception {
        assumeRuns(implementation);
        try (EchoServer server = EchoServer.start(implementation, 1, true)) {
            InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port());
            EchoLoad.Result result = enough(Duration.ofMillis(300), r -> r.trips() > 0,
                    window -> EchoLoad.udp(address, 16, 64, Duration.ofMillis(50), window));
            assertTrue(result.trips() > 0, "no datagram answered: " + result);
            assertTrue(result.p50Micros() <= result.p99Micros(), result.toString());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"wharf", "wharf-conscrypt", "netty-nio", "netty-epoll-openssl"})
    void everyTlsServerEchoesOverTls13(String implementation) throws Exception {
        assumeRuns(implementation);
        Bench.Pki pki = Bench.Pki.create();
        try (EchoServer server = EchoServer.startTls(implementation, 1, pki.chain(), pki.key())) {
            InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port());
            EchoLoad.Result echo = enough(Duration.ofMillis(300), r -> r.trips() > 0,
                    window -> EchoLoad.run(address, pki.client(), 4, 64, Duration.ofMillis(50), window));
            assertTrue(echo.trips() > 0, "no round trip completed: " + echo);
            assertEquals("TLSv1.3 " + EchoServer.TLS_SUITE, echo.tls());
            EchoLoad.Result bulk = enough(Duration.ofMillis(500), r -> r.trips() > 64 * 1024,
                    window -> EchoLoad.bulk(address, pki.client(), 64 * 1024, Duration.ofMillis(50), window));
            assertTrue(bulk.trips() > 64 * 1024, "less than one chunk echoed: " + bulk);
            EchoLoad.Result handshakes = enough(Duration.ofMillis(500), r -> r.trips() > 0,
                    window -> EchoLoad.handshakes(address, pki.client(), 2, 64, Duration.ZERO, window));
            assertTrue(handshakes.trips() > 0, "no handshake completed: " + handshakes);
        }
    }

    /**
     * Full handshakes offer no session; resumed ones offer the one the server's ticket gave
     * each client, and what the server did with it is read off the wire. Netty's servers
     * (its JDK engine, and OpenSSL with SslContextBuilder's defaults) issue tickets and
     * resume: the comparison with them is between resumed handshakes. Wharf's servers are
     * counted, whatever they do.
     */
    @ParameterizedTest
    @ValueSource(strings = {"wharf", "wharf-conscrypt", "netty-nio", "netty-epoll-openssl"})
    void resumptionIsCountedNotAssumed(String implementation) throws Exception {
        assumeRuns(implementation);
        Bench.Pki pki = Bench.Pki.create();
        try (EchoServer server = EchoServer.startTls(implementation, 1, pki.chain(), pki.key())) {
            InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port());
            EchoLoad.Result full = enough(Duration.ofMillis(400), r -> r.trips() > 0,
                    window -> EchoLoad.handshakes(address, pki.client(), 2, 64, Duration.ZERO, window));
            assertTrue(full.trips() > 0, full.toString());
            assertEquals(0, full.offered(), "a full handshake offers no session: " + full);
            assertEquals(0, full.resumed(), full.toString());

            EchoLoad.Result resumed = enough(Duration.ofMillis(600), r -> r.trips() > 2,
                    window -> EchoLoad.resumedHandshakes(address, pki.client(), 2, 64, Duration.ZERO, window));
            assertTrue(resumed.trips() > 2, "a handshake after each client's first: " + resumed);
            assertTrue(resumed.resumed() <= resumed.offered() && resumed.offered() <= resumed.trips(),
                    resumed.toString());
            if (implementation.startsWith("netty")) {
                assertEquals(resumed.trips() - 2, resumed.offered(), implementation + " issues a ticket on every "
                        + "connection, so each client offers one on all but its first: " + resumed);
                assertEquals(resumed.offered(), resumed.resumed(), "Netty resumes every session offered: " + resumed);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"wharf", "netty-nio", "netty-epoll", "netty-io_uring"})
    void idleConnectionsStayOpenAfterTheirEcho(String implementation) throws Exception {
        assumeRuns(implementation);
        try (EchoServer server = EchoServer.start(implementation, 1)) {
            List<SocketChannel> open = EchoLoad.idle(new InetSocketAddress(InetAddress.getLoopbackAddress(),
                    server.port()), 300);
            try {
                assertEquals(300, open.size());
                assertTrue(open.stream().allMatch(SocketChannel::isConnected));
            } finally {
                for (SocketChannel channel : open) {
                    channel.close();
                }
            }
        }
    }

    @Test
    void iperf3MeasuresTheLoopbackLimitWhereInstalled() throws Exception {
        assumeTrue(Iperf.available(), "iperf3 is not installed");
        assertTrue(Iperf.tcp(List.of(), Duration.ofSeconds(1)) > 0);
        assertTrue(Iperf.udp(List.of(), Duration.ofSeconds(1)) > 0);
    }

    /**
     * The window the driver tells the server of is the one it counts in: it opens only once
     * every connection is open (so handshakes and connecting fall outside it), and the
     * messages the server echoes between the two signals are the round trips the driver
     * counts, give or take the one in flight on each connection.
     */
    @Test
    void theServerIsToldOfExactlyTheWindowTheDriverCounts() throws Exception {
        int connections = 8;
        java.util.concurrent.atomic.AtomicInteger accepted = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicLong echoed = new java.util.concurrent.atomic.AtomicLong();
        try (ServerSocket listener = new ServerSocket(0, 64, InetAddress.getLoopbackAddress())) {
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        Socket s = listener.accept();
                        accepted.incrementAndGet();
                        Thread echo = new Thread(() -> {
                            try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                                byte[] message = new byte[64];
                                while (in.readNBytes(message, 0, 64) == 64) {
                                    echoed.incrementAndGet(); // counted before the answer leaves
                                    out.write(message);
                                }
                            } catch (IOException e) {
                                // the driver closed the connection
                            }
                        });
                        echo.setDaemon(true);
                        echo.start();
                    }
                } catch (IOException e) {
                    // the listener closed
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            long[] atOpen = new long[2];
            long[] atClose = new long[2];
            int[] acceptedAtOpen = new int[2];
            List<String> events = new java.util.ArrayList<>();
            Windows windows = new Windows(List.of(Duration.ofMillis(50), Duration.ofMillis(400)), Duration.ofMillis(200));
            List<EchoLoad.Result> results = EchoLoad.run(new InetSocketAddress(InetAddress.getLoopbackAddress(),
                    listener.getLocalPort()), null, connections, 64, windows, new Windows.Listener() {
                        @Override
                        public void opened(int window) {
                            events.add("opened " + window);
                            acceptedAtOpen[window] = accepted.get();
                            atOpen[window] = echoed.get();
                        }

                        @Override
                        public void closed(int window) {
                            events.add("closed " + window);
                            atClose[window] = echoed.get();
                        }
                    });
            assertEquals(List.of("opened 0", "closed 0", "opened 1", "closed 1"), events);
            assertEquals(2, results.size());
            for (int w = 0; w < 2; w++) {
                assertEquals(connections, acceptedAtOpen[w], "window " + w + " opened before every connection was open");
                long serverSaw = atClose[w] - atOpen[w];
                long driverCounted = results.get(w).trips();
                assertTrue(driverCounted > 0, "window " + w + " counted nothing");
                assertTrue(Math.abs(serverSaw - driverCounted) <= connections, "window " + w + ": the server echoed "
                        + serverSaw + " messages between the signals, the driver counted " + driverCounted);
            }
        }
    }

    @Test
    void aCorruptedEchoFailsTheRun() throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread corrupter = new Thread(() -> {
                try (Socket s = listener.accept(); InputStream in = s.getInputStream();
                        OutputStream out = s.getOutputStream()) {
                    byte[] message = in.readNBytes(64);
                    message[63] ^= 1;
                    out.write(message);
                    in.read(); // hold the connection until the driver gives up
                } catch (IOException e) {
                    // the driver closed the connection
                }
            });
            corrupter.start();
            IOException error = assertThrows(IOException.class, () -> EchoLoad.run(
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort()), 1, 64,
                    Duration.ZERO, Duration.ofSeconds(30)));
            assertTrue(error.getMessage().contains("differs"), error.getMessage());
            corrupter.join(10_000);
        }
    }
}
