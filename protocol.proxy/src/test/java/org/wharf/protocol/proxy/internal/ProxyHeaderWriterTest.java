package org.wharf.protocol.proxy.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The headers a route sends, byte for byte, as HAProxy's proxy-protocol.txt lays them out. */
class ProxyHeaderWriterTest {

    private static String text(ByteBuffer b) {
        return StandardCharsets.US_ASCII.decode(b).toString();
    }

    private static String hex(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.get(a);
        return HexFormat.of().formatHex(a);
    }

    @Test
    void version1() {
        assertEquals("PROXY TCP4 192.0.2.1 198.51.100.7 1234 443\r\n", text(ProxyHeaderWriter.v1(
                new InetSocketAddress("192.0.2.1", 1234), new InetSocketAddress("198.51.100.7", 443))));
        assertEquals("PROXY TCP6 2001:db8:0:0:0:0:0:7 2001:db8:0:0:0:0:0:1 5555 80\r\n", text(ProxyHeaderWriter.v1(
                new InetSocketAddress("2001:db8::7", 5555), new InetSocketAddress("2001:db8::1", 80))));
        assertEquals("PROXY TCP6 0:0:0:0:0:ffff:c000:201 2001:db8:0:0:0:0:0:1 1 2\r\n", text(ProxyHeaderWriter.v1(
                new InetSocketAddress("192.0.2.1", 1), new InetSocketAddress("2001:db8::1", 2))),
                "families differ: the IPv4 address mapped into IPv6");
        assertEquals("PROXY UNKNOWN\r\n", text(ProxyHeaderWriter.v1(null, new InetSocketAddress("192.0.2.1", 1))));
    }

    @Test
    void version2() {
        Map<Integer, byte[]> tlvs = new LinkedHashMap<>();
        tlvs.put(0x01, "h2".getBytes(StandardCharsets.US_ASCII));
        assertEquals("0d0a0d0a000d0a515549540a" + "21" + "11" + "0011" + "c0000201" + "c6336407" + "04d2" + "01bb"
                + "01" + "0002" + "6832", hex(ProxyHeaderWriter.v2(new InetSocketAddress("192.0.2.1", 1234),
                        new InetSocketAddress("198.51.100.7", 443), tlvs)));
        assertEquals("0d0a0d0a000d0a515549540a" + "20" + "00" + "0000", hex(ProxyHeaderWriter.v2(null, null, Map.of())),
                "no client to name: LOCAL");
        assertEquals("0d0a0d0a000d0a515549540a" + "21" + "21" + "0024" + "20010db8000000000000000000000007"
                + "00000000000000000000ffffc0000201" + "15b3" + "0050", hex(ProxyHeaderWriter.v2(
                        new InetSocketAddress("2001:db8::7", 5555), new InetSocketAddress("192.0.2.1", 80), Map.of())));
    }
}
