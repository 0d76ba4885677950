package org.wharf.bench;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;

import org.junit.jupiter.api.Test;

/**
 * The driver reads resumption off the wire: whether a ClientHello offers a session and a
 * ServerHello accepts it ({@code pre_shared_key}), however the bytes are cut into records and
 * reads, past a HelloRetryRequest, and refusing a stream that is not a TLS handshake.
 */
class HelloWatchTest {

    private static final int KEY_SHARE = 51;
    private static final int SUPPORTED_VERSIONS = 43;

    @Test
    void aClientHelloOffersASessionOnlyWithPreSharedKey() {
        HelloWatch offering = HelloWatch.clientHello();
        offering.feed(record(22, clientHello(SUPPORTED_VERSIONS, KEY_SHARE, HelloWatch.PRE_SHARED_KEY)));
        assertTrue(offering.preSharedKey());
        HelloWatch fresh = HelloWatch.clientHello();
        fresh.feed(record(22, clientHello(SUPPORTED_VERSIONS, KEY_SHARE)));
        assertTrue(fresh.seen());
        assertFalse(fresh.preSharedKey());
    }

    @Test
    void aServerHelloSplitAcrossRecordsAndReadsIsReadWhole() {
        byte[] hello = serverHello(random(7), SUPPORTED_VERSIONS, KEY_SHARE, HelloWatch.PRE_SHARED_KEY);
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        stream.writeBytes(record(22, java.util.Arrays.copyOfRange(hello, 0, 10)).array());
        stream.writeBytes(record(22, java.util.Arrays.copyOfRange(hello, 10, hello.length)).array());
        stream.writeBytes(record(23, new byte[40]).array()); // the encrypted rest of the flight
        HelloWatch watch = HelloWatch.serverHello();
        for (byte b : stream.toByteArray()) {
            assertFalse(watch.seen(), "seen before its last byte");
            watch.feed(ByteBuffer.wrap(new byte[] {b}));
            if (watch.seen()) {
                break;
            }
        }
        assertTrue(watch.preSharedKey());
    }

    @Test
    void aHelloRetryRequestIsSkippedAndTheServerHelloAfterItDecides() {
        HelloWatch watch = HelloWatch.serverHello();
        ByteBuffer retry = record(22, serverHello(HelloWatch.HELLO_RETRY_RANDOM, SUPPORTED_VERSIONS, KEY_SHARE));
        watch.feed(retry);
        assertFalse(watch.seen(), "a HelloRetryRequest is not the ServerHello");
        watch.feed(record(20, new byte[] {1})); // change_cipher_spec, for middleboxes
        watch.feed(record(22, serverHello(random(3), SUPPORTED_VERSIONS, KEY_SHARE, HelloWatch.PRE_SHARED_KEY)));
        assertTrue(watch.preSharedKey());
        assertTrue(retry.hasRemaining(), "feeding leaves the buffer as it was");
    }

    @Test
    void aStreamThatIsNotAHandshakeIsNamedNotGuessed() {
        HelloWatch watch = HelloWatch.serverHello();
        watch.feed(record(23, new byte[16]));
        assertTrue(watch.done());
        IllegalStateException e = assertThrows(IllegalStateException.class, watch::preSharedKey);
        assertTrue(e.getMessage().contains("type 23"), e.getMessage());
        HelloWatch truncated = HelloWatch.clientHello();
        truncated.feed(record(22, new byte[] {1, 0, 0, 2, 3, 3}));
        IllegalStateException malformed = assertThrows(IllegalStateException.class, truncated::preSharedKey);
        assertTrue(malformed.getMessage().contains("malformed ClientHello"), malformed.getMessage());
        assertThrows(IllegalStateException.class, HelloWatch.clientHello()::preSharedKey, "nothing seen yet");
    }

    @Test
    void theJdksOwnFirstClientHelloOffersNoSession() throws Exception {
        SSLContext context = SSLContext.getInstance("TLSv1.3");
        context.init(null, null, null);
        SSLEngine engine = context.createSSLEngine("127.0.0.1", 443);
        engine.setUseClientMode(true);
        ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        SSLEngineResult result = engine.wrap(ByteBuffer.allocate(0), out);
        assertTrue(result.bytesProduced() > 0);
        HelloWatch watch = HelloWatch.clientHello();
        watch.feed(out.flip());
        assertFalse(watch.preSharedKey(), "no session cached for that server yet");
    }

    /** A record of a type around a payload. */
    private static ByteBuffer record(int type, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(5 + payload.length);
        b.put((byte) type).putShort((short) 0x0303).putShort((short) payload.length).put(payload);
        return b.flip();
    }

    private static byte[] clientHello(int... extensions) {
        ByteBuffer body = ByteBuffer.allocate(512);
        body.putShort((short) 0x0303).put(random(1));
        body.put((byte) 32).put(new byte[32]); // legacy_session_id
        body.putShort((short) 2).putShort((short) 0x1301); // cipher_suites
        body.put((byte) 1).put((byte) 0); // compression
        extensions(body, extensions);
        return message(HelloWatch.CLIENT_HELLO, body);
    }

    private static byte[] serverHello(byte[] random, int... extensions) {
        ByteBuffer body = ByteBuffer.allocate(512);
        body.putShort((short) 0x0303).put(random);
        body.put((byte) 32).put(new byte[32]);
        body.putShort((short) 0x1301).put((byte) 0);
        extensions(body, extensions);
        return message(HelloWatch.SERVER_HELLO, body);
    }

    /** Each extension with a 2-byte body, lengths included. */
    private static void extensions(ByteBuffer body, int... types) {
        body.putShort((short) (types.length * 6));
        for (int type : types) {
            body.putShort((short) type).putShort((short) 2).putShort((short) 0x0304);
        }
    }

    private static byte[] message(int type, ByteBuffer body) {
        body.flip();
        byte[] m = new byte[4 + body.remaining()];
        m[0] = (byte) type;
        m[1] = (byte) (body.remaining() >>> 16);
        m[2] = (byte) (body.remaining() >>> 8);
        m[3] = (byte) body.remaining();
        body.get(m, 4, body.remaining());
        return m;
    }

    private static byte[] random(int seed) {
        byte[] r = new byte[32];
        java.util.Arrays.fill(r, (byte) seed);
        return r;
    }
}
