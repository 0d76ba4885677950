package org.wharf.protocol.http;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * An HTTP response: status, headers and body. {@code Content-Length} is added when sent.
 *
 * <p>A class, not a record, so that it can grow compatibly.
 */
public final class HttpResponse {

    private final int status;
    private final String reason;
    private final Map<String, String> headers;
    private final byte[] body;

    /**
     * Checks and copies.
     *
     * @param status the status code of a final answer, 200 to 599 (the server sends any
     *     {@code 100 Continue} itself)
     * @param reason the reason phrase: visible ASCII, spaces and tabs
     * @param headers the headers; copied. Names are tokens, values hold no CR, LF or other
     *     control byte but HTAB (a handler that copies a client's text into one cannot split the
     *     answer). {@code Content-Length} and {@code Transfer-Encoding} are the server's: it frames
     *     the body it is given. {@code Connection: close} closes the connection after the answer.
     * @param body the body
     * @throws IllegalArgumentException naming what is wrong
     */
    public HttpResponse(int status, String reason, Map<String, String> headers, byte[] body) {
        if (status < 200 || status > 599) {
            throw new IllegalArgumentException("status must be 200..599 (a final answer), got " + status);
        }
        Objects.requireNonNull(reason, "reason");
        if (!fieldText(reason)) {
            throw new IllegalArgumentException("a reason phrase with a control byte: " + printable(reason));
        }
        headers.forEach((name, value) -> {
            if (!token(name)) {
                throw new IllegalArgumentException("a header name that is not a token: " + printable(name));
            }
            if (value == null || !fieldText(value)) {
                throw new IllegalArgumentException("header " + name + " has a value with a control byte (CR, LF, ...): "
                        + (value == null ? null : printable(value)));
            }
            if (name.equalsIgnoreCase("Content-Length") || name.equalsIgnoreCase("Transfer-Encoding")) {
                throw new IllegalArgumentException(name + " is the server's to send: it frames the body it is given");
            }
        });
        headers = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(headers));
        Objects.requireNonNull(body, "body");
        this.status = status;
        this.reason = reason;
        this.headers = headers;
        this.body = body;
    }

    /**
     * A response with a body of a content type.
     *
     * @param status the status code
     * @param contentType such as {@code application/json}
     * @param body the body
     * @return the response
     */
    public static HttpResponse of(int status, String contentType, byte[] body) {
        return new HttpResponse(status, reason(status), Map.of("Content-Type", contentType), body);
    }

    /**
     * A plain-text response.
     *
     * @param status the status code
     * @param text the body, sent as UTF-8
     * @return the response
     */
    public static HttpResponse text(int status, String text) {
        return of(status, "text/plain; charset=utf-8", text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * A copy with one more header.
     *
     * @param name the header name
     * @param value its value
     * @return the changed response
     */
    public HttpResponse withHeader(String name, String value) {
        Map<String, String> more = new LinkedHashMap<>(headers);
        more.put(name, value);
        return new HttpResponse(status, reason, more, body);
    }

    /**
     * The standard reason phrase of a status code.
     *
     * @param status the status code
     * @return its reason phrase
     */
    public static String reason(int status) {
        return switch (status) {
            case 100 -> "Continue";
            case 101 -> "Switching Protocols";
            case 200 -> "OK";
            case 201 -> "Created";
            case 202 -> "Accepted";
            case 204 -> "No Content";
            case 206 -> "Partial Content";
            case 301 -> "Moved Permanently";
            case 302 -> "Found";
            case 303 -> "See Other";
            case 304 -> "Not Modified";
            case 307 -> "Temporary Redirect";
            case 308 -> "Permanent Redirect";
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 408 -> "Request Timeout";
            case 409 -> "Conflict";
            case 410 -> "Gone";
            case 411 -> "Length Required";
            case 412 -> "Precondition Failed";
            case 413 -> "Content Too Large";
            case 414 -> "URI Too Long";
            case 415 -> "Unsupported Media Type";
            case 417 -> "Expectation Failed";
            case 429 -> "Too Many Requests";
            case 431 -> "Request Header Fields Too Large";
            case 500 -> "Internal Server Error";
            case 501 -> "Not Implemented";
            case 502 -> "Bad Gateway";
            case 503 -> "Service Unavailable";
            case 504 -> "Gateway Timeout";
            case 505 -> "HTTP Version Not Supported";
            default -> "Status " + status;
        };
    }

    /** RFC 9110 5.6.2: a header name. */
    private static boolean token(String s) {
        if (s == null || s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                    || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** RFC 9110 5.5: visible characters, spaces, tabs and obs-text (Latin-1), nothing else. */
    private static boolean fieldText(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\t' && (c < 0x20 || c == 0x7f || c > 0xff)) {
                return false;
            }
        }
        return true;
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder("'");
        for (int i = 0; i < Math.min(s.length(), 64); i++) {
            char c = s.charAt(i);
            b.append(c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("\\x%02x", (int) c));
        }
        return b.append(s.length() > 64 ? "...'" : "'").toString();
    }

    /**
     * The status code.
     *
     * @return the status
     */
    public int status() {
        return status;
    }

    /**
     * The reason phrase.
     *
     * @return the reason
     */
    public String reason() {
        return reason;
    }

    /**
     * The header values by name, in order.
     *
     * @return the headers
     */
    public Map<String, String> headers() {
        return headers;
    }

    /**
     * The body.
     *
     * @return the body
     */
    public byte[] body() {
        return body;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof HttpResponse o && o.status == status
                && java.util.Objects.equals(o.reason, reason)
                && java.util.Objects.equals(o.headers, headers)
                && java.util.Arrays.equals(o.body, body);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(status, reason, headers, java.util.Arrays.hashCode(body));
    }

    @Override
    public String toString() {
        return "HttpResponse[status=" + status + ", reason=" + reason + ", headers=" + headers + ", body="
                + body.length + " bytes]";
    }
}
