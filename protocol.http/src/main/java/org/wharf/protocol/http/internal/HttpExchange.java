package org.wharf.protocol.http.internal;

import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.wharf.protocol.api.Connection;
import org.wharf.protocol.api.ProtocolConsumer;
import org.wharf.protocol.http.HttpHandler;
import org.wharf.protocol.http.HttpLimits;
import org.wharf.protocol.http.HttpRequest;
import org.wharf.protocol.http.HttpResponse;
import org.wharf.transport.api.Transport;

/**
 * One HTTP request and its response: parses the request incrementally from whatever bytes
 * arrive, leaves the bytes of the next request alone (pipelining), answers through the
 * handler, and finishes.
 *
 * <p>The parser is strict where RFC 9112 lets a server reject, because every leniency is a
 * way for two parsers on one path (a proxy and this server) to see different requests
 * (request smuggling). Lines end with CRLF only (no bare LF, no bare CR); the request line
 * is exactly {@code method SP request-target SP HTTP-version}; field names are tokens with
 * nothing before the colon; field values hold no control character but HTAB; obsolete line
 * folding is refused; HTTP/1.1 needs exactly one Host; Content-Length is digits only, and
 * several must agree; Transfer-Encoding must end with chunked (else 400, §6.3), may carry
 * no coding before it that this server does not implement (501, §6.1: it implements none),
 * and excludes Content-Length (400, §6.3); chunk sizes are hex digits only, summed without
 * overflow against the body limit. Malformed input is answered with its status and the
 * connection closes; nothing is logged per request (the endpoint counts connections).
 */
public final class HttpExchange implements ProtocolConsumer {

    /** Handler failures are the application's bugs, not the client's input: those are logged. */
    private static final System.Logger LOG = System.getLogger("org.wharf.protocol.http");
    /** When a handler's failure was last logged with its trace; at most one trace in {@link #TRACE_EVERY_NANOS}. */
    private static final java.util.concurrent.atomic.AtomicLong LAST_TRACE = new java.util.concurrent.atomic.AtomicLong(
            System.nanoTime() - Long.MAX_VALUE / 2);
    private static final long TRACE_EVERY_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(10);

    /** The longest chunk-size line (size and extensions) accepted. */
    private static final int MAX_CHUNK_LINE = 4096;

    private enum State { REQUEST_LINE, HEADERS, BODY, CHUNK_SIZE, CHUNK_DATA, CHUNK_END, TRAILERS, DONE }

    /** tchar of RFC 9110 §5.6.2, by byte. */
    private static final boolean[] TCHAR = new boolean[256];

    static {
        for (char c = '0'; c <= '9'; c++) {
            TCHAR[c] = true;
        }
        for (char c = 'a'; c <= 'z'; c++) {
            TCHAR[c] = true;
            TCHAR[c - 'a' + 'A'] = true;
        }
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
            TCHAR[c] = true;
        }
    }

    private final HttpHandler handler;
    private final HttpLimits limits;
    private final HttpConnection deadlines;
    private final LineBuffer line = new LineBuffer();
    /** A chunked body as it comes. */
    private final ChunkedBody body = new ChunkedBody();
    /**
     * A body of known length, read into one array of that length: no growth by doubling and
     * no copy at the end, so the bytes held are the bytes reserved in the budget.
     */
    private byte[] fixed;
    private int fixedAt;
    private final Map<String, List<String>> headers = new LinkedHashMap<>();
    private Connection connection;
    private State state = State.REQUEST_LINE;
    private String method;
    private String target;
    private String version;
    private int emptyLines;
    private int headerBytes;
    /** Bytes of chunk extensions in this body so far: bounded by {@code http.maxHeaderBytes}. */
    private long extensionBytes;
    private int fields;
    private long remaining;
    private boolean chunkCr;
    private boolean begun;
    private boolean rejected;
    /** Body bytes reserved in the connection's memory budget, given back when the exchange ends. */
    private long reserved;

    /**
     * An exchange for one request.
     *
     * @param handler answers it
     * @param limits what it may hold
     * @param deadlines the connection that keeps the deadlines, told where the request is
     */
    HttpExchange(HttpHandler handler, HttpLimits limits, HttpConnection deadlines) {
        this.handler = handler;
        this.limits = limits;
        this.deadlines = deadlines;
    }

    @Override
    public void start(Connection c) {
        connection = c;
    }

    @Override
    public void dataReceived(ByteBuffer data) {
        if (!begun && data.hasRemaining()) {
            begun = true;
            deadlines.requestBegins();
        }
        while (data.hasRemaining() && state != State.DONE && !rejected) {
            switch (state) {
                case REQUEST_LINE -> {
                    if (!readLine(data, limits.maxRequestLine(), 414, "request line")) {
                        return;
                    }
                    if (line.size == 0) {
                        // RFC 9112 §2.2: empty lines before a request line are ignored, a few.
                        if (++emptyLines > limits.maxEmptyLines()) {
                            reject(400, "more than " + limits.maxEmptyLines() + " empty lines before the request line");
                        }
                    } else {
                        requestLine();
                    }
                }
                case HEADERS, TRAILERS -> {
                    boolean trailers = state == State.TRAILERS;
                    if (!readLine(data, Math.max(0, limits.maxHeaderBytes() - headerBytes - 2), 431,
                            trailers ? "trailer section" : "header section")) {
                        return;
                    }
                    headerBytes += line.size + 2;
                    if (line.size == 0) {
                        if (trailers) {
                            state = State.DONE;
                        } else {
                            endOfHeaders();
                        }
                    } else {
                        fieldLine(trailers);
                    }
                }
                case BODY, CHUNK_DATA -> {
                    int n = (int) Math.min(remaining, data.remaining());
                    int at = data.position();
                    if (fixed != null) {
                        data.get(at, fixed, fixedAt, n);
                        fixedAt += n;
                        data.position(at + n);
                    } else {
                        body.write(data, n, remaining);
                    }
                    remaining -= n;
                    if (remaining == 0) {
                        state = state == State.BODY ? State.DONE : State.CHUNK_END;
                    }
                }
                case CHUNK_SIZE -> {
                    if (!readLine(data, MAX_CHUNK_LINE, 400, "chunk-size line")) {
                        return;
                    }
                    chunkSize();
                }
                case CHUNK_END -> {
                    // Exactly CRLF after the chunk's data, refused at the first other byte.
                    byte b = data.get();
                    if (b != (chunkCr ? '\n' : '\r')) {
                        reject(400, "chunk data not followed by CRLF");
                        return;
                    }
                    chunkCr = !chunkCr;
                    if (!chunkCr) {
                        state = State.CHUNK_SIZE;
                    }
                }
                default -> throw new IllegalStateException(state.name());
            }
            if (state == State.DONE && !rejected) {
                respond();
            }
        }
    }

    // ---- lines ----

    /** The bytes of the line being read, without its CRLF; valid until the next read once complete. */
    private static final class LineBuffer {
        byte[] bytes = new byte[128];
        int size;
        boolean cr;
        boolean complete;

        void add(byte b) {
            if (size == bytes.length) {
                bytes = Arrays.copyOf(bytes, bytes.length * 2);
            }
            bytes[size++] = b;
        }

        void reset() {
            size = 0;
            cr = false;
            complete = false;
        }
    }

    /**
     * Reads up to the end of a line (CRLF, nothing else: RFC 9112 §2.2 allows a recipient to
     * take a bare LF, and this one does not).
     *
     * @return true when {@link #line} holds a complete line; false when more input is needed
     *         or the input was rejected
     */
    private boolean readLine(ByteBuffer data, int max, int status, String what) {
        if (line.complete) {
            line.reset();
        }
        while (data.hasRemaining()) {
            byte b = data.get();
            if (line.cr) {
                if (b != '\n') {
                    reject(400, "bare CR in the " + what);
                    return false;
                }
                line.cr = false;
                line.complete = true;
                return true;
            }
            if (b == '\r') {
                line.cr = true;
            } else if (b == '\n') {
                reject(400, "bare LF in the " + what);
                return false;
            } else {
                if (line.size >= max) {
                    reject(status, what + " longer than " + max + " bytes");
                    return false;
                }
                line.add(b);
            }
        }
        return false;
    }

    // ---- the request line ----

    /**
     * Visible ASCII that no client sends unencoded in a request-target: a fragment's '#', and
     * the quote and angle brackets every browser encodes (WHATWG URL's query percent-encode
     * set), kept out of logs and of the handlers' HTML. Besides these, a path may not hold a
     * backslash (browsers send '/' for it; servers behind disagree on what it is) nor a '%'
     * without two hex digits (the path is what servers decode). A query is the application's
     * to read: '{', '|', '^' and a lone '%' pass, as browsers send them.
     */
    private static final String NEVER_SENT = "\"#<>";

    private void requestLine() {
        byte[] b = line.bytes;
        int n = line.size;
        int sp1 = indexOf(b, n, (byte) ' ', 0);
        int sp2 = sp1 < 0 ? -1 : indexOf(b, n, (byte) ' ', sp1 + 1);
        if (sp1 <= 0 || sp2 < 0 || indexOf(b, n, (byte) ' ', sp2 + 1) >= 0) {
            reject(400, "the request line is not method SP request-target SP HTTP-version");
            return;
        }
        if (!isToken(b, 0, sp1)) {
            reject(400, "the method is not a token");
            return;
        }
        if (sp2 == sp1 + 1) {
            reject(400, "empty request-target");
            return;
        }
        boolean inQuery = false;
        for (int i = sp1 + 1; i < sp2; i++) {
            int c = b[i] & 0xff;
            if (c <= 0x20 || c >= 0x7f) {
                reject(400, "the request-target holds a byte that is not visible ASCII (0x"
                        + Integer.toHexString(c) + ")");
                return;
            }
            if (c == '?') {
                inQuery = true;
            }
            if (NEVER_SENT.indexOf(c) >= 0 || !inQuery && c == '\\') {
                reject(400, "the request-target holds '" + (char) c + "', which no client sends unencoded there");
                return;
            }
            if (!inQuery && c == '%'
                    && (i + 2 >= sp2 || Character.digit(b[i + 1], 16) < 0 || Character.digit(b[i + 2], 16) < 0)) {
                reject(400, "the request-target's path holds a '%' not followed by two hex digits");
                return;
            }
        }
        // HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112 §2.3).
        int v = sp2 + 1;
        if (n - v != 8 || !startsWith(b, v, "HTTP/") || !isDigit(b[v + 5]) || b[v + 6] != '.' || !isDigit(b[v + 7])) {
            reject(400, "malformed HTTP-version");
            return;
        }
        String ver = new String(b, v, 8, StandardCharsets.ISO_8859_1);
        // RFC 9110 §2.5 would have HTTP/1.9 read as HTTP/1.1 (a SHOULD); this server refuses
        // versions it does not know (505: it "refuses to support" them, §15.6.6), as one more
        // way for two parsers on a path to disagree is one too many.
        if (!ver.equals("HTTP/1.1") && !ver.equals("HTTP/1.0")) {
            reject(505, ver + " is not supported (HTTP/1.1 and HTTP/1.0 are)");
            return;
        }
        method = new String(b, 0, sp1, StandardCharsets.ISO_8859_1);
        target = new String(b, sp1 + 1, sp2 - sp1 - 1, StandardCharsets.ISO_8859_1);
        version = ver;
        if (!validTargetForm()) {
            return;
        }
        state = State.HEADERS;
    }

    /** RFC 9112 §3.2: origin-form, absolute-form, authority-form for CONNECT, asterisk-form for OPTIONS. */
    private boolean validTargetForm() {
        if (target.equals("*")) {
            if (method.equals("OPTIONS")) {
                return true;
            }
            reject(400, "the asterisk-form is for OPTIONS only");
            return false;
        }
        if (method.equals("CONNECT")) {
            int colon = target.lastIndexOf(':');
            // host:port, the port's digits present (RFC 9110 9.3.6: "a:" names no port)
            if (target.indexOf('/') < 0 && colon > 0 && colon < target.length() - 1
                    && target.substring(colon + 1).chars().allMatch(c -> c >= '0' && c <= '9')) {
                return true;
            }
            reject(400, "CONNECT needs the authority-form host:port");
            return false;
        }
        if (target.charAt(0) == '/') {
            return true;
        }
        int scheme = target.indexOf("://");
        if (scheme > 0 && isAlpha(target.charAt(0)) && target.substring(0, scheme).chars()
                .allMatch(c -> isAlpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.')) {
            int host = scheme + 3;
            if (host == target.length() || target.charAt(host) == '/' || target.charAt(host) == '?'
                    || target.charAt(host) == ':') {
                reject(400, "an absolute-form target with an empty host"); // RFC 9110 4.2.1
                return false;
            }
            return true;
        }
        reject(400, "the request-target is neither origin-form nor absolute-form");
        return false;
    }

    // ---- header and trailer fields ----

    private void fieldLine(boolean trailer) {
        byte[] b = line.bytes;
        int n = line.size;
        if (b[0] == ' ' || b[0] == '\t') {
            reject(400, "obsolete line folding (a field line starting with whitespace)");
            return;
        }
        int colon = indexOf(b, n, (byte) ':', 0);
        if (colon < 0) {
            reject(400, "a field line without a colon");
            return;
        }
        if (colon == 0 || !isToken(b, 0, colon)) {
            reject(400, "a field name that is not a token (whitespace or a separator before the colon)");
            return;
        }
        int from = colon + 1;
        int to = n;
        while (from < to && (b[from] == ' ' || b[from] == '\t')) {
            from++;
        }
        while (to > from && (b[to - 1] == ' ' || b[to - 1] == '\t')) {
            to--;
        }
        for (int i = from; i < to; i++) {
            int c = b[i] & 0xff;
            // field-vchar / SP / HTAB (RFC 9110 §5.5): NUL, CR, LF and the other controls are refused.
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                reject(400, "a field value holds the control character 0x" + Integer.toHexString(c));
                return;
            }
        }
        if (++fields > limits.maxHeaderFields()) {
            reject(431, "more than " + limits.maxHeaderFields() + (trailer ? " trailer" : " header") + " fields");
            return;
        }
        if (!trailer) { // trailers are checked and dropped: nothing here reads them
            headers.computeIfAbsent(new String(b, 0, colon, StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT),
                    k -> new ArrayList<>()).add(new String(b, from, to - from, StandardCharsets.ISO_8859_1));
        }
    }

    private void endOfHeaders() {
        if (!checkHost()) {
            return;
        }
        List<String> encodings = headers.get("transfer-encoding");
        List<String> lengths = headers.get("content-length");
        if (encodings != null) {
            if (!chunkedIsFinal(encodings)) {
                return;
            }
            if (lengths != null) {
                reject(400, "both Transfer-Encoding and Content-Length (RFC 9112 §6.3)");
                return;
            }
            if (!expectContinue(true)) {
                return;
            }
            fields = 0;
            headerBytes = 0; // the trailer section has limits of its own
            state = State.CHUNK_SIZE;
            deadlines.headerSectionEnds(true);
        } else if (lengths != null) {
            long n = contentLength(lengths);
            if (n < 0) {
                return;
            }
            if (!reserve(n)) {
                return;
            }
            fixed = n > 0 ? new byte[(int) n] : null; // n is within maxBody, an int
            remaining = n;
            if (!expectContinue(n > 0)) {
                return;
            }
            state = n == 0 ? State.DONE : State.BODY;
            deadlines.headerSectionEnds(n > 0);
        } else {
            state = State.DONE;
            deadlines.headerSectionEnds(false);
        }
    }

    /** RFC 9112 §3.2: HTTP/1.1 needs exactly one Host, any version at most one, and a valid value. */
    private boolean checkHost() {
        List<String> hosts = headers.get("host");
        if (hosts == null) {
            if (version.equals("HTTP/1.1")) {
                reject(400, "no Host header field");
                return false;
            }
            return true;
        }
        if (hosts.size() > 1) {
            reject(400, hosts.size() + " Host header fields");
            return false;
        }
        if (!validHost(hosts.get(0))) {
            reject(400, "an invalid Host");
            return false;
        }
        return true;
    }

    /**
     * RFC 3986 IP-literal's inside: an IPv6 address (hex digits, colons, and dots for a
     * trailing IPv4 part; at least one colon), or IPvFuture ("v" hex "." and more). Not empty.
     */
    private static boolean ipLiteral(String s) {
        if (s.startsWith("v") || s.startsWith("V")) {
            int dot = s.indexOf('.');
            if (dot < 2 || dot == s.length() - 1) {
                return false;
            }
            for (int j = 1; j < dot; j++) {
                if (Character.digit(s.charAt(j), 16) < 0) {
                    return false;
                }
            }
            for (int j = dot + 1; j < s.length(); j++) {
                char c = s.charAt(j);
                if (!(isAlpha(c) || isDigit((byte) c) || c == ':' || c == '.' || c == '-' || c == '_' || c == '~'
                        || "!$&'()*+,;=".indexOf(c) >= 0)) {
                    return false;
                }
            }
            return true;
        }
        return s.indexOf(':') >= 0 && s.chars().allMatch(c -> c == ':' || c == '.' || Character.digit(c, 16) >= 0);
    }

    /** uri-host [ ":" port ]; empty is allowed (a target without authority). */
    private static boolean validHost(String host) {
        int end = host.length();
        int portAt = -1;
        int i = 0;
        if (host.startsWith("[")) {
            int close = host.indexOf(']');
            if (close < 0) {
                return false;
            }
            if (!ipLiteral(host.substring(1, close))) {
                return false;
            }
            i = close + 1;
            if (i < end && host.charAt(i) != ':') {
                return false;
            }
            portAt = i < end ? i : -1;
        } else {
            for (; i < end; i++) {
                char c = host.charAt(i);
                if (c == ':') {
                    portAt = i;
                    break;
                }
                // reg-name / IPv4address: unreserved / pct-encoded / sub-delims
                if (!(isAlpha(c) || isDigit((byte) c) || c == '.' || c == '-' || c == '_' || c == '~' || c == '%'
                        || "!$&'()*+,;=".indexOf(c) >= 0)) {
                    return false;
                }
            }
        }
        if (portAt >= 0) {
            for (int j = portAt + 1; j < end; j++) {
                if (!isDigit((byte) host.charAt(j))) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * The transfer codings, over every Transfer-Encoding line in order: chunked must be the
     * final one and come once (else the body's length cannot be known: 400, RFC 9112 §6.3);
     * any coding before it is one this server does not implement (501, §6.1); HTTP/1.0 has no
     * transfer codings (§6.1: faulty framing).
     */
    private boolean chunkedIsFinal(List<String> encodings) {
        if (version.equals("HTTP/1.0")) {
            reject(400, "Transfer-Encoding in an HTTP/1.0 request");
            return false;
        }
        List<String> codings = new ArrayList<>();
        for (String value : encodings) {
            for (String element : value.split(",", -1)) {
                String coding = trimOws(element);
                if (coding.isEmpty()) {
                    continue; // empty list elements are ignored (RFC 9110 §5.6.1)
                }
                int semicolon = coding.indexOf(';');
                String name = trimOws(semicolon < 0 ? coding : coding.substring(0, semicolon));
                byte[] bytes = name.getBytes(StandardCharsets.ISO_8859_1);
                if (!isToken(bytes, 0, bytes.length)) {
                    reject(400, "a transfer coding that is not a token");
                    return false;
                }
                name = name.toLowerCase(Locale.ROOT);
                if (name.equals("chunked") && semicolon >= 0) {
                    reject(400, "parameters on the chunked transfer coding");
                    return false;
                }
                codings.add(name);
            }
        }
        if (codings.isEmpty() || !codings.get(codings.size() - 1).equals("chunked")) {
            reject(400, "chunked is not the final transfer coding (RFC 9112 §6.3)");
            return false;
        }
        if (codings.indexOf("chunked") != codings.size() - 1) {
            reject(400, "chunked applied more than once");
            return false;
        }
        if (codings.size() > 1) {
            reject(501, "transfer coding " + codings.get(0) + " is not implemented");
            return false;
        }
        return true;
    }

    /** Content-Length = 1*DIGIT; several lines must agree. Returns -1 once rejected. */
    private long contentLength(List<String> lengths) {
        long value = -1;
        for (String text : lengths) {
            if (text.isEmpty()) {
                reject(400, "an empty Content-Length");
                return -1;
            }
            long n = 0;
            boolean tooLarge = false;
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (c < '0' || c > '9') {
                    reject(400, "a Content-Length that is not digits only");
                    return -1;
                }
                if (!tooLarge) {
                    n = n * 10 + (c - '0'); // below maxBody * 10 + 9: no overflow
                    tooLarge = n > limits.maxBody();
                }
            }
            long seen = tooLarge ? Long.MAX_VALUE : n;
            if (value >= 0 && seen != value) {
                reject(400, "Content-Length fields that differ");
                return -1;
            }
            value = seen;
        }
        if (value > limits.maxBody()) {
            reject(413, "a body larger than " + limits.maxBody() + " bytes");
            return -1;
        }
        return value;
    }

    /**
     * An HTTP/1.1 client that waits for 100 (Continue) before the body gets it, however its
     * Expect field is spelled (a list, repeated); an expectation the server cannot meet is 417
     * (RFC 9110 10.1.1), so the client does not wait for a 100 that never comes.
     *
     * @return false if the request was refused
     */
    private boolean expectContinue(boolean bodyFollows) {
        List<String> expect = headers.get("expect");
        if (expect == null || !bodyFollows) {
            return true; // a request without a body waits for nothing
        }
        boolean wantsContinue = false;
        for (String value : expect) {
            for (String member : value.split(",")) {
                String m = trimOws(member);
                if (m.equalsIgnoreCase("100-continue")) {
                    wantsContinue = true;
                } else if (!m.isEmpty()) {
                    reject(417, "an expectation other than 100-continue");
                    return false;
                }
            }
        }
        if (wantsContinue && version.equals("HTTP/1.1")) {
            connection.transport().write(ByteBuffer.wrap(
                    "HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
        }
        return true;
    }

    // ---- chunks ----

    /**
     * chunk-size [ chunk-ext ] (RFC 9112 §7.1): 1*HEXDIG, then only
     * {@code *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )}. The size is
     * summed with the body so far without overflow: past the limit is 413 however many digits.
     */
    private void chunkSize() {
        byte[] b = line.bytes;
        int n = line.size;
        int i = 0;
        long size = 0;
        long room = limits.maxBody() - body.size();
        boolean tooLarge = false;
        while (i < n && hexValue(b[i]) >= 0) {
            if (!tooLarge) {
                size = size * 16 + hexValue(b[i]); // at most room * 16 + 15: no overflow
                tooLarge = size > room;
            }
            i++;
        }
        if (i == 0) {
            reject(400, "a chunk size that does not start with a hex digit");
            return;
        }
        if (!chunkExtensions(b, i, n)) {
            reject(400, "malformed chunk extension or bytes after the chunk size");
            return;
        }
        int zeros = 0;
        while (zeros < i - 1 && b[zeros] == '0') {
            zeros++; // leading zeros say nothing either: "0000…01" is as long as the client likes
        }
        extensionBytes += zeros + n - i;
        if (extensionBytes > limits.maxHeaderBytes()) {
            reject(400, "chunk extensions and padding of more than " + limits.maxHeaderBytes() + " bytes in one body "
                    + "(http.maxHeaderBytes)");
            return;
        }
        if (tooLarge) {
            reject(413, "a chunked body larger than " + limits.maxBody() + " bytes");
            return;
        }
        if (!reserve(size)) {
            return;
        }
        remaining = size;
        state = size == 0 ? State.TRAILERS : State.CHUNK_DATA;
    }

    private static boolean chunkExtensions(byte[] b, int i, int n) {
        while (true) {
            if (i == n) {
                return true;
            }
            i = skipBws(b, i, n); // BWS only before a ";": "3 " is refused
            if (i == n || b[i] != ';') {
                return false;
            }
            i = skipBws(b, i + 1, n);
            int name = i;
            while (i < n && TCHAR[b[i] & 0xff]) {
                i++;
            }
            if (i == name) {
                return false;
            }
            int afterName = i;
            i = skipBws(b, i, n);
            if (i < n && b[i] == '=') {
                i = skipBws(b, i + 1, n);
                if (i < n && b[i] == '"') {
                    i = quotedStringEnd(b, i, n);
                    if (i < 0) {
                        return false;
                    }
                } else {
                    int value = i;
                    while (i < n && TCHAR[b[i] & 0xff]) {
                        i++;
                    }
                    if (i == value) {
                        return false;
                    }
                }
            } else {
                i = afterName;
            }
        }
    }

    /** The index after the closing quote of the quoted-string at {@code i}, or -1. */
    private static int quotedStringEnd(byte[] b, int i, int n) {
        for (i++; i < n; i++) {
            int c = b[i] & 0xff;
            if (c == '"') {
                return i + 1;
            }
            if (c == '\\') {
                i++;
                if (i == n || ((b[i] & 0xff) < 0x20 && b[i] != '\t') || (b[i] & 0xff) == 0x7f) {
                    return -1;
                }
            } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
                return -1;
            }
        }
        return -1;
    }

    private static int skipBws(byte[] b, int i, int n) {
        while (i < n && (b[i] == ' ' || b[i] == '\t')) {
            i++;
        }
        return i;
    }

    // ---- the memory budget ----

    /**
     * Reserves a body's bytes (or a chunk's) before reading them; when the budget cannot
     * hold them, the request is answered 503 and the connection closes (the budget logs it).
     */
    private boolean reserve(long bytes) {
        if (bytes == 0) {
            return true;
        }
        if (!deadlines.budget().tryReserve(bytes)) {
            reject(503, "the server holds too much for its clients now; try again later");
            return false;
        }
        reserved += bytes;
        return true;
    }

    private void giveBack() {
        deadlines.budget().release(reserved);
        reserved = 0;
        fixed = null;
    }

    @Override
    public void connectionLost(Throwable cause) {
        giveBack();
    }

    // ---- answers ----

    private void respond() {
        deadlines.requestEnds();
        HttpRequest request = new HttpRequest(method, target, version, headers,
                fixed != null ? fixed : body.toArray());
        fixed = null;
        HttpResponse response;
        try {
            response = handler.handle(request);
        } catch (Exception e) {
            // A client may make a handler fail as often as it likes: the trace once in a while,
            // each failure through the endpoint's rate-limited line.
            long now = System.nanoTime();
            long last = LAST_TRACE.get();
            if (now - last >= TRACE_EVERY_NANOS && LAST_TRACE.compareAndSet(last, now)) {
                LOG.log(Level.WARNING, "HTTP handler failed on " + method + " " + printable(target) + ": " + e
                        + " (further failures within 10 s are said by the endpoint, without a trace)", e);
            }
            deadlines.refused("HTTP 500: the handler failed on " + method + " " + printable(target) + ": " + e);
            response = HttpResponse.text(500, "internal error\n");
        } finally {
            giveBack();
        }
        // A draining endpoint ends the connection here, at a clean boundary the client understands.
        boolean keepAlive = keepAlive() && !deadlines.isDraining() && !closes(response);
        send(response, keepAlive, !method.equals("HEAD"));
        Transport t = connection.transport();
        connection.finished(this);
        if (!keepAlive) {
            t.close();
        } else {
            deadlines.answered();
        }
    }

    /** Whether the handler's answer says {@code Connection: close}. */
    private static boolean closes(HttpResponse response) {
        for (Map.Entry<String, String> h : response.headers().entrySet()) {
            if (h.getKey().equalsIgnoreCase("Connection")) {
                for (String option : h.getValue().split(",")) {
                    if (trimOws(option).equalsIgnoreCase("close")) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private boolean keepAlive() {
        List<String> values = headers.get("connection");
        boolean close = false;
        boolean keep = false;
        if (values != null) {
            for (String value : values) {
                for (String option : value.split(",")) {
                    String o = trimOws(option);
                    close |= o.equalsIgnoreCase("close");
                    keep |= o.equalsIgnoreCase("keep-alive");
                }
            }
        }
        return version.equals("HTTP/1.1") ? !close : keep && !close;
    }

    /** Bad input: answered with its status (the reason as the body), then the connection closes. */
    private void reject(int status, String reason) {
        state = State.DONE;
        rejected = true;
        giveBack();
        deadlines.requestEnds();
        Transport t = connection.transport();
        deadlines.refused("HTTP " + status + ": " + reason); // the endpoint logs it, rate-limited
        // No body for HEAD (RFC 9110 9.3.2), once the method is known.
        send(HttpResponse.text(status, HttpResponse.reason(status) + ": " + reason + "\n"), false,
                !"HEAD".equals(method));
        t.close();
    }


    private void send(HttpResponse response, boolean keepAlive, boolean withBody) {
        StringBuilder head = new StringBuilder(128);
        head.append("HTTP/1.0".equals(version) ? "HTTP/1.0 " : "HTTP/1.1 ").append(response.status())
                .append(' ').append(response.reason()).append("\r\n");
        response.headers().forEach((k, v) -> {
            if (!k.equalsIgnoreCase("Connection")) { // the server's own, below, says what it does
                head.append(k).append(": ").append(v).append("\r\n");
            }
        });
        head.append("Content-Length: ").append(response.body().length).append("\r\n");
        if (!keepAlive) {
            head.append("Connection: close\r\n");
        } else if ("HTTP/1.0".equals(version)) {
            head.append("Connection: keep-alive\r\n");
        }
        head.append("\r\n");
        ByteBuffer headBytes = ByteBuffer.wrap(head.toString().getBytes(StandardCharsets.ISO_8859_1));
        Transport t = connection.transport();
        if (withBody && response.body().length > 0) {
            t.write(headBytes, ByteBuffer.wrap(response.body()));
        } else {
            t.write(headBytes);
        }
    }

    // ---- bytes ----

    private static int indexOf(byte[] b, int n, byte value, int from) {
        for (int i = from; i < n; i++) {
            if (b[i] == value) {
                return i;
            }
        }
        return -1;
    }

    private static boolean isToken(byte[] b, int from, int to) {
        if (from >= to) {
            return false;
        }
        for (int i = from; i < to; i++) {
            if (!TCHAR[b[i] & 0xff]) {
                return false;
            }
        }
        return true;
    }

    private static boolean startsWith(byte[] b, int at, String prefix) {
        for (int i = 0; i < prefix.length(); i++) {
            if (b[at + i] != prefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static boolean isDigit(byte c) {
        return c >= '0' && c <= '9';
    }

    private static boolean isAlpha(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    private static int hexValue(byte c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    private static String trimOws(String s) {
        int from = 0;
        int to = s.length();
        while (from < to && (s.charAt(from) == ' ' || s.charAt(from) == '\t')) {
            from++;
        }
        while (to > from && (s.charAt(to - 1) == ' ' || s.charAt(to - 1) == '\t')) {
            to--;
        }
        return s.substring(from, to);
    }

    private static String printable(String s) {
        String cut = s.length() > 80 ? s.substring(0, 80) + "..." : s;
        return cut.replaceAll("[^\\x20-\\x7e]", "?");
    }
}
