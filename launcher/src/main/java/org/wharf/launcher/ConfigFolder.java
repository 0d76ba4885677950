package org.wharf.launcher;

import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

/**
 * A configuration folder mounted from outside, as Kubernetes mounts a ConfigMap or Secret:
 * possibly read-only, its visible files symlinks into {@code ..data}, which points to a hidden
 * timestamped folder and is swapped atomically on every change. FileInstall watches it with a
 * watcher of its own (a factory configuration of {@code org.apache.felix.fileinstall}), set
 * for that: sub-folders skipped ({@code ..data} and the timestamped ones are folders), hidden
 * files ignored, and the folder polled rather than watched (a swap changes no visible entry,
 * so inotify says nothing), comparing the files' times through the symlinks. Nothing is
 * written back: {@link Main} turns FileInstall's write-back off, for every folder at once. A file that goes away takes its configuration with it.
 *
 * <p>Given by {@code -Dwharf.config.dir} or the environment's {@code WHARF_CONFIG_DIR}. The
 * watcher's configuration persists with the framework, so a start without the folder removes
 * it. ConfigAdmin lives in a bundle, so it is reached reflectively through its interface.
 */
final class ConfigFolder {

    /** The framework property naming the folder. */
    static final String PROPERTY = "wharf.config.dir";
    private static final String FILEINSTALL = "org.apache.felix.fileinstall";
    private static final String WATCHER_NAME = "wharf-config-dir";

    private ConfigFolder() {
    }

    /**
     * Starts, moves or removes the watcher to match {@code folder}.
     *
     * @param context the framework's context, with ConfigAdmin started
     * @param folder the folder, or {@code null} for none
     * @param poll how often FileInstall looks, in milliseconds
     * @return what was done, for the console
     * @throws Exception if ConfigAdmin cannot be reached or refuses
     */
    static String apply(BundleContext context, Path folder, long poll) throws Exception {
        ServiceReference<?> ref = context.getServiceReference("org.osgi.service.cm.ConfigurationAdmin");
        if (ref == null) {
            throw new IllegalStateException("ConfigAdmin is not running: cannot watch " + folder);
        }
        Object admin = context.getService(ref);
        try {
            Class<?> type = ref.getBundle().loadClass("org.osgi.service.cm.ConfigurationAdmin");
            Method factory = type.getMethod("getFactoryConfiguration", String.class, String.class, String.class);
            Object configuration = factory.invoke(admin, FILEINSTALL, WATCHER_NAME, "?");
            Class<?> configurationType = ref.getBundle().loadClass("org.osgi.service.cm.Configuration");
            if (folder == null) {
                boolean had = configurationType.getMethod("getProperties").invoke(configuration) != null;
                configurationType.getMethod("delete").invoke(configuration);
                return had ? "no configuration folder (" + PROPERTY + "): the one of an earlier start is no longer watched"
                        : null;
            }
            if (!Files.isDirectory(folder)) {
                return "configuration folder " + folder + " (" + PROPERTY + ") is not a folder (yet): watched anyway";
            }
            Dictionary<String, Object> watcher = new Hashtable<>(Map.of(
                    "felix.fileinstall.dir", folder.toString(),
                    "felix.fileinstall.poll", Long.toString(poll),
                    "felix.fileinstall.noInitialDelay", "true",
                    // ..data and the timestamped folders are folders: skipped, read through the symlinks.
                    "felix.fileinstall.subdir.mode", "skip",
                    // Configurations only, never a hidden file; bundles belong in deploy/.
                    "felix.fileinstall.filter", "[^.].*\\.(cfg|config)",
                    // Polled rather than watched: after a ..data swap no visible entry has changed
                    // (each is the same symlink), so a watch service has nothing to report.
                    "felix.fileinstall.disableNio2", "true",
                    "felix.fileinstall.log.level", "2"));
            configurationType.getMethod("update", Dictionary.class).invoke(configuration, watcher);
            return "configurations from " + folder + " (" + PROPERTY + "), watched every " + poll + " ms";
        } finally {
            context.ungetService(ref);
        }
    }
}
