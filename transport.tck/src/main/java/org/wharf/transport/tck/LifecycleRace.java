package org.wharf.transport.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.wharf.transport.api.ConnectOptions;
import org.wharf.transport.api.ListenOptions;
import org.wharf.transport.api.Listener;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.StreamTransportProvider;
import org.wharf.transport.api.Transport;

/**
 * The lifecycle race every stream transport runs: each accepted connection is closed or
 * aborted by a racer thread the moment it is made, while its peer resets it or ends its
 * input at the same time. Whichever wins, the protocol hears {@code connectionLost} exactly
 * once. (A lifecycle whose close from another thread can undo the loop's "closed" runs the
 * close path twice: 18 of 50,000 connections did before the transport core.)
 */
public final class LifecycleRace {

    private LifecycleRace() {
    }

    /**
     * Runs the race over {@code connections} connections, 64 at a time, and asserts.
     *
     * @param provider the transport under test (both sides)
     * @param listen the server's options
     * @param connect the clients' options
     * @param connections how many connections
     * @param timeout the longest any wait may take
     * @throws InterruptedException if interrupted
     */
    public static void run(StreamTransportProvider provider, ListenOptions listen, ConnectOptions connect,
            int connections, Duration timeout) throws InterruptedException {
        ExecutorService racers = Executors.newFixedThreadPool(2);
        AtomicInteger made = new AtomicInteger();
        AtomicInteger lost = new AtomicInteger();
        AtomicInteger clientsLost = new AtomicInteger();
        AtomicInteger index = new AtomicInteger();
        List<String> problems = new CopyOnWriteArrayList<>();
        Listener listener = Await.await(provider.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), listen,
                () -> new Protocol() {
                    final AtomicBoolean gone = new AtomicBoolean();

                    @Override
                    public void connectionMade(Transport t) {
                        boolean abort = index.getAndIncrement() % 2 == 1;
                        made.incrementAndGet();
                        racers.execute(abort ? t::abort : t::close);
                    }

                    @Override
                    public void dataReceived(ByteBuffer data) {
                    }

                    @Override
                    public void connectionLost(Throwable cause) {
                        if (gone.getAndSet(true)) {
                            problems.add("connectionLost twice on one connection");
                        }
                        lost.incrementAndGet();
                    }
                }));
        try {
            Semaphore inFlight = new Semaphore(64);
            for (int i = 0; i < connections; i++) {
                boolean reset = i % 4 < 2;
                if (!inFlight.tryAcquire(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    fail("connections stopped ending after " + i + " of " + connections + ": " + problems);
                }
                provider.connect(listener.localAddress(), connect, () -> new Protocol() {
                    @Override
                    public void connectionMade(Transport t) {
                        if (reset) {
                            t.reset();
                        } else {
                            t.close();
                        }
                    }

                    @Override
                    public void dataReceived(ByteBuffer data) {
                    }

                    @Override
                    public void connectionLost(Throwable cause) {
                        clientsLost.incrementAndGet();
                        inFlight.release();
                    }
                }).whenComplete((c, e) -> {
                    if (e != null) {
                        problems.add("connect failed: " + e);
                        inFlight.release();
                    }
                });
            }
            assertTrue(inFlight.tryAcquire(64, timeout.toMillis(), TimeUnit.MILLISECONDS),
                    "every client connection ended (" + clientsLost.get() + " of " + connections + ")");
            // At least as many losses as connections made: a connection lost twice shows as one
            // more loss than made, and as a problem named below (not as a wait that never ends).
            Await.awaitTrue(() -> lost.get() >= made.get() && index.get() == made.get(),
                    "every connection the server made is lost (made " + made.get() + ", lost " + lost.get() + ")");
            assertEquals(List.of(), problems.stream().distinct().toList(), "made " + made.get() + ", lost " + lost.get());
            assertEquals(connections, clientsLost.get(), "every client connection was lost once");
            // A connection accepted late (its client long gone) is made and lost after the look
            // above: wait for those too, then no problem may have come with them.
            Await.awaitTrue(() -> lost.get() == made.get(), "every connection made is lost, late ones too");
            assertEquals(List.of(), problems.stream().distinct().toList(), "made " + made.get() + ", lost " + lost.get());
        } finally {
            racers.shutdownNow();
            Await.await(listener.close());
        }
    }
}
