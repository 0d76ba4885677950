package org.wharf.bench;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;

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
