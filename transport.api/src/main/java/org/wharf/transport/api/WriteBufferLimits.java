package org.wharf.transport.api;

/**
 * The high- and low-water marks of a transport's write buffer.
 *
 * <p>When the bytes queued for writing rise above {@code high}, the transport calls
 * {@link BaseProtocol#pauseWriting()} once; when they drain to {@code low} or below, it calls
 * {@link BaseProtocol#resumeWriting()} once. As in asyncio the defaults are 64 KiB and
 * 16 KiB, and a low mark that is not given is a quarter of the high one.
 *
 * @param high the high-water mark in bytes, zero or more
 * @param low the low-water mark in bytes, from zero to {@code high}
 */
public record WriteBufferLimits(int high, int low) {

    /** 64 KiB high, 16 KiB low. */
    public static final WriteBufferLimits DEFAULT = new WriteBufferLimits(64 * 1024, 16 * 1024);

    /**
     * Checks the marks.
     *
     * @param high the high-water mark in bytes
     * @param low the low-water mark in bytes
     * @throws IllegalArgumentException unless {@code 0 <= low <= high}
     */
    public WriteBufferLimits {
        if (low < 0 || high < low) {
            throw new IllegalArgumentException("write buffer limits need 0 <= low <= high, got high=" + high + " low=" + low);
        }
    }

    /**
     * Limits with the given high-water mark and a low-water mark of a quarter of it.
     *
     * @param high the high-water mark in bytes, zero or more
     * @return the limits
     * @throws IllegalArgumentException if {@code high} is negative
     */
    public static WriteBufferLimits ofHigh(int high) {
        if (high < 0) {
            throw new IllegalArgumentException("write buffer high-water mark must be >= 0, got " + high);
        }
        return new WriteBufferLimits(high, high / 4);
    }
}
