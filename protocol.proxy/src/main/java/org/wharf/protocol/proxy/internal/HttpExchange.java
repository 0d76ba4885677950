package org.wharf.protocol.proxy.internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Locale;

/**
 * An HTTP/1.1 client's exchange over a pooled connection: requests and responses are framed
 * as RFC 9112 says (Content-Length, chunked with trailers, no body for HEAD, 1xx, 204 and
 * 304; interim 1xx responses answer nothing), and the connection is reusable once every
 * request has its whole response. It is unsafe when either side says the connection ends
 * or changes ({@code Connection: close}, {@code Upgrade}, 101, CONNECT, HTTP/1.0), when a
 * response runs until the connection closes (no length, no chunking), when a response comes
 * that no request asked for, and when the framing is anything but plain (both lengths, a
 * doubled or odd length, a coding other than chunked, folded headers): bytes whose end the
 * upstream might read differently are never a reason to reuse the connection.
 */
final class HttpExchange extends Exchange {

    /** The default longest start line or header line followed; longer makes the exchange unsafe. */
    static final int MAX_LINE = 64 * 1024;
    /** The default most header lines per message followed. */
    static final int MAX_HEADERS = 256;
    /** The default most requests awaiting their response followed (pipelining); more makes the exchange unsafe. */
    static final int MAX_PIPELINED = 1024;

    /**
     * What the tracker holds and counts at most (set by the route's configuration): past any
     * of them the exchange is unsafe, so the connection is closed after its client instead of
     * reused, and the tracker holds nothing more. The bytes themselves pass on.
     *
     * @param maxLine the longest start, header or chunk-size line, in bytes
     * @param maxHeaders the most header (or trailer) lines in one message
     * @param maxPipelined the most requests awaiting their responses
     */
    record Limits(int maxLine, int maxHeaders, int maxPipelined) {
        static final Limits DEFAULT = new Limits(MAX_LINE, MAX_HEADERS, MAX_PIPELINED);
    }

    private final int maxLine;
    private final int maxHeaders;
    private final int maxPipelined;

    private final Messages requests = new Messages(true);
    private final Messages responses = new Messages(false);

    HttpExchange(Limits limits) {
        this.maxLine = limits.maxLine();
        this.maxHeaders = limits.maxHeaders();
        this.maxPipelined = limits.maxPipelined();
    }
    /** For each request whose response has not ended: whether it was HEAD (its response has no body). */
    private final ArrayDeque<Boolean> awaiting = new ArrayDeque<>();
    private long requestsDone;
    private long responsesDone;

    @Override
    void requests(ByteBuffer data) {
        requests.feed(data);
    }

    @Override
    void answers(ByteBuffer data) {
        responses.feed(data);
    }

    @Override
    boolean midRequest() {
        return !requests.atStart();
    }

    @Override
    boolean settled() {
        return requests.atStart() && responses.atStart() && awaiting.isEmpty() && requestsDone == responsesDone;
    }

    @Override
    String owed() {
        return (requestsDone - responsesDone) + " of " + requestsDone + " responses owed"
                + (requests.atStart() ? "" : ", a request cut off") + (responses.atStart() ? "" : ", a response cut off");
    }

    /** One direction's messages: where each ends. */
    private final class Messages {
        private static final int START_LINE = 0;
        private static final int HEADER = 1;
        private static final int FIXED = 2;
        private static final int CHUNK_SIZE = 3;
        private static final int CHUNK_DATA = 4;
        private static final int CHUNK_END = 5;
        private static final int TRAILER = 6;

        private final boolean request;
        private int state = START_LINE;
        private byte[] line = new byte[256];
        private int lineLength;
        private long left;
        private int headers;
        // what the current message's head said
        private boolean head;
        private int status;
        private long contentLength;
        private boolean chunked;
        private boolean otherCoding;

        Messages(boolean request) {
            this.request = request;
        }

        boolean atStart() {
            return state == START_LINE && lineLength == 0;
        }

        void feed(ByteBuffer data) {
            int i = data.position();
            int end = data.limit();
            while (i < end && !failed()) {
                if (state == FIXED || state == CHUNK_DATA) {
                    int n = (int) Math.min(left, end - i);
                    i += n;
                    left -= n;
                    if (left == 0) {
                        if (state == FIXED) {
                            messageDone();
                        } else {
                            state = CHUNK_END;
                        }
                    }
                    continue;
                }
                int from = i;
                while (i < end && data.get(i) != '\n') {
                    i++;
                }
                if (lineLength + (i - from) > maxLine) {
                    unsafe("a " + what() + " line longer than " + maxLine + " bytes");
                    return;
                }
                if (lineLength + (i - from) > line.length) {
                    line = java.util.Arrays.copyOf(line, Math.min(maxLine, Math.max(2 * line.length,
                            lineLength + (i - from))));
                }
                data.get(from, line, lineLength, i - from);
                lineLength += i - from;
                if (i < end) {
                    i++; // the LF
                    // Strict framing: this reading decides whether the connection may serve another
                    // client, so anything a backend might read otherwise makes it unsafe. A line ends
                    // in CRLF, and holds no other control byte than HTAB.
                    if (lineLength == 0 || line[lineLength - 1] != '\r') {
                        unsafe("a " + what() + " line that ends in a bare LF");
                        return;
                    }
                    int length = lineLength - 1;
                    for (int k = 0; k < length; k++) {
                        int c = line[k] & 0xff;
                        if (c < 0x20 && c != '\t' || c == 0x7f) {
                            unsafe("a " + what() + " line with control byte " + c);
                            return;
                        }
                    }
                    lineLength = 0;
                    line(new String(line, 0, length, StandardCharsets.ISO_8859_1));
                    if (line.length > 4096) {
                        line = new byte[256];
                    }
                }
            }
        }

        private boolean failed() {
            return isUnsafe();
        }

        private void line(String text) {
            switch (state) {
                case START_LINE -> startLine(text);
                case HEADER -> header(text);
                case CHUNK_SIZE -> chunkSize(text);
                case CHUNK_END -> {
                    if (!text.isEmpty()) {
                        unsafe("chunk data of a " + what() + " runs past its size");
                    } else {
                        state = CHUNK_SIZE;
                    }
                }
                default -> { // TRAILER
                    if (text.isEmpty()) {
                        messageDone();
                    } else if (++headers > maxHeaders) {
                        unsafe("more than " + maxHeaders + " trailer lines in a " + what());
                    }
                }
            }
        }

        private void startLine(String text) {
            if (text.isEmpty() && request) {
                return; // empty lines before a request are ignored (RFC 9112, 2.2)
            }
            head = false;
            status = 0;
            contentLength = -1;
            chunked = false;
            otherCoding = false;
            headers = 0;
            if (request) {
                int sp1 = text.indexOf(' ');
                int sp2 = text.lastIndexOf(' ');
                if (sp1 <= 0 || sp2 == sp1) {
                    unsafe("a request line the gateway cannot read");
                    return;
                }
                String method = text.substring(0, sp1);
                if (!text.substring(sp2 + 1).equals("HTTP/1.1")) {
                    unsafe("a request other than HTTP/1.1 (" + text.substring(sp2 + 1) + ")");
                    return;
                }
                if (method.equals("CONNECT")) {
                    unsafe("a CONNECT request turns the connection into a tunnel");
                    return;
                }
                head = method.equals("HEAD");
            } else {
                if (!text.startsWith("HTTP/1.1 ") || text.length() < 12 || !digits(text, 9, 12)
                        || text.length() > 12 && text.charAt(12) != ' ') {
                    unsafe("a status line other than HTTP/1.1's (" + abbreviate(text) + ")");
                    return;
                }
                status = Integer.parseInt(text.substring(9, 12));
                if (status == 101) {
                    unsafe("the upstream switched protocols (101)");
                    return;
                }
            }
            state = HEADER;
        }

        private void header(String text) {
            if (text.isEmpty()) {
                headersDone();
                return;
            }
            if (++headers > maxHeaders) {
                unsafe("more than " + maxHeaders + " header lines in a " + what());
                return;
            }
            int colon = text.indexOf(':');
            if (colon <= 0 || text.charAt(0) == ' ' || text.charAt(0) == '\t' || text.charAt(colon - 1) == ' '
                    || text.charAt(colon - 1) == '\t') {
                unsafe("a " + what() + " header line the gateway cannot read (" + abbreviate(text) + ")");
                return;
            }
            for (int k = 0; k < colon; k++) {
                // '_' is a token character, but some servers read it as '-' (Transfer_Encoding)
                if (!token(text.charAt(k)) || text.charAt(k) == '_') {
                    unsafe("a " + what() + " header name that is not a token (" + abbreviate(text) + ")");
                    return;
                }
            }
            String name = text.substring(0, colon).toLowerCase(Locale.ROOT);
            String value = text.substring(colon + 1).trim();
            switch (name) {
                case "content-length" -> {
                    if (contentLength >= 0 || value.isEmpty() || value.length() > 18 || !digits(value, 0, value.length())) {
                        unsafe("a " + what() + " with Content-Length '" + abbreviate(value) + "'"
                                + (contentLength >= 0 ? " besides another" : ""));
                    } else {
                        contentLength = Long.parseLong(value);
                    }
                }
                case "transfer-encoding" -> {
                    if (chunked || !value.equalsIgnoreCase("chunked")) {
                        otherCoding = true;
                    } else {
                        chunked = true;
                    }
                }
                case "connection" -> {
                    for (String token : value.split(",")) {
                        String t = token.trim().toLowerCase(Locale.ROOT);
                        if (t.equals("close") || t.equals("upgrade")) {
                            unsafe("a " + what() + " says Connection: " + t);
                        }
                    }
                }
                case "upgrade" -> {
                    if (request) {
                        unsafe("a request asks to upgrade the connection");
                    }
                }
                default -> {
                }
            }
        }

        private void headersDone() {
            if (otherCoding) {
                unsafe("a " + what() + " with a transfer coding other than chunked");
                return;
            }
            if (chunked && contentLength >= 0) {
                unsafe("a " + what() + " with both Content-Length and Transfer-Encoding");
                return;
            }
            if (request) {
                if (awaiting.size() >= maxPipelined) {
                    unsafe("more than " + maxPipelined + " requests awaiting their responses");
                    return;
                }
                awaiting.add(head);
                body(contentLength > 0 ? contentLength : 0);
                return;
            }
            if (status >= 100 && status < 200) {
                state = START_LINE; // interim: the final response is still to come
                return;
            }
            Boolean forHead = awaiting.peek();
            if (forHead == null) {
                unsafe("a response no request asked for");
                return;
            }
            if (forHead || status == 204 || status == 304) {
                messageDone();
            } else if (chunked || contentLength >= 0) {
                body(contentLength);
            } else {
                unsafe("a response without Content-Length or chunking, which ends only when the upstream closes");
            }
        }

        private void body(long length) {
            if (chunked) {
                state = CHUNK_SIZE;
            } else if (length > 0) {
                left = length;
                state = FIXED;
            } else {
                messageDone();
            }
        }

        /** RFC 9110 5.6.2: the characters of a token. */
        private static boolean token(char c) {
            return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
        }

        private void chunkSize(String text) {
            int end = 0;
            while (end < text.length() && Character.digit(text.charAt(end), 16) >= 0) {
                end++;
            }
            // hex, then nothing, or whitespace and an extension (RFC 9112 7.1.1: BWS ";" ...)
            int ext = end;
            while (ext < text.length() && (text.charAt(ext) == ' ' || text.charAt(ext) == '\t')) {
                ext++;
            }
            boolean rest = end == text.length() || ext < text.length() && text.charAt(ext) == ';';
            if (end == 0 || end > 15 || !rest) {
                unsafe("a chunk size the gateway cannot read (" + abbreviate(text) + ")");
                return;
            }
            long size = Long.parseLong(text.substring(0, end), 16);
            if (size == 0) {
                headers = 0;
                state = TRAILER;
            } else {
                left = size;
                state = CHUNK_DATA;
            }
        }

        private void messageDone() {
            state = START_LINE;
            if (request) {
                requestsDone++;
            } else {
                awaiting.poll();
                responsesDone++;
            }
        }

        private String what() {
            return request ? "request" : "response";
        }
    }

    private static boolean digits(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    private static String abbreviate(String s) {
        return s.length() > 60 ? s.substring(0, 60) + "..." : s;
    }
}
