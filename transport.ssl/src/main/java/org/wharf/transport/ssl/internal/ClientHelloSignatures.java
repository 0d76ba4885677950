package org.wharf.transport.ssl.internal;

import java.nio.ByteBuffer;
import java.util.Set;

/**
 * The signature algorithms a client offered, read from its ClientHello, for engines that do
 * not tell their key manager. Conscrypt 2.5 asks the key manager for an RSA and an EC
 * certificate in turn and keeps the last one it gets, whatever the client can verify; told the
 * client's preference, the key manager answers for one key type only.
 */
public final class ClientHelloSignatures {

    /** TLS 1.2 suites that need an ECDSA certificate (ECDHE_ECDSA with AES-GCM, ChaCha20, AES-CBC). */
    private static final Set<Integer> ECDSA_SUITES = Set.of(0xC02B, 0xC02C, 0xCCA9, 0xC009, 0xC00A, 0xC023, 0xC024);
    /** TLS 1.2 suites that need an RSA certificate (ECDHE_RSA, DHE_RSA and RSA key exchange). */
    private static final Set<Integer> RSA_SUITES = Set.of(0xC02F, 0xC030, 0xCCA8, 0xC013, 0xC014, 0xC027, 0xC028,
            0x009C, 0x009D, 0x009E, 0x009F, 0xCCAA, 0x002F, 0x0035, 0x003C, 0x003D);

    /** Set around the engine's unwrap on the thread that runs it: the key manager is called inside. */
    private static final ThreadLocal<String> PREFERRED = new ThreadLocal<>();

    private ClientHelloSignatures() {
    }

    /**
     * Reads the ClientHello at the start of {@code input} (write mode, unchanged), at once.
     *
     * @param input buffered bytes from the client, position at their end
     * @param tls13 whether the server may speak TLS 1.3 (else only the client's TLS 1.2 suites count)
     * @return as {@link Gatherer#offer(ByteBuffer)}
     */
    static String read(ByteBuffer input, boolean tls13) {
        return new Gatherer(tls13).offer(input);
    }

    /**
     * Gathers a connection's ClientHello from its handshake records as they come, one record
     * or many (a client may split its hello), while the engine consumes them: the records a
     * call saw are remembered, so each is read once, and the engine's consumption moves that
     * mark back ({@link #consumed(int)}). Used by one connection on its loop.
     */
    static final class Gatherer {

        /** The most handshake bytes gathered (twice a record); a longer hello is read as offering nothing. */
        private static final int MAX_HELLO = 1 << 15;

        private final boolean tls13;
        private byte[] hello = new byte[0];
        private int gathered;
        /** Bytes at the start of the buffer already gathered (whole records). */
        private int seen;

        /** @param tls13 whether the server may speak TLS 1.3 */
        Gatherer(boolean tls13) {
            this.tls13 = tls13;
        }

        /**
         * Reads the records the buffer holds beyond those seen.
         *
         * @param input buffered bytes from the client, position at their end (unchanged)
         * @return the key type of the first ECDSA or RSA signature scheme the client offers
         *         ({@code EC} or {@code RSA}), {@code ""} if none or not a ClientHello, or null
         *         if the hello is not complete yet (offer again with more)
         */
        String offer(ByteBuffer input) {
            int end = input.position();
            int p = seen;
            while (end - p >= 5) {
                if (input.get(p) != 22) {
                    return ""; // not a handshake record: the engine will say what is wrong
                }
                int length = u16(input, p + 3);
                if (end - p - 5 < length) {
                    break; // the record is not complete yet
                }
                if (gathered + length > MAX_HELLO) {
                    return "";
                }
                if (gathered + length > hello.length) {
                    hello = java.util.Arrays.copyOf(hello, Math.min(MAX_HELLO, Math.max(gathered + length,
                            Math.max(512, 2 * hello.length))));
                }
                input.get(p + 5, hello, gathered, length);
                gathered += length;
                p += 5 + length;
                seen = p;
                if (gathered >= 4) {
                    int needed = 4 + (((hello[1] & 0xff) << 16) | ((hello[2] & 0xff) << 8) | (hello[3] & 0xff));
                    if (hello[0] != 1 || needed > MAX_HELLO) {
                        return ""; // not a ClientHello, or one longer than is read
                    }
                    if (gathered >= needed) {
                        String type = preferredKeyType(ByteBuffer.wrap(hello, 0, needed).slice(), tls13);
                        return type == null ? "" : type;
                    }
                }
            }
            return null;
        }

        /**
         * The engine consumed bytes from the start of the buffer (which is then compacted).
         *
         * @param bytes how many
         */
        void consumed(int bytes) {
            seen = Math.max(0, seen - bytes);
        }
    }

    /**
     * The key type ({@code EC} or {@code RSA}) the client of the handshake this thread runs
     * prefers to verify, if known.
     *
     * @return the key type, or null
     */
    public static String preferredKeyType() {
        return PREFERRED.get();
    }

    static void set(String keyType) {
        PREFERRED.set(keyType);
    }

    static void clear() {
        PREFERRED.remove();
    }

    /** The signature_algorithms extension of a whole ClientHello (from its handshake header on), or null if absent. */
    private static String preferredKeyType(ByteBuffer b, boolean serverTls13) {
        try {
            int p = 0;
            int helloEnd = b.limit();
            p += 4 + 2 + 32; // header, version, random
            p += 1 + (b.get(p) & 0xff); // session id
            int suitesEnd = Math.min(helloEnd, p + 2 + u16(b, p));
            boolean tls13 = false;
            boolean ecdsa = false;
            boolean rsa = false;
            for (int q = p + 2; q + 2 <= suitesEnd; q += 2) {
                int suite = u16(b, q);
                tls13 |= serverTls13 && suite >> 8 == 0x13; // TLS 1.3 only if both sides may speak it
                ecdsa |= ECDSA_SUITES.contains(suite);
                rsa |= RSA_SUITES.contains(suite);
            }
            p = suitesEnd;
            p += 1 + (b.get(p) & 0xff); // compression methods
            int extensionsEnd = Math.min(helloEnd, p + 2 + u16(b, p));
            p += 2;
            while (p + 4 <= extensionsEnd) {
                int type = u16(b, p);
                int length = u16(b, p + 2);
                p += 4;
                if (type == 13) { // signature_algorithms
                    // Bounded by the extension, and it by the extensions and the hello: never the
                    // bytes that follow the ClientHello in the buffer.
                    int listEnd = Math.min(Math.min(p + 2 + u16(b, p), p + length), extensionsEnd);
                    for (int q = p + 2; q + 2 <= listEnd; q += 2) {
                        int scheme = u16(b, q);
                        int hash = scheme >> 8;
                        int signature = scheme & 0xff;
                        String keyType = hash >= 2 && hash <= 6 && signature == 3 ? "EC" // ecdsa_*
                                : hash >= 2 && hash <= 6 && signature == 1 || scheme >= 0x0804 && scheme <= 0x0806
                                        ? "RSA" : null; // rsa_pkcs1_*, rsa_pss_rsae_*
                        if (keyType != null) {
                            // TLS 1.2 only: the suites name the key type too; one the client cannot use is no choice.
                            if (!tls13 && keyType.equals("EC") && !ecdsa && rsa) {
                                return "RSA";
                            }
                            if (!tls13 && keyType.equals("RSA") && !rsa && ecdsa) {
                                return "EC";
                            }
                            return keyType;
                        }
                    }
                    return null;
                }
                p += length;
            }
        } catch (IndexOutOfBoundsException e) {
            // a ClientHello cut short or malformed: the engine will say so
        }
        return null;
    }

    private static int u16(ByteBuffer b, int i) {
        return ((b.get(i) & 0xff) << 8) | (b.get(i + 1) & 0xff);
    }

}
