package org.wharf.transport.nio.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The busy poll's budget: full after a hit, halved to none by misses, full again on quick work. */
class BusyPollTest {

    @Test
    void missesHalveTheBudgetToNoneAndAHitRestoresIt() {
        BusyPoll poll = new BusyPoll(50_000);
        assertEquals(50_000, poll.budgetNanos());
        long[] expected = {25_000, 12_500, 6_250, 3_125, 1_562, 0, 0};
        for (long budget : expected) {
            poll.missed();
            assertEquals(budget, poll.budgetNanos());
        }
        poll.found();
        assertEquals(50_000, poll.budgetNanos());
        assertEquals(1, poll.hits());
        assertEquals(expected.length, poll.misses());
    }

    @Test
    void aSleepThatAFullPollWouldHaveCaughtRestoresTheBudget() {
        BusyPoll poll = new BusyPoll(50_000);
        for (int i = 0; i < 6; i++) {
            poll.missed();
        }
        assertEquals(0, poll.budgetNanos());
        poll.woke(80_000); // work came later than the longest poll: polling would not have caught it
        assertEquals(0, poll.budgetNanos());
        poll.woke(50_000);
        assertEquals(50_000, poll.budgetNanos());
    }

    @Test
    void anIdleLoopPollsForAboutTwiceTheLongestPollInAll() {
        BusyPoll poll = new BusyPoll(30_000);
        long polled = 0;
        while (poll.budgetNanos() > 0) {
            polled += poll.budgetNanos();
            poll.missed();
        }
        assertEquals(true, polled < 60_000 && polled > 30_000, "polled " + polled + " ns in all");
    }

    @Test
    void aBudgetOfNothingIsRefusedAndTheSettingIsBounded() {
        assertThrows(IllegalArgumentException.class, () -> new BusyPoll(0));
        IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class, () -> new NioSettings(1, 65536,
                org.wharf.transport.api.WriteBufferLimits.DEFAULT, 16, java.time.Duration.ZERO, 10_001));
        assertEquals("busyPollMicros must be 0..10000 microseconds (0 = never poll), got 10001", tooLong.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new NioSettings(1, 65536,
                org.wharf.transport.api.WriteBufferLimits.DEFAULT, 16, java.time.Duration.ZERO, -1));
    }
}
