package org.wharf.protocol.proxy.internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * What a connection's first bytes say before anything is decrypted: whether they begin a TLS
 * ClientHello (RFC 8446 4.1.2, RFC 5246 7.4.1.2), and if so the server name it asks for (SNI,
 * RFC 6066 3) and the application protocols it offers (ALPN, RFC 7301). Read from a copy of
 * the bytes; the bytes themselves go on untouched.
 */
final class ClientHello {

    /** The most bytes read to find the ClientHello: one full record of handshake data and its header. */
    static final int MAX_BYTES = 5 + 16384;

    /** What the bytes so far say. */
    enum Kind {
        /** Not enough bytes yet to tell. */
        MORE,
        /** Not TLS: the first byte does not begin a handshake record. */
        PLAIN,
        /** A ClientHello, read. */
        TLS,
        /** A handshake record that is not a well-formed ClientHello (or longer than {@link #MAX_BYTES}). */
        MALFORMED
    }

    final Kind kind;
    /** The SNI host name, lower case; null if none was sent. */
    final String serverName;
    final List<String> applicationProtocols;

    private ClientHello(Kind kind, String serverName, List<String> applicationProtocols) {
        this.kind = kind;
        this.serverName = serverName;
        this.applicationProtocols = applicationProtocols;
    }

    private static final ClientHello MORE = new ClientHello(Kind.MORE, null, List.of());
    private static final ClientHello PLAIN = new ClientHello(Kind.PLAIN, null, List.of());
    private static final ClientHello MALFORMED = new ClientHello(Kind.MALFORMED, null, List.of());

    /**
     * Reads the first bytes of a connection at once (a {@link Reader} of {@link #MAX_BYTES}).
     *
     * @param in the bytes so far, from position (not moved)
     * @return what they say
     */
    static ClientHello read(ByteBuffer in) {
        return new Reader(MAX_BYTES).read(in);
    }

    /**
     * Reads a connection's first bytes as they come: each call is given all the bytes so far
     * and goes on where the last one stopped, so every byte is examined once however the
     * client splits them (a client sending one byte at a time costs no more than one sending
     * them at once). Used on one event loop.
     */
    static final class Reader {

        private final int maxBytes;
        /** The handshake bytes gathered from the records so far. */
        private byte[] handshake = new byte[512];
        private int gathered;
        /** Where the record being read starts, in the connection's bytes. */
        private int at;
        /** How many bytes of that record's body are gathered. */
        private int taken;
        /** The ClientHello's length with its 4-byte header, once known; else -1. */
        private int needed = -1;
        /** Bytes copied so far, for tests. */
        private long copied;

        /**
         * @param maxBytes the most bytes read to find the ClientHello (records and their headers);
         *        beyond it the bytes are {@link Kind#MALFORMED}
         */
        Reader(int maxBytes) {
            this.maxBytes = maxBytes;
        }

        /**
         * @param in every byte the connection sent so far, from position (not moved): the bytes
         *        of the last call and those that came since
         * @return what they say
         */
        ClientHello read(ByteBuffer in) {
            ByteBuffer b = in.slice();
            if (!b.hasRemaining()) {
                return MORE;
            }
            if (b.get(0) != 22) {
                return PLAIN;
            }
            while (true) {
                if (b.remaining() - at < 5) {
                    return b.remaining() >= maxBytes ? MALFORMED : MORE;
                }
                if (b.get(at) != 22 || b.get(at + 1) != 3) {
                    return MALFORMED;
                }
                int length = b.getShort(at + 3) & 0xffff;
                if (length == 0 || length > 16384) {
                    return MALFORMED;
                }
                int available = Math.min(length, b.remaining() - at - 5);
                if (available > taken) {
                    int n = available - taken;
                    if (at + 5 + available > maxBytes) {
                        return MALFORMED; // more than maxBytes of records
                    }
                    if (gathered + n > handshake.length) {
                        handshake = java.util.Arrays.copyOf(handshake, Math.max(gathered + n, 2 * handshake.length));
                    }
                    b.get(at + 5 + taken, handshake, gathered, n);
                    gathered += n;
                    taken = available;
                    copied += n;
                }
                if (needed < 0 && gathered >= 4) {
                    if (handshake[0] != 1) {
                        return MALFORMED; // the first handshake message of a client is its ClientHello
                    }
                    needed = 4 + ((handshake[1] & 0xff) << 16 | (handshake[2] & 0xff) << 8 | handshake[3] & 0xff);
                    if (needed > maxBytes) {
                        return MALFORMED;
                    }
                }
                if (needed >= 0 && gathered >= needed) {
                    break;
                }
                if (available < length) {
                    return MORE; // the record is not complete yet
                }
                at += 5 + length;
                taken = 0;
            }
            try {
                return parse(ByteBuffer.wrap(handshake, 4, needed - 4).slice());
            } catch (IndexOutOfBoundsException | IllegalArgumentException | java.nio.BufferUnderflowException e) {
                return MALFORMED; // a length that overruns what holds it
            }
        }

        /** @return the bytes copied out of the connection's bytes so far */
        long copied() {
            return copied;
        }
    }

    private static ClientHello parse(ByteBuffer hello) {
        hello.position(2 + 32); // version, random
        skip(hello, hello.get() & 0xff); // session id
        skip(hello, hello.getShort() & 0xffff); // cipher suites
        skip(hello, hello.get() & 0xff); // compression methods
        String name = null;
        List<String> alpn = new ArrayList<>();
        if (hello.remaining() >= 2) {
            int end = (hello.getShort() & 0xffff) + hello.position();
            if (end > hello.limit()) {
                throw new IllegalArgumentException("extensions overrun the ClientHello");
            }
            while (hello.position() + 4 <= end) {
                int type = hello.getShort() & 0xffff;
                int length = hello.getShort() & 0xffff;
                ByteBuffer ext = hello.slice(hello.position(), length);
                skip(hello, length);
                if (type == 0) { // server_name
                    ext.getShort(); // list length
                    while (ext.remaining() >= 3) {
                        int nameType = ext.get() & 0xff;
                        byte[] n = new byte[ext.getShort() & 0xffff];
                        ext.get(n);
                        if (nameType == 0 && name == null) {
                            if (!isHostName(n)) {
                                // Routed by, and written to the access log: only a host name will do.
                                throw new IllegalArgumentException("a server name that is not a host name");
                            }
                            name = new String(n, StandardCharsets.US_ASCII).toLowerCase(java.util.Locale.ROOT);
                        }
                    }
                } else if (type == 16) { // application_layer_protocol_negotiation
                    ext.getShort(); // list length
                    while (ext.hasRemaining()) {
                        byte[] p = new byte[ext.get() & 0xff];
                        ext.get(p);
                        alpn.add(new String(p, StandardCharsets.US_ASCII));
                    }
                }
            }
        }
        return new ClientHello(Kind.TLS, name, List.copyOf(alpn));
    }

    /** Letters, digits, hyphens, underscores and dots, 1 to 253 of them (RFC 6066 3: a DNS host name). */
    private static boolean isHostName(byte[] name) {
        if (name.length == 0 || name.length > 253) {
            return false;
        }
        for (byte c : name) {
            boolean ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.'
                    || c == '_';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static void skip(ByteBuffer b, int n) {
        b.position(b.position() + n);
    }
}
