package org.wharf.protocol.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

class MemoryBudgetTest {

    @Test
    void aReservationHoldsAtEveryLevelOrAtNone() {
        MemoryBudget platform = MemoryBudget.of("platform", 100);
        MemoryBudget endpoint = platform.share("endpoint", 60);
        MemoryBudget a = endpoint.connection(50);
        MemoryBudget b = endpoint.connection(50);
        assertTrue(a.tryReserve(40));
        assertFalse(a.tryReserve(11), "past the connection's own share");
        assertFalse(b.tryReserve(21), "past the endpoint's share: nothing stays reserved at b");
        assertEquals(1, b.refusals());
        assertEquals(2, endpoint.refusals(), "a refusal below counts for the levels above (a's and b's)");
        assertEquals(2, platform.refusals());
        assertEquals(0, b.used());
        assertEquals(40, endpoint.used());
        assertTrue(b.tryReserve(20));
        assertEquals(60, platform.used());
        MemoryBudget other = platform.share("other", 100);
        assertFalse(other.tryReserve(41), "past the platform's budget");
        assertEquals(0, other.used());
        a.release(40);
        assertTrue(other.tryReserve(41));
        assertEquals(20 + 41, platform.used());
    }

    @Test
    void closingAConnectionsShareGivesBackWhatItsProtocolForgot() {
        MemoryBudget endpoint = MemoryBudget.of("endpoint", 100);
        MemoryBudget connection = endpoint.connection(100);
        assertTrue(connection.tryReserve(70));
        connection.close();
        assertEquals(0, endpoint.used());
        assertFalse(connection.tryReserve(1), "a closed share takes nothing");
        connection.release(70); // a late release after the close: given back once only
        assertEquals(0, endpoint.used());
        assertTrue(endpoint.connection(100).tryReserve(100));
    }

    @Test
    void unlimitedCountsNothingAndMakesNoObjectPerConnection() {
        assertSame(MemoryBudget.UNLIMITED, MemoryBudget.UNLIMITED.connection(Long.MAX_VALUE));
        assertTrue(MemoryBudget.UNLIMITED.tryReserve(Long.MAX_VALUE));
        assertEquals(0, MemoryBudget.UNLIMITED.used());
        MemoryBudget limited = MemoryBudget.UNLIMITED.connection(10);
        assertFalse(limited.tryReserve(11));
        assertTrue(limited.tryReserve(10));
    }

    /** Many connections on many threads reserve and release: never past the limit, all back at the end. */
    @Test
    void racingConnectionsNeverHoldMoreThanTheBudgetAndGiveAllBack() throws Exception {
        MemoryBudget platform = MemoryBudget.of("platform", 10_000);
        MemoryBudget endpoint = platform.share("endpoint", 2_000);
        AtomicLong highest = new AtomicLong();
        ExecutorService threads = Executors.newFixedThreadPool(8);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Integer>> results = new ArrayList<>();
        try {
            for (int t = 0; t < 8; t++) {
                results.add(threads.submit(() -> {
                    go.await();
                    int refused = 0;
                    // Each thread keeps its last three connections open: they hold up to 3,000
                    // bytes on their own, past the endpoint's 2,000, so the limit is reached.
                    java.util.ArrayDeque<MemoryBudget> open = new java.util.ArrayDeque<>();
                    for (int i = 0; i < 20_000; i++) {
                        MemoryBudget c = endpoint.connection(1_500);
                        long n = 1 + i % 1_000;
                        if (c.tryReserve(n)) {
                            highest.accumulateAndGet(endpoint.used(), Math::max);
                            if (i % 3 == 0) {
                                c.release(n);
                            }
                        } else {
                            refused++;
                        }
                        open.add(c);
                        if (open.size() > 3) {
                            open.poll().close();
                        }
                    }
                    open.forEach(MemoryBudget::close);
                    return refused;
                }));
            }
            go.countDown();
            int refused = 0;
            for (Future<Integer> f : results) {
                refused += f.get();
            }
            assertTrue(highest.get() <= 2_000, "held at most the endpoint's share: " + highest.get());
            assertTrue(refused > 0, "the race reached the limit");
            assertEquals(0, endpoint.used());
            assertEquals(0, platform.used());
        } finally {
            threads.shutdownNow();
        }
    }
}
