package org.wharf.protocol.http;

/**
 * What a request may hold; beyond it the connection is answered and closed.
 *
 * @param maxRequestLine the longest request line in bytes (else 414)
 * @param maxHeaderBytes the most header bytes (else 431)
 * @param maxBody the largest body in bytes (else 413)
 */
public record HttpLimits(int maxRequestLine, int maxHeaderBytes, int maxBody) {

    /** 8 KiB request line, 16 KiB of headers, 1 MiB body. */
    public static final HttpLimits DEFAULT = new HttpLimits(8192, 16384, 1 << 20);

    /**
     * Checks the limits.
     *
     * @param maxRequestLine the longest request line
     * @param maxHeaderBytes the most header bytes
     * @param maxBody the largest body
     */
    public HttpLimits {
        if (maxRequestLine < 16 || maxHeaderBytes < 16 || maxBody < 0) {
            throw new IllegalArgumentException("HTTP limits too small: request line " + maxRequestLine + ", headers "
                    + maxHeaderBytes + ", body " + maxBody);
        }
    }
}
