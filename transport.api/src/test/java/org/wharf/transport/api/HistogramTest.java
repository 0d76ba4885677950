package org.wharf.transport.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import org.junit.jupiter.api.Test;

class HistogramTest {

    @Test
    void aValueGoesToTheFirstBucketWhoseBoundIsAtLeastIt() {
        Histogram h = new Histogram(10, 20, 30);
        for (long v : new long[] {-5, 0, 10, 11, 20, 29, 30, 31, 1_000}) {
            h.record(v);
        }
        Histogram.Snapshot s = h.snapshot();
        // -5 counts as 0; bounds are inclusive; above the last bound goes to the last bucket.
        assertArrayEquals(new long[] {3, 2, 2, 2}, s.bucketCounts());
        assertArrayEquals(new long[] {10, 20, 30}, s.upperBounds());
        assertEquals(9, s.count());
        assertEquals(0 + 0 + 10 + 11 + 20 + 29 + 30 + 31 + 1_000, s.sum());
    }

    @Test
    void boundsMustAscendStrictly() {
        assertThrows(IllegalArgumentException.class, () -> new Histogram(10, 10));
        assertThrows(IllegalArgumentException.class, () -> new Histogram());
        assertEquals("bucket bounds must ascend strictly, got 5 after 10",
                assertThrows(IllegalArgumentException.class, () -> new Histogram(10, 5)).getMessage());
    }

    @Test
    void durationsHaveFixedBucketsFrom100MicrosecondsTo30Minutes() {
        long[] bounds = Histogram.ofDurations().snapshot().upperBounds();
        assertEquals(100_000L, bounds[0]);
        assertEquals(1_800_000_000_000L, bounds[bounds.length - 1]);
        assertArrayEquals(bounds, Histogram.ofDurations().snapshot().upperBounds(), "the same for every histogram");
    }

    @Test
    void concurrentRecordsAreAllCounted() throws Exception {
        Histogram h = Histogram.ofDurations();
        int threads = 4;
        int each = 50_000;
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> running = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread thread = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < each; i++) {
                    h.record(1_000_000L); // 1 ms: exactly a bound
                }
            });
            thread.start();
            running.add(thread);
        }
        start.countDown();
        for (Thread thread : running) {
            thread.join();
        }
        Histogram.Snapshot s = h.snapshot();
        assertEquals((long) threads * each, s.count());
        assertEquals((long) threads * each, s.bucketCounts()[3], "all in the 1 ms bucket: " + s);
        assertEquals((long) threads * each * 1_000_000L, s.sum());
    }
}
