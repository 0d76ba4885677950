package org.wharf.transport.nio.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.wharf.transport.api.ListenOptions;
import org.wharf.transport.api.Listener;
import org.wharf.transport.api.WriteBufferLimits;
import org.wharf.transport.tck.EchoProtocol;

/** A loop with {@code busyPollMicros} set: it polls while work comes quickly, and stops when idle. */
class BusyPollLoopTest {

    private final Resolver resolver = new Resolver();
    private NioEventLoopGroup group;

    @AfterEach
    void stop() throws Exception {
        if (group != null) {
            group.shutdown().get(10, TimeUnit.SECONDS);
        }
        resolver.shutdown();
    }

    private NioEventLoop loop(int busyPollMicros) {
        group = new NioEventLoopGroup(new NioSettings(1, 16 * 1024, WriteBufferLimits.DEFAULT,
                NioSettings.DEFAULT_UDP_BATCH, NioSettings.DEFAULT_CLOSE_TIMEOUT, busyPollMicros));
        return group.next();
    }

    @Test
    void aClientThatAnswersAtOnceIsCaughtByThePollAndAnIdleLoopThenStopsPolling() throws Exception {
        NioEventLoop loop = loop(5_000);
        int rounds = pingPong(2_000);
        long[] figures = loop.busyPollFigures().get(10, TimeUnit.SECONDS);
        // Each echo is followed by a poll of up to 5 ms, in which the client's next message comes.
        assertTrue(figures[0] > 0, "polls that found the next message: " + figures[0] + " of " + rounds
                + " round trips (misses " + figures[1] + ")");

        // Idle: every poll runs out, each half as long as the one before, until there is none.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while ((figures = loop.busyPollFigures().get(10, TimeUnit.SECONDS))[2] != 0) {
            assertTrue(System.nanoTime() < deadline, "still polling for " + figures[2] + " ns after 10 s idle");
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(6)); // longer than a poll
        }
        assertTrue(figures[1] > 0, "misses counted: " + figures[1]);

        // And traffic still flows, the loop now sleeping in its selector.
        assertEquals(10, pingPong(10));
    }

    @Test
    void withoutTheSettingTheLoopNeverPolls() throws Exception {
        NioEventLoop loop = loop(0);
        pingPong(200);
        assertArrayEquals(new long[3], loop.busyPollFigures().get(10, TimeUnit.SECONDS));
    }

    /** Blocking round trips of 64 bytes through an echo on the group; returns the count. */
    private int pingPong(int rounds) throws Exception {
        NioTcpProvider tcp = new NioTcpProvider(group, resolver);
        Listener listener = tcp.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), ListenOptions.DEFAULT,
                EchoProtocol::new).toCompletableFuture().get(10, TimeUnit.SECONDS);
        try (Socket socket = new Socket()) {
            socket.connect(listener.localAddress(), 10_000);
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            byte[] message = new byte[64];
            byte[] echo = new byte[64];
            for (int i = 0; i < rounds; i++) {
                message[0] = (byte) i;
                out.write(message);
                int n = 0;
                while (n < echo.length) {
                    int r = in.read(echo, n, echo.length - n);
                    assertTrue(r > 0, "the echo ended early");
                    n += r;
                }
                assertArrayEquals(message, echo);
            }
        } finally {
            listener.close();
        }
        return rounds;
    }
}
