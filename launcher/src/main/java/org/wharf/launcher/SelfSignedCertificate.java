package org.wharf.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A self-signed certificate for localhost that the default TLS endpoint serves, in
 * {@code etc/tls}: {@code self-signed.pem} (the certificate, ECDSA P-256) and
 * {@code self-signed.key} (its PKCS#8 PEM private key), and beside them
 * {@code self-signed-rsa.pem} and {@code self-signed-rsa.key} (RSA 2048) for clients that
 * cannot verify ECDSA: the server picks by the client's signature algorithms. Clients trust
 * the one they are served (or both, the two files concatenated). The key has no password: a password kept beside it would protect
 * nothing its file mode does not, so the file is readable by the owner only (0600) in a folder
 * only the owner can enter (0700). The certificate is valid for {@value #VALIDITY_DAYS} days and
 * made again, with a new key, when it has expired or expires within {@value #RENEW_DAYS} days.
 */
final class SelfSignedCertificate {

    /** How long a new certificate is valid. */
    static final int VALIDITY_DAYS = 90;
    /** A certificate expiring within this many days is renewed. */
    static final int RENEW_DAYS = 7;

    private static final Set<PosixFilePermission> OWNER_ONLY_FOLDER = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> OWNER_ONLY_FILE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> READABLE_FILE = PosixFilePermissions.fromString("rw-r--r--");
    private static final String STORE_PASSWORD_VARIABLE = "WHARF_SELF_SIGNED_STORE_PASSWORD";

    private final Path folder;
    private final Path certificate;
    private final Path key;
    private final PrintStream out;
    private final String kind;
    private final List<String> keytoolKey;

    private SelfSignedCertificate(Path home, PrintStream out, String name, String kind, List<String> keytoolKey) {
        this.folder = home.resolve("etc").resolve("tls");
        this.certificate = folder.resolve(name + ".pem");
        this.key = folder.resolve(name + ".key");
        this.out = out;
        this.kind = kind;
        this.keytoolKey = keytoolKey;
    }

    /** The ECDSA P-256 pair, {@code self-signed.pem} and {@code self-signed.key}. */
    static SelfSignedCertificate ecdsa(Path home, PrintStream out) {
        return new SelfSignedCertificate(home, out, "self-signed", "ECDSA P-256", List.of("-keyalg", "EC", "-groupname",
                "secp256r1", "-sigalg", "SHA256withECDSA"));
    }

    /** The RSA 2048 pair, {@code self-signed-rsa.pem} and {@code self-signed-rsa.key}. */
    static SelfSignedCertificate rsa(Path home, PrintStream out) {
        return new SelfSignedCertificate(home, out, "self-signed-rsa", "RSA 2048", List.of("-keyalg", "RSA", "-keysize",
                "2048", "-sigalg", "SHA256withRSA"));
    }

    /**
     * Makes the certificate if there is none or it is due for renewal, and keeps its key
     * owner-only either way. A certificate someone else issued (not self-signed) is left alone.
     * Failures are printed: the TLS endpoint then says what is missing.
     */
    void ensure() {
        try {
            ownerOnlyFolder();
            removeOldKeyStore();
            String why = whyMake();
            if (why == null) {
                ownerOnly(key);
                return;
            }
            Instant notAfter = make();
            out.println(why + ": made a self-signed certificate for localhost (" + kind + "), valid until " + notAfter
                    + ": " + certificate + " (key " + key + ", readable by its owner only)");
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            out.println("cannot make the self-signed certificate " + certificate + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Why a certificate must be made now, or null if the one there is good. */
    private String whyMake() throws IOException {
        if (!Files.exists(certificate) || !Files.exists(key)) {
            return "no " + (Files.exists(certificate) ? key : certificate);
        }
        X509Certificate current;
        try (InputStream in = Files.newInputStream(certificate)) {
            current = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        } catch (CertificateException e) {
            return certificate + " is no certificate (" + e.getMessage() + ")";
        }
        if (!current.getSubjectX500Principal().equals(current.getIssuerX500Principal())) {
            return null; // not ours: whoever put it there renews it
        }
        Instant notAfter = current.getNotAfter().toInstant();
        Instant now = Instant.now();
        if (notAfter.isBefore(now)) {
            return "the self-signed certificate " + certificate + " expired on " + notAfter;
        }
        if (notAfter.isBefore(now.plus(Duration.ofDays(RENEW_DAYS)))) {
            return "the self-signed certificate " + certificate + " expires on " + notAfter;
        }
        return null;
    }

    /**
     * Makes key and certificate with the JDK's keytool in a throwaway PKCS#12 store (inside the
     * owner-only folder, its random password passed in the environment, not on the command
     * line), then writes them as PEM, each replacing the old file in one move.
     */
    private Instant make() throws IOException, InterruptedException, GeneralSecurityException {
        byte[] random = new byte[24];
        new SecureRandom().nextBytes(random);
        char[] password = Base64.getUrlEncoder().withoutPadding().encodeToString(random).toCharArray();
        Path store = Files.createTempFile(folder, ".self-signed", ".p12", ownerOnlyFile());
        try {
            Files.delete(store); // keytool makes the store itself
            Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
            List<String> command = new ArrayList<>(List.of(keytool.toString(), "-genkeypair", "-alias", "wharf"));
            command.addAll(keytoolKey);
            command.addAll(List.of("-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity",
                    String.valueOf(VALIDITY_DAYS), "-keystore", store.toString(), "-storetype", "PKCS12",
                    "-storepass:env", STORE_PASSWORD_VARIABLE));
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
            pb.environment().put(STORE_PASSWORD_VARIABLE, new String(password));
            Process p = pb.start();
            p.getOutputStream().close();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IOException("keytool failed: " + output.trim());
            }
            KeyStore keyStore = KeyStore.getInstance(store.toFile(), password);
            PrivateKey privateKey = (PrivateKey) keyStore.getKey("wharf", password);
            X509Certificate cert = (X509Certificate) keyStore.getCertificate("wharf");
            write(key, pem("PRIVATE KEY", privateKey.getEncoded()), ownerOnlyFile());
            write(certificate, pem("CERTIFICATE", cert.getEncoded()), readableFile());
            return cert.getNotAfter().toInstant();
        } finally {
            Files.deleteIfExists(store);
        }
    }

    /** Writes a new file with its final mode from the start, then moves it over the old one. */
    private void write(Path target, String content, FileAttribute<?>[] mode) throws IOException {
        Path next = Files.createTempFile(folder, "." + target.getFileName(), ".new", mode);
        try {
            Files.writeString(next, content, StandardCharsets.US_ASCII, StandardOpenOption.TRUNCATE_EXISTING);
            Files.move(next, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(next);
        }
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    /**
     * The key store of earlier versions, under the fixed password "changeit" and readable by
     * all: the endpoint no longer uses it, and a key whose password is published is no secret.
     */
    private void removeOldKeyStore() throws IOException {
        Path old = folder.resolve("self-signed.p12");
        if (Files.deleteIfExists(old)) {
            out.println("removed " + old + ", the self-signed key store of an earlier version (fixed password); "
                    + "the TLS endpoint now uses " + certificate + " and " + key);
        }
    }

    private void ownerOnlyFolder() throws IOException {
        if (!posix()) {
            Files.createDirectories(folder);
            return;
        }
        if (!Files.isDirectory(folder)) {
            Files.createDirectories(folder, PosixFilePermissions.asFileAttribute(OWNER_ONLY_FOLDER));
        }
        Files.setPosixFilePermissions(folder, OWNER_ONLY_FOLDER); // also an existing folder, and against the umask
    }

    private static void ownerOnly(Path file) throws IOException {
        if (posix() && !Files.getPosixFilePermissions(file).equals(OWNER_ONLY_FILE)) {
            Files.setPosixFilePermissions(file, OWNER_ONLY_FILE);
        }
    }

    private static FileAttribute<?>[] ownerOnlyFile() {
        return posix() ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(OWNER_ONLY_FILE)}
                : new FileAttribute<?>[0];
    }

    private static FileAttribute<?>[] readableFile() {
        return posix() ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(READABLE_FILE)}
                : new FileAttribute<?>[0];
    }

    private static boolean posix() {
        return FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
    }
}
