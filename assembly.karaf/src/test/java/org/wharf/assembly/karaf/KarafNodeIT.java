package org.wharf.assembly.karaf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.wharf.transport.tck.Peers;

/**
 * The Karaf assembly as a container runs it: the archive the build made, unpacked, started with
 * {@code bin/karaf run} and configured the way Kubernetes configures a node, by environment
 * variables and a mounted ConfigMap folder ({@code ..data} swapped to a new hidden timestamped
 * folder, the visible files symlinks through it). Nothing else: no shell client, no download
 * (HOME is empty, so no {@code ~/.m2} can stand in for the assembly's {@code system/}).
 */
class KarafNodeIT {

    /** Wharf's graceful shutdown in this test: serve on, not ready, for GRACE; then DRAIN for open connections. */
    private static final long GRACE_MS = 3000;
    private static final long DRAIN_MS = 500;
    /** Karaf stopping its other bundles and the JVM exiting, on a loaded 2-core machine. */
    private static final long STOP_MARGIN_MS = 20_000;
    /** A second loopback address: the status endpoint goes there through WHARF_HOST, echo must not. */
    private static final String NODE_HOST = "127.0.0.2";

    private Path home;
    private Process karaf;
    /** What the condition of the running await last saw, for its failure message; null if nothing. */
    private volatile String lastSeen;

    @AfterEach
    void stopKaraf() throws Exception {
        if (karaf != null) {
            // Java may be a child of the script (if bin/karaf did not exec it): kill it too.
            karaf.descendants().forEach(ProcessHandle::destroyForcibly);
            karaf.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void nodeTakesItsConfigurationFromTheEnvironmentAndAMountedFolderFollowsASwapAndStopsGracefully() throws Exception {
        Path work = Path.of(System.getProperty("wharf.karaf.work"));
        delete(work);
        Files.createDirectories(work.resolve("home"));
        run(work, "tar", "xzf", System.getProperty("wharf.karaf.assembly"), "-C", work.toString());
        try (Stream<Path> list = Files.list(work)) {
            home = list.filter(p -> p.getFileName().toString().startsWith("wharf-karaf-")).findFirst().orElseThrow();
        }

        int edgePort = freePort();
        int gonePort = freePort();
        int hiddenPort = freePort();
        int httpPort = freePort();
        int envHttpPort = freePort();

        // The ConfigMap, as the kubelet writes it: files in a hidden timestamped folder, ..data
        // pointing there, and each visible name a symlink through ..data.
        Path config = work.resolve("config");
        Files.createDirectories(config);
        Path first = config.resolve("..2026_12_02_06_00_00.000000001");
        Files.createDirectories(first);
        Files.writeString(first.resolve("org.wharf.server-edge.cfg"),
                "name = edge\nhost = ${wharf.host:-127.0.0.1}\nport = ${wharf.edge.port:-7100}\nprotocol = echo\n");
        Files.writeString(first.resolve("org.wharf.server-gone.cfg"),
                "name = gone\nhost = ${wharf.host:-127.0.0.1}\nport = ${wharf.gone.port:-7101}\nprotocol = echo\n");
        Files.createSymbolicLink(config.resolve("..data"), first.getFileName());
        Files.createSymbolicLink(config.resolve("org.wharf.server-edge.cfg"), Path.of("..data/org.wharf.server-edge.cfg"));
        Files.createSymbolicLink(config.resolve("org.wharf.server-gone.cfg"), Path.of("..data/org.wharf.server-gone.cfg"));
        // What is in the hidden folders is taken only through the visible names (sub-folders are
        // skipped), so a file there that no visible name leads to is no configuration.
        Files.writeString(first.resolve("org.wharf.server-hidden.cfg"),
                "name = hidden\nhost = ${wharf.host:-127.0.0.1}\nport = " + hiddenPort + "\nprotocol = echo\n");
        // The node only reads the folder: FileInstall's write-back (on in Karaf by default) rewrote
        // each file in place after every update, and a poll that read one mid-rewrite emptied it for good.
        Path edgeFile = first.resolve("org.wharf.server-edge.cfg");
        java.nio.file.attribute.FileTime edgeWritten = Files.getLastModifiedTime(edgeFile);

        ProcessBuilder start = new ProcessBuilder(home.resolve("bin/karaf").toString(), "run").directory(home.toFile())
                .redirectErrorStream(true).redirectOutput(home.resolve("karaf.out").toFile());
        Map<String, String> env = start.environment();
        env.keySet().removeIf(k -> k.startsWith("WHARF_") || k.startsWith("KARAF_") || k.endsWith("JAVA_OPTS"));
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.put("HOME", work.resolve("home").toString());
        env.put("WHARF_CONFIG_DIR", config.toString());
        env.put("WHARF_HOST", NODE_HOST);
        env.put("WHARF_EDGE_PORT", Integer.toString(edgePort));
        env.put("WHARF_GONE_PORT", Integer.toString(gonePort));
        env.put("WHARF_ECHO_PORT", "0");
        env.put("WHARF_SHUTDOWN_GRACE", Long.toString(GRACE_MS));
        env.put("WHARF_SHUTDOWN_DRAIN", Long.toString(DRAIN_MS));
        // The environment names one port, a -D another: the -D wins, as in the launcher.
        env.put("WHARF_HTTP_PORT", Integer.toString(envHttpPort));
        env.put("EXTRA_JAVA_OPTS", "-Dwharf.http.port=" + httpPort);
        // Karaf's own configuration from the environment (its PID_KEY convention): SSH on a free port.
        env.put("ORG_APACHE_KARAF_SHELL_SSHPORT", Integer.toString(freePort()));
        long started = System.nanoTime();
        karaf = start.start();

        // bin/karaf replaces itself with Java (bin/setenv's KARAF_EXEC=exec): a signal to the
        // process a container runtime started reaches the JVM, not a shell that would leave it running.
        await("bin/karaf to exec java", 20, () -> karaf.info().command().map(c -> c.endsWith("/java")).orElse(false));

        await("endpoint edge from the configuration folder on " + NODE_HOST + ":" + edgePort, 90, () -> accepts(edgePort));
        System.out.printf("KarafNodeIT: edge (from WHARF_CONFIG_DIR) served %d ms after bin/karaf run%n",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        assertEquals("from the folder\n", echo(edgePort, "from the folder\n"));
        await("the status endpoint on -Dwharf.http.port " + httpPort, 30, () -> accepts(httpPort));
        // Karaf's first boot may still refresh bundles (endpoints restart): wait until the four
        // endpoints (echo and http of the image, edge and gone of the folder) listen.
        await("echo, http, edge and gone LISTENING in /status", 60, () -> {
            String status = get(httpPort, "/status").body();
            lastSeen = "/status: " + status;
            return status.split("\"state\":\"LISTENING\"", -1).length - 1 == 4;
        });
        lastSeen = null;
        assertTrue(accepts(gonePort), "endpoint gone does not accept on " + gonePort);
        assertFalse(accepts(hiddenPort), "a file in a hidden sub-folder of the configuration folder was taken:\n" + log());
        assertFalse(accepts(envHttpPort), "WHARF_HTTP_PORT won over -Dwharf.http.port");
        assertEquals(edgeWritten, Files.getLastModifiedTime(edgeFile), "the node wrote into the configuration folder");
        // The image's own echo endpoint stays on loopback whatever WHARF_HOST says.
        String status = get(httpPort, "/status").body();
        Matcher echo = Pattern.compile("\\{\"name\":\"echo\"[^}]*?\"addresses\":\\[\"([^\"]+)\"").matcher(status);
        assertTrue(echo.find() && echo.group(1).startsWith("127.0.0.1:"), "echo endpoint not on 127.0.0.1:\n" + status);

        // A new version of the ConfigMap, written as the kubelet does: a new hidden folder, ..data
        // swapped to it in one rename, visible names no longer in it removed, the old folder deleted.
        int movedPort = freePort();
        Path second = config.resolve("..2026_12_02_06_05_00.000000002");
        Files.createDirectories(second);
        Files.writeString(second.resolve("org.wharf.server-edge.cfg"),
                "name = edge\nhost = ${wharf.host:-127.0.0.1}\nport = " + movedPort + "\nprotocol = echo\nmaxConnections = 500\n");
        java.nio.file.attribute.FileTime movedWritten = Files.getLastModifiedTime(second.resolve("org.wharf.server-edge.cfg"));
        Path swap = config.resolve("..data_tmp");
        Files.createSymbolicLink(swap, second.getFileName());
        long swapped = System.nanoTime();
        Files.move(swap, config.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        Files.delete(config.resolve("org.wharf.server-gone.cfg"));
        delete(first);

        await("edge to move from " + edgePort + " to " + movedPort + " after the ..data swap", 30,
                () -> accepts(movedPort) && !accepts(edgePort));
        long followed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - swapped);
        await("endpoint gone to close after its file left the ConfigMap", 30, () -> !accepts(gonePort));
        System.out.printf("KarafNodeIT: the node followed the ..data swap in %d ms (FileInstall polls every 1000 ms)%n", followed);
        assertEquals("after the swap\n", echo(movedPort, "after the swap\n"));

        // Health for the balancer and the kubelet: the status endpoint's /ready and /live.
        await("GET /ready = 200", 30, () -> get(httpPort, "/ready").code() == 200);
        assertEquals(200, get(httpPort, "/live").code(), get(httpPort, "/live").body());
        assertEquals(movedWritten, Files.getLastModifiedTime(second.resolve("org.wharf.server-edge.cfg")),
                "the node wrote into the configuration folder after the swap");

        // SIGTERM, with one client connected: not ready at once, serving new and open connections
        // for the grace period, then the open connection gets up to the drain time, then exit 0.
        try (Socket held = connect(movedPort)) {
            long signalled = System.nanoTime();
            karaf.destroy();   // SIGTERM
            await("GET /ready = 503 after SIGTERM", GRACE_MS / 1000.0, () -> get(httpPort, "/ready").code() == 503);
            assertEquals("during the grace\n", echo(movedPort, "during the grace\n"),
                    "a new connection within the grace period was not served");
            held.setSoTimeout(5000);
            held.getOutputStream().write("still served\n".getBytes(StandardCharsets.UTF_8));
            assertEquals("still served\n", new String(held.getInputStream().readNBytes(13), StandardCharsets.UTF_8),
                    "a connection open before SIGTERM was not served within the grace period");
            assertTrue(karaf.waitFor(GRACE_MS + DRAIN_MS + STOP_MARGIN_MS, TimeUnit.MILLISECONDS),
                    "Karaf still running " + (GRACE_MS + DRAIN_MS + STOP_MARGIN_MS) + " ms after SIGTERM:\n" + log());
            long stopped = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - signalled);
            System.out.printf("KarafNodeIT: exited %d ms after SIGTERM (grace %d ms, drain %d ms)%n", stopped, GRACE_MS, DRAIN_MS);
            assertEquals(0, karaf.exitValue(), "exit status after SIGTERM:\n" + log());
            assertTrue(stopped >= GRACE_MS, "exited " + stopped + " ms after SIGTERM, before the grace period ended");
        }
    }

    /**
     * The assembly with wharf-conscrypt booted, as the README tells (added to featuresBoot): its
     * bundle comes from the assembly's own system/, the system bundle exports the
     * sun.security.x509 it imports, and an endpoint with tls.provider = Conscrypt from the
     * configuration folder serves the real openssl on BoringSSL (it would fail without Conscrypt).
     */
    @Test
    void theAssemblyBootedWithWharfConscryptServesOpensslOnBoringSsl() throws Exception {
        Path work = Path.of(System.getProperty("wharf.karaf.work") + "-conscrypt");
        delete(work);
        Files.createDirectories(work.resolve("home"));
        run(work, "tar", "xzf", System.getProperty("wharf.karaf.assembly"), "-C", work.toString());
        try (Stream<Path> list = Files.list(work)) {
            home = list.filter(p -> p.getFileName().toString().startsWith("wharf-karaf-")).findFirst().orElseThrow();
        }
        Path features = home.resolve("etc/org.apache.karaf.features.cfg");
        String boot = Files.readString(features);
        assertTrue(boot.contains("featuresBoot = \\\n"), boot);
        Files.writeString(features, boot.replace("featuresBoot = \\\n", "featuresBoot = \\\n    wharf-conscrypt, \\\n"));

        Path config = Files.createDirectories(work.resolve("config"));
        run(config, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "boring.key", "-out", "boring.pem", "-subj", "/CN=localhost", "-days", "2");
        int port = freePort();
        Files.writeString(config.resolve("org.wharf.server-boring.cfg"), "name = boring\ntransport = ssl\n"
                + "host = ${wharf.host}\nport = " + port + "\nprotocol = echo\ntls.certificate = "
                + config.resolve("boring.pem") + "\ntls.key = " + config.resolve("boring.key")
                + "\ntls.provider = Conscrypt\n");

        ProcessBuilder start = new ProcessBuilder(home.resolve("bin/karaf").toString(), "run").directory(home.toFile())
                .redirectErrorStream(true).redirectOutput(home.resolve("karaf.out").toFile());
        Map<String, String> env = start.environment();
        env.keySet().removeIf(k -> k.startsWith("WHARF_") || k.startsWith("KARAF_") || k.endsWith("JAVA_OPTS"));
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.put("HOME", work.resolve("home").toString());
        env.put("WHARF_CONFIG_DIR", config.toString());
        env.put("WHARF_HOST", NODE_HOST);
        env.put("WHARF_ECHO_PORT", "0");
        env.put("WHARF_HTTP_PORT", "0");
        env.put("ORG_APACHE_KARAF_SHELL_SSHPORT", Integer.toString(freePort()));
        karaf = start.start();

        await("endpoint boring on Conscrypt at " + NODE_HOST + ":" + port, 120, () -> accepts(port));
        Path input = Files.createTempFile(work, "line", ".txt");
        Files.writeString(input, "assembly on boringssl\n");
        Process openssl = Peers.process("openssl", "s_client", "-connect", NODE_HOST + ":" + port, "-tls1_3", "-quiet",
                "-ign_eof").redirectInput(input.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            String answer = new java.io.BufferedReader(new java.io.InputStreamReader(openssl.getInputStream(),
                    StandardCharsets.UTF_8)).readLine();
            assertEquals("assembly on boringssl", answer, "echo through Conscrypt:\n" + log());
        } finally {
            openssl.destroy();
            openssl.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private record Response(int code, String body) {
    }

    private static Response get(int port, String path) {
        try (Socket socket = connect(port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int code = Integer.parseInt(response.substring(9, 12));
            return new Response(code, response.substring(response.indexOf("\r\n\r\n") + 4));
        } catch (IOException | RuntimeException e) {
            return new Response(-1, e.toString());
        }
    }

    private static String echo(int port, String line) throws IOException {
        try (Socket socket = connect(port)) {
            socket.setSoTimeout(10_000);
            byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
            socket.getOutputStream().write(bytes);
            return new String(socket.getInputStream().readNBytes(bytes.length), StandardCharsets.UTF_8);
        }
    }

    private static Socket connect(int port) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress(InetAddress.getByName(NODE_HOST), port), 5000);
        return socket;
    }

    private static boolean accepts(int port) {
        try (Socket socket = connect(port)) {
            return true;
        } catch (ConnectException refused) {
            return false;
        } catch (IOException e) {
            return false;
        }
    }

    private void await(String what, double seconds, BooleanSupplier condition) throws IOException {
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("waited " + seconds + " s for " + what
                        + (lastSeen == null ? "" : "; last seen " + lastSeen) + ":\n" + log());
            }
            if (!karaf.isAlive()) {
                throw new AssertionError("Karaf exited (" + karaf.exitValue() + ") while waiting for " + what + ":\n" + log());
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
    }

    /** The node's console, then what Wharf's bundles logged (the console has only Karaf's own lines). */
    private String log() throws IOException {
        Path out = home.resolve("karaf.out");
        String text = Files.exists(out) ? Files.readString(out) : "(no karaf.out)";
        Path karafLog = home.resolve("data/log/karaf.log");
        String wharf = "";
        if (Files.exists(karafLog)) {
            try (Stream<String> lines = Files.lines(karafLog)) {
                wharf = lines.filter(l -> l.contains("| org.wharf.") || l.contains("- org.wharf."))
                        .filter(l -> !l.contains("FeaturesServiceImpl")).collect(java.util.stream.Collectors.joining("\n"));
            }
        }
        String tail = text.length() > 10_000 ? "..." + text.substring(text.length() - 10_000) : text;
        String ours = wharf.length() > 10_000 ? "..." + wharf.substring(wharf.length() - 10_000) : wharf;
        return "Wharf's lines in data/log/karaf.log:\n" + ours + "\nkaraf.out:\n" + tail;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(NODE_HOST))) {
            return socket.getLocalPort();
        }
    }

    private static void run(Path dir, String... command) throws Exception {
        Process p = Peers.process(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0, String.join(" ", command) + ":\n" + out);
    }

    private static void delete(Path dir) throws IOException {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
