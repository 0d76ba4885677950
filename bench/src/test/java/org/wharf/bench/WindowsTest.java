package org.wharf.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** Which measuring window a moment falls in, and the signals a run's clock gives, on made-up times. */
class WindowsTest {

    private static final long S = 1_000_000_000L;

    /** Records the signals. */
    private static final class Recorder implements Windows.Listener {
        final List<String> events = new ArrayList<>();

        @Override
        public void opened(int window) {
            events.add("opened " + window);
        }

        @Override
        public void closed(int window) {
            events.add("closed " + window);
        }
    }

    @Test
    void theDefaultWindowFollowsTheWarmupAndTheSteadyOneFollowsTheLongerWarmup() {
        Windows windows = Windows.of(Duration.ofSeconds(3), Duration.ofSeconds(5), Duration.ofSeconds(20));
        assertEquals(2, windows.count());
        assertEquals(-1, windows.at(0));
        assertEquals(-1, windows.at(3 * S - 1));
        assertEquals(0, windows.at(3 * S));
        assertEquals(0, windows.at(8 * S - 1));
        assertEquals(-1, windows.at(8 * S)); // a window is [start, start + length)
        assertEquals(-1, windows.at(19 * S));
        assertEquals(1, windows.at(20 * S));
        assertEquals(1, windows.at(25 * S - 1));
        assertEquals(-1, windows.at(25 * S));
        assertEquals(25 * S, windows.spanNanos());
        assertEquals(1, Windows.of(Duration.ofSeconds(3), Duration.ofSeconds(5), null).count());
    }

    @Test
    void theClockSignalsEachEdgeOnceInOrderAsTimePasses() {
        Windows windows = Windows.of(Duration.ofSeconds(3), Duration.ofSeconds(5), Duration.ofSeconds(20));
        Recorder recorder = new Recorder();
        long start = 1_000 * S; // nanoTime has no zero
        Windows.Clock clock = windows.start(start, recorder);
        assertEquals(-1, clock.advance(start));
        assertEquals(3 * S, clock.nanosToNextBoundary(start));
        assertEquals(List.of(), recorder.events);
        assertEquals(0, clock.advance(start + 3 * S));
        assertEquals(0, clock.advance(start + 4 * S));
        assertEquals(List.of("opened 0"), recorder.events);
        assertEquals(4 * S, clock.nanosToNextBoundary(start + 4 * S));
        assertEquals(-1, clock.advance(start + 8 * S));
        assertEquals(1, clock.advance(start + 21 * S));
        assertFalse(clock.finished(start + 25 * S - 1));
        assertEquals(-1, clock.advance(start + 25 * S));
        assertTrue(clock.finished(start + 25 * S));
        assertEquals(List.of("opened 0", "closed 0", "opened 1", "closed 1"), recorder.events);
        clock.advance(start + 30 * S);
        assertEquals(4, recorder.events.size(), "an edge is signalled once");
    }

    @Test
    void aLateLookStillOpensAndClosesEverySkippedWindowInOrder() {
        // A load stalled (a long collection) past a whole window: the server is still told of
        // it, opened then closed, so its CPU sample pairs stay matched.
        Windows windows = Windows.of(Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(3));
        Recorder recorder = new Recorder();
        Windows.Clock clock = windows.start(-5 * S, recorder); // nanoTime may be negative
        assertEquals(1, clock.advance(-5 * S + 3 * S + S / 2));
        assertEquals(List.of("opened 0", "closed 0", "opened 1"), recorder.events);
    }

    @Test
    void overlappingOrEmptyWindowsAreRefusedNamingTheWindow() {
        IllegalArgumentException overlap = assertThrows(IllegalArgumentException.class,
                () -> Windows.of(Duration.ofSeconds(3), Duration.ofSeconds(5), Duration.ofSeconds(6)));
        assertTrue(overlap.getMessage().contains("window 1"), overlap.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Windows.of(Duration.ofSeconds(3), Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> new Windows(List.of(), Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class, () -> Windows.of(Duration.ofSeconds(-1), Duration.ofSeconds(1)));
    }
}
