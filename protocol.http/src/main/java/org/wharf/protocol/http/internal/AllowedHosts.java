package org.wharf.protocol.http.internal;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Which {@code Host} names the status pages answer, against DNS rebinding: a page in an
 * operator's browser whose own name the attacker points at the platform's address would
 * otherwise read {@code /status} and {@code /connections} through it, even on loopback.
 *
 * <p>A host given as an IP address is always answered (rebinding needs a name). Names are
 * those of {@code status.allowedHosts}, a comma-separated list where {@code *.example.com}
 * stands for its subdomains and {@code *} for any name. Without it, an endpoint that listens
 * on a loopback address answers {@code localhost} and its subdomains only, and one that
 * listens on a network answers any name (the network reaches it anyway; name it to narrow).
 * The probes ({@code /ready}, {@code /live}) are not checked: balancers name any host.
 */
final class AllowedHosts {

    static final String PROPERTY = "status.allowedHosts";

    static final AllowedHosts ANY = new AllowedHosts(List.of("*"));

    private final boolean any;
    private final List<String> exact = new ArrayList<>();
    private final List<String> suffixes = new ArrayList<>();
    private final String described;

    private AllowedHosts(List<String> names) {
        boolean all = false;
        for (String name : names) {
            if (name.equals("*")) {
                all = true;
            } else if (name.startsWith("*.")) {
                suffixes.add(name.substring(1)); // ".example.com"
            } else {
                exact.add(name);
            }
        }
        this.any = all;
        this.described = String.join(",", names);
    }

    /**
     * The names an endpoint's configuration allows.
     *
     * @param properties the endpoint's configuration: {@code status.allowedHosts}, else {@code host}
     * @return the names
     * @throws IllegalArgumentException naming the property and the value, for an empty entry or one with a port
     */
    static AllowedHosts fromProperties(Map<String, ?> properties) {
        Object value = properties.get(PROPERTY);
        if (value == null) {
            return isLoopback(properties.get("host")) ? new AllowedHosts(List.of("localhost", "*.localhost")) : ANY;
        }
        List<String> names = new ArrayList<>();
        for (String part : String.valueOf(value).split(",", -1)) {
            String name = part.trim().toLowerCase(Locale.ROOT);
            if (name.isEmpty() || name.contains(":") || name.contains("/") || name.indexOf('*', 1) >= 0
                    || (name.startsWith("*") && !name.equals("*") && !name.startsWith("*."))) {
                throw new IllegalArgumentException(PROPERTY + " = '" + value + "': '" + part.trim()
                        + "' is not a host name, '*.' and a domain, or '*'");
            }
            names.add(name);
        }
        return new AllowedHosts(names);
    }

    /**
     * Whether the endpoint listens on a loopback address, its {@code host} resolved as the
     * endpoint resolves it ({@code [::1]}, {@code 127.1}, a name the hosts file maps to 127.0.1.1).
     */
    private static boolean isLoopback(Object host) {
        if (host == null) {
            return false; // an endpoint without a host listens on every interface
        }
        java.net.InetSocketAddress bound = new java.net.InetSocketAddress(String.valueOf(host).trim(), 0);
        // One that cannot be resolved fails the endpoint itself.
        return !bound.isUnresolved() && bound.getAddress().isLoopbackAddress();
    }

    /**
     * Whether a request's {@code Host} is answered.
     *
     * @param host the {@code Host} field's value, with its port if any
     * @return whether the name is allowed, or is an IP address
     */
    boolean allows(String host) {
        if (any) {
            return true;
        }
        String h = host.trim().toLowerCase(Locale.ROOT);
        if (h.startsWith("[")) {
            return true; // an IPv6 literal (the parser has checked its brackets)
        }
        int colon = h.lastIndexOf(':');
        if (colon >= 0) {
            h = h.substring(0, colon);
        }
        if (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1); // "localhost." is "localhost"
        }
        if (isAddressLiteral(h)) {
            return true;
        }
        if (exact.contains(h)) {
            return true;
        }
        for (String suffix : suffixes) {
            if (h.endsWith(suffix) && h.length() > suffix.length()) {
                return true;
            }
        }
        return false;
    }

    /** Dotted-quad IPv4 or an IPv6 literal: four decimal parts of 0 to 255, or hex digits and colons. */
    private static boolean isAddressLiteral(String h) {
        if (h.indexOf(':') >= 0) {
            return h.chars().allMatch(c -> c == ':' || c == '.' || Character.digit(c, 16) >= 0);
        }
        String[] parts = h.split("\\.", -1);
        if (parts.length != 4) {
            return false;
        }
        for (String p : parts) {
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(c -> c >= '0' && c <= '9')
                    || Integer.parseInt(p) > 255) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return described;
    }
}
