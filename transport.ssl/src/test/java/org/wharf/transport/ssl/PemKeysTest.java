package org.wharf.transport.ssl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.wharf.transport.api.Listener;
import org.wharf.transport.api.TlsOptions;

/**
 * The private keys users have, each made by the real {@code openssl} in the form it writes
 * them, read by {@link TlsContextBuilder} and then serving a handshake to
 * {@code openssl s_client}; and the failures: wrong or missing password, forms not read.
 */
class PemKeysTest {

    private static final String PASSWORD = "s3cret-pass";

    private static TestPki pki;
    private static TlsFixture fixture;

    @BeforeAll
    static void makeKeys() throws Exception {
        pki = TestPki.create();
        fixture = new TlsFixture(pki);
        String in = "pass:" + PASSWORD;
        // RSA: a legacy-encrypted key as 'openssl genrsa -aes256 -traditional' writes it, its
        // certificate, and the same key in the other forms.
        openssl("genrsa", "-aes256", "-traditional", "-passout", in, "-out", "rsa-legacy-aes256.key", "2048");
        openssl("req", "-x509", "-key", "rsa-legacy-aes256.key", "-passin", in, "-subj", "/CN=localhost", "-addext",
                "subjectAltName=DNS:localhost,IP:127.0.0.1", "-days", "3", "-out", "rsa.pem");
        for (String cipher : new String[] {"aes128", "aes192", "des3"}) {
            openssl("rsa", "-in", "rsa-legacy-aes256.key", "-passin", in, "-" + cipher, "-traditional", "-passout", in,
                    "-out", "rsa-legacy-" + cipher + ".key");
        }
        openssl("rsa", "-in", "rsa-legacy-aes256.key", "-passin", in, "-out", "rsa-pkcs8.key");
        openssl("rsa", "-in", "rsa-legacy-aes256.key", "-passin", in, "-traditional", "-out", "rsa-pkcs1.key");
        openssl("rsa", "-in", "rsa-legacy-aes256.key", "-passin", in, "-camellia256", "-traditional", "-passout", in,
                "-out", "rsa-legacy-camellia256.key");
        pbes2("rsa-pkcs8.key", "rsa-pbes2-aes256-sha256.key", "aes-256-cbc", "hmacWithSHA256");
        pbes2("rsa-pkcs8.key", "rsa-pbes2-aes256-sha1.key", "aes-256-cbc", "hmacWithSHA1");
        pbes2("rsa-pkcs8.key", "rsa-pbes2-aes128-sha512.key", "aes-128-cbc", "hmacWithSHA512");
        pbes2("rsa-pkcs8.key", "rsa-pbes2-aes192-sha256.key", "aes-192-cbc", "hmacWithSHA256");
        pbes2("rsa-pkcs8.key", "rsa-pbes2-des3-sha256.key", "des3", "hmacWithSHA256");
        openssl("pkcs8", "-topk8", "-in", "rsa-pkcs8.key", "-v1", "PBE-SHA1-3DES", "-passout", in, "-out",
                "rsa-pbes1-sha1-3des.key");
        openssl("pkcs8", "-topk8", "-in", "rsa-pkcs8.key", "-scrypt", "-passout", in, "-out", "rsa-scrypt.key");
        // EC: 'openssl ecparam -genkey' writes EC PARAMETERS then a SEC1 key; 'openssl ec' a SEC1 key
        // with its curve inside, plain or encrypted.
        openssl("ecparam", "-genkey", "-name", "prime256v1", "-out", "ec-ecparam.key");
        openssl("req", "-x509", "-key", "ec-ecparam.key", "-subj", "/CN=localhost", "-addext",
                "subjectAltName=DNS:localhost,IP:127.0.0.1", "-days", "3", "-out", "ec.pem");
        openssl("ec", "-in", "ec-ecparam.key", "-out", "ec-sec1.key");
        openssl("ec", "-in", "ec-ecparam.key", "-no_public", "-out", "ec-sec1-nopublic.key");
        openssl("ec", "-in", "ec-ecparam.key", "-aes256", "-passout", in, "-out", "ec-sec1-aes256.key");
        openssl("ec", "-in", "ec-ecparam.key", "-des3", "-passout", in, "-out", "ec-sec1-des3.key");
        openssl("pkcs8", "-topk8", "-in", "ec-ecparam.key", "-v2", "aes-256-cbc", "-passout", in, "-out",
                "ec-pbes2-aes256.key");
        // Forms not read: DSA.
        openssl("genpkey", "-genparam", "-algorithm", "DSA", "-pkeyopt", "dsa_paramgen_bits:2048", "-out", "dsa.params");
        openssl("genpkey", "-paramfile", "dsa.params", "-out", "dsa-pkcs8.key");
        openssl("pkey", "-in", "dsa-pkcs8.key", "-traditional", "-out", "dsa-traditional.key");
    }

    @AfterAll
    static void stop() throws Exception {
        fixture.close();
    }

    private static void pbes2(String from, String to, String cipher, String prf) throws Exception {
        openssl("pkcs8", "-topk8", "-in", from, "-v2", cipher, "-v2prf", prf, "-passout", "pass:" + PASSWORD, "-out", to);
    }

    private static void openssl(String... args) throws Exception {
        OpenSsl.Result r = OpenSsl.run(pki.dir, new byte[0], args);
        assertEquals(0, r.exit(), "openssl " + String.join(" ", args) + ": " + r.err());
    }

    @ParameterizedTest(name = "{0} ({2})")
    @CsvSource({
        "rsa-legacy-aes256.key, rsa.pem, DEK-Info: AES-256-CBC",
        "rsa-legacy-aes192.key, rsa.pem, DEK-Info: AES-192-CBC",
        "rsa-legacy-aes128.key, rsa.pem, DEK-Info: AES-128-CBC",
        "rsa-legacy-des3.key, rsa.pem, DEK-Info: DES-EDE3-CBC",
        "ec-sec1-aes256.key, ec.pem, DEK-Info: AES-256-CBC",
        "ec-sec1-des3.key, ec.pem, DEK-Info: DES-EDE3-CBC",
        "rsa-pbes2-aes256-sha256.key, rsa.pem, BEGIN ENCRYPTED PRIVATE KEY",
        "rsa-pbes2-aes256-sha1.key, rsa.pem, BEGIN ENCRYPTED PRIVATE KEY",
        "rsa-pbes2-aes128-sha512.key, rsa.pem, BEGIN ENCRYPTED PRIVATE KEY",
        "rsa-pbes2-aes192-sha256.key, rsa.pem, BEGIN ENCRYPTED PRIVATE KEY",
        "rsa-pbes2-des3-sha256.key, rsa.pem, BEGIN ENCRYPTED PRIVATE KEY",
        "rsa-pbes1-sha1-3des.key, rsa.pem, BEGIN ENCRYPTED PRIVATE KEY",
        "ec-pbes2-aes256.key, ec.pem, BEGIN ENCRYPTED PRIVATE KEY",
    })
    void anEncryptedKeyLoadsWithItsPasswordAndServesOpensslClient(String key, String certificate, String form)
            throws Exception {
        assertTrue(Files.readString(pki.file(key)).contains(form), key + " is in the form under test");
        servesAHandshake(TlsContextBuilder.create().certificate(pki.file(certificate), pki.file(key),
                PASSWORD.toCharArray()), certificate);
    }

    @ParameterizedTest(name = "{0} ({2})")
    @CsvSource({
        "ec-ecparam.key, ec.pem, BEGIN EC PARAMETERS",
        "ec-sec1.key, ec.pem, BEGIN EC PRIVATE KEY",
        "ec-sec1-nopublic.key, ec.pem, BEGIN EC PRIVATE KEY",
        "rsa-pkcs1.key, rsa.pem, BEGIN RSA PRIVATE KEY",
        "rsa-pkcs8.key, rsa.pem, BEGIN PRIVATE KEY",
    })
    void aPlainKeyLoadsAndServesOpensslClient(String key, String certificate, String form) throws Exception {
        assertTrue(Files.readString(pki.file(key)).contains(form), key + " is in the form under test");
        servesAHandshake(TlsContextBuilder.create().certificate(pki.file(certificate), pki.file(key)), certificate);
    }

    private void servesAHandshake(TlsContextBuilder builder, String certificate) throws Exception {
        Listener listener = fixture.listen(TlsOptions.of(builder.build()), () -> new TlsFixture.Echo(6),
                new LinkedBlockingQueue<>());
        try {
            for (String version : new String[] {"-tls1_2", "-tls1_3"}) {
                OpenSsl.Result r = OpenSsl.run(pki.dir, "hello\n".getBytes(StandardCharsets.US_ASCII), "s_client",
                        "-connect", "127.0.0.1:" + listener.localAddress().getPort(), version, "-CAfile", certificate,
                        "-verify_return_error", "-verify_hostname", "localhost", "-quiet", "-nocommands");
                assertEquals(0, r.exit(), version + ": " + r.err());
                assertEquals("hello\n", r.text(), version);
            }
        } finally {
            listener.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"rsa-legacy-aes256.key", "rsa-legacy-des3.key", "ec-sec1-aes256.key", "rsa-pbes2-aes256-sha256.key",
        "rsa-pbes2-aes192-sha256.key", "rsa-pbes1-sha1-3des.key", "ec-pbes2-aes256.key"})
    void aWrongPasswordSaysSoAndNamesTheFile(String key) {
        // Many wrong passwords: one in about 256 decrypts to valid padding, which must not pass as a key either.
        List<String> messages = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TlsContextBuilder.create()
                    .certificate(pki.file("rsa.pem"), pki.file(key), ("wrong" + messages.size()).toCharArray()).build());
            messages.add(e.getMessage());
        }
        for (String message : messages) {
            assertTrue(message.startsWith("wrong password for " + pki.file(key)), message);
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"rsa-legacy-aes256.key", "ec-sec1-aes256.key", "rsa-pbes2-aes256-sha256.key"})
    void anEncryptedKeyWithoutPasswordAsksForIt(String key) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TlsContextBuilder.create().certificate(pki.file("rsa.pem"), pki.file(key)).build());
        assertTrue(e.getMessage().contains(pki.file(key).toString()) && e.getMessage().contains("is encrypted")
                && e.getMessage().contains("password"), e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "rsa-scrypt.key, scrypt",
        "rsa-legacy-camellia256.key, CAMELLIA-256-CBC",
        "dsa-pkcs8.key, DSA",
        "dsa-traditional.key, DSA",
    })
    void aFormItCannotReadIsNamedWithTheFile(String key, String form) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TlsContextBuilder.create()
                .certificate(pki.file("rsa.pem"), pki.file(key), PASSWORD.toCharArray()).build());
        assertTrue(e.getMessage().contains(pki.file(key).toString()) && e.getMessage().contains(form)
                && e.getMessage().contains("not supported"), e.getMessage());
    }

    @Test
    void aCertificateFileGivenAsKeySaysWhatItHolds() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TlsContextBuilder.create().certificate(pki.file("rsa.pem"), pki.file("rsa.pem")).build());
        assertTrue(e.getMessage().startsWith("no private key in " + pki.file("rsa.pem"))
                && e.getMessage().contains("CERTIFICATE"), e.getMessage());
    }
}
