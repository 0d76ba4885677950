package org.wharf.endpoints;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.zip.CRC32C;

import org.junit.jupiter.api.Test;
import org.wharf.endpoints.ProxyProtocolAcceptance.Versions;

/** The PROXY protocol header reader, byte by byte, on the examples of the specification and on bad input. */
class ProxyHeaderTest {

    static byte[] ipv4Block() {
        return new byte[] {(byte) 192, 0, 2, 1, (byte) 198, 51, 100, 7, 0x30, 0x39, 0x01, (byte) 0xbb};
    }

    /** A v2 header: signature, version/command, family/protocol, length, addresses, TLVs. */
    static byte[] v2(int verCmd, int famProto, byte[] addresses, byte[] tlvs) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ProxyHeader.V2_SIGNATURE);
        out.write(verCmd);
        out.write(famProto);
        int length = addresses.length + tlvs.length;
        out.write(length >> 8);
        out.write(length & 0xff);
        out.writeBytes(addresses);
        out.writeBytes(tlvs);
        return out.toByteArray();
    }

    static byte[] tlv(int type, byte[] value) {
        ByteBuffer b = ByteBuffer.allocate(3 + value.length);
        return b.put((byte) type).putShort((short) value.length).put(value).array();
    }

    /** Feeds the bytes one at a time as they would arrive; returns the header and what followed. */
    private static ProxyHeader readByteByByte(byte[] header, Versions versions, byte[] after) throws Exception {
        byte[] all = ByteBuffer.allocate(header.length + after.length).put(header).put(after).array();
        for (int n = 1; n < header.length; n++) {
            ByteBuffer part = ByteBuffer.wrap(all, 0, n);
            assertNull(ProxyHeader.read(part, versions), "complete after " + n + " of " + header.length + " bytes?");
            assertEquals(0, part.position(), "nothing consumed while incomplete");
        }
        ByteBuffer whole = ByteBuffer.wrap(all);
        ProxyHeader h = ProxyHeader.read(whole, versions);
        assertEquals(header.length, whole.position(), "exactly the header is consumed");
        assertEquals(header.length, h.length, "its size, so the client's bytes are counted without it");
        return h;
    }

    @Test
    void version1() throws Exception {
        ProxyHeader h = readByteByByte("PROXY TCP4 255.255.255.255 10.0.0.1 65535 0\r\n".getBytes(StandardCharsets.US_ASCII),
                Versions.V1, "GET /".getBytes(StandardCharsets.US_ASCII));
        assertEquals(new InetSocketAddress("255.255.255.255", 65535), h.source);
        assertEquals(new InetSocketAddress("10.0.0.1", 0), h.destination);
        h = readByteByByte("PROXY TCP6 ffff:f...f:ffff ::1 1 2\r\n".replace("ffff:f...f:ffff", "2001:db8::1")
                .getBytes(StandardCharsets.US_ASCII), Versions.EITHER, new byte[0]);
        assertEquals(new InetSocketAddress("2001:db8::1", 1), h.source);
        h = readByteByByte("PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n"
                .getBytes(StandardCharsets.US_ASCII), Versions.V1, new byte[0]);
        assertNull(h.source, "UNKNOWN names no client");
        h = readByteByByte("PROXY TCP6 ::ffff:1.2.3.4 ::ffff:5.6.7.8 1 2\r\n".getBytes(StandardCharsets.US_ASCII),
                Versions.V1, new byte[0]);
        assertEquals(new InetSocketAddress("1.2.3.4", 1), h.source, "TCP6 with IPv4-mapped literals: the IPv4 client");
        h = readByteByByte("PROXY TCP6 0:0:0:0:0:ffff:c000:207 2001:db8::1 1 2\r\n".getBytes(StandardCharsets.US_ASCII),
                Versions.V1, new byte[0]);
        assertEquals(new InetSocketAddress("192.0.2.7", 1), h.source, "as Wharf's own writer puts a mixed pair");
        for (String bad : new String[] {".:", "::g", "1.2.3.4"}) {
            assertThrows(ProxyHeader.Malformed.class, () -> ProxyHeader.read(ByteBuffer.wrap(("PROXY TCP6 " + bad
                    + " ::1 1 2\r\n").getBytes(StandardCharsets.US_ASCII)), Versions.V1), bad);
        }
    }

    @Test
    void version2WithTlvsAndChecksum() throws Exception {
        byte[] ssl = ByteBuffer.allocate(5 + 10).put((byte) 1).putInt(0).put(tlv(0x21, "TLSv1.3".getBytes(StandardCharsets.US_ASCII)))
                .array();
        ByteArrayOutputStream tlvs = new ByteArrayOutputStream();
        tlvs.writeBytes(tlv(0x01, "h2".getBytes(StandardCharsets.US_ASCII)));
        tlvs.writeBytes(tlv(0x02, "a.example".getBytes(StandardCharsets.US_ASCII)));
        tlvs.writeBytes(tlv(0x20, ssl));
        tlvs.writeBytes(tlv(0x03, new byte[4]));
        byte[] header = v2(0x21, 0x11, ipv4Block(), tlvs.toByteArray());
        CRC32C crc = new CRC32C();
        crc.update(header);
        ByteBuffer.wrap(header).putInt(header.length - 4, (int) crc.getValue());
        ProxyHeader h = readByteByByte(header, Versions.V2, new byte[] {1, 2, 3});
        assertEquals(new InetSocketAddress("192.0.2.1", 12345), h.source);
        assertEquals(new InetSocketAddress("198.51.100.7", 443), h.destination);
        assertEquals("h2", h.text(ProxyHeader.TLV_ALPN));
        assertEquals("a.example", h.text(ProxyHeader.TLV_AUTHORITY));
        assertEquals("TLSv1.3", h.sslVersion());
        assertEquals(List.of(1, 2, 32, 3), List.copyOf(h.tlvs.keySet()));
        assertArrayEquals(ssl, h.tlvs.get(0x20));

        header[20] ^= 1; // one bit of an address flipped: the checksum no longer matches
        ProxyHeader.Malformed e = assertThrows(ProxyHeader.Malformed.class,
                () -> ProxyHeader.read(ByteBuffer.wrap(header), Versions.V2));
        assertTrue(e.getMessage().contains("CRC32C"), e.getMessage());
    }

    @Test
    void version2Ipv6LocalAndUnix() throws Exception {
        byte[] block = new byte[36];
        block[15] = 1;
        block[31] = 2;
        block[32] = 0x10;
        block[35] = 80;
        ProxyHeader h = readByteByByte(v2(0x21, 0x21, block, new byte[0]), Versions.EITHER, new byte[0]);
        assertEquals(new InetSocketAddress("::1", 4096), h.source);
        assertEquals(new InetSocketAddress("::2", 80), h.destination);
        assertNull(readByteByByte(v2(0x20, 0x00, new byte[0], new byte[0]), Versions.V2, new byte[0]).source,
                "LOCAL: the balancer's own connection");
        assertNull(readByteByByte(v2(0x21, 0x31, new byte[216], new byte[0]), Versions.V2, new byte[0]).source,
                "AF_UNIX: no address to give");
    }

    @Test
    void onlyTcpOverIpv4OrIpv6NamesTheClient() throws Exception {
        // UNSPEC transport (0x10, 0x20) and datagrams (0x12, 0x22): the addresses are not a TCP
        // client's, so the connection's own stand, as the spec asks.
        for (int famProto : new int[] {0x10, 0x12, 0x20, 0x22}) {
            byte[] block = famProto >> 4 == 1 ? ipv4Block() : new byte[36];
            ProxyHeader h = readByteByByte(v2(0x21, famProto, block, tlv(0x02, "a.example".getBytes(
                    StandardCharsets.US_ASCII))), Versions.V2, new byte[0]);
            assertNull(h.source, String.format("0x%02x", famProto));
            assertEquals("a.example", new String(h.tlvs.get(0x02), StandardCharsets.US_ASCII), "its TLVs still count");
        }
        assertNotNull(readByteByByte(v2(0x21, 0x11, ipv4Block(), new byte[0]), Versions.V2, new byte[0]).source);
    }

    @Test
    void localDiscardsTheWholeBlockWhateverItHolds() throws Exception {
        // The spec: discard the protocol block including the family. HAProxy's own health checks
        // send LOCAL with family 0 and nothing; others send a family and no addresses, or bytes.
        for (byte[] header : List.of(v2(0x20, 0x11, new byte[0], new byte[0]), v2(0x20, 0x00, new byte[0],
                new byte[] {1, 2}), v2(0x20, 0x00, new byte[12], new byte[0]), v2(0x20, 0x21, ipv4Block(), new byte[0]))) {
            ProxyHeader h = readByteByByte(header, Versions.V2, "GET".getBytes(StandardCharsets.US_ASCII));
            assertNull(h.source);
            assertTrue(h.tlvs.isEmpty());
        }
    }

    @Test
    void malformedIsToldAsSoonAsItIsKnown() {
        for (String bad : List.of("GET ", "PROXX", "PROXY TCP5 1.2.3.4 1.2.3.4 1 2\r\n", "PROXY TCP4 1.2.3.4 1.2.3.4 1 2\n",
                "PROXY TCP4 1.2.3.4 1.2.3.4 01 2\r\n", "PROXY TCP4 1.2.3.4  1.2.3.4 1 2\r\n",
                "PROXY TCP4 1.2.3.4 example.org 1 2\r\n", "PROXY TCP4 ::1 ::1 1 2\r\n", "PROXY TCP4 1.2.3.4 1.2.3.4 1 2 3\r\n",
                "PROXY TCP4 1.2.3.4\t1.2.3.4 1 2\r\n")) {
            assertThrows(ProxyHeader.Malformed.class,
                    () -> ProxyHeader.read(ByteBuffer.wrap(bad.getBytes(StandardCharsets.US_ASCII)), Versions.EITHER), bad);
        }
        assertThrows(ProxyHeader.Malformed.class, () -> ProxyHeader.read(ByteBuffer.wrap(
                ("PROXY TCP4 " + "9".repeat(200)).getBytes(StandardCharsets.US_ASCII)), Versions.V1), "no CRLF in 107 bytes");
        assertThrows(ProxyHeader.Malformed.class,
                () -> ProxyHeader.read(ByteBuffer.wrap(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x48}),
                        Versions.V2), "signature differs");
        assertThrows(ProxyHeader.Malformed.class, () -> ProxyHeader.read(ByteBuffer.wrap(v2(0x21, 0x11, ipv4Block(),
                new byte[0])), Versions.V1), "v2 on a v1 endpoint");
        assertThrows(ProxyHeader.Malformed.class, () -> ProxyHeader.read(ByteBuffer.wrap(
                "PROXY TCP4 1.2.3.4 1.2.3.4 1 2\r\n".getBytes(StandardCharsets.US_ASCII)), Versions.V2), "v1 on a v2 endpoint");
        assertThrows(ProxyHeader.Malformed.class, () -> ProxyHeader.read(ByteBuffer.wrap(v2(0x22, 0x11, ipv4Block(),
                new byte[0])), Versions.V2), "command 2");
        assertThrows(ProxyHeader.Malformed.class, () -> ProxyHeader.read(ByteBuffer.wrap(v2(0x21, 0x21, ipv4Block(),
                new byte[0])), Versions.V2), "12 bytes cannot hold IPv6 addresses");
        assertThrows(ProxyHeader.Malformed.class, () -> ProxyHeader.read(ByteBuffer.wrap(v2(0x21, 0x11, ipv4Block(),
                new byte[] {1, 0, 9, 'h'})), Versions.V2), "a TLV overrunning the header");
        // Two CRC32C TLVs, the second right for the header and the first anything: one would go unchecked.
        byte[] twoChecksums = new byte[14];
        twoChecksums[0] = 0x03;
        twoChecksums[2] = 4;
        twoChecksums[3] = 0x5a; // the first "checksum": made up
        twoChecksums[7] = 0x03;
        twoChecksums[9] = 4;
        byte[] header = v2(0x21, 0x11, ipv4Block(), twoChecksums);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(header); // the second's value is still zero, as the check computes it
        ByteBuffer.wrap(header).putInt(header.length - 4, (int) crc.getValue());
        assertThrows(ProxyHeader.Malformed.class, () -> ProxyHeader.read(ByteBuffer.wrap(header), Versions.V2),
                "two CRC32C TLVs");
    }

    @Test
    void trustedSources() {
        ProxyProtocolAcceptance a = ProxyProtocolAcceptance.of(Versions.EITHER, List.of("10.0.0.0/8", "192.0.2.7",
                "fd00::/8"), ProxyProtocolAcceptance.DEFAULT_HEADER_TIMEOUT);
        assertTrue(a.isTrusted(new InetSocketAddress("10.200.3.4", 0).getAddress()));
        assertTrue(a.isTrusted(new InetSocketAddress("192.0.2.7", 0).getAddress()));
        assertTrue(a.isTrusted(new InetSocketAddress("::ffff:10.1.1.1", 0).getAddress()), "IPv4-mapped");
        assertTrue(a.isTrusted(new InetSocketAddress("fd12::1", 0).getAddress()));
        assertTrue(!a.isTrusted(new InetSocketAddress("11.0.0.1", 0).getAddress()));
        assertTrue(!a.isTrusted(new InetSocketAddress("192.0.2.8", 0).getAddress()));
        assertTrue(!a.isTrusted(new InetSocketAddress("fe80::1", 0).getAddress()));
        for (String bad : List.of("example.org", "10.0.0.0/33", "10.0.0.0/x", "::1/129")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ProxyProtocolAcceptance.of(
                    Versions.V1, List.of(bad), ProxyProtocolAcceptance.DEFAULT_HEADER_TIMEOUT));
            assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> ProxyProtocolAcceptance.of(Versions.V1, List.of(),
                ProxyProtocolAcceptance.DEFAULT_HEADER_TIMEOUT));
    }
}
