package org.wharf.protocol.proxy.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.wharf.transport.tck.RedisServer;

/**
 * The RESP boundary finders against a real redis-server: replies Redis produced for many
 * commands, RESP2 and RESP3 (every type, through DEBUG PROTOCOL), fed split at every byte;
 * and requests, inline and multibulk, whose commands are counted as Redis answers them.
 */
class RespAgainstRedisTest {

    private static RedisServer redis;
    private static int port;
    private static final List<byte[]> RESP2 = new ArrayList<>();
    private static final List<byte[]> RESP3 = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        redis = RedisServer.start(port, "--enable-debug-command", "yes");
        byte[] binary = new byte[256];
        for (int i = 0; i < binary.length; i++) {
            binary[i] = (byte) i;
        }
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            for (Object[] c : List.of(
                    new Object[] {"SET", "crlf", "a\r\nb\r\n$3\r\n*1\r\n"}, new Object[] {"SET", "empty", ""},
                    new Object[] {"SET", "binary", binary}, new Object[] {"SET", "counter", "10"},
                    new Object[] {"RPUSH", "list", "one", "two\r\n", "", "*2"},
                    new Object[] {"HSET", "hash", "f1", "v1", "f2", "v\r\n2"},
                    new Object[] {"SADD", "set", "x", "y", "z"}, new Object[] {"ZADD", "zset", "1.5", "a", "2", "b"},
                    new Object[] {"XADD", "stream", "1-1", "f", "v"}, new Object[] {"XADD", "stream", "1-2", "g", "w"})) {
                capture(s, c);
            }
            for (Object[] c : List.of(
                    new Object[] {"GET", "crlf"}, new Object[] {"GET", "empty"}, new Object[] {"GET", "missing"},
                    new Object[] {"GET", "binary"}, new Object[] {"MGET", "crlf", "missing", "empty"},
                    new Object[] {"LRANGE", "list", "0", "-1"}, new Object[] {"LRANGE", "missing", "0", "-1"},
                    new Object[] {"HGETALL", "hash"}, new Object[] {"SMEMBERS", "set"},
                    new Object[] {"ZRANGE", "zset", "0", "-1", "WITHSCORES"}, new Object[] {"ZSCORE", "zset", "a"},
                    new Object[] {"INCR", "counter"}, new Object[] {"INCRBYFLOAT", "counter", "1.5"},
                    new Object[] {"LPUSH", "crlf", "x"}, new Object[] {"NOSUCHCOMMAND"},
                    new Object[] {"XRANGE", "stream", "-", "+"}, new Object[] {"XINFO", "STREAM", "stream"},
                    new Object[] {"CONFIG", "GET", "maxmemory*"}, new Object[] {"COMMAND", "INFO", "GET", "SET"},
                    new Object[] {"INFO"}, new Object[] {"PING"}, new Object[] {"ECHO", "\r\n"},
                    new Object[] {"EXISTS", "crlf", "missing"}, new Object[] {"TYPE", "hash"},
                    new Object[] {"SCAN", "0", "COUNT", "100"}, new Object[] {"BLPOP", "nokey", "0.01"},
                    new Object[] {"EVAL", "return {1,{2,{3,{'x',{}}}},'y',false}", "0"},
                    new Object[] {"EVAL", "return redis.error_reply('oops')", "0"},
                    new Object[] {"DEBUG", "PROTOCOL", "map"}, new Object[] {"DEBUG", "PROTOCOL", "attrib"},
                    new Object[] {"DEBUG", "PROTOCOL", "null"})) {
                RESP2.add(capture(s, c));
            }
            RESP3.add(capture(s, new Object[] {"HELLO", "3"}));
            for (Object[] c : List.of(
                    new Object[] {"HGETALL", "hash"}, new Object[] {"SMEMBERS", "set"}, new Object[] {"ZSCORE", "zset", "a"},
                    new Object[] {"ZRANGE", "zset", "0", "-1", "WITHSCORES"}, new Object[] {"GET", "missing"},
                    new Object[] {"MGET", "missing", "crlf"}, new Object[] {"CONFIG", "GET", "maxmemory*"},
                    new Object[] {"XINFO", "STREAM", "stream", "FULL"}, new Object[] {"COMMAND", "DOCS", "GET"},
                    new Object[] {"INFO", "server"}, new Object[] {"CLIENT", "INFO"}, new Object[] {"LATENCY", "DOCTOR"},
                    new Object[] {"BLPOP", "nokey", "0.01"}, new Object[] {"EVAL", "redis.setresp(3); return true", "0"},
                    new Object[] {"DEBUG", "PROTOCOL", "string"}, new Object[] {"DEBUG", "PROTOCOL", "integer"},
                    new Object[] {"DEBUG", "PROTOCOL", "double"}, new Object[] {"DEBUG", "PROTOCOL", "bignum"},
                    new Object[] {"DEBUG", "PROTOCOL", "null"}, new Object[] {"DEBUG", "PROTOCOL", "array"},
                    new Object[] {"DEBUG", "PROTOCOL", "set"}, new Object[] {"DEBUG", "PROTOCOL", "map"},
                    new Object[] {"DEBUG", "PROTOCOL", "attrib"}, new Object[] {"DEBUG", "PROTOCOL", "push"},
                    new Object[] {"DEBUG", "PROTOCOL", "verbatim"}, new Object[] {"DEBUG", "PROTOCOL", "true"},
                    new Object[] {"DEBUG", "PROTOCOL", "false"})) {
                RESP3.add(capture(s, c));
            }
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void theRepliesReallyCoverWhatTheyShould() {
        String all = new String(concat(RESP3), StandardCharsets.ISO_8859_1);
        for (String type : List.of("\r\n%", "\r\n~", "\r\n,", "\r\n(", "\r\n#t", "\r\n#f", "\r\n_\r\n", "\r\n=", "\r\n|",
                "\r\n>")) {
            assertTrue(all.contains(type) || all.startsWith(type.substring(2)), "RESP3 type " + type.strip() + " seen");
        }
        String two = new String(concat(RESP2), StandardCharsets.ISO_8859_1);
        for (String type : List.of("$-1\r\n", "*-1\r\n", "*0\r\n", "-WRONGTYPE", "$0\r\n\r\n", "a\r\nb\r\n$3\r\n*1")) {
            assertTrue(two.contains(type), "RESP2 " + type.strip() + " seen");
        }
    }

    @Test
    void everyReplyEndsExactlyAtItsLastByteWhereverTheReadsSplitIt() {
        for (List<byte[]> replies : List.of(RESP2, RESP3)) {
            for (byte[] reply : replies) {
                boolean push = reply[0] == '>'; // a push is complete before the reply after it
                for (int split = 0; split <= reply.length; split++) {
                    RespReplies finder = new RespReplies();
                    long first = finder.feed(ByteBuffer.wrap(reply, 0, split));
                    String where = "split at " + split + " of " + show(reply);
                    assertEquals(split == reply.length ? 1 : 0, first, where);
                    if (!push) {
                        assertEquals(split == 0 || split == reply.length, finder.atBoundary(), where);
                    }
                    long rest = finder.feed(ByteBuffer.wrap(reply, split, reply.length - split));
                    assertEquals(split == reply.length ? 0 : 1, rest, where);
                    assertTrue(finder.atBoundary(), where);
                    assertFalse(finder.failed(), where + ": " + finder.error());
                }
            }
        }
    }

    @Test
    void aWholeConversationFedByteByByteAndInRandomPiecesFindsEveryEnd() {
        for (List<byte[]> replies : List.of(RESP2, RESP3)) {
            byte[] stream = concat(replies);
            List<Integer> ends = new ArrayList<>();
            int at = 0;
            for (byte[] r : replies) {
                at += r.length;
                ends.add(at);
            }
            RespReplies finder = new RespReplies();
            List<Integer> found = new ArrayList<>();
            for (int i = 0; i < stream.length; i++) {
                if (finder.feed(ByteBuffer.wrap(stream, i, 1)) == 1) {
                    found.add(i + 1);
                }
            }
            assertEquals(ends, found);
            Random random = new Random(14);
            for (int round = 0; round < 200; round++) {
                RespReplies pieces = new RespReplies();
                long count = 0;
                for (int i = 0; i < stream.length;) {
                    int n = Math.min(stream.length - i, 1 + random.nextInt(random.nextBoolean() ? 8 : 4096));
                    ByteBuffer piece = ByteBuffer.allocateDirect(n).put(stream, i, n).flip();
                    count += pieces.feed(piece);
                    assertEquals(0, piece.position(), "the finder reads by index and never moves the buffer");
                    i += n;
                }
                assertEquals(replies.size(), count);
                assertTrue(pieces.atBoundary());
            }
        }
    }

    /**
     * Requests as clients send them, inline (quotes, escapes, empty lines) and multibulk (CRLF
     * inside arguments, empty arrays), sent to Redis in one stream: the commands the request
     * finder counts are as many as the replies Redis sends back, and their names are right.
     */
    @Test
    void theCommandsCountedInAClientsBytesAreAsManyAsRedisAnswers() throws Exception {
        ByteArrayOutputStream requests = new ByteArrayOutputStream();
        List<String> names = new ArrayList<>();
        requests.write(ascii("PING\r\n\r\n   \r\n"));
        names.add("PING");
        requests.write(ascii("set inline \"a\\r\\n\\x41 'q'\" \r\n"));
        names.add("SET");
        requests.write(ascii("\"\\x67et\" inline\n"));
        names.add("GET");
        requests.write(ascii("'ECHO' 'it''s'\r\n".replace("''s", "\\'s")));
        names.add("ECHO");
        requests.write(ascii("*0\r\n*-1\r\n"));
        requests.write(multibulk("SET", "mb", "x\r\n*1\r\n$3\r\n"));
        names.add("SET");
        requests.write(multibulk("GET", "mb"));
        names.add("GET");
        requests.write(multibulk("xread", "COUNT", "1", "STREAMS", "stream", "0"));
        names.add("XREAD");
        requests.write(multibulk("XREAD", "block", "1", "STREAMS", "nostream", "$"));
        names.add("XREAD BLOCK");
        requests.write(ascii("xread Block 1 STREAMS nostream $\r\n"));
        names.add("XREAD BLOCK");
        requests.write(multibulk("DEL", "block"));
        names.add("DEL BLOCK"); // an argument BLOCK is reported whatever the command; only XREAD's matter
        byte[] stream = requests.toByteArray();

        List<String> seen = new ArrayList<>();
        RespRequests finder = new RespRequests((name, block) -> seen.add(name + (block ? " BLOCK" : "")));
        for (int i = 0; i < stream.length; i++) {
            finder.feed(ByteBuffer.wrap(stream, i, 1));
        }
        assertFalse(finder.failed(), finder.error());
        assertFalse(finder.midCommand());
        assertEquals(names, seen);
        for (int split = 0; split <= stream.length; split++) {
            List<String> again = new ArrayList<>();
            RespRequests f = new RespRequests((name, block) -> again.add(name + (block ? " BLOCK" : "")));
            f.feed(ByteBuffer.wrap(stream, 0, split));
            f.feed(ByteBuffer.wrap(stream, split, stream.length - split));
            assertEquals(names, again, "split at " + split);
        }

        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(stream);
            s.getOutputStream().write(multibulk("ECHO", "end-of-requests"));
            RespReplies replies = new RespReplies();
            byte[] buffer = new byte[4096];
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            while (!got.toString(StandardCharsets.ISO_8859_1).endsWith("end-of-requests\r\n")) {
                int n = s.getInputStream().read(buffer);
                assertTrue(n > 0, "redis closed after " + got);
                got.write(buffer, 0, n);
                replies.feed(ByteBuffer.wrap(buffer, 0, n));
            }
            assertEquals(names.size() + 1, replies.replies(), "Redis's replies: " + show(got.toByteArray()));
            assertTrue(got.toString(StandardCharsets.ISO_8859_1).contains("$8\r\na\r\nA 'q'\r\n"), "quotes and escapes "
                    + "read as Redis reads them: " + show(got.toByteArray()));
        }
    }

    @Test
    void requestsRedisRefusesAreNotFollowed() {
        for (String bad : List.of("*1\r\n+PING\r\n", "*x\r\n", "*1\r\n$-5\r\n", "*01\r\n$4\r\nPING\r\n",
                "GET \"unbalanced\r\n", "GET \"closed\"but\r\n")) {
            RespRequests finder = new RespRequests((name, block) -> { });
            finder.feed(ByteBuffer.wrap(ascii(bad)));
            assertTrue(finder.failed(), bad);
        }
        RespRequests tooLong = new RespRequests((name, block) -> { });
        tooLong.feed(ByteBuffer.wrap(new byte[RespRequests.MAX_INLINE + 1]));
        assertTrue(tooLong.failed());
    }

    @Test
    void repliesThatAreNotRespAreNotFollowed() {
        for (String bad : List.of("HTTP/1.1 200 OK\r\n", "$x\r\n", "$-2\r\n", "*1\r\n?\r\n", "$?\r\n;4\r\nabcd\r\n;0\r\n",
                "*" + "9".repeat(19) + "\r\n", ("*1\r\n").repeat(RespReplies.MAX_DEPTH + 1))) {
            RespReplies finder = new RespReplies();
            finder.feed(ByteBuffer.wrap(ascii(bad)));
            assertTrue(finder.failed(), bad);
        }
    }

    /** Sends a command and {@code ECHO token}, returns the command's reply: all before the token's. */
    private static byte[] capture(Socket s, Object[] command) throws IOException {
        String token = HexFormat.of().formatHex(new Random().ints(16, 0, 256).collect(ByteArrayOutputStream::new,
                ByteArrayOutputStream::write, (a, b) -> a.writeBytes(b.toByteArray())).toByteArray());
        s.getOutputStream().write(multibulk(command));
        s.getOutputStream().write(multibulk("ECHO", token));
        byte[] sentinel = ascii("$" + token.length() + "\r\n" + token + "\r\n");
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        InputStream in = s.getInputStream();
        byte[] buffer = new byte[8192];
        while (!endsWith(got.toByteArray(), sentinel)) {
            int n = in.read(buffer);
            if (n < 0) {
                throw new IOException("redis closed the connection after " + show(got.toByteArray()));
            }
            got.write(buffer, 0, n);
        }
        byte[] all = got.toByteArray();
        return Arrays.copyOf(all, all.length - sentinel.length);
    }

    private static byte[] multibulk(Object... args) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(ascii("*" + args.length + "\r\n"));
        for (Object a : args) {
            byte[] b = a instanceof byte[] bytes ? bytes : ascii(a.toString());
            out.write(ascii("$" + b.length + "\r\n"));
            out.write(b);
            out.write(ascii("\r\n"));
        }
        return out.toByteArray();
    }

    private static boolean endsWith(byte[] all, byte[] end) {
        return all.length >= end.length && Arrays.equals(all, all.length - end.length, all.length, end, 0, end.length);
    }

    private static byte[] concat(List<byte[]> parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        parts.forEach(out::writeBytes);
        return out.toByteArray();
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String show(byte[] b) {
        String s = new String(b, StandardCharsets.ISO_8859_1).replace("\r", "\\r").replace("\n", "\\n");
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }
}
