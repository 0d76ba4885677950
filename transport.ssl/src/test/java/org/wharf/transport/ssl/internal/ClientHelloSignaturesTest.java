package org.wharf.transport.ssl.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;

import org.junit.jupiter.api.Test;

/** The ClientHello reader Conscrypt's key manager relies on, on hand-made hellos. */
class ClientHelloSignaturesTest {

    @Test
    void theFirstEcdsaOrRsaSchemeNamesTheKeyType() {
        assertEquals("EC", ClientHelloSignatures.read(buffered(hello(0x1301, 0x0403, 0x0804), new byte[0]), true));
        assertEquals("RSA", ClientHelloSignatures.read(buffered(hello(0x1301, 0x0804, 0x0403), new byte[0]), true));
    }

    @Test
    void aSignatureListThatClaimsMoreThanTheHelloHoldsIsNotReadFromTheBytesAfterIt() {
        // The hello's last extension is signature_algorithms claiming 256 bytes and bringing none;
        // the next bytes in the buffer (the client's, after the record) hold ecdsa_secp256r1_sha256.
        byte[] hello = hello(0x1301);
        byte[] after = {0x00, 0x02, 0x04, 0x03};
        assertEquals("", ClientHelloSignatures.read(buffered(hello, after), true),
                "nothing the hello itself says: the bytes after it are not its");
    }

    @Test
    void aHelloSplitAcrossRecordsIsGatheredWhileTheEngineConsumesThem() {
        byte[] one = hello(0x1301, 0x0804, 0x0403);
        int body = one.length - 5;
        // The same hello in two records of 30 bytes and the rest, as a client may send it.
        ByteBuffer first = ByteBuffer.allocate(64).put(one, 0, 3).putShort((short) 30).put(one, 5, 30);
        ByteBuffer second = ByteBuffer.allocate(one.length + 5).put(one, 0, 3).putShort((short) (body - 30))
                .put(one, 35, body - 30);
        ClientHelloSignatures.Gatherer g = new ClientHelloSignatures.Gatherer(true);
        assertEquals(null, g.offer(first), "the first record alone is not the hello");
        assertEquals(null, g.offer(first), "offered again, it is not gathered twice");
        g.consumed(first.position()); // the engine took the first record
        assertEquals(null, g.offer(ByteBuffer.allocate(8).put(second.array(), 0, 8)), "the second record, cut");
        assertEquals("RSA", g.offer(second));
    }

    /**
     * A TLS record with a ClientHello: one cipher suite, and a signature_algorithms extension
     * last, holding {@code schemes}; with none, its header alone, claiming 256 bytes.
     */
    private static byte[] hello(int suite, int... schemes) {
        ByteArrayOutputStream ext = new ByteArrayOutputStream();
        u16(ext, 13);
        if (schemes.length == 0) {
            u16(ext, 256); // claims what is not there
        } else {
            u16(ext, 2 + 2 * schemes.length);
            u16(ext, 2 * schemes.length);
            for (int s : schemes) {
                u16(ext, s);
            }
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        u16(body, 0x0303);
        body.writeBytes(new byte[32]); // random
        body.write(0); // session id
        u16(body, 2);
        u16(body, suite);
        body.write(1); // compression methods
        body.write(0);
        u16(body, ext.size());
        body.writeBytes(ext.toByteArray());
        ByteArrayOutputStream record = new ByteArrayOutputStream();
        record.write(22);
        u16(record, 0x0301);
        u16(record, 4 + body.size());
        record.write(1); // ClientHello
        record.write(0);
        u16(record, body.size());
        record.writeBytes(body.toByteArray());
        return record.toByteArray();
    }

    private static ByteBuffer buffered(byte[] hello, byte[] after) {
        return ByteBuffer.allocate(hello.length + after.length + 64).put(hello).put(after); // write mode, as netIn
    }

    private static void u16(ByteArrayOutputStream out, int value) {
        out.write(value >> 8);
        out.write(value);
    }
}
