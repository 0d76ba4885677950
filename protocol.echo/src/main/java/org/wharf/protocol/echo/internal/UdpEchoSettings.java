package org.wharf.protocol.echo.internal;

import java.util.Map;

import org.wharf.transport.api.Settings;

/**
 * How much a UDP echo endpoint answers, from the endpoint's configuration. An answer is as
 * large as the datagram it answers, so whoever can forge a source address can aim the
 * answers at someone else: each source address gets {@value #RATE} answers per second (a
 * burst of {@value #BURST} at once), all sources together {@value #TOTAL_RATE}, and the
 * excess is dropped and counted. {@code 0} turns a limit off (benchmarks, trusted networks).
 *
 * <table>
 * <caption>Properties</caption>
 * <tr><th>property</th><th>meaning</th></tr>
 * <tr><td>{@value #RATE}</td><td>answers per second to one source address; 0 for no limit (default 100)</td></tr>
 * <tr><td>{@value #BURST}</td><td>answers one source address may get at once (default: one second's worth)</td></tr>
 * <tr><td>{@value #TOTAL_RATE}</td><td>answers per second to all sources together, a second's worth at once;
 *     0 for no limit (default 10000)</td></tr>
 * <tr><td>{@value #SOURCES}</td><td>source addresses whose rate is followed at once; beyond, the least recently
 *     seen is forgotten (default 10000)</td></tr>
 * </table>
 *
 * @param rate answers per second per source address, 0 for no limit
 * @param burst answers at once per source address
 * @param totalRate answers per second over all sources, 0 for no limit
 * @param sources source addresses followed at most
 */
record UdpEchoSettings(long rate, long burst, long totalRate, int sources) {

    static final String RATE = "echo.udp.rate";
    static final String BURST = "echo.udp.burst";
    static final String TOTAL_RATE = "echo.udp.totalRate";
    static final String SOURCES = "echo.udp.sources";

    private static final long MAX_RATE = 1_000_000_000L;

    /**
     * Reads the settings.
     *
     * @param properties the endpoint's configuration
     * @return the settings
     * @throws IllegalArgumentException naming the property and value that is wrong
     */
    static UdpEchoSettings from(Map<String, ?> properties) {
        Settings settings = Settings.of(properties);
        long rate = settings.number(RATE, 100, 0, MAX_RATE);
        long burst = settings.number(BURST, Math.max(1, rate), 1, MAX_RATE);
        long total = settings.number(TOTAL_RATE, 10_000, 0, MAX_RATE);
        int sources = settings.integer(SOURCES, 10_000, 1, 10_000_000);
        return new UdpEchoSettings(rate, burst, total, sources);
    }
}
