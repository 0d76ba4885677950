package org.wharf.launcher;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.function.Predicate;
import java.util.stream.Stream;

/** Copies of the built distribution ({@code -Dwharf.dist}), so test runs and nodes share no state. */
final class Distributions {

    private Distributions() {
    }

    /**
     * A fresh copy without the framework state of earlier runs ({@code data/}).
     *
     * @param to the folder to copy into (made if missing)
     * @param leaveOut more relative paths to leave out, such as {@code etc/tls}
     * @return {@code to}
     */
    static Path copy(Path to, Predicate<Path> leaveOut) throws IOException {
        Path from = Path.of(System.getProperty("wharf.dist"));
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : all.toList()) {
                Path relative = from.relativize(p);
                if (relative.startsWith("data") || leaveOut.test(relative)) {
                    continue;
                }
                Path target = to.resolve(relative.toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
        return to;
    }

    /** {@code etc/tls} as a first start makes it, made once per test JVM by {@link #seeded}. */
    private static Path pairs;

    /**
     * A fresh copy whose {@code etc/tls} already holds the self-signed pairs a first start
     * makes (made once per test JVM, by the launcher's own code): a start of it skips the two
     * keytool runs, about 2 s on two cores. For tests that do not test making them; those
     * that do ({@code KeyMaterialIT}, the default configuration's first start) take
     * {@link #copy}.
     *
     * @param to the folder to copy into (made if missing)
     * @return {@code to}
     */
    static Path seeded(Path to) throws IOException {
        return seed(copy(to, p -> false));
    }

    /**
     * Puts the self-signed pairs of a first start into a copy's {@code etc/tls} (see {@link #seeded}).
     *
     * @param home a copy of the distribution
     * @return {@code home}
     */
    static Path seed(Path home) throws IOException {
        Path tls = home.resolve("etc").resolve("tls");
        Files.createDirectories(tls);
        try (Stream<Path> files = Files.list(pairs())) {
            for (Path f : files.toList()) {
                Files.copy(f, tls.resolve(f.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
        return home;
    }

    private static synchronized Path pairs() throws IOException {
        if (pairs == null) {
            Path home = Files.createTempDirectory("wharf-seed");
            PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
            SelfSignedCertificate.ecdsa(home, quiet).ensure();
            SelfSignedCertificate.rsa(home, quiet).ensure();
            Path tls = home.resolve("etc").resolve("tls");
            for (String name : new String[] {"self-signed.pem", "self-signed.key", "self-signed-rsa.pem",
                    "self-signed-rsa.key"}) {
                if (!Files.exists(tls.resolve(name))) {
                    throw new IOException("the seed pairs were not made: no " + tls.resolve(name));
                }
            }
            pairs = tls;
        }
        return pairs;
    }
}
