package org.wharf.protocol.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.wharf.transport.tck.ManualEventLoop;

class IdleTimerTest {

    private final ManualEventLoop loop = new ManualEventLoop();
    private final AtomicLong activity = new AtomicLong();
    private final AtomicInteger idle = new AtomicInteger();

    @Test
    void idleOnlyAfterATimeoutWithNothingMovedAndOnce() {
        IdleTimer.start(loop, Duration.ofSeconds(10), activity::get, idle::incrementAndGet);
        loop.advance(Duration.ofSeconds(5));
        activity.addAndGet(100); // bytes moved
        loop.advance(Duration.ofSeconds(5));
        assertEquals(0, idle.get(), "something moved in the first period");
        loop.advance(Duration.ofSeconds(9));
        assertEquals(0, idle.get());
        loop.advance(Duration.ofSeconds(1));
        assertEquals(1, idle.get(), "a whole period with nothing moved");
        loop.advance(Duration.ofSeconds(60));
        assertEquals(1, idle.get(), "said once");
        assertEquals(0, loop.activeTimers());
    }

    @Test
    void aCancelledTimerNeverCalls() {
        IdleTimer t = IdleTimer.start(loop, Duration.ofSeconds(1), activity::get, idle::incrementAndGet);
        t.cancel();
        loop.advance(Duration.ofSeconds(10));
        assertEquals(0, idle.get());
        assertThrows(IllegalArgumentException.class, () -> IdleTimer.start(loop, Duration.ZERO, activity::get, () -> { }));
    }
}
