package org.wharf.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.reflect.Proxy;
import java.net.URISyntaxException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceEvent;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import org.osgi.framework.startlevel.BundleStartLevel;

/**
 * Starts the embedded platform: Apache Felix with SCR, ConfigAdmin, Metatype, FileInstall,
 * Gogo and the Log Service, then Wharf's bundles from {@code bundle/}. {@code etc/} holds
 * the configurations (one {@code .cfg} per endpoint) and {@code deploy/} is the hot folder;
 * FileInstall watches the files in both (not their sub-folders: {@code etc/tls} holds the
 * self-signed certificate and its key, see {@link SelfSignedCertificate}). Logs go to the
 * console, one line each; the Gogo shell reads the console unless {@code --no-shell}. Ctrl-C or
 * SIGTERM stops the framework gracefully.
 *
 * <p>Usage: {@code bin/wharf [--clean] [--no-shell]}; {@code -Dwharf.<name>.port=...} moves the
 * default endpoints (0 for ephemeral ports).
 */
public final class Main {

    private static final String LOG_BUNDLE = "org.apache.felix.log";

    private static final PrintStream OUT = System.out;

    /** How long the shell waits for the endpoints to settle before it prompts anyway. */
    private static final long SETTLE_AT_MOST = TimeUnit.SECONDS.toMillis(3);

    private Main() {
    }

    /**
     * Runs the platform until the framework stops.
     *
     * @param args {@code --clean} to start with empty framework storage, {@code --no-shell}
     *        to run without the Gogo shell (as a service)
     * @throws Exception if the framework cannot start
     */
    public static void main(String[] args) throws Exception {
        // Until the Log Service takes Wharf's lines (transport.core bridges them), and for
        // anything else that uses java.util.logging: one line each, like the console log.
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "%4$s %3$s: %5$s%6$s%n");
        }
        List<String> options = List.of(args);
        Path home = home();
        boolean clean = options.contains("--clean");
        boolean shell = !options.contains("--no-shell");
        SelfSignedCertificate ecdsa = SelfSignedCertificate.ecdsa(home, OUT);
        SelfSignedCertificate rsa = SelfSignedCertificate.rsa(home, OUT);
        ecdsa.ensure();
        rsa.ensure();
        Path fileInstallTemp = home.resolve("data").resolve("fileinstall");
        deleteTree(fileInstallTemp); // what a run that was killed left there
        removeLeakedKeyCopies();

        Map<String, String> config = new HashMap<>();
        config.put(Constants.FRAMEWORK_STORAGE, home.resolve("data").resolve("felix").toString());
        if (clean) {
            config.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        }
        config.put("wharf.home", home.toString());
        config.put("felix.fileinstall.dir", home.resolve("etc") + "," + home.resolve("deploy"));
        config.put("felix.fileinstall.poll", "500");
        config.put("felix.fileinstall.noInitialDelay", "true");
        // 2 (warnings): a bundle dropped into deploy/ that cannot resolve is said once, with why.
        config.put("felix.fileinstall.log.level", "2");
        // Folders inside etc/ and deploy/ are not FileInstall's: etc/tls holds private keys, which
        // the default ("jar") would pack into a jar in the temporary folder and try to install.
        config.put("felix.fileinstall.subdir.mode", "skip");
        // What it does copy stays in the distribution, removed at the next start, not in /tmp.
        config.put("felix.fileinstall.tmpdir", fileInstallTemp.toString());
        config.put("gosh.args", shell ? "" : "--noshell");
        // The Log Service starts at level 1, everything else at 2: on a restart the framework
        // starts the cached bundles itself, and the console must hear what they log.
        config.put(Constants.FRAMEWORK_BEGINNING_STARTLEVEL, "2");
        // A platform that lost an event loop to a fatal error exits (status 70) for its supervisor
        // to restart it; bin/wharf adds -XX:+ExitOnOutOfMemoryError for the rest of the JVM.
        config.put("wharf.exitOnFatal", System.getProperty("wharf.exitOnFatal", "true"));
        // The default endpoints listen on loopback only; -Dwharf.host=0.0.0.0 opens them.
        config.put("wharf.host", System.getProperty("wharf.host", "127.0.0.1"));
        defaultPort(config, "echo", "7007");
        defaultPort(config, "echo.udp", "7007");
        defaultPort(config, "echo.tls", "7443");
        defaultPort(config, "http", "8080");
        // Conscrypt (tls.provider = Conscrypt: BoringSSL), a bundle dropped into deploy/, imports
        // sun.security.x509, which the system bundle exports only when told. Nothing else uses it;
        // -Dorg.osgi.framework.system.packages.extra=... replaces this list.
        config.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA,
                System.getProperty(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, "sun.security.x509"));
        // transport.ssl, started from bundle/, imports org.conscrypt optionally, and a framework
        // wires an optional import only when the importer resolves: when a jar dropped into deploy/
        // exports a package that a running bundle imports optionally, FileInstall refreshes that
        // bundle (this scope, its default when unset), so Conscrypt dropped in later is wired.
        config.put("felix.fileinstall.optionalImportRefreshScope", "all");
        // Per-node values from the environment, a container's way: WHARF_HTTP_PORT is the
        // property wharf.http.port, WHARF_CONFIG_DIR wharf.config.dir. A -D property wins.
        System.getenv().forEach((k, v) -> {
            String property = environmentProperty(k);
            if (property != null) {
                config.put(property, v);
            }
        });
        System.getProperties().forEach((k, v) -> {
            if (k.toString().startsWith("wharf.") || k.toString().startsWith("felix.")) {
                config.put(k.toString(), v.toString());
            }
        });
        // The files are the truth; FileInstall writes nothing back to them. Its write-back (one
        // switch for every folder it watches) rewrote files it had just read, with this node's
        // values in place of ${...}: nodes sharing a mounted folder overwrote each other's files
        // (ClusterIT), and a per-node ${wharf.http.port} in etc/ would be lost the same way.
        config.putIfAbsent("felix.fileinstall.enableConfigSave", "false");

        Framework framework = ServiceLoader.load(FrameworkFactory.class).findFirst()
                .orElseThrow(() -> new IllegalStateException("no OSGi framework on the class path"))
                .newFramework(config);
        framework.init();
        BundleContext context = framework.getBundleContext();
        List<Bundle> bundles = new ArrayList<>();
        try (Stream<Path> jars = Files.list(home.resolve("bundle"))) {
            for (Path jar : jars.filter(p -> p.toString().endsWith(".jar")).sorted().toList()) {
                if (!shell && jar.getFileName().toString().contains("gogo.shell")) {
                    continue;
                }
                // Relative to the home, so a distribution moved or copied after a run finds
                // its cached bundles again (an absolute location would install a duplicate).
                String location = "wharf:bundle/" + jar.getFileName();
                Bundle existing = context.getBundle(location);
                if (existing == null) {
                    for (Bundle old : context.getBundles()) {
                        // Cached by an earlier launcher under its absolute path: replaced.
                        if (old.getLocation().startsWith("file:")
                                && old.getLocation().endsWith("/bundle/" + jar.getFileName())) {
                            old.uninstall();
                        }
                    }
                    try (InputStream in = Files.newInputStream(jar)) {
                        bundles.add(context.installBundle(location, in));
                    }
                } else {
                    // Kept from the last run: take the jar again if it was rebuilt since.
                    if (Files.getLastModifiedTime(jar).toMillis() > existing.getLastModified()) {
                        try (InputStream in = Files.newInputStream(jar)) {
                            existing.update(in);
                        }
                    }
                    bundles.add(existing);
                }
            }
        }
        for (Bundle b : bundles) {
            b.adapt(BundleStartLevel.class).setStartLevel(LOG_BUNDLE.equals(b.getSymbolicName()) ? 1 : 2);
        }
        // The console listens from the moment the Log Service registers (service events are
        // synchronous), before any bundle of level 2 starts.
        context.addServiceListener(event -> {
            if (event.getType() == ServiceEvent.REGISTERED) {
                ConsoleLog.attach(context, OUT);
            }
        }, "(|(" + Constants.OBJECTCLASS + "=org.osgi.service.log.LogReaderService)(" + Constants.OBJECTCLASS
                + "=org.osgi.service.log.admin.LoggerAdmin))");
        for (Bundle b : bundles) {
            if (LOG_BUNDLE.equals(b.getSymbolicName())) {
                b.start();
            }
        }
        // The shell comes last, once the endpoints have settled, so that the lines they log at
        // start come before its prompt, not after it. Not persistently started: a restart
        // starts the cached bundles, and the shell must not come first then either.
        Bundle gogoShell = bundles.stream().filter(b -> "org.apache.felix.gogo.shell".equals(b.getSymbolicName()))
                .findFirst().orElse(null);
        if (gogoShell != null) {
            gogoShell.stop();
        }
        framework.start();
        for (Bundle b : bundles) {
            if (b != gogoShell && b.getHeaders().get(Constants.FRAGMENT_HOST) == null) {
                b.start();
            }
        }
        String configDir = config.get(ConfigFolder.PROPERTY);
        try {
            String said = ConfigFolder.apply(context, configDir == null || configDir.isBlank() ? null
                    : home.resolve(configDir).toAbsolutePath().normalize(), 1000);
            if (said != null) {
                OUT.println(said);
            }
        } catch (Exception e) {
            OUT.println("cannot watch the configuration folder " + configDir + " (" + ConfigFolder.PROPERTY + "): " + e);
        }
        // SIGTERM (a container stopping, kill) and Ctrl-C stop the framework, in which the endpoints
        // shut down gracefully, and the JVM then exits 0 (below): a stop that was asked for is no failure.
        Signals.onStop(framework, OUT);
        if (gogoShell != null) {
            Settle.endpoints(context, home.resolve("etc"), SETTLE_AT_MOST);
            gogoShell.start(Bundle.START_TRANSIENT);
        }
        // A platform that runs for months renews the certificate as a restart would; the TLS
        // endpoint reads the new files for its next connections.
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "wharf-launcher-timer");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(() -> {
            ecdsa.ensure();
            rsa.ensure();
        }, 12, 12, TimeUnit.HOURS);
        timer.scheduleWithFixedDelay(new DeployCheck(home.resolve("deploy")), 0, 1, TimeUnit.SECONDS);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                framework.stop();
                framework.waitForStop(Signals.stopTimeout(framework).toMillis());
            } catch (Exception e) {
                e.printStackTrace(OUT);
            }
        }, "wharf-shutdown"));
        framework.waitForStop(0);
        System.exit(0);
    }

    /** {@code WHARF_HTTP_PORT} is {@code wharf.http.port}; null for variables that are not Wharf's. */
    static String environmentProperty(String variable) {
        if (!variable.startsWith("WHARF_") || variable.length() == "WHARF_".length()) {
            return null;
        }
        return variable.toLowerCase(java.util.Locale.ROOT).replace('_', '.');
    }

    private static void defaultPort(Map<String, String> config, String name, String port) {
        config.put("wharf." + name + ".port", System.getProperty("wharf." + name + ".port", port));
    }

    /** The distribution folder: {@code -Dwharf.home}, else the folder above {@code lib/} holding this jar. */
    private static Path home() throws URISyntaxException {
        String given = System.getProperty("wharf.home");
        if (given != null) {
            return Path.of(given).toAbsolutePath().normalize();
        }
        Path jar = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        return jar.getParent().getParent().toAbsolutePath().normalize();
    }

    /**
     * Earlier versions let FileInstall pack {@code etc/tls} into
     * {@code <java.io.tmpdir>/fileinstall-<n>/tls.jar} at every start: a copy of the private key,
     * readable by all, never removed. Such jars (holding nothing but {@code self-signed.p12}) are
     * removed when found.
     */
    private static void removeLeakedKeyCopies() {
        Path temp = Path.of(System.getProperty("java.io.tmpdir"));
        int removed = 0;
        try (DirectoryStream<Path> folders = Files.newDirectoryStream(temp, "fileinstall-*")) {
            for (Path folder : folders) {
                Path jar = folder.resolve("tls.jar");
                if (Files.isRegularFile(jar) && holdsOnly(jar, "self-signed.p12")) {
                    Files.delete(jar);
                    removed++;
                    try (Stream<Path> rest = Files.list(folder)) {
                        if (rest.findAny().isEmpty()) {
                            Files.delete(folder);
                        }
                    }
                }
            }
        } catch (IOException e) {
            OUT.println("cannot look for old copies of the self-signed key in " + temp + ": " + e);
        }
        if (removed > 0) {
            OUT.println("removed " + removed + " cop" + (removed == 1 ? "y" : "ies") + " of an old self-signed key that "
                    + "earlier versions left in " + temp + " (fileinstall-*/tls.jar)");
        }
    }

    private static boolean holdsOnly(Path jar, String entry) {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            return zip.stream().map(ZipEntry::getName).toList().equals(List.of(entry));
        } catch (IOException e) {
            return false; // not a jar we made
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** Prints log entries: Wharf's at info and above, everyone's warnings and errors. */
    static final class ConsoleLog {
        private ConsoleLog() {
        }

        private static boolean attached;
        private static boolean levelsSet;

        /** Listens to the Log Service and sets Wharf's level, each once, as their services come. */
        static synchronized void attach(BundleContext context, PrintStream out) {
            try {
                ServiceReference<?> reader = context.getServiceReference("org.osgi.service.log.LogReaderService");
                if (reader != null && !attached) {
                    attached = true;
                    listen(context, reader, out);
                }
                ServiceReference<?> admin = context.getServiceReference("org.osgi.service.log.admin.LoggerAdmin");
                if (admin != null && !levelsSet) {
                    levelsSet = true;
                    infoForWharf(context, admin);
                }
            } catch (ReflectiveOperationException e) {
                out.println("WARN cannot print the Log Service's entries: " + e);
            }
        }

        private static void listen(BundleContext context, ServiceReference<?> ref, PrintStream out)
                throws ReflectiveOperationException {
            Object reader = context.getService(ref);
            ClassLoader api = ref.getBundle().adapt(org.osgi.framework.wiring.BundleWiring.class).getClassLoader();
            Class<?> listenerType = api.loadClass("org.osgi.service.log.LogListener");
            Object listener = Proxy.newProxyInstance(api, new Class<?>[] {listenerType}, (proxy, method, args) -> {
                if (method.getName().equals("logged")) {
                    print(out, args[0]);
                }
                return method.getDeclaringClass() == Object.class ? method.invoke(proxy, args) : null;
            });
            for (Class<?> i : reader.getClass().getInterfaces()) {
                if (i.getName().equals("org.osgi.service.log.LogReaderService")) {
                    i.getMethod("addLogListener", listenerType).invoke(reader, listener);
                }
            }
        }

        /** R7 logs only warnings by default: Wharf's own loggers log from info. */
        @SuppressWarnings({"unchecked", "rawtypes"})
        private static void infoForWharf(BundleContext context, ServiceReference<?> ref)
                throws ReflectiveOperationException {
            ClassLoader api = ref.getBundle().adapt(org.osgi.framework.wiring.BundleWiring.class).getClassLoader();
            Object admin = context.getService(ref);
            Class<?> adminType = api.loadClass("org.osgi.service.log.admin.LoggerAdmin");
            Class<?> contextType = api.loadClass("org.osgi.service.log.admin.LoggerContext");
            Class<Enum> levelType = (Class<Enum>) api.loadClass("org.osgi.service.log.LogLevel");
            Object root = adminType.getMethod("getLoggerContext", String.class).invoke(admin, (Object) null);
            Map<String, Object> levels = new HashMap<>();
            levels.put("ROOT", Enum.valueOf(levelType, "WARN"));
            levels.put("org.wharf", Enum.valueOf(levelType, "INFO"));
            contextType.getMethod("setLogLevels", Map.class).invoke(root, levels);
        }

        private static void print(PrintStream out, Object entry) throws ReflectiveOperationException {
            Object level = call(entry, "getLogLevel");
            String name = String.valueOf(level);
            // Wharf's loggers, not the framework's events about Wharf's bundles.
            boolean ours = String.valueOf(call(entry, "getLoggerName")).startsWith("org.wharf");
            boolean serious = name.equals("WARN") || name.equals("ERROR") || name.equals("AUDIT");
            if (serious || ours && name.equals("INFO")) {
                Throwable t = (Throwable) call(entry, "getException");
                out.println((serious ? name + " " : "") + call(entry, "getMessage")
                        + (t != null && !ours ? ": " + t : ""));
            }
        }

        private static Object call(Object target, String method) throws ReflectiveOperationException {
            for (Class<?> i : target.getClass().getInterfaces()) {
                try {
                    return i.getMethod(method).invoke(target);
                } catch (NoSuchMethodException next) {
                    // another interface
                }
            }
            throw new NoSuchMethodException(method);
        }
    }
}
