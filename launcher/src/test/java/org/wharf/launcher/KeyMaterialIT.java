package org.wharf.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.wharf.transport.tck.Peers;

/**
 * The key material of the distribution as it runs: bin/wharf started as a process with its
 * temporary folder pointed at a test folder, the files it makes looked at, the TLS endpoint
 * asked by {@code openssl s_client}.
 */
class KeyMaterialIT {

    private Process wharf;
    private final StringBuffer log = new StringBuffer();
    /** Folders this test made: the distribution's copies hold private keys. */
    private final List<Path> made = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        if (wharf != null && wharf.isAlive()) {
            wharf.destroyForcibly();
            wharf.waitFor(30, TimeUnit.SECONDS);
        }
        for (Path folder : made) {
            try (Stream<Path> all = Files.walk(folder)) {
                for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private Path folder(String prefix) throws IOException {
        Path folder = Files.createTempDirectory(prefix);
        made.add(folder);
        return folder;
    }

    @Test
    void theGeneratedKeyIsOwnerOnlyWithoutFixedPasswordNeverCopiedToTempAndServesOpenssl() throws Exception {
        Path home = copy();
        Path temp = folder("wharf-tmp");
        Path tls = home.resolve("etc").resolve("tls");
        start(home, temp);
        int port = awaitTlsPort();

        Path key = tls.resolve("self-signed.key");
        Path certificate = tls.resolve("self-signed.pem");
        assertEquals("rwx------", mode(tls), "etc/tls is the owner's alone");
        assertEquals("rw-------", mode(key), "the private key is readable by its owner only");
        Path rsaKey = tls.resolve("self-signed-rsa.key");
        Path rsaCertificate = tls.resolve("self-signed-rsa.pem");
        assertEquals("rw-------", mode(rsaKey), "the RSA key too");
        try (Stream<Path> files = Files.list(tls)) {
            assertEquals(Set.of(key, certificate, rsaKey, rsaCertificate), Set.copyOf(files.toList()),
                    "an ECDSA and an RSA pair, no old key store, no leftovers");
        }
        // No password: the key is plain PKCS#8 (openssl reads it without one), and no configuration holds one.
        assertTrue(Files.readString(key).startsWith("-----BEGIN PRIVATE KEY-----"), Files.readString(key));
        assertEquals(0, run("openssl", "pkey", "-in", key.toString(), "-noout", "-passin", "pass:").exit);
        try (Stream<Path> configs = Files.list(home.resolve("etc"))) {
            Pattern password = Pattern.compile("(?m)^\\s*[\\w.]*password\\s*=|changeit");
            for (Path cfg : configs.filter(p -> p.toString().endsWith(".cfg")).toList()) {
                String text = Files.readString(cfg);
                assertFalse(password.matcher(text).find(), cfg + ":\n" + text);
            }
        }
        X509Certificate made = certificate(certificate);
        Duration validity = Duration.between(made.getNotBefore().toInstant(), made.getNotAfter().toInstant());
        assertTrue(validity.compareTo(Duration.ofDays(90)) <= 0, "valid at most 90 days: " + validity);
        assertTrue(made.getNotAfter().toInstant().isAfter(Instant.now().plus(Duration.ofDays(89))), made.getNotAfter()
                + " is 90 days away");

        // openssl s_client handshakes with the TLS echo endpoint, verifying the certificate just made: the
        // ECDSA one by default, the RSA one for a client that offers only RSA signatures.
        assertEquals("tls echo\n", tlsEcho(port, certificate));
        assertEquals("tls echo\n", tlsEcho(port, rsaCertificate, "-sigalgs", "rsa_pss_rsae_sha256:rsa_pkcs1_sha256"));

        // An endpoint dropped into etc/ now starts only after FileInstall finished its first pass over etc/ (one
        // watcher thread), the pass in which earlier versions packed etc/tls into a jar in the temporary folder.
        Files.writeString(home.resolve("etc").resolve("org.wharf.server-probe.cfg"), "name = probe\nport = 0\n"
                + "protocol = echo\n");
        awaitLog("listening tcp \\S+:\\d+ echo \\S+ \\(endpoint probe\\)");
        // Nothing of etc/tls went to the temporary folder, nor into the distribution's own.
        try (Stream<Path> all = Files.walk(temp)) {
            List<Path> found = all.filter(p -> !p.equals(temp)).toList();
            assertEquals(List.of(), found, "in " + temp);
        }
        Path own = home.resolve("data").resolve("fileinstall");
        try (Stream<Path> all = Files.exists(own) ? Files.walk(own) : Stream.empty()) {
            assertTrue(all.noneMatch(p -> p.getFileName().toString().endsWith(".jar")), "no jar made of etc/tls");
        }
    }

    @Test
    void theKeyStoreOfEarlierVersionsAndTheCopiesTheyLeftInTempAreRemoved() throws Exception {
        Path home = copy();
        Path temp = folder("wharf-tmp");
        // What an earlier version left: its key store under "changeit" and FileInstall's copy of it in /tmp.
        Path tls = Files.createDirectories(home.resolve("etc").resolve("tls"));
        Files.write(tls.resolve("self-signed.p12"), new byte[] {0x30, 0});
        Path leaked = Files.createDirectories(temp.resolve("fileinstall--4711")).resolve("tls.jar");
        jar(leaked, "self-signed.p12");
        Path notOurs = Files.createDirectories(temp.resolve("fileinstall-815")).resolve("tls.jar");
        jar(notOurs, "something-else.txt");

        start(home, temp);
        Path certificate = tls.resolve("self-signed.pem");
        assertEquals("tls echo\n", tlsEcho(awaitTlsPort(), certificate));
        assertFalse(Files.exists(tls.resolve("self-signed.p12")), "the old key store is removed");
        assertFalse(Files.exists(leaked.getParent()), "the copy earlier versions left in " + temp + " is removed");
        assertTrue(Files.exists(notOurs), "a jar that is no such copy stays");
        assertTrue(log.toString().contains("removed 1 copy of an old self-signed key"), log.toString());
    }

    @Test
    void anExpiredOrExpiringCertificateIsMadeAgainAtStart() throws Exception {
        Path home = copy();
        Path temp = folder("wharf-tmp");
        Path tls = home.resolve("etc").resolve("tls");
        Path certificate = tls.resolve("self-signed.pem");
        Path key = tls.resolve("self-signed.key");
        start(home, temp);
        awaitTlsPort();
        String firstKey = Files.readString(key);
        restartAfter(() -> replaceWithSelfSigned(certificate, -100, 95), home, temp); // expired five days ago
        awaitLog("expired on .*: made a self-signed certificate");
        X509Certificate renewed = certificate(certificate);
        assertTrue(renewed.getNotAfter().toInstant().isAfter(Instant.now().plus(Duration.ofDays(89))),
                "renewed for 90 days: " + renewed.getNotAfter());
        assertNotEquals(firstKey, Files.readString(key), "with a new key");
        assertEquals("rw-------", mode(key));
        assertEquals("tls echo\n", tlsEcho(awaitTlsPort(), certificate), "and served");

        String secondKey = Files.readString(key);
        restartAfter(() -> replaceWithSelfSigned(certificate, -85, 88), home, temp); // expires in three days
        awaitLog("expires on .*: made a self-signed certificate");
        assertTrue(certificate(certificate).getNotAfter().toInstant().isAfter(Instant.now().plus(Duration.ofDays(89))));
        assertNotEquals(secondKey, Files.readString(key));
        assertEquals("tls echo\n", tlsEcho(awaitTlsPort(), certificate));

        String thirdKey = Files.readString(key);
        restartAfter(() -> { }, home, temp); // a good certificate stays
        assertEquals("tls echo\n", tlsEcho(awaitTlsPort(), certificate));
        assertEquals(thirdKey, Files.readString(key));
        assertFalse(log.toString().contains("made a self-signed certificate"), log.toString());
    }

    private interface Step {
        void run() throws Exception;
    }

    private void restartAfter(Step change, Path home, Path temp) throws Exception {
        wharf.destroy();
        assertTrue(wharf.waitFor(30, TimeUnit.SECONDS), "stops on SIGTERM");
        change.run();
        log.setLength(0);
        start(home, temp);
    }

    /** Puts a self-signed certificate for localhost made by keytool, valid from {@code startDays} for {@code days}. */
    private void replaceWithSelfSigned(Path certificate, int startDays, int days) throws Exception {
        Path store = folder("keytool").resolve("old.p12");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        assertEquals(0, run(keytool, "-genkeypair", "-alias", "old", "-keyalg", "EC", "-dname", "CN=localhost",
                "-startdate", startDays + "d", "-validity", String.valueOf(days), "-keystore", store.toString(),
                "-storetype", "PKCS12", "-storepass", "test-only").exit);
        Result pem = run(keytool, "-exportcert", "-rfc", "-alias", "old", "-keystore", store.toString(), "-storepass",
                "test-only");
        assertEquals(0, pem.exit, pem.output);
        Files.writeString(certificate, pem.output.substring(pem.output.indexOf("-----BEGIN")));
    }

    private String tlsEcho(int port, Path trusted, String... more) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port,
                "-CAfile", trusted.toString(), "-verify_return_error", "-verify_hostname", "localhost", "-quiet"));
        command.addAll(List.of(more));
        Process client = Peers.process(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            OutputStream in = client.getOutputStream();
            in.write("tls echo\n".getBytes(StandardCharsets.UTF_8));
            in.flush();
            CompletableFuture<byte[]> answer = CompletableFuture.supplyAsync(() -> {
                try {
                    return client.getInputStream().readNBytes(9);
                } catch (IOException e) {
                    return new byte[0];
                }
            });
            return new String(answer.get(30, TimeUnit.SECONDS), StandardCharsets.UTF_8);
        } finally {
            client.destroy();
        }
    }

    private static X509Certificate certificate(Path pem) throws Exception {
        try (InputStream in = Files.newInputStream(pem)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    private static String mode(Path path) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
    }

    private static void jar(Path jar, String entry) throws IOException {
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(jar))) {
            zip.putNextEntry(new ZipEntry(entry));
            zip.write(new byte[] {1, 2, 3});
            zip.closeEntry();
        }
    }

    private record Result(int exit, String output) {
    }

    private static Result run(String... command) throws Exception {
        Process p = Peers.process(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", command));
        return new Result(p.exitValue(), output);
    }

    /** A fresh copy of the built distribution, without the framework state of earlier runs. */
    private Path copy() throws IOException {
        return Distributions.copy(folder("wharf-dist"), p -> p.startsWith(Path.of("etc", "tls")));
    }

    private void start(Path home, Path temp) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin").resolve("wharf").toString(), "--no-shell")
                .directory(folder("elsewhere").toFile()).redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("JAVA_OPTS", "-Djava.io.tmpdir=" + temp + " -Dwharf.echo.port=0 -Dwharf.echo.udp.port=0"
                + " -Dwharf.echo.tls.port=0 -Dwharf.http.port=0");
        wharf = pb.start();
        Process started = wharf;
        CompletableFuture.runAsync(() -> {
            byte[] buffer = new byte[4096];
            try (InputStream in = started.getInputStream()) {
                for (int n; (n = in.read(buffer)) >= 0;) {
                    log.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
                }
            } catch (IOException e) {
                // the process ended
            }
        });
    }

    private int awaitTlsPort() {
        return Integer.parseInt(awaitLog("listening ssl \\S+:(\\d+) echo ").group(1));
    }

    private Matcher awaitLog(String regex) {
        Pattern pattern = Pattern.compile(regex);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            Matcher m = pattern.matcher(log);
            if (m.find()) {
                return m;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
        throw new AssertionError("no '" + regex + "' in the log:\n" + log);
    }
}
