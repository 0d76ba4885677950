package org.wharf.transport.nio.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
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
        // The loop's figures for metrics say the same, as of a turn since.
        long found = figures[0];
        long deadlineForStats = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (loop.stats().busyPollsFound() < found) {
            assertTrue(System.nanoTime() < deadlineForStats, "published: " + loop.stats());
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
        assertTrue(loop.stats().busyPolls() >= loop.stats().busyPollsFound(), loop.stats().toString());

        // Idle: every poll runs out, each half as long as the one before, until there is none.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while ((figures = loop.busyPollFigures().get(10, TimeUnit.SECONDS))[2] != 0) {
            assertTrue(System.nanoTime() < deadline, "still polling for " + figures[2] + " ns after 10 s idle");
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(6)); // longer than a poll
        }
        assertTrue(figures[1] > 0, "misses counted: " + figures[1]);

        // And traffic still flows, the loop now sleeping in its selector, and its polls come back.
        long hitsWhenIdle = figures[0];
        pingPong(200);
        figures = loop.busyPollFigures().get(10, TimeUnit.SECONDS);
        assertTrue(figures[0] > hitsWhenIdle, "polls find I/O again under traffic: " + figures[0] + " hits");
    }

    /**
     * Tasks from another thread end a poll but are not I/O: a loop that only they wake, more
     * often than its poll lasts, must still stop polling rather than spin between them for ever.
     */
    @Test
    void aLoopThatOnlyTasksWakeStopsPolling() throws Exception {
        NioEventLoop loop = loop(10_000);
        long[] figures;
        int tasks = 0;
        // Each task halves the budget of the poll it ends (10 ms, 5, 2.5 ... 1 us, none): a
        // dozen do it. Only a poll that runs out, or that the lag probe (every 500 ms) cuts short,
        // would otherwise: hundreds of tasks at this pace.
        while ((figures = loop.busyPollFigures().get(10, TimeUnit.SECONDS))[2] != 0) {
            assertTrue(++tasks < 100, "still polling for up to " + figures[2] + " ns between tasks after " + tasks
                    + " of them (misses " + figures[1] + ")");
            // A task every 0.5 ms or so: each lands in a poll of up to 10 ms.
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(500));
        }
        assertEquals(0, figures[0], "no poll found I/O: there was none");
    }

    /**
     * Another thread's execute sets wakeupPending only after its task is queued. A polling loop
     * can see the task, clear the flag and run it before that thread sets the flag and wakes the
     * selector. The next poll's selectNow then takes that wakeup, and a loop that went to sleep
     * with the flag still set would leave the next thread's task waiting for its next timer:
     * that thread sees the flag and makes no wakeup. The loop must not sleep with it set.
     */
    @Test
    void aPollThatTakesAWakeupDoesNotLetTheLoopSleepWithTheFlagSet() throws Exception {
        NioEventLoop loop = loop(2_000);
        for (int round = 0; round < 20; round++) {
            // That thread's late flag and wakeup, made after the turn cleared the flag; the next
            // poll's selectNow takes the wakeup.
            CompletableFuture<Void> set = new CompletableFuture<>();
            loop.execute(() -> {
                loop.wakeupFlag().set(true);
                loop.wakeSelector();
                set.complete(null);
            });
            set.get(10, TimeUnit.SECONDS);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!sleepsInItsSelector(loop)) {
                assertTrue(System.nanoTime() < deadline, "the loop never went to sleep");
                java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(200));
            }
            assertFalse(loop.wakeupFlag().get(), "round " + round + ": the loop sleeps with wakeupPending set, so "
                    + "the next task from another thread would wait for its next timer");
        }
    }

    /** Whether the loop's thread is in a blocking select (not a poll's selectNow). */
    private static boolean sleepsInItsSelector(NioEventLoop loop) {
        Thread thread = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals(loop.name())).findFirst().orElseThrow();
        boolean blocking = false;
        for (StackTraceElement frame : thread.getStackTrace()) {
            if (frame.getMethodName().equals("selectNow") || frame.getMethodName().equals("poll")
                    && frame.getClassName().equals(NioEventLoop.class.getName())) {
                return false;
            }
            if (frame.getClassName().equals(NioEventLoop.class.getName()) && frame.getMethodName().equals("select")) {
                return blocking;
            }
            blocking |= frame.getClassName().startsWith("sun.nio.ch.") && frame.getMethodName().equals("select");
        }
        return false;
    }

    @Test
    void withoutTheSettingTheLoopNeverPolls() throws Exception {
        NioEventLoop loop = loop(0);
        pingPong(200);
        assertArrayEquals(new long[3], loop.busyPollFigures().get(10, TimeUnit.SECONDS));
        assertEquals(0, loop.stats().busyPolls());
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
