package org.wharf.protocol.http;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The fuzz test's oracle: what RFC 9112, read strictly, makes of a whole byte stream, written
 * independently of the server's incremental parser (whole lines, regular expressions for the
 * grammar, big integers for sizes). It says which requests are valid, in order, and how the
 * stream ends: cleanly between requests, inside a request, with a malformed one, or with a
 * request that closes the connection.
 */
final class ReferenceParser {

    /** How the stream ends after the valid requests. */
    enum End {
        /** Between requests: the connection stays for the next one. */
        OPEN,
        /** Inside a request that is well formed so far. */
        INCOMPLETE,
        /** With a malformed request, or one past the limits: answered with an error and closed. */
        ERROR,
        /** After a request that closes the connection (Connection: close, HTTP/1.0). */
        CLOSED
    }

    record Request(String method, String target, String version, Map<String, List<String>> headers, byte[] body) {
        boolean sameAs(HttpRequest r) {
            return method.equals(r.method()) && target.equals(r.target()) && version.equals(r.version())
                    && headers.equals(r.headers()) && Arrays.equals(body, r.body());
        }
    }

    record Result(List<Request> requests, End end) {
    }

    private static final String TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
    private static final Pattern REQUEST_LINE = Pattern.compile("(" + TOKEN + ") ([\\x21-\\x7e]+) HTTP/([0-9])\\.([0-9])");
    private static final Pattern FIELD_LINE = Pattern.compile("(" + TOKEN + "):[ \\t]*([\\t\\x20-\\x7e\\x80-\\xff]*?)[ \\t]*");
    private static final Pattern ORIGIN_OR_ABSOLUTE = Pattern.compile("/.*|[A-Za-z][A-Za-z0-9+.-]*://[^/?:].*");
    private static final Pattern AUTHORITY = Pattern.compile("[^/]+:[0-9]+");
    private static final Pattern HOST = Pattern.compile("(\\[(?:[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*"
            + "|[vV][0-9A-Fa-f]+\\.[A-Za-z0-9:._~!$&'()*+,;=-]+)\\]|"
            + "[A-Za-z0-9._~%!$&'()*+,;=-]*)(:[0-9]*)?");
    /**
     * A path without '"', '#', '<', '>', '\\' and with '%' only before two hex digits, then any
     * query without '"', '#', '<', '>'.
     */
    private static final Pattern URI_CHARS = Pattern.compile("(?:[^\"#<>\\\\%?]|%[0-9A-Fa-f]{2})*(?:\\?[^\"#<>]*)?");
    private static final String QUOTED = "\"(?:[\\t \\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\t\\x20-\\x7e\\x80-\\xff])*\"";
    private static final Pattern CHUNK_LINE = Pattern.compile("([0-9A-Fa-f]+)(?:[ \\t]*;[ \\t]*" + TOKEN
            + "(?:[ \\t]*=[ \\t]*(?:" + TOKEN + "|" + QUOTED + "))?)*");
    private static final int MAX_CHUNK_LINE = 4096;

    private static final int NEED_MORE = -1;
    private static final int BAD = -2;

    private final byte[] s;
    private final HttpLimits limits;
    private int p;

    private ReferenceParser(byte[] s, HttpLimits limits) {
        this.s = s;
        this.limits = limits;
    }

    static Result parse(byte[] stream, HttpLimits limits) {
        return new ReferenceParser(stream, limits).all();
    }

    private Result all() {
        List<Request> requests = new ArrayList<>();
        while (true) {
            if (p == s.length) {
                return new Result(requests, End.OPEN);
            }
            Object r = request();
            if (r instanceof End e) {
                return new Result(requests, e);
            }
            Request request = (Request) r;
            requests.add(request);
            if (!keepAlive(request)) {
                return new Result(requests, End.CLOSED);
            }
        }
    }

    /** The end of the line starting at {@link #p} (its CRLF excluded), moving past it; or NEED_MORE, or BAD. */
    private int line(int max) {
        for (int i = p; i < s.length; i++) {
            if (s[i] == '\r') {
                if (i + 1 == s.length) {
                    return NEED_MORE;
                }
                if (s[i + 1] != '\n') {
                    return BAD;
                }
                p = i + 2;
                return i;
            }
            if (s[i] == '\n' || i - (p) >= max) {
                return BAD;
            }
        }
        return NEED_MORE;
    }

    private String text(int from, int to) {
        return new String(s, from, to - from, StandardCharsets.ISO_8859_1);
    }

    private Object request() {
        String requestLine;
        int empty = 0;
        while (true) {
            int start = p;
            int end = line(limits.maxRequestLine());
            if (end < 0) {
                return end == BAD ? End.ERROR : End.INCOMPLETE;
            }
            if (end > start) {
                requestLine = text(start, end);
                break;
            }
            if (++empty > limits.maxEmptyLines()) {
                return End.ERROR;
            }
        }
        var m = REQUEST_LINE.matcher(requestLine);
        if (!m.matches() || !m.group(3).equals("1") || !(m.group(4).equals("0") || m.group(4).equals("1"))) {
            return End.ERROR;
        }
        String method = m.group(1);
        String target = m.group(2);
        String version = "HTTP/1." + m.group(4);
        boolean formOk = target.equals("*") ? method.equals("OPTIONS")
                : method.equals("CONNECT") ? AUTHORITY.matcher(target).matches()
                : ORIGIN_OR_ABSOLUTE.matcher(target).matches();
        if (!formOk || !URI_CHARS.matcher(target).matches()) {
            return End.ERROR;
        }
        Map<String, List<String>> headers = new LinkedHashMap<>();
        Object section = fields(headers);
        if (section != null) {
            return section;
        }
        List<String> hosts = headers.get("host");
        if (hosts == null ? version.equals("HTTP/1.1") : hosts.size() > 1 || !HOST.matcher(hosts.get(0)).matches()) {
            return End.ERROR;
        }
        List<String> te = headers.get("transfer-encoding");
        List<String> cl = headers.get("content-length");
        byte[] body;
        if (te != null) {
            if (version.equals("HTTP/1.0") || cl != null || !onlyChunked(te)) {
                return End.ERROR;
            }
            Object chunked = chunkedBody();
            if (chunked instanceof End e) {
                return e;
            }
            body = (byte[]) chunked;
        } else if (cl != null) {
            BigInteger n = null;
            for (String v : cl) {
                if (!v.matches("[0-9]+") || (n != null && !n.equals(new BigInteger(v)))) {
                    return End.ERROR;
                }
                n = new BigInteger(v);
            }
            if (n.compareTo(BigInteger.valueOf(limits.maxBody())) > 0) {
                return End.ERROR;
            }
            int length = n.intValue();
            if (s.length - p < length) {
                return End.INCOMPLETE;
            }
            body = Arrays.copyOfRange(s, p, p + length);
            p += length;
        } else {
            body = new byte[0];
        }
        return new Request(method, target, version, headers, body);
    }

    /** Reads a header or trailer section into {@code into} (null: dropped); null when complete, else how it ended. */
    private Object fields(Map<String, List<String>> into) {
        int bytes = 0;
        int count = 0;
        while (true) {
            int start = p;
            int end = line(Math.max(0, limits.maxHeaderBytes() - bytes - 2));
            if (end < 0) {
                return end == BAD ? End.ERROR : End.INCOMPLETE;
            }
            if (end == start) {
                return null;
            }
            bytes += end - start + 2;
            var f = FIELD_LINE.matcher(text(start, end));
            if (!f.matches() || ++count > limits.maxHeaderFields()) {
                return End.ERROR;
            }
            if (into != null) {
                into.computeIfAbsent(f.group(1).toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(f.group(2));
            }
        }
    }

    /** RFC 9112 §6.1/6.3, as this server reads it: the codings are exactly "chunked". */
    private static boolean onlyChunked(List<String> values) {
        List<String> codings = new ArrayList<>();
        for (String v : values) {
            for (String element : v.split(",", -1)) {
                String c = ows(element);
                if (!c.isEmpty()) {
                    codings.add(c);
                }
            }
        }
        return codings.size() == 1 && codings.get(0).equalsIgnoreCase("chunked");
    }

    private Object chunkedBody() {
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        BigInteger total = BigInteger.ZERO;
        while (true) {
            int start = p;
            int end = line(MAX_CHUNK_LINE);
            if (end < 0) {
                return end == BAD ? End.ERROR : End.INCOMPLETE;
            }
            var m = CHUNK_LINE.matcher(text(start, end));
            if (!m.matches()) {
                return End.ERROR;
            }
            BigInteger size = new BigInteger(m.group(1), 16);
            total = total.add(size);
            if (total.compareTo(BigInteger.valueOf(limits.maxBody())) > 0) {
                return End.ERROR;
            }
            if (size.signum() == 0) {
                Object trailers = fields(null);
                return trailers != null ? trailers : body.toByteArray();
            }
            int n = size.intValue();
            if (s.length - p < n) {
                return End.INCOMPLETE;
            }
            body.write(s, p, n);
            p += n;
            for (byte expected : new byte[] {'\r', '\n'}) {
                if (p == s.length) {
                    return End.INCOMPLETE;
                }
                if (s[p++] != expected) {
                    return End.ERROR;
                }
            }
        }
    }

    /** Without the optional whitespace (SP, HTAB) around it. */
    private static String ows(String s) {
        return s.replaceAll("^[ \\t]+|[ \\t]+$", "");
    }

    private static boolean keepAlive(Request r) {
        boolean close = false;
        boolean keep = false;
        for (String v : r.headers().getOrDefault("connection", List.of())) {
            for (String option : v.split(",")) {
                close |= ows(option).equalsIgnoreCase("close");
                keep |= ows(option).equalsIgnoreCase("keep-alive");
            }
        }
        return r.version().equals("HTTP/1.1") ? !close : keep && !close;
    }
}
