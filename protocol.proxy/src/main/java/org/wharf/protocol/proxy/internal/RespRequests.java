package org.wharf.protocol.proxy.internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Finds the commands in what a Redis client sends, as Redis reads them, across reads split
 * anywhere: a RESP array of bulk strings, or an inline command (one line, split into
 * arguments as Redis's {@code sdssplitargs} does, quotes and escapes included). Each command
 * is reported with its name in upper case and whether one of its arguments is {@code BLOCK};
 * argument values are skipped, not held. An empty line and an array of zero or fewer
 * elements are no command (Redis answers neither). Input Redis would refuse with a protocol
 * error fails it.
 */
final class RespRequests {

    /** What is told of each command read. */
    interface Commands {
        /**
         * A whole command was read.
         *
         * @param name its name in upper case
         * @param blockArgument whether an argument after the name is {@code BLOCK}, in any case
         */
        void command(String name, boolean blockArgument);
    }

    /** Redis's limit on an inline command (PROTO_INLINE_MAX_SIZE). */
    static final int MAX_INLINE = 64 * 1024;
    /** Redis's limit on a command's arguments. */
    private static final long MAX_ARGUMENTS = 1024 * 1024;
    /** Redis's default proto-max-bulk-len. */
    private static final long MAX_BULK = 512L * 1024 * 1024;
    /** Longer names are no command the gateway looks for. */
    private static final int MAX_NAME = 32;

    private static final int START = 0;
    private static final int INLINE = 1;
    private static final int COUNT = 2;
    private static final int DOLLAR = 3;
    private static final int LENGTH = 4;
    private static final int DATA = 5;
    private static final int FAILED = 6;

    private final Commands commands;
    private int state = START;
    private long number;
    private int digits;
    private boolean negative;
    /** After the CR of a length line: the next byte is its LF, which Redis skips unread. */
    private boolean skipLf;
    private long arguments;
    private long argument;
    private long bulk;
    private long dataLeft;
    private final byte[] name = new byte[MAX_NAME];
    private int nameLength;
    private boolean nameTooLong;
    private final byte[] small = new byte[5];
    private boolean block;
    private byte[] line = new byte[256];
    private int lineLength;
    private String error;

    RespRequests(Commands commands) {
        this.commands = commands;
    }

    /**
     * Reads the next bytes the client sent.
     *
     * @param data from its position to its limit; read by index, never moved
     */
    void feed(ByteBuffer data) {
        int i = data.position();
        int end = data.limit();
        while (i < end && state != FAILED) {
            byte b = data.get(i);
            switch (state) {
                case START -> {
                    if (b == '*') {
                        i++;
                        startNumber();
                        state = COUNT;
                    } else {
                        lineLength = 0;
                        state = INLINE;
                    }
                }
                case INLINE -> {
                    int from = i;
                    while (i < end && data.get(i) != '\n') {
                        i++;
                    }
                    append(data, from, i);
                    if (state == INLINE && i < end) {
                        i++; // the LF
                        inline();
                        state = state == FAILED ? FAILED : START;
                    }
                }
                case COUNT, LENGTH -> {
                    i++;
                    number(b);
                }
                case DOLLAR -> {
                    i++;
                    if (b != '$') {
                        fail("expected '$' before argument " + (argument + 1) + ", got byte " + (b & 0xff));
                    } else {
                        startNumber();
                        state = LENGTH;
                    }
                }
                default -> { // DATA: the argument and its CRLF, which Redis skips unread
                    int n = (int) Math.min(dataLeft, end - i);
                    long at = bulk + 2 - dataLeft;
                    for (int k = 0; k < n; k++, at++) {
                        if (at < bulk) {
                            keep(at, data.get(i + k));
                        }
                    }
                    i += n;
                    dataLeft -= n;
                    if (dataLeft == 0) {
                        argumentDone();
                    }
                }
            }
        }
    }

    /** @return whether the bytes so far end inside a command */
    boolean midCommand() {
        return state != START;
    }

    /** @return whether the client's bytes could not be read as Redis reads them */
    boolean failed() {
        return state == FAILED;
    }

    /** @return why it failed, or {@code null} */
    String error() {
        return error;
    }

    private void startNumber() {
        number = 0;
        digits = 0;
        negative = false;
        skipLf = false;
    }

    private void number(byte b) {
        if (skipLf) {
            numberRead(negative ? -number : number);
        } else if (b >= '0' && b <= '9') {
            if (++digits > 18 || digits == 2 && number == 0) { // Redis reads no leading zero
                fail("a " + (state == COUNT ? "multibulk" : "bulk") + " length Redis does not read");
                return;
            }
            number = number * 10 + (b - '0');
        } else if (b == '-' && digits == 0 && !negative) {
            negative = true;
        } else if (b == '\r' && digits > 0 && !(negative && number == 0)) { // Redis refuses "-0"
            skipLf = true;
        } else {
            fail("byte " + (b & 0xff) + " in a " + (state == COUNT ? "multibulk" : "bulk") + " length");
        }
    }

    private void numberRead(long n) {
        if (state == COUNT) {
            if (n > MAX_ARGUMENTS) {
                fail("invalid multibulk length " + n);
            } else if (n <= 0) {
                state = START; // no command: Redis answers nothing
            } else {
                arguments = n;
                argument = 0;
                nameLength = 0;
                nameTooLong = false;
                block = false;
                state = DOLLAR;
            }
        } else if (n < 0 || n > MAX_BULK) {
            fail("invalid bulk length " + n);
        } else {
            bulk = n;
            dataLeft = n + 2;
            state = DATA;
        }
    }

    private void keep(long at, byte b) {
        if (argument == 0) {
            if (at < MAX_NAME) {
                name[(int) at] = b;
                nameLength = (int) at + 1;
            } else {
                nameTooLong = true;
            }
        } else if (bulk == 5) {
            small[(int) at] = b;
        }
    }

    private void argumentDone() {
        if (argument > 0 && bulk == 5 && isBlock(small)) {
            block = true;
        }
        if (++argument < arguments) {
            state = DOLLAR;
            return;
        }
        state = START;
        commands.command(nameTooLong ? "" : new String(name, 0, nameLength, StandardCharsets.ISO_8859_1)
                .toUpperCase(Locale.ROOT), block);
    }

    private static boolean isBlock(byte[] b) {
        return (b[0] | 0x20) == 'b' && (b[1] | 0x20) == 'l' && (b[2] | 0x20) == 'o' && (b[3] | 0x20) == 'c'
                && (b[4] | 0x20) == 'k';
    }

    private void append(ByteBuffer data, int from, int to) {
        int n = to - from;
        if (lineLength + n > MAX_INLINE) {
            fail("an inline command longer than " + MAX_INLINE + " bytes");
            return;
        }
        if (lineLength + n > line.length) {
            line = java.util.Arrays.copyOf(line, Math.min(MAX_INLINE, Math.max(line.length * 2, lineLength + n)));
        }
        data.get(from, line, lineLength, n);
        lineLength += n;
    }

    private void inline() {
        int length = lineLength;
        if (length > 0 && line[length - 1] == '\r') {
            length--;
        }
        List<String> args = splitArgs(line, length);
        if (args == null) {
            fail("unbalanced quotes in an inline command");
        } else if (!args.isEmpty()) {
            boolean blockArgument = false;
            for (int k = 1; k < args.size(); k++) {
                blockArgument |= args.get(k).equalsIgnoreCase("BLOCK");
            }
            commands.command(args.get(0).toUpperCase(Locale.ROOT), blockArgument);
        }
        if (line.length > 4096) {
            line = new byte[256]; // one long line holds no memory afterwards
        }
        lineLength = 0;
    }

    /**
     * Splits a line into arguments as Redis's {@code sdssplitargs} does: blanks separate,
     * double quotes take {@code \xHH} and backslash escapes, single quotes take {@code \'},
     * a closing quote must be followed by a blank or the end, and a NUL ends the line (Redis
     * reads it as a C string).
     *
     * @return the arguments, or {@code null} where Redis refuses the line
     */
    static List<String> splitArgs(byte[] s, int length) {
        List<String> out = new ArrayList<>();
        int p = 0;
        while (true) {
            while (p < length && s[p] != 0 && isSpace(s[p])) {
                p++;
            }
            if (p >= length || s[p] == 0) {
                return out;
            }
            boolean inDouble = false;
            boolean inSingle = false;
            boolean done = false;
            StringBuilder current = new StringBuilder();
            while (!done) {
                int c = p < length ? s[p] & 0xff : 0;
                int next = p + 1 < length ? s[p + 1] & 0xff : 0;
                if (inDouble) {
                    if (c == '\\' && next == 'x' && p + 3 < length && hex(s[p + 2]) >= 0 && hex(s[p + 3]) >= 0) {
                        current.append((char) (hex(s[p + 2]) * 16 + hex(s[p + 3])));
                        p += 3;
                    } else if (c == '\\' && next != 0) {
                        p++;
                        current.append(switch (next) {
                            case 'n' -> '\n';
                            case 'r' -> '\r';
                            case 't' -> '\t';
                            case 'b' -> '\b';
                            case 'a' -> (char) 7;
                            default -> (char) next;
                        });
                    } else if (c == '"') {
                        if (next != 0 && !isSpace((byte) next)) {
                            return null;
                        }
                        done = true;
                    } else if (c == 0) {
                        return null;
                    } else {
                        current.append((char) c);
                    }
                } else if (inSingle) {
                    if (c == '\\' && next == '\'') {
                        p++;
                        current.append('\'');
                    } else if (c == '\'') {
                        if (next != 0 && !isSpace((byte) next)) {
                            return null;
                        }
                        done = true;
                    } else if (c == 0) {
                        return null;
                    } else {
                        current.append((char) c);
                    }
                } else {
                    switch (c) {
                        case ' ', '\n', '\r', '\t', 0 -> done = true;
                        case '"' -> inDouble = true;
                        case '\'' -> inSingle = true;
                        default -> current.append((char) c);
                    }
                }
                if (c != 0) {
                    p++;
                }
            }
            out.add(current.toString());
        }
    }

    private static boolean isSpace(byte b) {
        return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == 0x0b || b == '\f';
    }

    private static int hex(byte b) {
        return b >= '0' && b <= '9' ? b - '0' : b >= 'a' && b <= 'f' ? b - 'a' + 10 : b >= 'A' && b <= 'F' ? b - 'A' + 10 : -1;
    }

    private void fail(String why) {
        state = FAILED;
        error = why;
    }
}
