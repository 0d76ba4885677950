package org.wharf.transport.tck;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The programs tests start as real peers ({@code openssl}, {@code curl}, {@code redis-server},
 * ...): every test starts them through {@link #process(String...)}, so a machine that lacks one
 * fails the test with the Debian package to install instead of {@code Cannot run program}.
 *
 * <p>The list is the repository's {@code cnf/peers}, which {@code ./test} installs from; a
 * program not in it is looked up on the {@code PATH} all the same, without a package to name.
 */
public final class Peers {

    private static final Map<String, String> PACKAGES = new LinkedHashMap<>();

    static {
        PACKAGES.put("openssl", "openssl");
        PACKAGES.put("curl", "curl");
        PACKAGES.put("wrk", "wrk");
        PACKAGES.put("tar", "tar");
        PACKAGES.put("nc", "netcat-openbsd");
        PACKAGES.put("python3", "python3");
        PACKAGES.put("redis-server", "redis-server");
        PACKAGES.put("redis-cli", "redis-tools");
        PACKAGES.put("redis-benchmark", "redis-tools");
        PACKAGES.put("nginx", "nginx");
        PACKAGES.put("haproxy", "haproxy");
        PACKAGES.put("sslscan", "sslscan");
        PACKAGES.put("testssl", "testssl.sh");
        PACKAGES.put("prometheus", "prometheus");
        PACKAGES.put("promtool", "prometheus");
        PACKAGES.put("chromium", "chromium");
        PACKAGES.put("node", "nodejs");
        PACKAGES.put("npm", "npm");
        PACKAGES.put("shellcheck", "shellcheck");
    }

    /** Where Debian puts daemons (nginx): not on a user's PATH, searched after it. */
    static final List<String> SYSTEM_DIRS = List.of("/usr/sbin", "/sbin");

    private Peers() {
    }

    /**
     * Each known peer program and the Debian package that installs it, in {@code cnf/peers} order.
     *
     * @return program to package
     */
    public static Map<String, String> packages() {
        return Collections.unmodifiableMap(PACKAGES);
    }

    /**
     * The Debian package that installs {@code program}, if it is a known peer.
     *
     * @param program such as {@code redis-cli}
     * @return its package, such as {@code redis-tools}
     */
    public static Optional<String> debianPackage(String program) {
        return Optional.ofNullable(PACKAGES.get(program));
    }

    /**
     * Where {@code program} is on the {@code PATH}, else in {@code /usr/sbin} or {@code /sbin} (or
     * the path itself, if it has a slash).
     *
     * @param program such as {@code openssl}
     * @return where it is
     * @throws AssertionError if it is not there, naming the package to install
     */
    public static Path require(String program) {
        return require(program, System.getenv("PATH"));
    }

    static Path require(String program, String path) {
        return find(program, path).orElseThrow(() -> new AssertionError(program + " is not installed"
                + debianPackage(program).map(p -> ": it is in the Debian package " + p + " (apt-get install " + p
                        + ", or run ./test, which installs every peer the tests need)").orElse(" (not on PATH "
                                + path + ")")));
    }

    /**
     * Where {@code program} is on the {@code PATH} or in {@code /usr/sbin} or {@code /sbin}.
     *
     * @param program such as {@code nginx}
     * @return where it is, or empty
     */
    public static Optional<Path> find(String program) {
        return find(program, System.getenv("PATH"));
    }

    private static Optional<Path> find(String program, String path) {
        if (program.contains(File.separator)) {
            Path p = Path.of(program);
            return Files.isExecutable(p) ? Optional.of(p) : Optional.empty();
        }
        if (path == null) {
            path = "";
        }
        List<String> dirs = new java.util.ArrayList<>(List.of(path.split(File.pathSeparator)));
        dirs.addAll(SYSTEM_DIRS);
        for (String dir : dirs) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, program);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /**
     * A process builder for {@code command}, its program ({@code command[0]}) replaced by where
     * it was found.
     *
     * @param command the program and its arguments
     * @return a builder for the command, not started
     * @throws AssertionError if the program is not installed, naming its Debian package
     */
    public static ProcessBuilder process(String... command) {
        return process(List.of(command));
    }

    /**
     * As {@link #process(String...)}.
     *
     * @param command the program and its arguments
     * @return a builder for the command, not started
     */
    public static ProcessBuilder process(List<String> command) {
        List<String> resolved = new java.util.ArrayList<>(command);
        resolved.set(0, require(command.get(0)).toString());
        return new ProcessBuilder(resolved);
    }
}
