package org.wharf.endpoints;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * How a {@link Server} accepts the PROXY protocol (HAProxy's {@code proxy-protocol.txt}): which
 * versions, from which balancers, and how long a header may take. A connection from a source
 * that is not trusted, with a malformed header, or whose header is not complete within the
 * deadline is closed before a protocol is made for it, with one rate-limited log line. The
 * client the header names becomes the connection's
 * {@link org.wharf.transport.api.ExtraInfo#PEER_ADDRESS}; the balancer is
 * {@link org.wharf.transport.api.ExtraInfo#PROXIED_BY}.
 */
public final class ProxyProtocolAcceptance {

    /** Which header versions are accepted. */
    public enum Versions {
        /** The text header ({@code PROXY TCP4 ...\r\n}) only. */
        V1,
        /** The binary header only. */
        V2,
        /** Either, told apart by the first byte. */
        EITHER;

        /**
         * Reads a configured value: {@code v1}, {@code v2} or {@code either}, any case.
         *
         * @param value the value
         * @return the versions
         * @throws IllegalArgumentException naming the value if it is none of them
         */
        public static Versions of(String value) {
            return switch (value.trim().toLowerCase(Locale.ROOT)) {
                case "v1" -> V1;
                case "v2" -> V2;
                case "either" -> EITHER;
                default -> throw new IllegalArgumentException("'" + value + "' is not one of off, v1, v2, either");
            };
        }

        boolean acceptsV1() {
            return this != V2;
        }

        boolean acceptsV2() {
            return this != V1;
        }
    }

    /** Deadline for a header when none is given. */
    public static final Duration DEFAULT_HEADER_TIMEOUT = Duration.ofSeconds(5);

    /** One trusted network: an address and how many leading bits of it count. */
    private record Network(byte[] address, int bits) {
        boolean contains(byte[] other) {
            if (other.length != address.length) {
                return false;
            }
            int full = bits / 8;
            for (int i = 0; i < full; i++) {
                if (other[i] != address[i]) {
                    return false;
                }
            }
            int rest = bits % 8;
            if (rest == 0) {
                return true;
            }
            int mask = 0xff << (8 - rest) & 0xff;
            return (other[full] & mask) == (address[full] & mask);
        }
    }

    private final Versions versions;
    private final List<String> trusted;
    private final List<Network> networks;
    private final Duration headerTimeout;

    private ProxyProtocolAcceptance(Versions versions, List<String> trusted, List<Network> networks,
            Duration headerTimeout) {
        this.versions = versions;
        this.trusted = trusted;
        this.networks = networks;
        this.headerTimeout = headerTimeout;
    }

    /**
     * Accepts PROXY protocol headers.
     *
     * @param versions which versions
     * @param trustedSources the balancers allowed to send one: addresses ({@code 10.0.0.5},
     *        {@code ::1}) or networks ({@code 10.0.0.0/8}, {@code fd00::/8}); at least one
     * @param headerTimeout how long a connection may take to send its header, positive
     * @return the acceptance
     * @throws IllegalArgumentException naming the value that is wrong
     */
    public static ProxyProtocolAcceptance of(Versions versions, Collection<String> trustedSources,
            Duration headerTimeout) {
        Objects.requireNonNull(versions, "versions");
        if (headerTimeout.isNegative() || headerTimeout.isZero()) {
            throw new IllegalArgumentException("header timeout must be positive, got " + headerTimeout);
        }
        List<String> names = new ArrayList<>();
        List<Network> networks = new ArrayList<>();
        for (String s : trustedSources) {
            String source = s.trim();
            if (source.isEmpty()) {
                continue;
            }
            networks.add(network(source));
            names.add(source);
        }
        if (networks.isEmpty()) {
            throw new IllegalArgumentException("no trusted source: name the balancers allowed to send a PROXY header "
                    + "(addresses or networks such as 10.0.0.0/8)");
        }
        return new ProxyProtocolAcceptance(versions, List.copyOf(names), List.copyOf(networks), headerTimeout);
    }

    private static Network network(String source) {
        int slash = source.indexOf('/');
        String host = slash < 0 ? source : source.substring(0, slash);
        // Literals only: a host name here would mean a DNS lookup, and trust in whatever it says.
        if (!host.matches("[0-9.]+|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")) {
            throw new IllegalArgumentException("trusted source '" + source + "' is not an IP address or network");
        }
        byte[] address;
        try {
            address = InetAddress.getByName(host).getAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("trusted source '" + source + "' is not an IP address or network");
        }
        int bits = address.length * 8;
        if (slash >= 0) {
            try {
                bits = Integer.parseInt(source.substring(slash + 1));
            } catch (NumberFormatException e) {
                bits = -1;
            }
            if (bits < 0 || bits > address.length * 8) {
                throw new IllegalArgumentException("trusted source '" + source + "': prefix length must be 0 to "
                        + address.length * 8);
            }
        }
        return new Network(address, bits);
    }

    /**
     * Which versions are accepted.
     *
     * @return the versions
     */
    public Versions versions() {
        return versions;
    }

    /**
     * The trusted sources as given.
     *
     * @return addresses and networks
     */
    public List<String> trustedSources() {
        return trusted;
    }

    /**
     * How long a connection may take to send its header.
     *
     * @return the deadline, from the moment the connection is made
     */
    public Duration headerTimeout() {
        return headerTimeout;
    }

    /**
     * Whether a balancer at this address may send a header. An IPv4 address mapped into IPv6
     * is matched as the IPv4 address.
     *
     * @param address the connection's peer
     * @return true if it is in a trusted network
     */
    public boolean isTrusted(InetAddress address) {
        byte[] a = address.getAddress();
        if (a.length == 16 && isMappedV4(a)) {
            a = java.util.Arrays.copyOfRange(a, 12, 16);
        }
        for (Network n : networks) {
            if (n.contains(a)) {
                return true;
            }
        }
        return false;
    }

    private static boolean isMappedV4(byte[] a) {
        for (int i = 0; i < 10; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return a[10] == (byte) 0xff && a[11] == (byte) 0xff;
    }

    @Override
    public String toString() {
        return versions.name().toLowerCase(Locale.ROOT) + " from " + trusted + " within " + headerTimeout.toMillis()
                + " ms";
    }
}
