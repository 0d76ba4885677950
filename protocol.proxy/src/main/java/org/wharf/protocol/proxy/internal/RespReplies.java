package org.wharf.protocol.proxy.internal;

import java.nio.ByteBuffer;

/**
 * Finds where Redis replies end in a stream of RESP2/RESP3 bytes, across reads split
 * anywhere. It holds no reply: lengths are skipped, lines scanned for their end, and a
 * stack of element counts follows nested aggregates. Counts top-level replies; a RESP3 push
 * ({@code >}) is out of band and an attribute ({@code |}) belongs to the reply after it, so
 * neither counts. Bytes that are not RESP, RESP3 streamed types ({@code $?}, {@code *?}) and
 * nesting deeper than {@value #MAX_DEPTH} fail it: the stream can no longer be followed.
 */
final class RespReplies {

    /** Nesting deeper than Redis produces; deeper fails, so a hostile upstream costs no memory. */
    static final int MAX_DEPTH = 64;

    private static final int TYPE = 0;
    private static final int LINE = 1;
    private static final int NUMBER = 2;
    private static final int BULK = 3;
    private static final int FAILED = 4;

    private static final byte AGGREGATE = 0;
    private static final byte PUSH = 1;
    private static final byte ATTRIBUTE = 2;

    private int state = TYPE;
    /** The type byte whose length line is being read. */
    private byte type;
    private long number;
    private int digits;
    private boolean negative;
    private boolean cr;
    /** Bulk bytes still to skip, with their CRLF. */
    private long skip;
    private final long[] remaining = new long[MAX_DEPTH];
    private final byte[] kind = new byte[MAX_DEPTH];
    private int depth;
    /** A top-level attribute was read: the reply it belongs to is still to come. */
    private boolean attributePending;
    private long replies;
    private String error;

    /**
     * Reads the next bytes of the stream.
     *
     * @param data from its position to its limit; read by index, never moved
     * @return how many replies these bytes completed
     */
    long feed(ByteBuffer data) {
        long before = replies;
        int i = data.position();
        int end = data.limit();
        while (i < end && state != FAILED) {
            switch (state) {
                case TYPE -> begin(data.get(i++));
                case LINE -> {
                    while (i < end) {
                        if (data.get(i++) == '\n') {
                            state = TYPE;
                            elementDone();
                            break;
                        }
                    }
                }
                case NUMBER -> digit(data.get(i++));
                default -> { // BULK
                    long n = Math.min(skip, end - i);
                    i += (int) n;
                    skip -= n;
                    if (skip == 0) {
                        state = TYPE;
                        elementDone();
                    }
                }
            }
        }
        return replies - before;
    }

    /** @return top-level replies completed so far */
    long replies() {
        return replies;
    }

    /** @return whether the bytes so far end exactly where a reply ends (or before any) */
    boolean atBoundary() {
        return state == TYPE && depth == 0 && !attributePending;
    }

    /** @return whether the stream could not be followed */
    boolean failed() {
        return state == FAILED;
    }

    /** @return why it failed, or {@code null} */
    String error() {
        return error;
    }

    private void begin(byte b) {
        switch (b) {
            case '+', '-', ':', ',', '#', '(', '_' -> state = LINE;
            case '$', '!', '=', '*', '~', '>', '%', '|' -> {
                type = b;
                number = 0;
                digits = 0;
                negative = false;
                cr = false;
                state = NUMBER;
            }
            default -> fail("a reply starts with byte " + (b & 0xff) + ", which no RESP type does");
        }
    }

    private void digit(byte b) {
        if (cr) {
            if (b != '\n') {
                fail("a length line ends in CR without LF");
            } else {
                lengthRead(negative ? -number : number);
            }
        } else if (b >= '0' && b <= '9') {
            if (++digits > 18) {
                fail("a length of more than 18 digits");
                return;
            }
            number = number * 10 + (b - '0');
        } else if (b == '-' && digits == 0 && !negative) {
            negative = true;
        } else if (b == '\r' && digits > 0) {
            cr = true;
        } else if (b == '?' && digits == 0) {
            fail("RESP3 streamed replies ('" + (char) type + "?') are not followed");
        } else {
            fail("byte " + (b & 0xff) + " in the length of a '" + (char) type + "' reply");
        }
    }

    private void lengthRead(long n) {
        state = TYPE;
        switch (type) {
            case '$', '!', '=' -> {
                if (n == -1 && type == '$') {
                    elementDone(); // RESP2 null bulk string
                } else if (n < 0) {
                    fail("bulk length " + n);
                } else {
                    skip = n + 2;
                    state = BULK;
                }
            }
            default -> {
                if (n == -1 && type == '*') {
                    elementDone(); // RESP2 null array
                } else if (n < 0) {
                    fail("aggregate length " + n);
                } else {
                    boolean pairs = type == '%' || type == '|';
                    open(type == '>' ? PUSH : type == '|' ? ATTRIBUTE : AGGREGATE, pairs ? 2 * n : n);
                }
            }
        }
    }

    private void open(byte k, long elements) {
        if (elements == 0) {
            if (k == ATTRIBUTE) {
                attributePending |= depth == 0; // still annotates the element after it
            } else if (k == AGGREGATE || depth > 0) {
                elementDone(); // an empty aggregate is a whole element
            }
            return; // an empty top-level push is out of band and complete
        }
        if (depth == MAX_DEPTH) {
            fail("replies nested deeper than " + MAX_DEPTH);
            return;
        }
        remaining[depth] = elements;
        kind[depth] = k;
        depth++;
    }

    /** An element ended: completes the aggregates it filled, and counts a top-level reply. */
    private void elementDone() {
        boolean push = false;
        while (depth > 0) {
            int f = depth - 1;
            if (--remaining[f] > 0) {
                return;
            }
            depth--;
            if (kind[f] == ATTRIBUTE) {
                // An attribute annotates the element after it and fills no slot itself.
                attributePending |= depth == 0;
                return;
            }
            push = kind[f] == PUSH;
        }
        if (!push) {
            replies++;
            attributePending = false;
        }
    }

    private void fail(String why) {
        state = FAILED;
        error = why;
    }
}
