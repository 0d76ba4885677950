package org.wharf.transport.api;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * The one way Wharf prints a socket address, in logs, errors and the shell: {@code host:port},
 * an IPv6 host in brackets and in its short form ({@code [::1]:7007}, not
 * {@code /0:0:0:0:0:0:0:1:7007}), a resolved address as its literal IP, an unresolved one as
 * the name given.
 */
public final class Addresses {

    private Addresses() {
    }

    /**
     * {@code host:port} for an {@link InetSocketAddress}; anything else as its {@code toString}.
     *
     * @param address the address, or {@code null}
     * @return the text ({@code "?"} for {@code null})
     */
    public static String text(SocketAddress address) {
        if (address instanceof InetSocketAddress a) {
            InetAddress ip = a.getAddress();
            return hostAndPort(ip == null ? a.getHostString() : host(ip), a.getPort());
        }
        return address == null ? "?" : address.toString();
    }

    /**
     * {@code host:port} for a host as configured (a name or a literal), bracketed if it is an
     * IPv6 literal.
     *
     * @param host a name or an IP literal
     * @param port the port
     * @return the text
     */
    public static String hostAndPort(String host, int port) {
        return (host.indexOf(':') >= 0 ? "[" + shortV6(host) + "]" : host) + ":" + port;
    }

    /** The literal IP, an IPv6 one in its short form (RFC 5952). */
    private static String host(InetAddress ip) {
        return ip instanceof Inet6Address ? shortV6(ip.getHostAddress()) : ip.getHostAddress();
    }

    /** RFC 5952: leading zeros dropped, the longest run of two or more zero groups as {@code ::}. */
    private static String shortV6(String literal) {
        if (literal.startsWith("[") && literal.endsWith("]")) {
            literal = literal.substring(1, literal.length() - 1);
        }
        int percent = literal.indexOf('%');
        String scope = percent < 0 ? "" : literal.substring(percent);
        String bare = percent < 0 ? literal : literal.substring(0, percent);
        if (bare.contains("::") || bare.contains(".")) {
            return literal; // already short, or with an embedded IPv4 part: left as written
        }
        String[] groups = bare.split(":", -1);
        if (groups.length != 8) {
            return literal;
        }
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < 8;) {
            if (Integer.parseInt(groups[i], 16) != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && Integer.parseInt(groups[j], 16) == 0) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
            i = j;
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                out.append("::");
                i += bestLength - 1;
                continue;
            }
            if (out.length() > 0 && out.charAt(out.length() - 1) != ':') {
                out.append(':');
            }
            out.append(Integer.toHexString(Integer.parseInt(groups[i], 16)));
        }
        return out + scope;
    }
}
