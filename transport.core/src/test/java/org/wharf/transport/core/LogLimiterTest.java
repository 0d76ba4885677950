package org.wharf.transport.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.List;
import java.util.ResourceBundle;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

class LogLimiterTest {

    /** A System.Logger that keeps its lines. */
    static final class Lines implements System.Logger {
        final List<String> lines = new CopyOnWriteArrayList<>();

        @Override
        public String getName() {
            return "test";
        }

        @Override
        public boolean isLoggable(Level level) {
            return true;
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
            lines.add(msg);
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String format, Object... params) {
            lines.add(format);
        }
    }

    @Test
    void aBurstOfOneKindIsOneLineAndItsCountRidesWithTheNextLine() {
        Lines log = new Lines();
        AtomicLong now = new AtomicLong(1_000);
        LogLimiter limiter = new LogLimiter(log, Duration.ofSeconds(10), now::get);
        for (int i = 0; i < 50_000; i++) {
            int n = i;
            limiter.log(Level.WARNING, "handshake", () -> "handshake " + n + " failed", null);
        }
        limiter.log(Level.WARNING, "other", () -> "something else", null);
        assertEquals(List.of("handshake 0 failed", "something else"), log.lines, "one line per kind in a window");
        assertEquals(49_999, limiter.suppressed("handshake"));

        now.addAndGet(Duration.ofSeconds(11).toNanos());
        limiter.log(Level.WARNING, "handshake", () -> "handshake again failed", null);
        assertEquals("handshake again failed (and 49,999 more like it in the 11 s before)", log.lines.get(2));
        assertEquals(0, limiter.suppressed("handshake"));
    }

    @Test
    void manyThreadsLogOneLinePerWindowAndLoseNoCount() throws Exception {
        Lines log = new Lines();
        LogLimiter limiter = new LogLimiter(log, Duration.ofHours(1));
        Thread[] threads = new Thread[4];
        for (int t = 0; t < threads.length; t++) {
            threads[t] = new Thread(() -> {
                for (int i = 0; i < 10_000; i++) {
                    limiter.log(Level.WARNING, "kind", () -> "line", null);
                }
            });
            threads[t].start();
        }
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(1, log.lines.size());
        assertEquals(39_999, limiter.suppressed("kind"));
        assertTrue(log.lines.get(0).equals("line"));
    }
}
