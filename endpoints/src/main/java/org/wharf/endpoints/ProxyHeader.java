package org.wharf.endpoints;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * A PROXY protocol header (HAProxy's {@code proxy-protocol.txt}, versions 1 and 2), read from
 * the first bytes of a connection as they arrive.
 */
final class ProxyHeader {

    /** The longest version 1 header, CRLF included. */
    static final int V1_MAX = 107;
    /** The version 2 signature, the header's first 12 bytes. */
    static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    private static final byte[] V1_PREFIX = "PROXY ".getBytes(StandardCharsets.US_ASCII);

    static final int TLV_ALPN = 0x01;
    static final int TLV_AUTHORITY = 0x02;
    static final int TLV_CRC32C = 0x03;
    static final int TLV_SSL = 0x20;
    static final int SUBTLV_SSL_VERSION = 0x21;

    /** Malformed input: the message says what is wrong. */
    static final class Malformed extends Exception {
        private static final long serialVersionUID = 1L;

        Malformed(String message) {
            super(message, null, false, false);
        }
    }

    final int version;
    /** The header's size in bytes. */
    int length;
    /** The client and where it connected to; null when the header names none (LOCAL, UNKNOWN, AF_UNIX). */
    final InetSocketAddress source;
    final InetSocketAddress destination;
    final Map<Integer, byte[]> tlvs;

    private ProxyHeader(int version, InetSocketAddress source, InetSocketAddress destination, Map<Integer, byte[]> tlvs) {
        this.version = version;
        this.source = source;
        this.destination = destination;
        this.tlvs = tlvs;
    }

    /**
     * Reads a header from the start of the input.
     *
     * @param in the bytes received so far, from position; on success its position is moved past
     *        the header, otherwise left alone
     * @param versions which versions are accepted
     * @return the header, or null if more bytes are needed to tell
     * @throws Malformed if the bytes cannot begin an accepted header
     */
    static ProxyHeader read(ByteBuffer in, ProxyProtocolAcceptance.Versions versions) throws Malformed {
        if (!in.hasRemaining()) {
            return null;
        }
        byte first = in.get(in.position());
        if (first == V2_SIGNATURE[0] && versions.acceptsV2()) {
            return readV2(in);
        }
        if (first == V1_PREFIX[0] && versions.acceptsV1()) {
            return readV1(in);
        }
        throw new Malformed("not a PROXY protocol " + (versions == ProxyProtocolAcceptance.Versions.EITHER ? ""
                : versions.name().toLowerCase(java.util.Locale.ROOT) + " ") + "header (first byte 0x"
                + String.format("%02x", first & 0xff) + ")");
    }

    private static ProxyHeader readV1(ByteBuffer in) throws Malformed {
        int start = in.position();
        int available = Math.min(in.remaining(), V1_MAX);
        int end = -1;
        for (int i = 0; i < available; i++) {
            byte b = in.get(start + i);
            if (i < V1_PREFIX.length && b != V1_PREFIX[i]) {
                throw new Malformed("not a PROXY protocol v1 header (does not start with 'PROXY ')");
            }
            if (b == '\n') {
                if (i == 0 || in.get(start + i - 1) != '\r') {
                    throw new Malformed("v1 header line ends with a bare LF");
                }
                end = i - 1;
                break;
            }
            if ((b < 0x20 || b > 0x7e) && b != '\r') {
                throw new Malformed("v1 header holds byte 0x" + String.format("%02x", b & 0xff));
            }
        }
        if (end < 0) {
            if (in.remaining() >= V1_MAX) {
                throw new Malformed("v1 header has no CRLF within " + V1_MAX + " bytes");
            }
            return null;
        }
        byte[] line = new byte[end];
        in.get(start, line);
        String text = new String(line, StandardCharsets.US_ASCII);
        String[] parts = text.split(" ", -1);
        ProxyHeader header;
        if (parts.length >= 2 && parts[1].equals("UNKNOWN")) {
            header = new ProxyHeader(1, null, null, Map.of());
        } else {
            if (parts.length != 6) {
                throw new Malformed("v1 header '" + text + "' does not have 6 fields");
            }
            boolean v6 = switch (parts[1]) {
                case "TCP4" -> false;
                case "TCP6" -> true;
                default -> throw new Malformed("v1 header: unknown protocol '" + parts[1] + "'");
            };
            InetAddress src = v1Address(parts[2], v6);
            InetAddress dst = v1Address(parts[3], v6);
            header = new ProxyHeader(1, new InetSocketAddress(src, v1Port(parts[4])),
                    new InetSocketAddress(dst, v1Port(parts[5])), Map.of());
        }
        in.position(start + end + 2);
        header.length = end + 2;
        return header;
    }

    private static InetAddress v1Address(String text, boolean v6) throws Malformed {
        // Literals only, checked before InetAddress sees them: it must never look a name up. An
        // IPv6 one goes in brackets, which InetAddress takes as a literal or refuses, never looks up
        // (the shape alone let '.:' through to the resolver).
        boolean shape = v6 ? text.matches("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*") : text.matches(
                "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}");
        if (shape) {
            try {
                InetAddress a = InetAddress.getByName(v6 ? "[" + text + "]" : text);
                // TCP6 may carry an IPv4-mapped literal (as Wharf's own writer makes for a mixed
                // pair), which the JDK turns into its IPv4 address.
                if ((a.getAddress().length == 16) == v6 || v6 && a instanceof java.net.Inet4Address) {
                    return a;
                }
            } catch (UnknownHostException e) {
                // falls through to the error
            }
        }
        throw new Malformed("v1 header: '" + text + "' is not an IPv" + (v6 ? "6" : "4") + " address");
    }

    private static int v1Port(String text) throws Malformed {
        if (text.matches("0|[1-9][0-9]{0,4}")) {
            int port = Integer.parseInt(text);
            if (port <= 65535) {
                return port;
            }
        }
        throw new Malformed("v1 header: '" + text + "' is not a port");
    }

    private static ProxyHeader readV2(ByteBuffer in) throws Malformed {
        int start = in.position();
        int n = in.remaining();
        for (int i = 0; i < Math.min(n, V2_SIGNATURE.length); i++) {
            if (in.get(start + i) != V2_SIGNATURE[i]) {
                throw new Malformed("not a PROXY protocol v2 header (signature differs at byte " + i + ")");
            }
        }
        if (n < 16) {
            return null;
        }
        int verCmd = in.get(start + 12) & 0xff;
        if (verCmd >> 4 != 2) {
            throw new Malformed("v2 header: version " + (verCmd >> 4) + ", not 2");
        }
        int command = verCmd & 0x0f;
        if (command > 1) {
            throw new Malformed("v2 header: unknown command " + command);
        }
        int famProto = in.get(start + 13) & 0xff;
        int family = famProto >> 4;
        int transport = famProto & 0x0f;
        if (family > 3 || transport > 2) {
            throw new Malformed("v2 header: unknown address family/protocol 0x" + String.format("%02x", famProto));
        }
        int length = in.getShort(start + 14) & 0xffff;
        if (n < 16 + length) {
            return null;
        }
        if (command == 0) {
            // LOCAL: the balancer speaks for itself (a health check). The spec has the receiver
            // discard the protocol block, family included: the connection's own addresses stand.
            in.position(start + 16 + length);
            ProxyHeader local = new ProxyHeader(2, null, null, Map.of());
            local.length = 16 + length;
            return local;
        }
        int addressLength = switch (family) {
            case 1 -> 12;
            case 2 -> 36;
            case 3 -> 216;
            default -> 0;
        };
        if (length < addressLength) {
            throw new Malformed("v2 header: " + length + " bytes cannot hold the addresses of family " + family);
        }
        ByteBuffer block = in.slice(start + 16, length);
        InetSocketAddress source = null;
        InetSocketAddress destination = null;
        // Only TCP over IPv4 (0x11) and IPv6 (0x21) name a client this connection can stand for:
        // UNSPEC, datagrams (0x12, 0x22) and UNIX sockets fall back to the real addresses, as the
        // spec asks of a receiver that does not support them; their TLVs still count.
        if ((family == 1 || family == 2) && transport == 1) {
            byte[] src = new byte[family == 1 ? 4 : 16];
            byte[] dst = new byte[src.length];
            block.get(src).get(dst);
            int srcPort = block.getShort() & 0xffff;
            int dstPort = block.getShort() & 0xffff;
            try {
                source = new InetSocketAddress(InetAddress.getByAddress(src), srcPort);
                destination = new InetSocketAddress(InetAddress.getByAddress(dst), dstPort);
            } catch (UnknownHostException e) {
                throw new AssertionError(e); // 4 or 16 bytes are always an address
            }
        } else {
            block.position(addressLength);
        }
        Map<Integer, byte[]> tlvs = new LinkedHashMap<>();
        int crcAt = -1;
        while (block.hasRemaining()) {
            if (block.remaining() < 3) {
                throw new Malformed("v2 header: " + block.remaining() + " bytes left over after the last TLV");
            }
            int type = block.get() & 0xff;
            int len = block.getShort() & 0xffff;
            if (len > block.remaining()) {
                throw new Malformed("v2 header: TLV 0x" + Integer.toHexString(type) + " of " + len
                        + " bytes overruns the header");
            }
            if (type == TLV_CRC32C) {
                if (crcAt >= 0) {
                    throw new Malformed("v2 header: two CRC32C TLVs"); // one would be checked, the other kept
                }
                if (len != 4) {
                    throw new Malformed("v2 header: CRC32C TLV of " + len + " bytes, not 4");
                }
                crcAt = 16 + block.position();
            }
            byte[] value = new byte[len];
            block.get(value);
            tlvs.putIfAbsent(type, value);
        }
        if (crcAt >= 0) {
            byte[] whole = new byte[16 + length];
            in.get(start, whole);
            int expected = ByteBuffer.wrap(whole, crcAt, 4).getInt();
            whole[crcAt] = whole[crcAt + 1] = whole[crcAt + 2] = whole[crcAt + 3] = 0;
            CRC32C crc = new CRC32C();
            crc.update(whole);
            if ((int) crc.getValue() != expected) {
                throw new Malformed("v2 header: CRC32C does not match");
            }
        }
        in.position(start + 16 + length);
        ProxyHeader header = new ProxyHeader(2, source, destination, Collections.unmodifiableMap(tlvs));
        header.length = 16 + length;
        return header;
    }

    /** A TLV's value as text, or null. */
    String text(int type) {
        byte[] v = tlvs.get(type);
        return v == null ? null : new String(v, StandardCharsets.UTF_8);
    }

    /** The SSL TLV's version sub-TLV as text, or null. */
    String sslVersion() {
        byte[] ssl = tlvs.get(TLV_SSL);
        if (ssl == null || ssl.length < 5) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(ssl, 5, ssl.length - 5);
        while (b.remaining() >= 3) {
            int type = b.get() & 0xff;
            int len = b.getShort() & 0xffff;
            if (len > b.remaining()) {
                return null;
            }
            if (type == SUBTLV_SSL_VERSION) {
                byte[] v = new byte[len];
                b.get(v);
                return new String(v, StandardCharsets.US_ASCII);
            }
            b.position(b.position() + len);
        }
        return null;
    }

    @Override
    public String toString() {
        return "PROXY v" + version + " " + (source == null ? "local" : source + " -> " + destination);
    }
}
