package org.wharf.protocol.proxy.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

/** The ClientHello the gateway routes by, on hand-made hostile hellos: each is refused, none throws. */
class ClientHelloTest {

    @Test
    void aWellFormedNameIsRead() {
        ClientHello h = ClientHello.read(record(hello(sni("Api.Example", -1))));
        assertEquals(ClientHello.Kind.TLS, h.kind);
        assertEquals("api.example", h.serverName);
    }

    @Test
    void aServerNameThatIsNotAHostNameIsMalformedSoItNeverReachesTheLog() {
        byte[] forged = "a.example\r\nclient=6.6.6.6 endpoint=x".getBytes(StandardCharsets.US_ASCII);
        assertEquals(ClientHello.Kind.MALFORMED, ClientHello.read(record(hello(sni(forged, -1)))).kind);
        assertEquals(ClientHello.Kind.MALFORMED, ClientHello.read(record(hello(sni("with space", -1)))).kind);
    }

    @Test
    void lengthsThatOverrunWhatHoldsThemAreMalformedNotAnException() {
        // A name said to be 200 bytes with 9 present; a one-byte server_name extension; a body
        // that stops after the random.
        assertEquals(ClientHello.Kind.MALFORMED, ClientHello.read(record(hello(sni("a.example", 200)))).kind);
        assertEquals(ClientHello.Kind.MALFORMED, ClientHello.read(record(hello(extension(0, new byte[] {0})))).kind);
        ByteArrayOutputStream cut = new ByteArrayOutputStream();
        u16(cut, 0x0303);
        cut.writeBytes(new byte[32]);
        assertEquals(ClientHello.Kind.MALFORMED, ClientHello.read(record(handshake(cut.toByteArray()))).kind);
    }

    @Test
    void aHelloSentOneByteAtATimeIsReadWithEachByteCopiedOnce() {
        // A hello of almost a whole record (a padding extension), as a client dribbling it
        // would send it: the reader is given all the bytes so far at each byte, as the gateway does.
        byte[] bytes = record(hello(concat(sni("slow.example", -1), extension(21, new byte[16000])))).array();
        ClientHello.Reader reader = new ClientHello.Reader(ClientHello.MAX_BYTES);
        for (int n = 1; n < bytes.length; n++) {
            assertEquals(ClientHello.Kind.MORE, reader.read(ByteBuffer.wrap(bytes, 0, n)).kind, "after " + n);
        }
        ClientHello h = reader.read(ByteBuffer.wrap(bytes));
        assertEquals(ClientHello.Kind.TLS, h.kind);
        assertEquals("slow.example", h.serverName);
        assertEquals(bytes.length - 5, reader.copied(), "each handshake byte copied once, not once per read");
    }

    @Test
    void aHelloAcrossManySmallRecordsSentOneByteAtATimeIsReadWithEachByteCopiedOnce() {
        byte[] handshake = hello(concat(sni("records.example", -1), extension(21, new byte[3000])));
        ByteArrayOutputStream records = new ByteArrayOutputStream();
        for (int at = 0; at < handshake.length; at += 7) { // 7 handshake bytes a record
            int n = Math.min(7, handshake.length - at);
            records.write(22);
            u16(records, 0x0301);
            u16(records, n);
            records.write(handshake, at, n);
        }
        byte[] bytes = records.toByteArray();
        ClientHello.Reader reader = new ClientHello.Reader(bytes.length);
        ClientHello h = null;
        for (int n = 1; n <= bytes.length; n++) {
            h = reader.read(ByteBuffer.wrap(bytes, 0, n));
            assertEquals(n < bytes.length ? ClientHello.Kind.MORE : ClientHello.Kind.TLS, h.kind, "after " + n);
        }
        assertEquals("records.example", h.serverName);
        assertEquals(handshake.length, reader.copied());
        // The same hello with less room than its records take is refused, not read on.
        assertEquals(ClientHello.Kind.MALFORMED, new ClientHello.Reader(bytes.length - 1).read(ByteBuffer.wrap(bytes)).kind);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static byte[] sni(String name, int claimed) {
        return sni(name.getBytes(StandardCharsets.US_ASCII), claimed);
    }

    /** A server_name extension with one host name; {@code claimed} >= 0 says a length other than its own. */
    private static byte[] sni(byte[] name, int claimed) {
        ByteArrayOutputStream list = new ByteArrayOutputStream();
        list.write(0); // host_name
        u16(list, claimed >= 0 ? claimed : name.length);
        list.writeBytes(name);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        u16(body, list.size());
        body.writeBytes(list.toByteArray());
        return extension(0, body.toByteArray());
    }

    private static byte[] extension(int type, byte[] data) {
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        u16(e, type);
        u16(e, data.length);
        e.writeBytes(data);
        return e.toByteArray();
    }

    /** A ClientHello body: version, random, no session, one suite, null compression, the extensions. */
    private static byte[] hello(byte[] extensions) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        u16(body, 0x0303);
        body.writeBytes(new byte[32]);
        body.write(0);
        u16(body, 2);
        u16(body, 0x1301);
        body.write(1);
        body.write(0);
        u16(body, extensions.length);
        body.writeBytes(extensions);
        return handshake(body.toByteArray());
    }

    private static byte[] handshake(byte[] body) {
        ByteArrayOutputStream h = new ByteArrayOutputStream();
        h.write(1); // ClientHello
        h.write(0);
        u16(h, body.length);
        h.writeBytes(body);
        return h.toByteArray();
    }

    private static ByteBuffer record(byte[] handshake) {
        ByteArrayOutputStream r = new ByteArrayOutputStream();
        r.write(22);
        u16(r, 0x0301);
        u16(r, handshake.length);
        r.writeBytes(handshake);
        return ByteBuffer.wrap(r.toByteArray());
    }

    private static void u16(ByteArrayOutputStream out, int value) {
        out.write(value >> 8);
        out.write(value);
    }
}
