package org.wharf.protocol.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every decoder must give the same messages for the same stream, however the stream is cut
 * into reads, and must refuse oversized input without buffering it.
 */
class FramingTest {

    /** A decoder under test, with a stream and the messages it must yield. */
    record Case(String name, Supplier<FrameDecoder<?>> decoder, byte[] stream, List<String> expected) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Case> cases() {
        List<Case> cases = new ArrayList<>();
        List<String> words = List.of("alpha", "", "b", "gamma delta", "x".repeat(40), "end");

        ByteArrayOutputStream nul = new ByteArrayOutputStream();
        words.forEach(w -> write(nul, w + "\0"));
        cases.add(new Case("delimiter \\0, stripped", () -> new DelimiterFrameDecoder(new byte[] {0}, 40, true),
                nul.toByteArray(), words));

        ByteArrayOutputStream crlf = new ByteArrayOutputStream();
        words.forEach(w -> write(crlf, w + "\r\n"));
        cases.add(new Case("delimiter \\r\\n, kept", () -> new DelimiterFrameDecoder("\r\n".getBytes(), 40, false),
                crlf.toByteArray(), words.stream().map(w -> w + "\r\n").toList()));

        // A three-byte delimiter whose first byte also occurs inside frames.
        ByteArrayOutputStream abc = new ByteArrayOutputStream();
        List<String> tricky = List.of("a", "aa", "ab", "aba", "abab", "ababab", "");
        tricky.forEach(w -> write(abc, w + "abc"));
        cases.add(new Case("delimiter abc", () -> new DelimiterFrameDecoder("abc".getBytes(), 10, true),
                abc.toByteArray(), tricky));

        ByteArrayOutputStream lines = new ByteArrayOutputStream();
        List<String> text = List.of("GET / HTTP/1.1", "Host: example", "", "héllo wörld ✓", "mixed endings");
        write(lines, "GET / HTTP/1.1\r\nHost: example\r\n\r\nhéllo wörld ✓\nmixed endings\n");
        cases.add(new Case("lines", () -> new LineFrameDecoder(32), lines.toByteArray(), text));

        for (int field : new int[] {1, 2, 4, 8}) {
            for (ByteOrder order : new ByteOrder[] {ByteOrder.BIG_ENDIAN, ByteOrder.LITTLE_ENDIAN}) {
                LengthFieldFrameDecoder encoder = new LengthFieldFrameDecoder(field, order, 200);
                ByteArrayOutputStream framed = new ByteArrayOutputStream();
                List<String> payloads = List.of("", "one", "two two", "y".repeat(200), "last");
                payloads.forEach(p -> write(framed, encoder.encode(utf8(p))));
                cases.add(new Case("length field " + field + " " + order,
                        () -> new LengthFieldFrameDecoder(field, order, 200), framed.toByteArray(), payloads));
            }
        }

        // A field that counts itself, messages keeping the header.
        LengthFieldFrameDecoder inclusive = new LengthFieldFrameDecoder(2, ByteOrder.BIG_ENDIAN, 50, -2, false);
        ByteArrayOutputStream incl = new ByteArrayOutputStream();
        List<String> bodies = List.of("abc", "", "hello");
        List<String> withHeaders = new ArrayList<>();
        for (String b : bodies) {
            ByteBuffer frame = inclusive.encode(utf8(b));
            withHeaders.add(new String(frame.array(), StandardCharsets.ISO_8859_1));
            write(incl, frame);
        }
        cases.add(new Case("length field counting its header", () -> new LengthFieldFrameDecoder(2, ByteOrder.BIG_ENDIAN,
                50, -2, false), incl.toByteArray(), withHeaders));

        cases.add(new Case("fixed length 4", () -> new FixedLengthFrameDecoder(4), "abcdefghijklmnop".getBytes(),
                List.of("abcd", "efgh", "ijkl", "mnop")));
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void wholeStreamGivesTheExpectedMessages(Case c) {
        assertEquals(c.expected(), decode(c, List.of(c.stream())));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void everySplitInTwoGivesTheSameMessages(Case c) {
        byte[] s = c.stream();
        for (int cut = 0; cut <= s.length; cut++) {
            List<String> got = decode(c, List.of(slice(s, 0, cut), slice(s, cut, s.length)));
            assertEquals(c.expected(), got, "split at " + cut);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void everySplitInThreeGivesTheSameMessages(Case c) {
        byte[] s = c.stream();
        for (int a = 0; a <= s.length; a++) {
            for (int b = a; b <= s.length; b += 3) {
                List<String> got = decode(c, List.of(slice(s, 0, a), slice(s, a, b), slice(s, b, s.length)));
                assertEquals(c.expected(), got, "split at " + a + " and " + b);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void byteByByteGivesTheSameMessages(Case c) {
        List<byte[]> bytes = new ArrayList<>();
        for (byte b : c.stream()) {
            bytes.add(new byte[] {b});
        }
        assertEquals(c.expected(), decode(c, bytes));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void randomSplitsOverManySeedsGiveTheSameMessages(Case c) {
        byte[] s = c.stream();
        for (long seed = 0; seed < 300; seed++) {
            Random random = new Random(seed);
            List<byte[]> chunks = new ArrayList<>();
            for (int at = 0; at < s.length;) {
                int n = Math.min(s.length - at, random.nextInt(12) + (random.nextInt(4) == 0 ? 0 : 1));
                chunks.add(slice(s, at, at + n));
                at += n;
            }
            assertEquals(c.expected(), decode(c, chunks), "seed " + seed);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void messagesDoNotShareMemoryWithTheInput(Case c) {
        FrameDecoder<?> decoder = c.decoder().get();
        List<Object> messages = new ArrayList<>();
        byte[] s = c.stream().clone();
        ByteBuffer in = ByteBuffer.wrap(s);
        decoder.decode(in, messages::add);
        java.util.Arrays.fill(s, (byte) '#');
        assertEquals(c.expected(), messages.stream().map(FramingTest::text).toList());
        assertEquals(0, in.remaining(), "the decoder consumes all input");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void endOfInputInsideAFrameIsAProtocolError(Case c) {
        byte[] s = c.stream();
        FrameDecoder<?> decoder = c.decoder().get();
        decoder.decode(ByteBuffer.wrap(s, 0, s.length - 1), m -> { });
        assertTrue(decoder.buffered() > 0);
        assertThrows(ProtocolError.class, () -> decoder.endOfInput(m -> { }));
    }

    @Test
    void delimiterFrameAtTheMaximumIsAcceptedAndOneMoreByteIsNot() {
        DelimiterFrameDecoder decoder = new DelimiterFrameDecoder(new byte[] {'\n'}, 5, true);
        List<String> got = new ArrayList<>();
        decoder.decode(utf8("12345\n"), m -> got.add(text(m)));
        assertEquals(List.of("12345"), got);
        ProtocolError e = assertThrows(ProtocolError.class, () -> decoder.decode(utf8("123456\n"), m -> { }));
        assertTrue(e.getMessage().contains("maximum of 5"), e.getMessage());
    }

    @Test
    void delimiterFrameTooLongIsRefusedBeforeItsEndArrives() {
        // No delimiter ever comes: the decoder must fail once it holds more than a frame may,
        // not buffer without bound.
        for (int chunk : new int[] {1, 3, 7, 1000}) {
            DelimiterFrameDecoder decoder = new DelimiterFrameDecoder("\r\n".getBytes(), 100, true);
            int[] fed = {0};
            ProtocolError e = assertThrows(ProtocolError.class, () -> {
                while (true) {
                    decoder.decode(ByteBuffer.wrap(new byte[chunk]), m -> { });
                    fed[0] += chunk;
                    assertTrue(decoder.buffered() <= 101, "buffered " + decoder.buffered());
                    assertTrue(fed[0] < 10_000, "never refused");
                }
            });
            assertTrue(e.getMessage().contains("maximum of 100"), e.getMessage());
            assertTrue(fed[0] <= 101, "refused after " + fed[0] + " bytes with reads of " + chunk);
        }
    }

    @Test
    void lineAtTheMaximumIsAcceptedWithEitherEndingAndLongerIsNot() {
        LineFrameDecoder decoder = new LineFrameDecoder(4);
        List<String> got = new ArrayList<>();
        decoder.decode(utf8("abcd\r\nefgh\n"), got::add);
        assertEquals(List.of("abcd", "efgh"), got);
        assertThrows(ProtocolError.class, () -> new LineFrameDecoder(4).decode(utf8("abcde\n"), m -> { }));
        assertThrows(ProtocolError.class, () -> new LineFrameDecoder(4).decode(utf8("abcde\r\n"), m -> { }));
    }

    @Test
    void lengthAboveTheMaximumIsRefusedBeforeThePayloadArrives() {
        LengthFieldFrameDecoder decoder = new LengthFieldFrameDecoder(4, ByteOrder.BIG_ENDIAN, 1024);
        ByteBuffer header = ByteBuffer.allocate(4).putInt(1025).flip();
        ProtocolError e = assertThrows(ProtocolError.class, () -> decoder.decode(header, m -> { }));
        assertTrue(e.getMessage().contains("1025") && e.getMessage().contains("1024"), e.getMessage());

        // The same when the header itself arrives split.
        LengthFieldFrameDecoder split = new LengthFieldFrameDecoder(4, ByteOrder.LITTLE_ENDIAN, 1024);
        ByteBuffer le = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(5000).flip();
        split.decode(ByteBuffer.wrap(new byte[] {le.get(0), le.get(1)}), m -> { });
        assertThrows(ProtocolError.class, () -> split.decode(ByteBuffer.wrap(new byte[] {le.get(2), le.get(3)}), m -> { }));
    }

    @Test
    void unsignedFieldsUseTheirWholeRangeAndHugeEightByteLengthsAreRefused() {
        LengthFieldFrameDecoder one = new LengthFieldFrameDecoder(1, ByteOrder.BIG_ENDIAN, 255);
        List<ByteBuffer> got = new ArrayList<>();
        byte[] frame = new byte[256];
        frame[0] = (byte) 0xFF;
        one.decode(ByteBuffer.wrap(frame), got::add);
        assertEquals(1, got.size());
        assertEquals(255, got.get(0).remaining());

        LengthFieldFrameDecoder eight = new LengthFieldFrameDecoder(8, ByteOrder.BIG_ENDIAN, 1 << 20);
        assertThrows(ProtocolError.class,
                () -> eight.decode(ByteBuffer.allocate(8).putLong(-1L).flip(), m -> { }));
        assertThrows(ProtocolError.class,
                () -> eight.decode(ByteBuffer.allocate(8).putLong(1L << 40).flip(), m -> { }));
    }

    @Test
    void negativeAdjustedLengthIsAProtocolError() {
        LengthFieldFrameDecoder decoder = new LengthFieldFrameDecoder(2, ByteOrder.BIG_ENDIAN, 100, -2, true);
        ProtocolError e = assertThrows(ProtocolError.class,
                () -> decoder.decode(ByteBuffer.wrap(new byte[] {0, 1}), m -> { }));
        assertTrue(e.getMessage().contains("negative"), e.getMessage());
    }

    @Test
    void encodeRefusesPayloadsTheFormatCannotCarry() {
        LengthFieldFrameDecoder one = new LengthFieldFrameDecoder(1, ByteOrder.BIG_ENDIAN, 1000);
        assertThrows(IllegalArgumentException.class, () -> one.encode(ByteBuffer.allocate(256)));
        LengthFieldFrameDecoder small = new LengthFieldFrameDecoder(4, ByteOrder.BIG_ENDIAN, 10);
        assertThrows(IllegalArgumentException.class, () -> small.encode(ByteBuffer.allocate(11)));
        ByteBuffer payload = utf8("keep");
        small.encode(payload);
        assertEquals(4, payload.remaining(), "encode leaves the payload's position alone");
    }

    @Test
    void largeFramesAcrossManyReadsArriveByteExact() {
        LengthFieldFrameDecoder decoder = new LengthFieldFrameDecoder(4, ByteOrder.BIG_ENDIAN, 1 << 20);
        byte[] payload = new byte[1 << 20];
        new Random(42).nextBytes(payload);
        ByteBuffer frame = decoder.encode(ByteBuffer.wrap(payload));
        List<ByteBuffer> got = new ArrayList<>();
        while (frame.hasRemaining()) {
            ByteBuffer read = frame.slice(frame.position(), Math.min(frame.remaining(), 8192));
            frame.position(frame.position() + read.remaining());
            decoder.decode(read, got::add);
        }
        assertEquals(1, got.size());
        assertArrayEquals(payload, got.get(0).array());
    }

    @Test
    void decodersRejectBadSettings() {
        assertThrows(IllegalArgumentException.class, () -> new DelimiterFrameDecoder(new byte[0], 10, true));
        assertThrows(IllegalArgumentException.class, () -> new DelimiterFrameDecoder(new byte[] {1}, -1, true));
        assertThrows(IllegalArgumentException.class, () -> new LengthFieldFrameDecoder(3, ByteOrder.BIG_ENDIAN, 10));
        assertThrows(IllegalArgumentException.class, () -> new FixedLengthFrameDecoder(0));
        assertThrows(IllegalArgumentException.class, () -> new LineFrameDecoder(-1));
    }

    private static List<String> decode(Case c, List<byte[]> chunks) {
        FrameDecoder<?> decoder = c.decoder().get();
        List<String> got = new ArrayList<>();
        for (byte[] chunk : chunks) {
            ByteBuffer in = ByteBuffer.wrap(chunk);
            decoder.decode(in, m -> got.add(text(m)));
            assertEquals(0, in.remaining(), "the decoder consumes all input");
        }
        decoder.endOfInput(m -> got.add(text(m)));
        assertEquals(0, decoder.buffered());
        return got;
    }

    private static String text(Object message) {
        if (message instanceof String s) {
            return s;
        }
        ByteBuffer b = (ByteBuffer) message;
        byte[] bytes = new byte[b.remaining()];
        b.duplicate().get(bytes);
        // Frames that carry a binary header are compared byte for byte.
        return new String(bytes, isText(bytes) ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    }

    private static boolean isText(byte[] bytes) {
        for (byte b : bytes) {
            if (b >= 0 && b < 32 && b != '\r' && b != '\n') {
                return false;
            }
        }
        return true;
    }

    private static ByteBuffer utf8(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] slice(byte[] s, int from, int to) {
        return java.util.Arrays.copyOfRange(s, from, to);
    }

    private static void write(ByteArrayOutputStream out, String s) {
        out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
    }

    private static void write(ByteArrayOutputStream out, ByteBuffer b) {
        byte[] bytes = new byte[b.remaining()];
        b.duplicate().get(bytes);
        out.writeBytes(bytes);
    }

}
