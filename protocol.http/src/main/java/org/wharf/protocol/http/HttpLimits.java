package org.wharf.protocol.http;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;

import org.wharf.protocol.api.Connection;
import org.wharf.transport.api.Settings;

/**
 * What a request may hold and how long it may take; beyond it the request is answered with
 * its status and the connection closes. Limits are set by configuration, never by the client.
 *
 * <p>An endpoint of an HTTP protocol ({@code status}, say) takes them from its configuration properties
 * ({@link #fromProperties(Map)}):
 *
 * <table>
 *   <caption>HTTP endpoint properties</caption>
 *   <tr><th>property</th><th>default</th><th>what it bounds</th></tr>
 *   <tr><td>{@code http.maxRequestLine}</td><td>8192</td><td>bytes of the request line (else 414)</td></tr>
 *   <tr><td>{@code http.maxHeaderBytes}</td><td>16384</td><td>bytes of the header section, and of the
 *       trailer section (else 431)</td></tr>
 *   <tr><td>{@code http.maxHeaderFields}</td><td>100</td><td>header field lines, and trailer field lines
 *       (else 431)</td></tr>
 *   <tr><td>{@code http.maxBody}</td><td>1048576</td><td>bytes of a body, announced or chunked
 *       (else 413)</td></tr>
 *   <tr><td>{@code http.maxEmptyLines}</td><td>4</td><td>empty lines before a request line (else 400)</td></tr>
 *   <tr><td>{@code http.headerTimeout}</td><td>10000</td><td>milliseconds from the moment the server is
 *       ready for a request (the connection is made, or the previous answer is written and the
 *       write buffer takes more) to the end of its header section; then 408 if part of a request
 *       came, else the connection just closes. 0 for none</td></tr>
 *   <tr><td>{@code http.bodyTimeout}</td><td>30000</td><td>milliseconds from the end of the header
 *       section to the end of the body (else 408). 0 for none</td></tr>
 *   <tr><td>{@code http.writeTimeout}</td><td>30000</td><td>milliseconds an answer may wait for the
 *       client to take enough of it that the write buffer drains to its low mark (as nginx's
 *       {@code send_timeout}); then the connection is dropped, so a client that pipelines requests
 *       and reads nothing cannot hold it. 0 for none</td></tr>
 *   <tr><td>{@code http.maxPipelinedBytes}</td><td>1048576</td><td>bytes of pipelined requests held
 *       while an earlier one is answered (else the connection closes)</td></tr>
 *   <tr><td>{@code http.requestsPerTurn}</td><td>16</td><td>pipelined requests a connection starts
 *       in one turn of its event loop; the rest wait for the next turn, after the loop's other
 *       connections</td></tr>
 * </table>
 *
 * <p>Chunk extensions count against {@code http.maxHeaderBytes} too, all of a body's together
 * (else 400): a client cannot send megabytes of them around a small body.
 *
 * <p>A class, not a record, so that it can grow compatibly.
 */
public final class HttpLimits {

    private static final int DEFAULT_HEADER_FIELDS = 100;
    private static final int DEFAULT_EMPTY_LINES = 4;
    private static final Duration DEFAULT_HEADER_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration DEFAULT_BODY_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration DEFAULT_WRITE_TIMEOUT = Duration.ofSeconds(30);

    /**
     * What a gateway facing the Internet would use: 8 KiB request line, 16 KiB and 100 fields of
     * headers, 1 MiB body, 4 empty lines before a request, 10 s for the header section, 30 s
     * for the body and 30 s for the client to take an answer.
     */
    public static final HttpLimits DEFAULT = new HttpLimits(8192, 16384, 1 << 20, DEFAULT_HEADER_FIELDS,
            DEFAULT_EMPTY_LINES, DEFAULT_HEADER_TIMEOUT, DEFAULT_BODY_TIMEOUT);

    private final int maxRequestLine;
    private final int maxHeaderBytes;
    private final int maxBody;
    private final int maxHeaderFields;
    private final int maxEmptyLines;
    private final Duration headerTimeout;
    private final Duration bodyTimeout;
    private final Duration writeTimeout;
    private final int maxPipelinedBytes;
    private final int requestsPerTurn;

    /**
     * Checks the limits.
     *
     * @param maxRequestLine the longest request line, 16 or more
     * @param maxHeaderBytes the most header bytes, 16 or more
     * @param maxBody the largest body, 0 or more
     * @param maxHeaderFields the most header fields, 1 or more
     * @param maxEmptyLines the most empty lines before a request line, 0 or more
     * @param headerTimeout the header section's deadline, zero (none) or more
     * @param bodyTimeout the body's deadline, zero (none) or more
     * @throws IllegalArgumentException naming the limit and the value out of range
     */
    public HttpLimits(int maxRequestLine, int maxHeaderBytes, int maxBody, int maxHeaderFields, int maxEmptyLines,
            Duration headerTimeout, Duration bodyTimeout) {
        this(maxRequestLine, maxHeaderBytes, maxBody, maxHeaderFields, maxEmptyLines, headerTimeout, bodyTimeout,
                DEFAULT_WRITE_TIMEOUT);
    }

    /**
     * Checks the limits.
     *
     * @param maxRequestLine the longest request line, 16 or more
     * @param maxHeaderBytes the most header bytes, 16 or more
     * @param maxBody the largest body, 0 or more
     * @param maxHeaderFields the most header fields, 1 or more
     * @param maxEmptyLines the most empty lines before a request line, 0 or more
     * @param headerTimeout the header section's deadline, zero (none) or more
     * @param bodyTimeout the body's deadline, zero (none) or more
     * @param writeTimeout how long an answer may wait for the client to take it, zero (none) or more
     * @throws IllegalArgumentException naming the limit and the value out of range
     * @since 0.3
     */
    public HttpLimits(int maxRequestLine, int maxHeaderBytes, int maxBody, int maxHeaderFields, int maxEmptyLines,
            Duration headerTimeout, Duration bodyTimeout, Duration writeTimeout) {
        if (maxRequestLine < 16 || maxHeaderBytes < 16 || maxBody < 0) {
            throw new IllegalArgumentException("HTTP limits too small: request line " + maxRequestLine + ", headers "
                    + maxHeaderBytes + ", body " + maxBody);
        }
        if (maxHeaderFields < 1) {
            throw new IllegalArgumentException("HTTP limit on header fields must be 1 or more, got " + maxHeaderFields);
        }
        if (maxEmptyLines < 0) {
            throw new IllegalArgumentException("HTTP limit on empty lines must be 0 or more, got " + maxEmptyLines);
        }
        Objects.requireNonNull(headerTimeout, "headerTimeout");
        Objects.requireNonNull(bodyTimeout, "bodyTimeout");
        Objects.requireNonNull(writeTimeout, "writeTimeout");
        if (headerTimeout.isNegative() || bodyTimeout.isNegative() || writeTimeout.isNegative()) {
            throw new IllegalArgumentException("HTTP timeouts must be 0 or more, got header " + headerTimeout + ", body "
                    + bodyTimeout + ", write " + writeTimeout);
        }
        this.maxPipelinedBytes = Connection.MAX_HELD_BYTES;
        this.requestsPerTurn = Connection.REQUESTS_PER_TURN;
        this.maxRequestLine = maxRequestLine;
        this.maxHeaderBytes = maxHeaderBytes;
        this.maxBody = maxBody;
        this.maxHeaderFields = maxHeaderFields;
        this.maxEmptyLines = maxEmptyLines;
        this.headerTimeout = headerTimeout;
        this.bodyTimeout = bodyTimeout;
        this.writeTimeout = writeTimeout;
    }

    private HttpLimits(HttpLimits base, int maxPipelinedBytes, int requestsPerTurn) {
        if (maxPipelinedBytes < 1 || requestsPerTurn < 1) {
            throw new IllegalArgumentException("HTTP pipelining limits must be 1 or more, got " + maxPipelinedBytes
                    + " bytes, " + requestsPerTurn + " requests per turn");
        }
        this.maxRequestLine = base.maxRequestLine;
        this.maxHeaderBytes = base.maxHeaderBytes;
        this.maxBody = base.maxBody;
        this.maxHeaderFields = base.maxHeaderFields;
        this.maxEmptyLines = base.maxEmptyLines;
        this.headerTimeout = base.headerTimeout;
        this.bodyTimeout = base.bodyTimeout;
        this.writeTimeout = base.writeTimeout;
        this.maxPipelinedBytes = maxPipelinedBytes;
        this.requestsPerTurn = requestsPerTurn;
    }

    /**
     * These limits with other bounds on pipelined requests.
     *
     * @param maxPipelinedBytes the most bytes of pipelined requests held while one is answered, 1 or more
     * @param requestsPerTurn the most pipelined requests started in one turn of the loop, 1 or more
     * @return the limits
     * @throws IllegalArgumentException if either is below 1
     * @since 0.4
     */
    public HttpLimits withPipelining(int maxPipelinedBytes, int requestsPerTurn) {
        return new HttpLimits(this, maxPipelinedBytes, requestsPerTurn);
    }

    /**
     * The size limits given, the others as in {@link #DEFAULT}.
     *
     * @param maxRequestLine the longest request line
     * @param maxHeaderBytes the most header bytes
     * @param maxBody the largest body
     */
    public HttpLimits(int maxRequestLine, int maxHeaderBytes, int maxBody) {
        this(maxRequestLine, maxHeaderBytes, maxBody, DEFAULT_HEADER_FIELDS, DEFAULT_EMPTY_LINES,
                DEFAULT_HEADER_TIMEOUT,
                DEFAULT_BODY_TIMEOUT);
    }

    /**
     * The limits an endpoint's configuration sets: the {@code http.*} properties in the table
     * above, each a whole number (a {@link Number} or its decimal text); a property that is
     * absent keeps its default.
     *
     * @param properties the endpoint's configuration properties
     * @return the limits
     * @throws IllegalArgumentException naming the property and the value that is wrong
     * @since 0.2
     */
    public static HttpLimits fromProperties(Map<String, ?> properties) {
        Settings settings = Settings.of(properties);
        long maxMillis = Long.MAX_VALUE / 1_000_000;
        return new HttpLimits(
                settings.integer("http.maxRequestLine", DEFAULT.maxRequestLine, 16, Integer.MAX_VALUE),
                settings.integer("http.maxHeaderBytes", DEFAULT.maxHeaderBytes, 16, Integer.MAX_VALUE),
                settings.integer("http.maxBody", DEFAULT.maxBody, 0, Integer.MAX_VALUE),
                settings.integer("http.maxHeaderFields", DEFAULT.maxHeaderFields, 1, Integer.MAX_VALUE),
                settings.integer("http.maxEmptyLines", DEFAULT.maxEmptyLines, 0, Integer.MAX_VALUE),
                Duration.ofMillis(settings.number("http.headerTimeout", DEFAULT.headerTimeout.toMillis(), 0,
                        maxMillis)),
                Duration.ofMillis(settings.number("http.bodyTimeout", DEFAULT.bodyTimeout.toMillis(), 0, maxMillis)),
                Duration.ofMillis(settings.number("http.writeTimeout", DEFAULT.writeTimeout.toMillis(), 0,
                        maxMillis))).withPipelining(
                settings.integer("http.maxPipelinedBytes", DEFAULT.maxPipelinedBytes, 1, Integer.MAX_VALUE),
                settings.integer("http.requestsPerTurn", DEFAULT.requestsPerTurn, 1, Integer.MAX_VALUE));
    }

    /**
     * The longest request line in bytes, without its CRLF (else 414).
     *
     * @return the maxRequestLine
     */
    public int maxRequestLine() {
        return maxRequestLine;
    }

    /**
     * The most bytes of the header section,
             line ends included (else 431); the same bounds the trailer section of a chunked body.
     *
     * @return the maxHeaderBytes
     */
    public int maxHeaderBytes() {
        return maxHeaderBytes;
    }

    /**
     * The largest body in bytes (else 413).
     *
     * @return the maxBody
     */
    public int maxBody() {
        return maxBody;
    }

    /**
     * The most header field lines (else 431); the same bounds the trailers.
     *
     * @return the maxHeaderFields
     */
    public int maxHeaderFields() {
        return maxHeaderFields;
    }

    /**
     * The most empty lines accepted before a request line (else 400).
     *
     * @return the maxEmptyLines
     */
    public int maxEmptyLines() {
        return maxEmptyLines;
    }

    /**
     * How long a client has to send a request's header section,
             from the moment the server is ready for it; {@link Duration#ZERO} for no limit.
     *
     * @return the headerTimeout
     */
    public Duration headerTimeout() {
        return headerTimeout;
    }

    /**
     * How long a client has to send a body, from the end of its header section; {@link Duration#ZERO} for no limit.
     *
     * @return the bodyTimeout
     */
    public Duration bodyTimeout() {
        return bodyTimeout;
    }

    /**
     * How long an answer may wait for the client to take enough of it that the write buffer
     * drains to its low mark; {@link Duration#ZERO} for no limit.
     *
     * @return the writeTimeout
     * @since 0.3
     */
    public Duration writeTimeout() {
        return writeTimeout;
    }

    /**
     * The most bytes of pipelined requests held while an earlier one is answered; past it the
     * connection closes.
     *
     * @return bytes
     * @since 0.4
     */
    public int maxPipelinedBytes() {
        return maxPipelinedBytes;
    }

    /**
     * The most pipelined requests a connection starts in one turn of its event loop; the rest
     * wait for the next turn, after the loop's other connections.
     *
     * @return requests
     * @since 0.4
     */
    public int requestsPerTurn() {
        return requestsPerTurn;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof HttpLimits o && o.maxRequestLine == maxRequestLine
                && o.maxHeaderBytes == maxHeaderBytes
                && o.maxBody == maxBody
                && o.maxHeaderFields == maxHeaderFields
                && o.maxEmptyLines == maxEmptyLines
                && java.util.Objects.equals(o.headerTimeout, headerTimeout)
                && java.util.Objects.equals(o.bodyTimeout, bodyTimeout)
                && java.util.Objects.equals(o.writeTimeout, writeTimeout)
                && o.maxPipelinedBytes == maxPipelinedBytes
                && o.requestsPerTurn == requestsPerTurn;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(maxRequestLine, maxHeaderBytes, maxBody, maxHeaderFields, maxEmptyLines,
                headerTimeout, bodyTimeout, writeTimeout, maxPipelinedBytes, requestsPerTurn);
    }

    @Override
    public String toString() {
        return "HttpLimits[maxRequestLine=" + maxRequestLine + ", maxHeaderBytes=" + maxHeaderBytes + ", maxBody="
                + maxBody + ", maxHeaderFields=" + maxHeaderFields + ", maxEmptyLines=" + maxEmptyLines
                + ", headerTimeout=" + headerTimeout + ", bodyTimeout=" + bodyTimeout + ", writeTimeout=" + writeTimeout
                + ", maxPipelinedBytes=" + maxPipelinedBytes + ", requestsPerTurn=" + requestsPerTurn + "]";
    }
}
