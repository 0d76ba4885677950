package org.wharf.launcher;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.Map;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * Says, once per file, when a jar in {@code deploy/} is no OSGi bundle: FileInstall passes over
 * such a file without a word. (A bundle that cannot resolve is FileInstall's to report, at its
 * log level 2.) A file changed since counts as a new one.
 */
final class DeployCheck implements Runnable {

    private static final System.Logger LOG = System.getLogger("org.wharf.launcher");

    private final Path deploy;
    /** What was looked at: file → its size and time when looked at. Only the launcher's timer thread. */
    private final Map<Path, String> seen = new HashMap<>();

    DeployCheck(Path deploy) {
        this.deploy = deploy;
    }

    @Override
    public void run() {
        Map<Path, String> now = new HashMap<>();
        try (DirectoryStream<Path> jars = Files.newDirectoryStream(deploy, "*.jar")) {
            for (Path jar : jars) {
                if (!Files.isRegularFile(jar)) {
                    continue;
                }
                FileTime time = Files.getLastModifiedTime(jar);
                String stamp = Files.size(jar) + "@" + time.toMillis();
                now.put(jar, stamp);
                if (!stamp.equals(seen.get(jar))) {
                    String wrong = whyNotABundle(jar);
                    if (wrong != null) {
                        LOG.log(Level.WARNING, "deploy/" + jar.getFileName() + " is not an OSGi bundle (" + wrong
                                + "): ignored until it changes");
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // A timer task that throws is never run again: this one stays quiet and tries next time.
            LOG.log(Level.DEBUG, () -> "cannot look into " + deploy + ": " + e);
            return;
        }
        seen.clear();
        seen.putAll(now);
    }

    /** What makes the file no bundle, or null if it is one. */
    static String whyNotABundle(Path jar) {
        try (JarFile file = new JarFile(jar.toFile())) {
            Manifest manifest = file.getManifest();
            if (manifest == null) {
                return "no META-INF/MANIFEST.MF";
            }
            String name = manifest.getMainAttributes().getValue("Bundle-SymbolicName");
            return name == null || name.isBlank() ? "no Bundle-SymbolicName in its manifest" : null;
        } catch (IOException e) {
            return "not a readable jar: " + e.getMessage();
        }
    }
}
