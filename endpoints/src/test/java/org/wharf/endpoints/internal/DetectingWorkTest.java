package org.wharf.endpoints.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.wharf.protocol.api.FirstBytes;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.Transport;
import org.wharf.transport.tck.ManualEventLoop;
import org.wharf.transport.tck.MemoryTransport;

/** What detection costs a client that sends one byte per read: linear in its bytes, not quadratic. */
class DetectingWorkTest {

    /** Claims the bytes once they hold a space, as HTTP's detector scans a request target; counts what it reads. */
    private static final class Scanning implements Detecting.Candidate {
        final AtomicLong examined = new AtomicLong();
        final List<byte[]> delivered = new ArrayList<>();

        @Override
        public String name() {
            return "scanning";
        }

        @Override
        public FirstBytes.Match match(ByteBuffer first) {
            for (int i = first.position(); i < first.limit(); i++) {
                examined.incrementAndGet();
                if (first.get(i) == ' ') {
                    return FirstBytes.Match.MATCH;
                }
            }
            return FirstBytes.Match.NEED_MORE;
        }

        @Override
        public Protocol open(Detecting connection) {
            return new Protocol() {
                @Override
                public void connectionMade(Transport transport) {
                }

                @Override
                public void dataReceived(ByteBuffer data) {
                    byte[] b = new byte[data.remaining()];
                    data.get(b);
                    delivered.add(b);
                }

                @Override
                public void connectionLost(Throwable cause) {
                }
            };
        }

        @Override
        public void closed(Detecting connection) {
        }

        @Override
        public boolean departed() {
            return false;
        }
    }

    @Test
    void oneByteAtATimeUpToMaxBytesCostsTheDetectorsWorkLinearInMaxBytes() {
        int maxBytes = 65536;
        Scanning detector = new Scanning();
        MemoryTransport t = new MemoryTransport(new ManualEventLoop());
        t.start(new Detecting("probe", new Detecting.Bounds(maxBytes, Duration.ofSeconds(5)), List.of(detector), false,
                r -> { }));
        for (int i = 0; i < maxBytes && !t.isClosing(); i++) {
            t.receive(new byte[] {'a'});
        }
        assertTrue(t.isClosing(), "refused at detect.maxBytes");
        // Quadratic would be maxBytes^2 / 2, about 2.1 billion.
        assertTrue(detector.examined.get() <= (Detecting.ASK_BUDGET + 4L) * maxBytes,
                "examined " + detector.examined.get() + " bytes for " + maxBytes);
    }

    @Test
    void aRequestDribbledPastTheBudgetIsStillRecognisedWithEveryByte() {
        // 512 bytes of detect.maxBytes: the budget is 8 asks of 512; 300 bytes one at a time cost
        // about 45,000 asked, so asking slows down, yet the request's last byte is not left waiting.
        Scanning detector = new Scanning();
        ManualEventLoop loop = new ManualEventLoop();
        MemoryTransport t = new MemoryTransport(loop);
        t.start(new Detecting("probe", new Detecting.Bounds(512, Duration.ofSeconds(5)), List.of(detector), false,
                r -> { }));
        byte[] request = ("a".repeat(299) + " ").getBytes(StandardCharsets.US_ASCII);
        for (byte b : request) {
            t.receive(new byte[] {b});
        }
        // Asked at the doubling points or at the timeout, never refused while within maxBytes.
        loop.advance(Duration.ofSeconds(5));
        assertFalse(t.isClosing(), "recognised, not refused");
        int got = detector.delivered.stream().mapToInt(b -> b.length).sum();
        assertEquals(request.length, got, "every byte reached the protocol");
        assertTrue(detector.examined.get() <= (Detecting.ASK_BUDGET + 4L) * 512, "examined " + detector.examined.get());
    }
}
