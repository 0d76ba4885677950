package org.wharf.transport.ssl;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.crypto.BadPaddingException;
import javax.crypto.Cipher;
import javax.crypto.EncryptedPrivateKeyInfo;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Reads PEM files: certificate chains, and private keys in the forms OpenSSL writes them.
 *
 * <ul>
 *   <li>PKCS#8 ({@code PRIVATE KEY}): RSA, RSASSA-PSS, EC, Ed25519, Ed448;</li>
 *   <li>PKCS#8 encrypted ({@code ENCRYPTED PRIVATE KEY}): PBES2 with PBKDF2 (HMAC-SHA1 to
 *       -SHA512) and AES-128/192/256-CBC or DES-EDE3-CBC, its parameters read from the DER
 *       here; PBES1 through the JDK;</li>
 *   <li>PKCS#1 RSA ({@code RSA PRIVATE KEY}) and SEC1 EC ({@code EC PRIVATE KEY}, with its
 *       named curve inside or in an {@code EC PARAMETERS} block before it), plain or with
 *       OpenSSL's legacy encryption ({@code Proc-Type: 4,ENCRYPTED}, {@code DEK-Info}:
 *       AES-128/192/256-CBC or DES-EDE3-CBC, key by EVP_BytesToKey with MD5).</li>
 * </ul>
 *
 * A wrong password fails with "wrong password for &lt;file&gt;"; a form it cannot read fails
 * naming the form and the file.
 */
final class Pem {

    private static final Pattern BLOCK = Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \\1-----",
            Pattern.DOTALL);

    private static final String OID_RSA = "1.2.840.113549.1.1.1";
    private static final String OID_RSASSA_PSS = "1.2.840.113549.1.1.10";
    private static final String OID_EC = "1.2.840.10045.2.1";
    private static final String OID_PBES2 = "1.2.840.113549.1.5.13";
    private static final String OID_PBKDF2 = "1.2.840.113549.1.5.12";
    private static final String OID_SCRYPT = "1.3.6.1.4.1.11591.4.11";
    private static final String OID_HMAC_SHA1 = "1.2.840.113549.2.7";

    /** PKCS#8 key algorithms, by OID, as {@link KeyFactory} names them. */
    private static final Map<String, String> KEY_ALGORITHMS = Map.of(OID_RSA, "RSA", OID_RSASSA_PSS, "RSASSA-PSS",
            OID_EC, "EC", "1.3.101.112", "Ed25519", "1.3.101.113", "Ed448");
    /** Key algorithms Wharf does not use for TLS, by OID, for the message. */
    private static final Map<String, String> OTHER_KEY_ALGORITHMS = Map.of("1.2.840.10040.4.1", "DSA",
            "1.3.101.110", "X25519", "1.3.101.111", "X448", "1.2.840.10046.2.1", "DH");
    /** PBKDF2 pseudo-random functions, by OID, as the JDK's {@code PBKDF2With...} names end. */
    private static final Map<String, String> PRFS = Map.of(OID_HMAC_SHA1, "HmacSHA1", "1.2.840.113549.2.8",
            "HmacSHA224", "1.2.840.113549.2.9", "HmacSHA256", "1.2.840.113549.2.10", "HmacSHA384",
            "1.2.840.113549.2.11", "HmacSHA512");

    /** A CBC cipher of PBES2 or of OpenSSL's legacy PEM encryption. */
    private record CbcCipher(String name, String algorithm, int keyBytes, int ivBytes) {
        String transformation() {
            return algorithm + "/CBC/PKCS5Padding";
        }
    }

    private static final Map<String, CbcCipher> PBES2_CIPHERS = Map.of(
            "2.16.840.1.101.3.4.1.2", new CbcCipher("AES-128-CBC", "AES", 16, 16),
            "2.16.840.1.101.3.4.1.22", new CbcCipher("AES-192-CBC", "AES", 24, 16),
            "2.16.840.1.101.3.4.1.42", new CbcCipher("AES-256-CBC", "AES", 32, 16),
            "1.2.840.113549.3.7", new CbcCipher("DES-EDE3-CBC", "DESede", 24, 8));
    private static final Map<String, CbcCipher> LEGACY_CIPHERS = Map.of(
            "AES-128-CBC", new CbcCipher("AES-128-CBC", "AES", 16, 16),
            "AES-192-CBC", new CbcCipher("AES-192-CBC", "AES", 24, 16),
            "AES-256-CBC", new CbcCipher("AES-256-CBC", "AES", 32, 16),
            "DES-EDE3-CBC", new CbcCipher("DES-EDE3-CBC", "DESede", 24, 8));

    /** More PBKDF2 iterations than this is a broken file, not a careful user: refused rather than spun on. */
    private static final int MAX_ITERATIONS = 10_000_000;

    /** One PEM block: its type, its RFC 1421 headers, its DER content. */
    private record Block(String type, Map<String, String> headers, byte[] der) {
    }

    /** A key file that is not what it claims to be, or not well formed. */
    private static final class Malformed extends Exception {
        private static final long serialVersionUID = 1L;

        Malformed(String message) {
            super(message);
        }
    }

    private Pem() {
    }

    static List<X509Certificate> certificates(Path file) {
        byte[] bytes = read(file);
        try {
            List<X509Certificate> chain = new ArrayList<>();
            for (var c : CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(bytes))) {
                chain.add((X509Certificate) c);
            }
            if (chain.isEmpty()) {
                throw new IllegalArgumentException("no certificate in " + file);
            }
            return chain;
        } catch (CertificateException e) {
            throw new IllegalArgumentException("cannot read certificates from " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The private key of a PEM file: its first key block.
     *
     * @param file the file
     * @param password the password of an encrypted key, or {@code null}
     * @return the key
     * @throws IllegalArgumentException naming the file: no key, an encrypted key without or with a wrong password, or a
     *         form this class cannot read (named)
     */
    static PrivateKey privateKey(Path file, char[] password) {
        String text = new String(read(file), StandardCharsets.ISO_8859_1);
        byte[] ecParameters = null;
        List<String> seen = new ArrayList<>();
        for (Block block : blocks(text, file)) {
            seen.add(block.type);
            switch (block.type) {
                case "PRIVATE KEY":
                    return pkcs8(block.der, file, "PKCS#8");
                case "ENCRYPTED PRIVATE KEY":
                    requirePassword(password, file, "encrypted PKCS#8");
                    return pkcs8(decryptPkcs8(block.der, password, file), file, "encrypted PKCS#8");
                case "RSA PRIVATE KEY":
                    return pkcs8(rsaPkcs1ToPkcs8(legacyDecrypt(block, password, file, "PKCS#1 RSA")), file, "PKCS#1 RSA");
                case "EC PRIVATE KEY":
                    return pkcs8(sec1ToPkcs8(legacyDecrypt(block, password, file, "SEC1 EC"), ecParameters, file), file,
                            "SEC1 EC");
                case "EC PARAMETERS":
                    ecParameters = block.der; // openssl ecparam -genkey writes them before the key
                    break;
                case "DSA PRIVATE KEY":
                case "OPENSSH PRIVATE KEY":
                case "SSH2 ENCRYPTED PRIVATE KEY":
                    throw new IllegalArgumentException("cannot read the private key in " + file + ": the form '"
                            + block.type + "' is not supported (RSA or EC keys as PKCS#8, PKCS#1 or SEC1 PEM are)");
                default:
                    break; // certificates or parameters beside the key
            }
        }
        throw new IllegalArgumentException("no private key in " + file + " (PEM blocks found: "
                + (seen.isEmpty() ? "none, is it DER?" : String.join(", ", seen)) + "; expected 'PRIVATE KEY', "
                + "'ENCRYPTED PRIVATE KEY', 'RSA PRIVATE KEY' or 'EC PRIVATE KEY')");
    }

    private static List<Block> blocks(String text, Path file) {
        List<Block> blocks = new ArrayList<>();
        Matcher m = BLOCK.matcher(text);
        while (m.find()) {
            String type = m.group(1);
            Map<String, String> headers = new LinkedHashMap<>();
            StringBuilder base64 = new StringBuilder();
            String lastHeader = null;
            boolean inHeaders = true;
            for (String line : m.group(2).split("\r?\n|\r")) {
                if (inHeaders && lastHeader != null && !line.isEmpty() && Character.isWhitespace(line.charAt(0))) {
                    headers.merge(lastHeader, line.trim(), (a, b) -> a + b); // an RFC 1421 continuation line
                    continue;
                }
                int colon = line.indexOf(':');
                if (inHeaders && colon > 0) {
                    lastHeader = line.substring(0, colon).trim();
                    headers.put(lastHeader, line.substring(colon + 1).trim());
                    continue;
                }
                if (!line.isBlank()) {
                    inHeaders = false;
                    base64.append(line.trim());
                }
            }
            try {
                blocks.add(new Block(type, headers, Base64.getDecoder().decode(base64.toString())));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("the PEM block '" + type + "' in " + file + " is not valid base64: "
                        + e.getMessage(), e);
            }
        }
        return blocks;
    }

    private static void requirePassword(char[] password, Path file, String form) {
        if (password == null) {
            throw new IllegalArgumentException("the private key in " + file + " is encrypted (" + form
                    + "): give its password (tls.key.password)");
        }
    }

    /** A PKCS#8 PrivateKeyInfo to a key, by the algorithm it names. */
    private static PrivateKey pkcs8(byte[] der, Path file, String form) {
        String oid;
        try {
            Der info = Der.of(der).sequence();
            info.integer(); // version
            oid = info.sequence().oid();
        } catch (Malformed e) {
            throw new IllegalArgumentException("the " + form + " private key in " + file + " is malformed: " + e.getMessage(),
                    e);
        }
        String algorithm = KEY_ALGORITHMS.get(oid);
        if (algorithm == null) {
            throw new IllegalArgumentException("cannot read the private key in " + file + ": a " + form + " key of algorithm "
                    + OTHER_KEY_ALGORITHMS.getOrDefault(oid, oid) + " is not supported (RSA, EC, Ed25519 and Ed448 keys are)");
        }
        try {
            return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot read the " + algorithm + " private key in " + file + " (" + form
                    + "): " + e.getMessage(), e);
        }
    }

    // ---- PKCS#8 encryption ----

    private static byte[] decryptPkcs8(byte[] der, char[] password, Path file) {
        String scheme;
        try {
            Der info = Der.of(der).sequence();
            Der algorithm = info.sequence();
            scheme = algorithm.oid();
            if (scheme.equals(OID_PBES2)) {
                return pbes2(algorithm.sequence(), info.octetString(), password, file);
            }
        } catch (Malformed e) {
            throw new IllegalArgumentException("the encrypted PKCS#8 private key in " + file + " is malformed: "
                    + e.getMessage(), e);
        }
        // PBES1 and PKCS#12 schemes name one JDK algorithm each: the JDK reads them.
        try {
            EncryptedPrivateKeyInfo info = new EncryptedPrivateKeyInfo(der);
            SecretKeyFactory factory = SecretKeyFactory.getInstance(info.getAlgName());
            Cipher cipher = Cipher.getInstance(info.getAlgName());
            cipher.init(Cipher.DECRYPT_MODE, factory.generateSecret(new PBEKeySpec(password)), info.getAlgParameters());
            return checkedKey(cipher.doFinal(info.getEncryptedData()), file, "encrypted PKCS#8 (" + info.getAlgName() + ")");
        } catch (BadPaddingException e) {
            throw wrongPassword(file, "encrypted PKCS#8", e);
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException("cannot read the private key in " + file + ": encrypted PKCS#8 with scheme "
                    + scheme + " is not supported (PBES2 with PBKDF2 and AES-CBC or DES-EDE3-CBC is: 'openssl pkcs8 "
                    + "-topk8 -v2 aes-256-cbc'): " + e.getMessage(), e);
        }
    }

    /** PBES2 (RFC 8018, 6.2) with PBKDF2, its parameters read from the DER. */
    private static byte[] pbes2(Der parameters, byte[] encrypted, char[] password, Path file) throws Malformed {
        Der kdf = parameters.sequence();
        String kdfOid = kdf.oid();
        if (!kdfOid.equals(OID_PBKDF2)) {
            throw unsupported(file, "encrypted PKCS#8 (PBES2 with " + (kdfOid.equals(OID_SCRYPT) ? "scrypt" : kdfOid) + ")");
        }
        Der pbkdf2 = kdf.sequence();
        if (pbkdf2.peekTag() != Der.OCTET_STRING) {
            throw unsupported(file, "encrypted PKCS#8 (PBKDF2 with a salt from another source)");
        }
        byte[] salt = pbkdf2.octetString();
        BigInteger iterations = pbkdf2.integer();
        BigInteger keyLength = pbkdf2.hasMore() && pbkdf2.peekTag() == Der.INTEGER ? pbkdf2.integer() : null;
        String prfOid = pbkdf2.hasMore() ? pbkdf2.sequence().oid() : OID_HMAC_SHA1; // DEFAULT algid-hmacWithSHA1
        Der scheme = parameters.sequence();
        String cipherOid = scheme.oid();
        CbcCipher cipher = PBES2_CIPHERS.get(cipherOid);
        String prf = PRFS.get(prfOid);
        if (cipher == null || prf == null) {
            throw unsupported(file, "encrypted PKCS#8 (PBES2 with " + (cipher == null ? "cipher " + cipherOid
                    : "PBKDF2 pseudo-random function " + prfOid) + ")");
        }
        byte[] iv = scheme.octetString();
        if (iv.length != cipher.ivBytes || iterations.signum() <= 0
                || iterations.compareTo(BigInteger.valueOf(MAX_ITERATIONS)) > 0
                || keyLength != null && keyLength.intValue() != cipher.keyBytes) {
            throw new Malformed("PBES2 parameters out of range: " + iterations + " iterations, key length " + keyLength
                    + ", " + iv.length + "-byte IV for " + cipher.name);
        }
        String form = "encrypted PKCS#8 (PBES2, PBKDF2-" + prf + ", " + cipher.name + ")";
        byte[] key;
        try {
            key = SecretKeyFactory.getInstance("PBKDF2With" + prf)
                    .generateSecret(new PBEKeySpec(password, salt, iterations.intValue(), cipher.keyBytes * 8)).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot read the private key in " + file + ": " + form
                    + " is not available on this JVM: " + e.getMessage(), e);
        }
        return checkedKey(decryptCbc(cipher, key, iv, encrypted, file, form), file, form);
    }

    // ---- OpenSSL's legacy PEM encryption ----

    /** The DER of a PKCS#1 or SEC1 block, decrypted first if its headers say it is encrypted. */
    private static byte[] legacyDecrypt(Block block, char[] password, Path file, String keyForm) {
        String procType = block.headers.get("Proc-Type");
        if (procType == null) {
            return block.der;
        }
        if (!procType.replace(" ", "").equals("4,ENCRYPTED")) {
            throw unsupported(file, keyForm + " with PEM header Proc-Type: " + procType);
        }
        String dekInfo = block.headers.getOrDefault("DEK-Info", "");
        int comma = dekInfo.indexOf(',');
        String name = (comma < 0 ? dekInfo : dekInfo.substring(0, comma)).trim().toUpperCase(Locale.ROOT);
        CbcCipher cipher = LEGACY_CIPHERS.get(name);
        String form = keyForm + " with legacy OpenSSL encryption (DEK-Info " + name + ")";
        if (cipher == null) {
            throw unsupported(file, form + "; AES-128/192/256-CBC and DES-EDE3-CBC are supported, or convert it with "
                    + "'openssl pkcs8 -topk8 -v2 aes-256-cbc'");
        }
        byte[] iv;
        try {
            iv = HexFormat.of().parseHex(dekInfo.substring(comma + 1).trim());
        } catch (IllegalArgumentException | StringIndexOutOfBoundsException e) {
            throw new IllegalArgumentException("the private key in " + file + " has a malformed DEK-Info header: "
                    + dekInfo, e);
        }
        if (iv.length != cipher.ivBytes) {
            throw new IllegalArgumentException("the private key in " + file + " has a malformed DEK-Info header: a "
                    + iv.length + "-byte IV for " + cipher.name);
        }
        requirePassword(password, file, form);
        // OpenSSL's EVP_BytesToKey with MD5, one round, the IV's first 8 bytes as salt.
        byte[] key = evpBytesToKey(utf8(password), Arrays.copyOf(iv, 8), cipher.keyBytes);
        return checkedDer(decryptCbc(cipher, key, iv, block.der, file, form), file, form);
    }

    /** EVP_BytesToKey (MD5, count 1): D_i = MD5(D_i-1 || password || salt), concatenated to the key's length. */
    private static byte[] evpBytesToKey(byte[] password, byte[] salt, int length) {
        try {
            MessageDigest md5 = MessageDigest.getInstance("MD5");
            ByteArrayOutputStream key = new ByteArrayOutputStream();
            byte[] previous = new byte[0];
            while (key.size() < length) {
                md5.update(previous);
                md5.update(password);
                md5.update(salt);
                previous = md5.digest();
                key.writeBytes(previous);
            }
            return Arrays.copyOf(key.toByteArray(), length);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no MD5 on this JVM, which OpenSSL's legacy key encryption needs", e);
        }
    }

    private static byte[] utf8(char[] password) {
        ByteBuffer bytes = StandardCharsets.UTF_8.encode(CharBuffer.wrap(password));
        return Arrays.copyOf(bytes.array(), bytes.limit());
    }

    private static byte[] decryptCbc(CbcCipher cipher, byte[] key, byte[] iv, byte[] encrypted, Path file, String form) {
        try {
            Cipher c = Cipher.getInstance(cipher.transformation());
            c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, cipher.algorithm), new IvParameterSpec(iv));
            return c.doFinal(encrypted);
        } catch (BadPaddingException e) {
            throw wrongPassword(file, form, e);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot decrypt the private key in " + file + " (" + form + "): "
                    + e.getMessage(), e);
        }
    }

    /** Decrypted with a wrong password, the padding comes out right about once in 256: then the DER does not. */
    private static byte[] checkedDer(byte[] der, Path file, String form) {
        try {
            Der whole = Der.of(der);
            whole.sequence();
            if (whole.hasMore()) {
                throw new Malformed("bytes after the key");
            }
            return der;
        } catch (Malformed e) {
            throw wrongPassword(file, form, e);
        }
    }

    private static byte[] checkedKey(byte[] der, Path file, String form) {
        checkedDer(der, file, form);
        try {
            Der info = Der.of(der).sequence();
            info.integer();
            info.sequence().oid();
            return der;
        } catch (Malformed e) {
            throw wrongPassword(file, form, e);
        }
    }

    private static IllegalArgumentException wrongPassword(Path file, String form, Exception cause) {
        return new IllegalArgumentException("wrong password for " + file + " (" + form + ")", cause);
    }

    private static IllegalArgumentException unsupported(Path file, String form) {
        return new IllegalArgumentException("cannot read the private key in " + file + ": " + form + " is not supported");
    }

    // ---- key forms to PKCS#8 ----

    /** Wraps a PKCS#1 RSAPrivateKey in a PKCS#8 PrivateKeyInfo. */
    private static byte[] rsaPkcs1ToPkcs8(byte[] pkcs1) {
        byte[] algorithm = Der.encode(Der.SEQUENCE, Der.concat(Der.encodeOid(OID_RSA), new byte[] {Der.NULL, 0}));
        return Der.encode(Der.SEQUENCE, Der.concat(new byte[] {Der.INTEGER, 1, 0}, algorithm,
                Der.encode(Der.OCTET_STRING, pkcs1)));
    }

    /**
     * Wraps a SEC1 ECPrivateKey (RFC 5915) in a PKCS#8 PrivateKeyInfo whose algorithm names its
     * curve: the curve from the key's own parameters, else from an {@code EC PARAMETERS} block.
     */
    private static byte[] sec1ToPkcs8(byte[] sec1, byte[] separateParameters, Path file) {
        try {
            Der key = Der.of(sec1).sequence();
            BigInteger version = key.integer();
            if (!version.equals(BigInteger.ONE)) {
                throw new Malformed("SEC1 version " + version);
            }
            byte[] privateKey = key.octetString();
            byte[] curve = null;
            byte[] publicKey = null;
            while (key.hasMore()) {
                int tag = key.peekTag();
                byte[] field = key.element(tag);
                if (tag == Der.context(0)) {
                    curve = field;
                } else if (tag == Der.context(1)) {
                    publicKey = Der.encode(tag, field);
                }
            }
            if (curve == null) {
                curve = separateParameters;
            }
            if (curve == null) {
                throw unsupported(file, "SEC1 EC key without its curve");
            }
            Der parameters = Der.of(curve);
            if (parameters.peekTag() != Der.OID) {
                throw unsupported(file, "SEC1 EC key with explicit curve parameters (use a named curve: 'openssl ec "
                        + "-param_enc named_curve')");
            }
            byte[] curveOid = Der.encode(Der.OID, parameters.element(Der.OID));
            // Inside PKCS#8 the curve is named by the algorithm: the key keeps version, secret and public point.
            byte[] inner = Der.encode(Der.SEQUENCE, Der.concat(new byte[] {Der.INTEGER, 1, 1},
                    Der.encode(Der.OCTET_STRING, privateKey), publicKey == null ? new byte[0] : publicKey));
            byte[] algorithm = Der.encode(Der.SEQUENCE, Der.concat(Der.encodeOid(OID_EC), curveOid));
            return Der.encode(Der.SEQUENCE, Der.concat(new byte[] {Der.INTEGER, 1, 0}, algorithm,
                    Der.encode(Der.OCTET_STRING, inner)));
        } catch (Malformed e) {
            throw new IllegalArgumentException("the SEC1 EC private key in " + file + " is malformed: " + e.getMessage(), e);
        }
    }

    static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e, e);
        }
    }

    /** Just enough DER (X.690) to read key structures: definite lengths, single-byte tags. */
    private static final class Der {
        static final int INTEGER = 0x02;
        static final int OCTET_STRING = 0x04;
        static final byte NULL = 0x05;
        static final int OID = 0x06;
        static final int SEQUENCE = 0x30;

        private final byte[] bytes;
        private int position;
        private final int end;

        private Der(byte[] bytes, int position, int end) {
            this.bytes = bytes;
            this.position = position;
            this.end = end;
        }

        static Der of(byte[] bytes) {
            return new Der(bytes, 0, bytes.length);
        }

        static int context(int n) {
            return 0xa0 | n;
        }

        boolean hasMore() {
            return position < end;
        }

        int peekTag() throws Malformed {
            if (position >= end) {
                throw new Malformed("DER ends early");
            }
            return bytes[position] & 0xff;
        }

        /** The content of the next element, which must have this tag. */
        byte[] element(int tag) throws Malformed {
            int start = content(tag);
            return Arrays.copyOfRange(bytes, start, position);
        }

        Der sequence() throws Malformed {
            int start = content(SEQUENCE);
            return new Der(bytes, start, position);
        }

        byte[] octetString() throws Malformed {
            return element(OCTET_STRING);
        }

        BigInteger integer() throws Malformed {
            byte[] value = element(INTEGER);
            if (value.length == 0) {
                throw new Malformed("empty INTEGER");
            }
            return new BigInteger(value);
        }

        String oid() throws Malformed {
            byte[] value = element(OID);
            if (value.length == 0) {
                throw new Malformed("empty OBJECT IDENTIFIER");
            }
            StringBuilder dotted = new StringBuilder();
            long arc = 0;
            boolean first = true;
            for (byte b : value) {
                if (arc > Long.MAX_VALUE >> 7) {
                    throw new Malformed("OBJECT IDENTIFIER arc too large");
                }
                arc = arc << 7 | (b & 0x7f);
                if ((b & 0x80) == 0) {
                    if (first) {
                        int top = (int) Math.min(arc / 40, 2);
                        dotted.append(top).append('.').append(arc - 40L * top);
                        first = false;
                    } else {
                        dotted.append('.').append(arc);
                    }
                    arc = 0;
                }
            }
            return dotted.toString();
        }

        /** Steps over the next element, which must have this tag; returns where its content starts. */
        private int content(int tag) throws Malformed {
            if (peekTag() != tag) {
                throw new Malformed(String.format("expected DER tag 0x%02x, found 0x%02x", tag, peekTag()));
            }
            int p = position + 1;
            if (p >= end) {
                throw new Malformed("DER ends early");
            }
            int first = bytes[p++] & 0xff;
            long length;
            if (first < 0x80) {
                length = first;
            } else {
                int count = first & 0x7f;
                if (count == 0 || count > 4 || p + count > end) {
                    throw new Malformed("unsupported DER length");
                }
                length = 0;
                for (int i = 0; i < count; i++) {
                    length = length << 8 | (bytes[p++] & 0xff);
                }
            }
            if (length > end - p) {
                throw new Malformed("DER element longer than its container");
            }
            position = p + (int) length;
            return p;
        }

        static byte[] encode(int tag, byte[] content) {
            int n = content.length;
            byte[] length = n < 0x80 ? new byte[] {(byte) n}
                    : n < 0x100 ? new byte[] {(byte) 0x81, (byte) n}
                    : n < 0x10000 ? new byte[] {(byte) 0x82, (byte) (n >> 8), (byte) n}
                    : new byte[] {(byte) 0x83, (byte) (n >> 16), (byte) (n >> 8), (byte) n};
            return concat(new byte[] {(byte) tag}, length, content);
        }

        static byte[] encodeOid(String dotted) {
            String[] arcs = dotted.split("\\.");
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            base128(out, Long.parseLong(arcs[0]) * 40 + Long.parseLong(arcs[1]));
            for (int i = 2; i < arcs.length; i++) {
                base128(out, Long.parseLong(arcs[i]));
            }
            return encode(OID, out.toByteArray());
        }

        private static void base128(ByteArrayOutputStream out, long value) {
            int groups = Math.max(1, (64 - Long.numberOfLeadingZeros(value) + 6) / 7);
            for (int i = groups - 1; i >= 0; i--) {
                out.write((int) (value >>> (7 * i) & 0x7f) | (i > 0 ? 0x80 : 0));
            }
        }

        static byte[] concat(byte[]... parts) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (byte[] part : parts) {
                out.writeBytes(part);
            }
            return out.toByteArray();
        }
    }
}
