package org.wharf.protocol.echo.internal;

import java.util.List;
import java.util.Map;

import org.wharf.transport.api.Settings;

/**
 * How much a UDP echo endpoint answers, from the endpoint's configuration. An answer is as
 * large as the datagram it answers, so whoever can forge a source address can aim the
 * answers at someone else: each source gets {@value #RATE} answers per second (a burst of
 * {@value #BURST} at once), all sources together {@value #TOTAL_RATE}, and the excess is
 * dropped and counted. A source is an IPv4 address or an IPv6 /64 (one host commonly owns a
 * whole /64, so its addresses are one source; an address of NAT64's {@code 64:ff9b::/96} is the
 * IPv4 host it stands for). {@code 0} turns a limit off (benchmarks, trusted networks).
 *
 * <table>
 * <caption>Properties</caption>
 * <tr><th>property</th><th>meaning</th></tr>
 * <tr><td>{@value #RATE}</td><td>answers per second to one source (IPv4 address, IPv6 /64); 0 for no limit (default 100)</td></tr>
 * <tr><td>{@value #BURST}</td><td>answers one source may get at once (default: one second's worth)</td></tr>
 * <tr><td>{@value #TOTAL_RATE}</td><td>answers per second to all sources together, a second's worth at once;
 *     0 for no limit (default 10000)</td></tr>
 * <tr><td>{@value #SOURCES}</td><td>sources whose rate is followed at once, the bound of the rate table; beyond,
 *     the least recently seen is forgotten (default 10000)</td></tr>
 * </table>
 *
 * @param rate answers per second per source (IPv4 address, IPv6 /64), 0 for no limit
 * @param burst answers at once per source
 * @param totalRate answers per second over all sources, 0 for no limit
 * @param sources sources followed at most
 */
record UdpEchoSettings(long rate, long burst, long totalRate, int sources, java.util.BitSet reflectorPorts) {

    static final String RATE = "echo.udp.rate";
    static final String BURST = "echo.udp.burst";
    static final String TOTAL_RATE = "echo.udp.totalRate";
    static final String SOURCES = "echo.udp.sources";
    static final String REFLECTOR_PORTS = "echo.udp.reflectorPorts";
    /**
     * Source ports whose datagrams are not answered: the privileged ones, where the services
     * that answer any datagram live (echo, daytime, chargen, time, DNS, TFTP, NTP, SNMP, ...,
     * as inetd's check_loop), SSDP, mDNS, memcached, and Wharf's own default UDP echo port. A
     * datagram forged to come from one of them would have the two servers answer each other
     * for ever, within any rate. Clients send from ephemeral ports.
     */
    static final String DEFAULT_REFLECTOR_PORTS = "1-1023,1900,5353,7007,11211";

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
        java.util.BitSet ports = new java.util.BitSet(65536); // a bit per port: no boxing per datagram
        List<String> listed = settings.has(REFLECTOR_PORTS) ? settings.list(REFLECTOR_PORTS)
                : List.of(DEFAULT_REFLECTOR_PORTS.split(","));
        for (String item : listed) {
            String port = item.trim();
            if (port.isEmpty()) {
                continue;
            }
            try {
                int dash = port.indexOf('-');
                int from = Integer.parseInt(dash < 0 ? port : port.substring(0, dash).trim());
                int to = dash < 0 ? from : Integer.parseInt(port.substring(dash + 1).trim());
                if (from < 1 || to > 65535 || from > to) {
                    throw new NumberFormatException();
                }
                ports.set(from, to + 1);
            } catch (NumberFormatException e) {
                throw Settings.wrong(REFLECTOR_PORTS, properties.get(REFLECTOR_PORTS), "'" + port
                        + "' is no port or range of ports (1..65535, such as 1-1023)");
            }
        }
        return new UdpEchoSettings(rate, burst, total, sources, ports);
    }
}
