package org.wharf.launcher;

import java.io.IOException;
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
}
