package org.wharf.protocol.http;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A parsed HTTP request.
 *
 * <p>A class, not a record, so that it can grow compatibly.
 */
public final class HttpRequest {

    private final String method;
    private final String target;
    private final String version;
    private final Map<String, List<String>> headers;
    private final byte[] body;

    /**
     * Makes the value.
     *
     * @param method the method, such as {@code GET}
     * @param target the request target as sent, such as {@code /status?x=1}
     * @param version {@code HTTP/1.1} or {@code HTTP/1.0}
     * @param headers header values by lower-case name, in the order received
     * @param body the body (decoded from chunks when chunked); empty when none
     */
    public HttpRequest(String method, String target, String version, Map<String, List<String>> headers, byte[] body) {
        this.method = method;
        this.target = target;
        this.version = version;
        this.headers = headers;
        this.body = body;
    }

    /**
     * The path of the target, without the query; of an absolute-form target
     * ({@code http://host/path}), the path after its authority ({@code /} if it has none).
     *
     * @return the path
     */
    public String path() {
        String t = originForm(target);
        int q = t.indexOf('?');
        return q < 0 ? t : t.substring(0, q);
    }

    /**
     * The host the request is for: an absolute-form target's authority, which replaces the
     * {@code Host} field (RFC 9112 3.2.2), else the {@code Host} field.
     *
     * @return {@code host[:port]}, without any user info; empty if neither names one
     * @since 0.4
     */
    public Optional<String> host() {
        int from = authorityStart(target);
        if (from < 0) {
            return header("host");
        }
        String authority = target.substring(from, authorityEnd(target, from));
        return Optional.of(authority.substring(authority.lastIndexOf('@') + 1));
    }

    /** An absolute-form target's path and query (RFC 9112 3.2.2); any other target as it is. */
    private static String originForm(String target) {
        int from = authorityStart(target);
        if (from < 0) {
            return target;
        }
        String rest = target.substring(authorityEnd(target, from));
        return rest.isEmpty() || rest.charAt(0) == '?' ? "/" + rest : rest;
    }

    /** Where an absolute-form target's authority begins; -1 for any other form. */
    private static int authorityStart(String target) {
        if (target.isEmpty() || target.charAt(0) == '/' || target.equals("*")) {
            return -1;
        }
        int scheme = target.indexOf("://");
        return scheme <= 0 ? -1 : scheme + 3; // no scheme: the authority-form of CONNECT
    }

    private static int authorityEnd(String target, int from) {
        int end = from;
        while (end < target.length() && target.charAt(end) != '/' && target.charAt(end) != '?') {
            end++;
        }
        return end;
    }

    /**
     * The query of the target.
     *
     * @return the part after {@code ?}, or empty
     */
    public Optional<String> query() {
        String t = originForm(target);
        int q = t.indexOf('?');
        return q < 0 ? Optional.empty() : Optional.of(t.substring(q + 1));
    }

    /**
     * The first value of a header.
     *
     * @param name the header name, in any case
     * @return the value, or empty
     */
    public Optional<String> header(String name) {
        List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
        return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.get(0));
    }

    /**
     * The body as UTF-8 text.
     *
     * @return the text
     */
    public String bodyText() {
        return new String(body, StandardCharsets.UTF_8);
    }

    /**
     * The method, such as {@code GET}.
     *
     * @return the method
     */
    public String method() {
        return method;
    }

    /**
     * The request target as sent, such as {@code /status?x=1}.
     *
     * @return the target
     */
    public String target() {
        return target;
    }

    /**
     * {@code HTTP/1.1} or {@code HTTP/1.0}.
     *
     * @return the version
     */
    public String version() {
        return version;
    }

    /**
     * Header values by lower-case name, in the order received.
     *
     * @return the headers
     */
    public Map<String, List<String>> headers() {
        return headers;
    }

    /**
     * The body (decoded from chunks when chunked); empty when none.
     *
     * @return the body
     */
    public byte[] body() {
        return body;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof HttpRequest o && java.util.Objects.equals(o.method, method)
                && java.util.Objects.equals(o.target, target)
                && java.util.Objects.equals(o.version, version)
                && java.util.Objects.equals(o.headers, headers)
                && java.util.Arrays.equals(o.body, body);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(method, target, version, headers, java.util.Arrays.hashCode(body));
    }

    @Override
    public String toString() {
        return "HttpRequest[method=" + method + ", target=" + target + ", version=" + version + ", headers=" + headers
                + ", body=" + body.length + " bytes]";
    }
}
