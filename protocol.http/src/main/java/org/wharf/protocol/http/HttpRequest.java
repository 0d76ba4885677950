package org.wharf.protocol.http;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A parsed HTTP request.
 *
 * @param method the method, such as {@code GET}
 * @param target the request target as sent, such as {@code /status?x=1}
 * @param version {@code HTTP/1.1} or {@code HTTP/1.0}
 * @param headers header values by lower-case name, in the order received
 * @param body the body (decoded from chunks when chunked); empty when none
 */
public record HttpRequest(String method, String target, String version, Map<String, List<String>> headers,
        byte[] body) {

    /**
     * The path of the target, without the query.
     *
     * @return the path
     */
    public String path() {
        int q = target.indexOf('?');
        return q < 0 ? target : target.substring(0, q);
    }

    /**
     * The query of the target.
     *
     * @return the part after {@code ?}, or empty
     */
    public Optional<String> query() {
        int q = target.indexOf('?');
        return q < 0 ? Optional.empty() : Optional.of(target.substring(q + 1));
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
}
