package org.wharf.transport.ssl;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.wharf.transport.tck.Peers;

/**
 * A throwaway PKI made by the real {@code openssl} (and {@code keytool}) for each test run:
 * a CA, server certificates for localhost (RSA and EC), one for another host name (SNI), a
 * client certificate, an expired certificate, the same material as PKCS#12 and JKS, and an
 * encrypted key. Nothing with a private key is checked in.
 */
public final class TestPki {

    /** The password of the key stores and the encrypted key. */
    public static final String PASSWORD = "changeit";

    public final Path dir;

    private TestPki(Path dir) {
        this.dir = dir;
    }

    /**
     * Makes the PKI in a new temporary folder.
     *
     * @return the PKI
     * @throws Exception if openssl or keytool fail
     */
    public static TestPki create() throws Exception {
        TestPki pki = new TestPki(Files.createTempDirectory("wharf-pki"));
        pki.make();
        return pki;
    }

    public Path file(String name) {
        return dir.resolve(name);
    }

    private void make() throws Exception {
        write("ca.ext", "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n");
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "3",
                "-subj", "/CN=Wharf Test CA", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        leaf("server", "rsa:2048", "localhost", "DNS:localhost,IP:127.0.0.1", "serverAuth");
        leaf("server-ec", "ec", "localhost", "DNS:localhost,IP:127.0.0.1", "serverAuth");
        leaf("other", "rsa:2048", "other.test", "DNS:other.test,DNS:*.wild.test", "serverAuth");
        leaf("client", "rsa:2048", "client", "DNS:client", "clientAuth");
        leaf("wronghost", "rsa:2048", "elsewhere.test", "DNS:elsewhere.test", "serverAuth");
        expired();
        // A self-signed server certificate nobody trusts.
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "untrusted.key", "-out", "untrusted.pem",
                "-days", "3", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1");
        // The same server material as PKCS#12 and JKS, and its key encrypted.
        openssl("pkcs12", "-export", "-in", "server.pem", "-inkey", "server.key", "-certfile", "ca.pem", "-name", "server",
                "-out", "server.p12", "-passout", "pass:" + PASSWORD);
        run("keytool", "-importkeystore", "-srckeystore", "server.p12", "-srcstoretype", "PKCS12", "-srcstorepass",
                PASSWORD, "-destkeystore", "server.jks", "-deststoretype", "JKS", "-deststorepass", PASSWORD,
                "-destkeypass", PASSWORD, "-noprompt");
        run("keytool", "-importcert", "-file", "ca.pem", "-alias", "ca", "-keystore", "trust.p12", "-storetype", "PKCS12",
                "-storepass", PASSWORD, "-noprompt");
        openssl("pkcs8", "-topk8", "-in", "server.key", "-out", "server-encrypted.key", "-v2", "aes-256-cbc",
                "-passout", "pass:" + PASSWORD);
        openssl("rsa", "-in", "server.key", "-out", "server-pkcs1.key", "-traditional");
    }

    private void leaf(String name, String key, String cn, String san, String usage) throws Exception {
        List<String> args = new ArrayList<>(List.of("req", "-newkey", key));
        if (key.equals("ec")) {
            args.addAll(List.of("-pkeyopt", "ec_paramgen_curve:prime256v1"));
        }
        args.addAll(List.of("-nodes", "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + cn));
        openssl(args.toArray(String[]::new));
        write(name + ".ext", "subjectAltName=" + san + "\nextendedKeyUsage=" + usage + "\n");
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", name + ".pem", "-days", "3", "-extfile", name + ".ext");
    }

    private void expired() throws Exception {
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "expired.key", "-out", "expired.csr", "-subj",
                "/CN=localhost");
        write("ca.cnf", String.join("\n", "[ ca ]", "default_ca = test", "[ test ]", "dir = .", "database = index.txt",
                "new_certs_dir = .", "serial = ca.srl", "default_md = sha256", "policy = any", "copy_extensions = none",
                "x509_extensions = leaf", "[ any ]", "commonName = supplied", "[ leaf ]",
                "subjectAltName = DNS:localhost,IP:127.0.0.1", "extendedKeyUsage = serverAuth", ""));
        write("index.txt", "");
        openssl("ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key", "-in", "expired.csr",
                "-out", "expired.pem", "-startdate", "20200101000000Z", "-enddate", "20200201000000Z", "-notext");
    }

    private void write(String name, String content) throws IOException {
        Files.writeString(dir.resolve(name), content, StandardCharsets.US_ASCII);
    }

    private void openssl(String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add("openssl");
        command.addAll(List.of(args));
        run(command.toArray(String[]::new));
    }

    private void run(String... command) throws Exception {
        Process p = Peers.process(command).directory(dir.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed:\n" + output);
        }
    }
}
