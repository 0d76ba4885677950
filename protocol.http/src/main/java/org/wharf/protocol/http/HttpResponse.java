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
     * @param status the status code, 100 to 599
     * @param reason the reason phrase
     * @param headers the headers; copied
     * @param body the body
     */
    public HttpResponse(int status, String reason, Map<String, String> headers, byte[] body) {
        if (status < 100 || status > 599) {
            throw new IllegalArgumentException("status must be 100..599, got " + status);
        }
        Objects.requireNonNull(reason, "reason");
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
            case 200 -> "OK";
            case 204 -> "No Content";
            case 400 -> "Bad Request";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 413 -> "Content Too Large";
            case 414 -> "URI Too Long";
            case 431 -> "Request Header Fields Too Large";
            case 500 -> "Internal Server Error";
            case 501 -> "Not Implemented";
            case 505 -> "HTTP Version Not Supported";
            default -> "Status " + status;
        };
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
