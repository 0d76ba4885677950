package org.wharf.protocol.http.internal;

import java.io.ByteArrayOutputStream;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
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
import org.wharf.transport.api.ExtraInfo;
import org.wharf.transport.api.Transport;

/**
 * One HTTP request and its response: parses the request incrementally from whatever bytes
 * arrive, leaves the bytes of the next request alone (pipelining), answers through the
 * handler, and finishes. Malformed or oversized input is answered with its status and the
 * connection closes.
 */
public final class HttpExchange implements ProtocolConsumer {

    private static final System.Logger LOG = System.getLogger("org.wharf.protocol.http");

    private enum State { REQUEST_LINE, HEADERS, BODY, CHUNK_SIZE, CHUNK_DATA, CHUNK_END, TRAILERS, DONE }

    private final HttpHandler handler;
    private final HttpLimits limits;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private final ByteArrayOutputStream body = new ByteArrayOutputStream();
    private final Map<String, List<String>> headers = new LinkedHashMap<>();
    private Connection connection;
    private State state = State.REQUEST_LINE;
    private String method;
    private String target;
    private String version;
    private int headerBytes;
    private long remaining;
    private boolean rejected;

    /**
     * An exchange for one request.
     *
     * @param handler answers it
     * @param limits what it may hold
     */
    public HttpExchange(HttpHandler handler, HttpLimits limits) {
        this.handler = handler;
        this.limits = limits;
    }

    @Override
    public void start(Connection c) {
        connection = c;
    }

    @Override
    public void dataReceived(ByteBuffer data) {
        while (data.hasRemaining() && state != State.DONE && !rejected) {
            switch (state) {
                case REQUEST_LINE -> {
                    String l = readLine(data, limits.maxRequestLine(), 414, "request line");
                    if (l == null) {
                        return;
                    }
                    if (!l.isEmpty()) { // empty lines before a request are allowed
                        requestLine(l);
                    }
                }
                case HEADERS -> {
                    String l = readLine(data, limits.maxHeaderBytes() - headerBytes, 431, "headers");
                    if (l == null) {
                        return;
                    }
                    headerBytes += l.length() + 2;
                    if (l.isEmpty()) {
                        endOfHeaders();
                    } else {
                        header(l);
                    }
                }
                case BODY, CHUNK_DATA -> {
                    int n = (int) Math.min(remaining, data.remaining());
                    byte[] chunk = new byte[n];
                    data.get(chunk);
                    body.writeBytes(chunk);
                    remaining -= n;
                    if (remaining == 0) {
                        state = state == State.BODY ? State.DONE : State.CHUNK_END;
                    }
                }
                case CHUNK_SIZE -> {
                    String l = readLine(data, 1024, 400, "chunk size");
                    if (l == null) {
                        return;
                    }
                    chunkSize(l);
                }
                case CHUNK_END -> {
                    String l = readLine(data, 2, 400, "chunk end");
                    if (l == null) {
                        return;
                    }
                    if (!l.isEmpty()) {
                        reject(new BadRequest(400, "a chunk does not end with CRLF"));
                        return;
                    }
                    state = State.CHUNK_SIZE;
                }
                case TRAILERS -> {
                    String l = readLine(data, limits.maxHeaderBytes(), 431, "trailers");
                    if (l == null) {
                        return;
                    }
                    if (l.isEmpty()) {
                        state = State.DONE;
                    }
                }
                default -> throw new IllegalStateException(state.name());
            }
            if (state == State.DONE && !rejected) {
                respond();
            }
        }
    }

    /** Bad input: answered with its status, then the connection closes. */
    private static final class BadRequest extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int status;

        BadRequest(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    private String readLine(ByteBuffer data, int max, int status, String what) {
        try {
            while (data.hasRemaining()) {
                byte b = data.get();
                if (b == '\n') {
                    byte[] bytes = line.toByteArray();
                    line.reset();
                    int n = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                    return new String(bytes, 0, n, StandardCharsets.ISO_8859_1);
                }
                line.write(b);
                if (line.size() > max) {
                    throw new BadRequest(status, what + " longer than " + max + " bytes");
                }
            }
            return null;
        } catch (BadRequest e) {
            reject(e);
            return null;
        }
    }

    private void requestLine(String l) {
        String[] parts = l.split(" ", -1);
        if (parts.length != 3 || parts[0].isEmpty() || parts[1].isEmpty() || !parts[2].startsWith("HTTP/1.")) {
            reject(new BadRequest(parts.length == 3 && parts[2].startsWith("HTTP/") ? 505 : 400,
                    "malformed request line: " + printable(l)));
            return;
        }
        method = parts[0];
        target = parts[1];
        version = parts[2];
        state = State.HEADERS;
    }

    private void header(String l) {
        int colon = l.indexOf(':');
        if (colon <= 0 || Character.isWhitespace(l.charAt(0)) || Character.isWhitespace(l.charAt(colon - 1))) {
            reject(new BadRequest(400, "malformed header line: " + printable(l)));
            return;
        }
        headers.computeIfAbsent(l.substring(0, colon).toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                .add(l.substring(colon + 1).trim());
    }

    private void endOfHeaders() {
        String encoding = first("transfer-encoding");
        String length = first("content-length");
        if (encoding != null) {
            if (!encoding.equalsIgnoreCase("chunked") || length != null) {
                reject(new BadRequest(encoding.equalsIgnoreCase("chunked") ? 400 : 501,
                        "unsupported transfer coding: " + printable(encoding)));
                return;
            }
            state = State.CHUNK_SIZE;
        } else if (length != null) {
            long n;
            try {
                n = Long.parseLong(length);
            } catch (NumberFormatException e) {
                n = -1;
            }
            if (n < 0 || headers.get("content-length").stream().distinct().count() > 1) {
                reject(new BadRequest(400, "bad Content-Length: " + printable(length)));
                return;
            }
            if (n > limits.maxBody()) {
                reject(new BadRequest(413, "body of " + n + " bytes exceeds " + limits.maxBody()));
                return;
            }
            remaining = n;
            state = n == 0 ? State.DONE : State.BODY;
        } else {
            state = State.DONE;
        }
    }

    private void chunkSize(String l) {
        int semicolon = l.indexOf(';');
        String hex = (semicolon < 0 ? l : l.substring(0, semicolon)).trim();
        long size;
        try {
            size = Long.parseLong(hex, 16);
        } catch (NumberFormatException e) {
            reject(new BadRequest(400, "bad chunk size: " + printable(l)));
            return;
        }
        if (size < 0 || body.size() + size > limits.maxBody()) {
            reject(new BadRequest(413, "chunked body exceeds " + limits.maxBody() + " bytes"));
            return;
        }
        remaining = size;
        state = size == 0 ? State.TRAILERS : State.CHUNK_DATA;
    }

    private void respond() {
        HttpRequest request = new HttpRequest(method, target, version, headers, body.toByteArray());
        HttpResponse response;
        try {
            response = handler.handle(request);
        } catch (Exception e) {
            LOG.log(Level.WARNING, "HTTP handler failed on " + method + " " + printable(target) + ": " + e, e);
            response = HttpResponse.text(500, "internal error\n");
        }
        String connectionHeader = first("connection");
        boolean keepAlive = version.equals("HTTP/1.1") ? !"close".equalsIgnoreCase(connectionHeader)
                : "keep-alive".equalsIgnoreCase(connectionHeader);
        send(response, keepAlive, !method.equals("HEAD"));
        Transport t = connection.transport();
        connection.finished(this);
        if (!keepAlive) {
            t.close();
        }
    }

    private void reject(BadRequest e) {
        Transport t = connection.transport();
        LOG.log(Level.INFO, () -> "HTTP " + e.status + " to " + t.extraInfo(ExtraInfo.PEER_ADDRESS).map(Object::toString)
                .orElse("?") + ": " + e.getMessage() + "; connection closed");
        state = State.DONE;
        rejected = true;
        send(HttpResponse.text(e.status, HttpResponse.reason(e.status) + "\n"), false, true);
        t.close();
    }

    private void send(HttpResponse response, boolean keepAlive, boolean withBody) {
        StringBuilder head = new StringBuilder(128);
        head.append(version != null && version.equals("HTTP/1.0") ? "HTTP/1.0 " : "HTTP/1.1 ").append(response.status())
                .append(' ').append(response.reason()).append("\r\n");
        response.headers().forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
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

    private String first(String name) {
        List<String> values = headers.get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    private static String printable(String s) {
        String cut = s.length() > 80 ? s.substring(0, 80) + "..." : s;
        return cut.replaceAll("[^\\x20-\\x7e]", "?");
    }
}
