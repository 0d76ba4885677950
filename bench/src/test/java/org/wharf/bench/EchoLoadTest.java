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

/** The driver and both servers work, and the driver notices a wrong echo (no speed is asserted here). */
class EchoLoadTest {

    @ParameterizedTest
    @ValueSource(strings = {"wharf", "netty"})
    void bothServersEchoEveryMessageTheDriverSends(String implementation) throws Exception {
        try (EchoServer server = EchoServer.start(implementation, 1)) {
            EchoLoad.Result result = EchoLoad.run(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port()),
                    8, 64, Duration.ofMillis(50), Duration.ofMillis(200));
            assertTrue(result.trips() > 0, "no round trip completed: " + result);
            assertTrue(result.p50Micros() <= result.p99Micros(), result.toString());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"wharf", "netty"})
    void bothServersStreamBulkDataBackIntact(String implementation) throws Exception {
        try (EchoServer server = EchoServer.start(implementation, 1)) {
            EchoLoad.Result result = EchoLoad.bulk(new InetSocketAddress(InetAddress.getLoopbackAddress(),
                    server.port()), 64 * 1024, Duration.ofMillis(50), Duration.ofMillis(300));
            assertTrue(result.trips() > 64 * 1024, "less than one chunk echoed: " + result);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"wharf", "netty"})
    void bothServersEchoDatagrams(String implementation) throws Exception {
        try (EchoServer server = EchoServer.start(implementation, 1, true)) {
            EchoLoad.Result result = EchoLoad.udp(new InetSocketAddress(InetAddress.getLoopbackAddress(),
                    server.port()), 16, 64, Duration.ofMillis(50), Duration.ofMillis(300));
            assertTrue(result.trips() > 0, "no datagram answered: " + result);
            assertTrue(result.p50Micros() <= result.p99Micros(), result.toString());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"wharf", "netty"})
    void bothServersEchoOverTls13(String implementation) throws Exception {
        Bench.Pki pki = Bench.Pki.create();
        try (EchoServer server = EchoServer.startTls(implementation, 1, pki.chain(), pki.key())) {
            InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port());
            EchoLoad.Result echo = EchoLoad.run(address, pki.client(), 4, 64, Duration.ofMillis(50),
                    Duration.ofMillis(300));
            assertTrue(echo.trips() > 0, "no round trip completed: " + echo);
            EchoLoad.Result bulk = EchoLoad.bulk(address, pki.client(), 64 * 1024, Duration.ofMillis(50),
                    Duration.ofMillis(500));
            assertTrue(bulk.trips() > 64 * 1024, "less than one chunk echoed: " + bulk);
            EchoLoad.Result handshakes = EchoLoad.handshakes(address, pki.client(), 2, 64, Duration.ZERO,
                    Duration.ofMillis(500));
            assertTrue(handshakes.trips() > 0, "no handshake completed: " + handshakes);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"wharf", "netty"})
    void idleConnectionsStayOpenAfterTheirEcho(String implementation) throws Exception {
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
