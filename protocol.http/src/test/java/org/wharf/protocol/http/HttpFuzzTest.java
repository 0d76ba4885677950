package org.wharf.protocol.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.wharf.protocol.api.Connection;
import org.wharf.protocol.api.ConnectionHooks;
import org.wharf.transport.tck.ManualEventLoop;
import org.wharf.transport.tck.MemoryTransport;

/**
 * Mutates valid request streams (byte flips and bit flips, insertions of CR, LF, NUL, space,
 * tab, {@code +}, {@code -} and separators, deletions, duplicated field lines and ranges,
 * truncation) over many seeds, and checks each against an independent reading of RFC 9112
 * ({@link ReferenceParser}): no malformed request is answered 2xx; every valid request is
 * answered 200 and the handler sees exactly it; nothing is thrown out of the protocol (no
 * abort); every connection ends (at end of input, or when the deadlines pass); and the
 * answers are the same whatever the split of the input. Mostly in memory, for speed; a smaller
 * part over real sockets. A failure names the seed and the bytes.
 */
class HttpFuzzTest {

    /** Small limits, so that mutations reach them. */
    private static final HttpLimits LIMITS = new HttpLimits(64, 256, 64, 8, 2, Duration.ofSeconds(10),
            Duration.ofSeconds(30));

    private static final String[] STREAMS = {
        "GET /a HTTP/1.1\r\nHost: example.org\r\nAccept: */*\r\n\r\n",
        "POST /b?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"
                + "GET /c HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST /d HTTP/1.1\r\nHost: x:80\r\nTransfer-Encoding: chunked\r\n\r\n3;e=1\r\nabc\r\n10\r\n0123456789abcdef"
                + "\r\n0\r\nT: v\r\n\r\n",
        "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nOPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
        "\r\nGET http://h/p HTTP/1.1\r\nHost: h\r\nX-A: a, b\r\n\r\nGET /z HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        "PUT /e HTTP/1.1\r\nHost: [::1]:8080\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nxyz"
                + "POST /f HTTP/1.1\r\nHost: y\r\nTransfer-Encoding: chunked\r\n\r\n2;q=\"a b\"\r\nhi\r\n0\r\n\r\n",
    };

    private static final byte[][] INSERTS = {
        {'\r'}, {'\n'}, {0}, {' '}, {'\t'}, {'+'}, {'-'}, {':'}, {','}, {';'}, {'\r', '\n'}, {'0'}, {'f'}, {'"'},
        {'\\'}, {'x'}, {(byte) 0xff}, {0x7f}, {'\r', '\n', '\r', '\n'}, " chunked".getBytes(StandardCharsets.US_ASCII),
        "\r\nTransfer-Encoding: chunked".getBytes(StandardCharsets.US_ASCII),
        "\r\nContent-Length: 1".getBytes(StandardCharsets.US_ASCII), "\r\nHost: y".getBytes(StandardCharsets.US_ASCII),
    };

    static byte[] mutate(byte[] in, Random random) {
        byte[] b = in;
        int mutations = 1 + random.nextInt(3);
        for (int m = 0; m < mutations; m++) {
            int at = b.length == 0 ? 0 : random.nextInt(b.length);
            switch (random.nextInt(8)) {
                case 0 -> { // replace a byte
                    if (b.length > 0) {
                        b = b.clone();
                        b[at] = (byte) random.nextInt(256);
                    }
                }
                case 1 -> { // flip a bit
                    if (b.length > 0) {
                        b = b.clone();
                        b[at] ^= (byte) (1 << random.nextInt(8));
                    }
                }
                case 2, 3 -> b = insert(b, at, INSERTS[random.nextInt(INSERTS.length)]);
                case 4 -> { // delete 1 to 3 bytes
                    int n = Math.min(b.length - at, 1 + random.nextInt(3));
                    b = concat(Arrays.copyOfRange(b, 0, at), Arrays.copyOfRange(b, at + n, b.length));
                }
                case 5 -> b = duplicateFieldLine(b, random);
                case 6 -> { // duplicate a short range
                    int n = Math.min(b.length - at, 1 + random.nextInt(12));
                    b = insert(b, at, Arrays.copyOfRange(b, at, at + n));
                }
                default -> b = Arrays.copyOfRange(b, 0, at); // truncate
            }
        }
        return b;
    }

    private static byte[] duplicateFieldLine(byte[] b, Random random) {
        List<int[]> lines = new ArrayList<>();
        for (int i = 0, start = 0; i + 1 < b.length; i++) {
            if (b[i] == '\r' && b[i + 1] == '\n') {
                if (i > start && start > 0) {
                    lines.add(new int[] {start, i + 2});
                }
                start = i + 2;
            }
        }
        if (lines.isEmpty()) {
            return b;
        }
        int[] line = lines.get(random.nextInt(lines.size()));
        return insert(b, line[1], Arrays.copyOfRange(b, line[0], line[1]));
    }

    private static byte[] insert(byte[] b, int at, byte[] what) {
        return concat(concat(Arrays.copyOfRange(b, 0, at), what), Arrays.copyOfRange(b, at, b.length));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** The status codes of the answers, in order, without interim (1xx) ones. */
    static List<Integer> statuses(byte[] written) {
        String text = new String(written, StandardCharsets.ISO_8859_1);
        List<Integer> out = new ArrayList<>();
        int p = 0;
        while (p < text.length()) {
            int headEnd = text.indexOf("\r\n\r\n", p);
            if (!text.startsWith("HTTP/1.", p) || headEnd < 0) {
                throw new AssertionError("not an HTTP answer at " + p + ": " + printable(text.substring(p)));
            }
            int status = Integer.parseInt(text.substring(p + 9, p + 12));
            String head = text.substring(p, headEnd);
            int cl = head.indexOf("\r\nContent-Length: ");
            int length = cl < 0 ? 0 : Integer.parseInt(head.substring(cl + 18).split("\r\n")[0]);
            p = headEnd + 4 + (status >= 200 ? length : 0);
            if (status >= 200) {
                out.add(status);
            }
        }
        return out;
    }

    static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            b.append(c >= 0x20 && c < 0x7f && c != '\\' ? String.valueOf(c) : String.format("\\x%02x", (int) c));
        }
        return b.toString();
    }

    static String printable(byte[] bytes) {
        return printable(new String(bytes, StandardCharsets.ISO_8859_1));
    }

    /** One connection in memory; the handler records what it saw and answers 200 with an empty body. */
    private static final class Run {
        final ManualEventLoop loop = new ManualEventLoop();
        final List<HttpRequest> seen = new ArrayList<>();
        final AtomicInteger lost = new AtomicInteger();
        final MemoryTransport transport = new MemoryTransport(loop);

        Run() {
            transport.start(HttpProtocol.create(request -> {
                seen.add(request);
                return new HttpResponse(200, "OK", java.util.Map.of(), new byte[0]);
            }, LIMITS, new ConnectionHooks() {
                @Override
                public void connectionLost(Connection c, Throwable cause) {
                    lost.incrementAndGet();
                }
            }));
        }

        void send(byte[] b, int from, int to) {
            if (from < to && !transport.isClosing()) {
                transport.receive(Arrays.copyOfRange(b, from, to));
                loop.runPending();
            }
        }
    }

    /** Checks one stream, delivered in the given pieces, ended by end of input or by the clock. */
    private static byte[] check(byte[] stream, int[] cuts, boolean endOfInput, String what) {
        ReferenceParser.Result expected = ReferenceParser.parse(stream, LIMITS);
        Run run = new Run();
        int from = 0;
        for (int cut : cuts) {
            run.send(stream, from, cut);
            from = Math.max(from, cut);
        }
        run.send(stream, from, stream.length);
        if (endOfInput && !run.transport.isClosing()) {
            run.transport.receiveEof();
        }
        run.loop.runPending();
        if (!endOfInput) {
            run.loop.advance(Duration.ofMinutes(2)); // past every deadline, and the grace after it
        }
        String context = what + "\n  stream: " + printable(stream) + "\n  expected: " + expected.end() + " after "
                + expected.requests().size() + " valid\n  answered: " + printable(run.transport.writtenText());

        assertEquals(null, run.transport.failure(), "the protocol threw: " + context);
        assertTrue(run.transport.isClosed(), "the connection did not end: " + context);
        assertEquals(1, run.lost.get(), "connectionLost once: " + context);

        List<Integer> statuses = statuses(run.transport.written());
        int valid = expected.requests().size();
        assertTrue(statuses.size() >= valid, "valid requests went unanswered: " + statuses + ": " + context);
        for (int i = 0; i < valid; i++) {
            assertEquals(200, statuses.get(i), "valid request " + (i + 1) + " not answered 200: " + context);
        }
        assertEquals(valid, run.seen.size(), "the handler saw " + run.seen.size() + " requests: " + context);
        for (int i = 0; i < valid; i++) {
            assertTrue(expected.requests().get(i).sameAs(run.seen.get(i)), "request " + (i + 1) + " read as "
                    + run.seen.get(i) + ": " + context);
        }
        List<Integer> after = statuses.subList(valid, statuses.size());
        switch (expected.end()) {
            case ERROR -> assertTrue(after.size() == 1 && after.get(0) >= 400,
                    "a malformed request answered " + after + ": " + context);
            case INCOMPLETE, OPEN -> assertTrue(after.isEmpty() || (!endOfInput && after.equals(List.of(408))),
                    "an incomplete request answered " + after + ": " + context);
            case CLOSED -> assertTrue(after.isEmpty(), "answered after the connection closed: " + after + ": " + context);
            default -> throw new IllegalStateException();
        }
        return run.transport.written();
    }

    @Test
    void theValidStreamsAreServedWhateverTheSplit() {
        for (String s : STREAMS) {
            byte[] stream = s.getBytes(StandardCharsets.ISO_8859_1);
            ReferenceParser.Result expected = ReferenceParser.parse(stream, LIMITS);
            assertTrue(expected.end() != ReferenceParser.End.ERROR && expected.end() != ReferenceParser.End.INCOMPLETE,
                    "the oracle refuses a base stream: " + printable(stream) + " " + expected);
            byte[] whole = check(stream, new int[0], true, "whole");
            for (int cut = 1; cut < stream.length; cut++) {
                byte[] split = check(stream, new int[] {cut}, true, "split at " + cut);
                assertEquals(printable(whole), printable(split), "split at " + cut);
            }
        }
    }

    @Test
    void mutatedStreamsInMemory() {
        int cases = 0;
        int[] ends = new int[ReferenceParser.End.values().length];
        for (long seed = 1; seed <= 120; seed++) { // 12,000 streams, and 240 of them split at every byte
            Random random = new Random(seed);
            for (int i = 0; i < 100; i++, cases++) {
                byte[] base = STREAMS[random.nextInt(STREAMS.length)].getBytes(StandardCharsets.ISO_8859_1);
                byte[] stream = mutate(base, random);
                ends[ReferenceParser.parse(stream, LIMITS).end().ordinal()]++;
                String what = "seed " + seed + ", case " + i;
                int[] cuts = random.ints(random.nextInt(4), 0, stream.length + 1).sorted().toArray();
                check(stream, cuts, random.nextBoolean(), what);
                if (i % 50 == 0) {
                    // split at every byte: the same answers as all at once
                    byte[] whole = check(stream, new int[0], true, what + ", whole");
                    for (int cut = 1; cut < stream.length; cut++) {
                        byte[] split = check(stream, new int[] {cut}, true, what + ", split at " + cut);
                        assertEquals(printable(whole), printable(split), what + ", split at " + cut);
                    }
                }
            }
        }
        // Every kind of ending is reached, or the mutations are too tame to prove anything.
        for (ReferenceParser.End end : ReferenceParser.End.values()) {
            assertTrue(ends[end.ordinal()] > cases / 100, end + " reached only " + ends[end.ordinal()] + " times");
        }
    }

    @Test
    void mutatedStreamsOverRealSockets() throws Exception {
        List<HttpRequest> seen = java.util.Collections.synchronizedList(new ArrayList<>());
        try (RealServer server = new RealServer(request -> {
            seen.add(request);
            return new HttpResponse(200, "OK", java.util.Map.of(), new byte[0]);
        }, LIMITS)) {
            for (long seed = 1001; seed <= 1020; seed++) { // 1,000 streams, each on a connection of its own
                Random random = new Random(seed);
                for (int i = 0; i < 50; i++) {
                    byte[] stream = mutate(STREAMS[random.nextInt(STREAMS.length)]
                            .getBytes(StandardCharsets.ISO_8859_1), random);
                    ReferenceParser.Result expected = ReferenceParser.parse(stream, LIMITS);
                    seen.clear();
                    byte[] answers = exchange(server.port, stream);
                    String context = "seed " + seed + ", case " + i + "\n  stream: " + printable(stream)
                            + "\n  expected: " + expected + "\n  answered: " + printable(answers);
                    List<Integer> statuses = statuses(answers);
                    int valid = expected.requests().size();
                    assertTrue(statuses.size() >= valid, context);
                    assertTrue(statuses.subList(0, valid).stream().allMatch(s -> s == 200), context);
                    List<Integer> after = statuses.subList(valid, statuses.size());
                    assertTrue(expected.end() == ReferenceParser.End.ERROR
                            ? after.size() == 1 && after.get(0) >= 400 : after.isEmpty(), context);
                    assertEquals(valid, seen.size(), context);
                }
            }
        }
    }

    /** Sends the stream, ends the output, and reads until the server closes (which it must, within 30 s). */
    private static byte[] exchange(int port, byte[] stream) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(30_000);
            OutputStream out = s.getOutputStream();
            try {
                out.write(stream);
                s.shutdownOutput();
            } catch (IOException e) {
                // the server answered and closed before everything went out: what came is read below
            }
            ByteArrayOutputStream answers = new ByteArrayOutputStream();
            InputStream in = s.getInputStream();
            byte[] buffer = new byte[8192];
            try {
                for (int n; (n = in.read(buffer)) > 0;) {
                    answers.write(buffer, 0, n);
                }
            } catch (java.net.SocketException e) {
                // a reset after the answer (the server closed with our bytes unread): what came counts
            }
            return answers.toByteArray();
        }
    }
}
