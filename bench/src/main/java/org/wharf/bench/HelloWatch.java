package org.wharf.bench;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Reads the TLS records one side of a connection sends until its hello (ClientHello or
 * ServerHello, which TLS 1.3 still sends in clear), and tells whether that hello carries the
 * {@code pre_shared_key} extension: in a ClientHello, the client offers to resume a session
 * (it holds a ticket); in a ServerHello, the server accepted, so the handshake is a resumed
 * one. This is how the driver checks resumption on the wire, whatever each server's engine,
 * rather than trusting an API that differs between them. A HelloRetryRequest (a ServerHello
 * with its special random) is skipped: the ServerHello after it decides.
 */
final class HelloWatch {

    /** Handshake message types. */
    static final int CLIENT_HELLO = 1;
    static final int SERVER_HELLO = 2;

    /** The extension a resumed TLS 1.3 handshake carries (RFC 8446, 4.2.11). */
    static final int PRE_SHARED_KEY = 41;

    private static final int HANDSHAKE_RECORD = 22;
    private static final int CHANGE_CIPHER_SPEC_RECORD = 20;

    /** SHA-256("HelloRetryRequest"): the random of a ServerHello that is a HelloRetryRequest (RFC 8446, 4.1.3). */
    static final byte[] HELLO_RETRY_RANDOM = hex(
            "CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C");

    private final int wanted;
    /** Stream bytes not yet parsed into whole records. */
    private final ByteArrayOutputStream pendingRecords = new ByteArrayOutputStream();
    /** Handshake-record payloads not yet parsed into whole messages. */
    private final ByteArrayOutputStream pendingMessages = new ByteArrayOutputStream();
    private Boolean preSharedKey;
    private String failure;

    /**
     * @param wanted {@link #CLIENT_HELLO} or {@link #SERVER_HELLO}
     */
    HelloWatch(int wanted) {
        if (wanted != CLIENT_HELLO && wanted != SERVER_HELLO) {
            throw new IllegalArgumentException("wanted = " + wanted + ": a ClientHello (1) or a ServerHello (2)");
        }
        this.wanted = wanted;
    }

    /** @return a watch on the bytes a client sends */
    static HelloWatch clientHello() {
        return new HelloWatch(CLIENT_HELLO);
    }

    /** @return a watch on the bytes a server sends */
    static HelloWatch serverHello() {
        return new HelloWatch(SERVER_HELLO);
    }

    /**
     * Takes the next bytes of the stream, from {@code bytes}' position to its limit, without
     * moving either. Does nothing once the hello was seen, or something else was found first.
     *
     * @param bytes the bytes sent, in order, as they come
     */
    void feed(ByteBuffer bytes) {
        if (done()) {
            return;
        }
        ByteBuffer view = bytes.duplicate();
        byte[] copy = new byte[view.remaining()];
        view.get(copy);
        pendingRecords.writeBytes(copy);
        parseRecords();
    }

    /** @return whether the hello was seen (or the stream could not be read as TLS) */
    boolean done() {
        return preSharedKey != null || failure != null;
    }

    /** @return whether the hello was seen */
    boolean seen() {
        return preSharedKey != null;
    }

    /**
     * @return whether the hello carried {@code pre_shared_key}
     * @throws IllegalStateException if the hello was not seen, saying what was seen instead
     */
    boolean preSharedKey() {
        if (preSharedKey == null) {
            throw new IllegalStateException(failure != null ? failure
                    : "no " + (wanted == CLIENT_HELLO ? "ClientHello" : "ServerHello") + " seen yet");
        }
        return preSharedKey;
    }

    private void parseRecords() {
        byte[] all = pendingRecords.toByteArray();
        int at = 0;
        while (!done() && all.length - at >= 5) {
            int type = all[at] & 0xff;
            int length = ((all[at + 3] & 0xff) << 8) | (all[at + 4] & 0xff);
            if (all.length - at - 5 < length) {
                break;
            }
            if (type == HANDSHAKE_RECORD) {
                pendingMessages.write(all, at + 5, length);
                parseMessages();
            } else if (type != CHANGE_CIPHER_SPEC_RECORD) {
                failure = "a record of type " + type + " before the " + name() + " (not a TLS stream?)";
            }
            at += 5 + length;
        }
        pendingRecords.reset();
        if (!done()) {
            pendingRecords.write(all, at, all.length - at);
        }
    }

    private void parseMessages() {
        byte[] all = pendingMessages.toByteArray();
        int at = 0;
        while (!done() && all.length - at >= 4) {
            int type = all[at] & 0xff;
            int length = ((all[at + 1] & 0xff) << 16) | ((all[at + 2] & 0xff) << 8) | (all[at + 3] & 0xff);
            if (all.length - at - 4 < length) {
                break;
            }
            if (type == wanted) {
                hello(ByteBuffer.wrap(all, at + 4, length).slice());
            } else {
                failure = "a handshake message of type " + type + " before the " + name();
            }
            at += 4 + length;
        }
        pendingMessages.reset();
        if (!done()) {
            pendingMessages.write(all, at, all.length - at);
        }
    }

    /** Reads a hello's body up to its extensions, then looks for {@code pre_shared_key}. */
    private void hello(ByteBuffer body) {
        try {
            body.getShort(); // legacy_version
            byte[] random = new byte[32];
            body.get(random);
            skip(body, body.get() & 0xff); // legacy_session_id (echoed by the server)
            if (wanted == CLIENT_HELLO) {
                skip(body, body.getShort() & 0xffff); // cipher_suites
                skip(body, body.get() & 0xff); // legacy_compression_methods
            } else {
                if (Arrays.equals(random, HELLO_RETRY_RANDOM)) {
                    return; // a HelloRetryRequest: the next ServerHello decides
                }
                skip(body, 3); // cipher_suite, legacy_compression_method
            }
            boolean found = false;
            if (body.hasRemaining()) {
                int length = body.getShort() & 0xffff;
                ByteBuffer extensions = body.slice(body.position(), length);
                while (extensions.hasRemaining()) {
                    int type = extensions.getShort() & 0xffff;
                    skip(extensions, extensions.getShort() & 0xffff);
                    found |= type == PRE_SHARED_KEY;
                }
            }
            preSharedKey = found;
        } catch (RuntimeException e) { // BufferUnderflowException, IndexOutOfBoundsException
            failure = "a malformed " + name() + ": " + e;
        }
    }

    private static void skip(ByteBuffer b, int n) {
        b.position(b.position() + n);
    }

    private String name() {
        return wanted == CLIENT_HELLO ? "ClientHello" : "ServerHello";
    }

    private static byte[] hex(String hex) {
        byte[] bytes = new byte[hex.length() / 2];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
        }
        return bytes;
    }
}
