package org.wharf.protocol.proxy.internal;

import java.io.ByteArrayOutputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import javax.net.ssl.SSLSession;

import org.wharf.transport.api.ExtraInfo;
import org.wharf.transport.api.Transport;

/**
 * The PROXY protocol header (HAProxy's {@code proxy-protocol.txt}) a route sends first on an
 * upstream connection, so the upstream sees the gateway's client: its address (the one a
 * PROXY header gave the gateway, when it accepted one), where it connected to, and in v2 what
 * the client's TLS leg negotiated (or the TLVs the gateway itself was given).
 */
final class ProxyHeaderWriter {

    /** Which header a route sends. */
    enum Version {
        OFF, V1, V2
    }

    private static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    private static final int TLV_ALPN = 0x01;
    private static final int TLV_AUTHORITY = 0x02;
    private static final int TLV_CRC32C = 0x03;
    private static final int TLV_SSL = 0x20;
    private static final int SUBTLV_SSL_VERSION = 0x21;
    private static final int SUBTLV_SSL_CIPHER = 0x23;
    private static final int PP2_CLIENT_SSL = 0x01;

    private ProxyHeaderWriter() {
    }

    /**
     * The header for a client connection.
     *
     * @param version v1 or v2
     * @param client the client's leg
     * @return the header's bytes
     */
    static ByteBuffer header(Version version, Transport client) {
        SocketAddress src = client.extraInfo(ExtraInfo.PEER_ADDRESS).orElse(null);
        SocketAddress dst = client.extraInfo(ExtraInfo.PROXY_DESTINATION)
                .or(() -> client.extraInfo(ExtraInfo.LOCAL_ADDRESS)).orElse(null);
        return version == Version.V1 ? v1(src, dst) : v2(src, dst, tlvs(client));
    }

    static ByteBuffer v1(SocketAddress src, SocketAddress dst) {
        String line;
        if (src instanceof InetSocketAddress s && dst instanceof InetSocketAddress d && s.getAddress() != null
                && d.getAddress() != null) {
            boolean v4 = s.getAddress() instanceof Inet4Address && d.getAddress() instanceof Inet4Address;
            line = "PROXY " + (v4 ? "TCP4 " : "TCP6 ") + text(s.getAddress(), v4) + " " + text(d.getAddress(), v4) + " "
                    + s.getPort() + " " + d.getPort() + "\r\n";
        } else {
            line = "PROXY UNKNOWN\r\n";
        }
        return ByteBuffer.wrap(line.getBytes(StandardCharsets.US_ASCII));
    }

    private static String text(InetAddress a, boolean v4) {
        if (v4) {
            return a.getHostAddress();
        }
        byte[] b = bytes16(a);
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 16; i += 2) {
            if (i > 0) {
                s.append(':');
            }
            s.append(Integer.toHexString((b[i] & 0xff) << 8 | b[i + 1] & 0xff));
        }
        return s.toString();
    }

    /** An address as 16 bytes, an IPv4 one mapped ({@code ::ffff:a.b.c.d}) when the other side is IPv6. */
    private static byte[] bytes16(InetAddress a) {
        byte[] b = a.getAddress();
        if (b.length == 16) {
            return b;
        }
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        System.arraycopy(b, 0, mapped, 12, 4);
        return mapped;
    }

    static ByteBuffer v2(SocketAddress src, SocketAddress dst, Map<Integer, byte[]> tlvs) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        int command = 0x20; // LOCAL unless there are addresses to give
        int family = 0x00;
        if (src instanceof InetSocketAddress s && dst instanceof InetSocketAddress d && s.getAddress() != null
                && d.getAddress() != null) {
            command = 0x21;
            boolean v4 = s.getAddress() instanceof Inet4Address && d.getAddress() instanceof Inet4Address;
            family = v4 ? 0x11 : 0x21;
            body.writeBytes(v4 ? s.getAddress().getAddress() : bytes16(s.getAddress()));
            body.writeBytes(v4 ? d.getAddress().getAddress() : bytes16(d.getAddress()));
            body.write(s.getPort() >> 8);
            body.write(s.getPort() & 0xff);
            body.write(d.getPort() >> 8);
            body.write(d.getPort() & 0xff);
        }
        tlvs.forEach((type, value) -> writeTlv(body, type, value));
        byte[] b = body.toByteArray();
        ByteBuffer out = ByteBuffer.allocate(16 + b.length);
        out.put(V2_SIGNATURE).put((byte) command).put((byte) family).putShort((short) b.length).put(b);
        return out.flip();
    }

    private static void writeTlv(ByteArrayOutputStream out, int type, byte[] value) {
        out.write(type);
        out.write(value.length >> 8);
        out.write(value.length & 0xff);
        out.writeBytes(value);
    }

    /**
     * What v2 says about the client beyond its address: what its TLS leg to the gateway
     * negotiated, or, when the gateway did not terminate TLS, what a balancer in front told the
     * gateway (its CRC32C left out: it covered that header, not this one).
     */
    private static Map<Integer, byte[]> tlvs(Transport client) {
        Map<Integer, byte[]> tlvs = new LinkedHashMap<>();
        SSLSession session = client.extraInfo(ExtraInfo.SSL_SESSION).orElse(null);
        if (session != null) {
            client.extraInfo(ExtraInfo.APPLICATION_PROTOCOL).filter(p -> !p.isEmpty())
                    .ifPresent(p -> tlvs.put(TLV_ALPN, p.getBytes(StandardCharsets.US_ASCII)));
            client.extraInfo(ExtraInfo.SNI_HOST_NAME)
                    .ifPresent(h -> tlvs.put(TLV_AUTHORITY, h.getBytes(StandardCharsets.UTF_8)));
            ByteArrayOutputStream ssl = new ByteArrayOutputStream();
            ssl.write(PP2_CLIENT_SSL);
            ssl.writeBytes(new byte[4]); // verify: 0, the client's certificate (if any) was accepted
            writeTlv(ssl, SUBTLV_SSL_VERSION, session.getProtocol().getBytes(StandardCharsets.US_ASCII));
            writeTlv(ssl, SUBTLV_SSL_CIPHER, session.getCipherSuite().getBytes(StandardCharsets.US_ASCII));
            tlvs.put(TLV_SSL, ssl.toByteArray());
            return tlvs;
        }
        client.extraInfo(ExtraInfo.PROXY_TLVS).ifPresent(given -> given.forEach((type, value) -> {
            if (type != TLV_CRC32C) {
                tlvs.put(type, value);
            }
        }));
        return tlvs;
    }
}
