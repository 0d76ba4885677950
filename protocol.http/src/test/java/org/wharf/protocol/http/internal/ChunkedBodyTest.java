package org.wharf.protocol.http.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.wharf.protocol.api.ConnectionHooks;
import org.wharf.protocol.http.HttpLimits;
import org.wharf.protocol.http.HttpProtocol;
import org.wharf.protocol.http.HttpRequest;
import org.wharf.protocol.http.HttpResponse;
import org.wharf.transport.tck.ManualEventLoop;
import org.wharf.transport.tck.MemoryTransport;

/** A chunked body holds its bytes and at most one segment's room, however it is chunked. */
class ChunkedBodyTest {

    private static final int MIB = 1 << 20;

    @Test
    void whatABodyHoldsIsItsBytesAndAtMostOneSegmentWhateverItsChunks() {
        byte[] all = new byte[MIB];
        new Random(7).nextBytes(all);
        for (int chunk : new int[] {1, 100, 4096, 16 * 1024, 64 * 1024, MIB}) {
            ChunkedBody body = new ChunkedBody();
            ByteBuffer in = ByteBuffer.wrap(all);
            while (in.hasRemaining()) {
                int n = Math.min(chunk, in.remaining());
                // A chunk may come over several reads: here in two.
                int first = n / 2;
                body.write(in, first, n);
                body.write(in, n - first, n - first);
                long held = body.held();
                assertTrue(held >= body.size() && held <= body.size() + ChunkedBody.SEGMENT,
                        () -> chunk + ": holds " + held + " for " + body.size());
            }
            assertEquals(MIB, body.size());
            assertArrayEquals(all, body.toArray(), "chunks of " + chunk);
            assertEquals(0, body.held());
        }
    }

    /**
     * A 1 MiB chunked body costs the loop about twice its size in allocations (its segments,
     * then the one array the handler gets), where a doubling buffer cost five times (6.2 MB).
     */
    @Test
    void aChunkedBodyIsAllocatedAboutTwiceNotFiveTimes() {
        StringBuilder chunked = new StringBuilder("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
        String piece = "x".repeat(64 * 1024);
        for (int i = 0; i < 16; i++) {
            chunked.append("10000\r\n").append(piece).append("\r\n");
        }
        chunked.append("0\r\n\r\n");
        byte[] request = chunked.toString().getBytes(StandardCharsets.US_ASCII);
        AtomicReference<HttpRequest> seen = new AtomicReference<>();
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long cost = Long.MAX_VALUE;
        for (int round = 0; round < 3; round++) { // the least of three: class loading and JIT go in the first
            MemoryTransport t = new MemoryTransport(new ManualEventLoop()).start(HttpProtocol.create(request1 -> {
                seen.set(request1);
                return HttpResponse.text(200, "ok");
            }, HttpLimits.DEFAULT.withPipelining(MIB + 4096, 16), ConnectionHooks.NONE));
            long before = threads.getCurrentThreadAllocatedBytes();
            for (int at = 0; at < request.length; at += 64 * 1024) { // as reads of 64 KiB come
                t.receive(java.util.Arrays.copyOfRange(request, at, Math.min(request.length, at + 64 * 1024)));
            }
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            cost = Math.min(cost, allocated - 2L * request.length); // less the reads' arrays and the transport's copies
            assertEquals(MIB, seen.get().body().length);
        }
        assertTrue(cost < 2.5 * MIB, "a 1 MiB chunked body cost " + cost + " bytes of allocation");
    }
}
