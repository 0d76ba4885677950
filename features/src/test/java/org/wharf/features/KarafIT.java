package org.wharf.features;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.wharf.transport.tck.Peers;

/**
 * Apache Karaf as a user runs it: the real distribution (from Maven Central, through the build),
 * started headless; the features repository added and features installed through Karaf's own
 * shell client; a real socket checks that echo answers and, after {@code feature:uninstall},
 * that its port closes while the HTTP endpoint runs on. Then the optional wharf-conscrypt
 * feature, set up as the README tells someone who brings their own Karaf, serves the real
 * {@code openssl s_client} on BoringSSL.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KarafIT {

    private static final String VERSION = System.getProperty("wharf.version");
    private static final List<String> BUNDLES = List.of("transport.api", "transport.core", "protocol.api", "endpoints.api", "transport.nio",
            "transport.ssl", "endpoints", "shell.karaf", "protocol.echo", "protocol.http", "protocol.proxy");

    private static Path karaf;

    @BeforeAll
    static void startKaraf() throws Exception {
        Path work = Path.of(System.getProperty("wharf.karaf.work"));
        delete(work);
        Files.createDirectories(work);
        run(work, 120, "tar", "xzf", System.getProperty("wharf.karaf.tar"), "-C", work.toString());
        try (Stream<Path> list = Files.list(work)) {
            karaf = list.filter(p -> p.getFileName().toString().startsWith("apache-karaf")).findFirst().orElseThrow();
        }
        Path etc = karaf.resolve("etc");

        // The shell client's user (commented out in the distribution).
        Path users = etc.resolve("users.properties");
        Files.writeString(users, Files.readString(users)
                .replace("#karaf = karaf,_g_:admingroup", "karaf = karaf,_g_:admingroup")
                .replace("#_g_\\:admingroup = ", "_g_\\:admingroup = "));
        // Free ports for SSH and JMX, so that a Karaf (or anything) already on 8101/1099/44444
        // does not fail the build and this Karaf does not disturb anyone.
        replaceLine(etc.resolve("org.apache.karaf.shell.cfg"), "sshPort", "sshPort = " + freePort());
        replaceLine(etc.resolve("org.apache.karaf.management.cfg"), "rmiRegistryPort",
                "rmiRegistryPort = " + freePort());
        replaceLine(etc.resolve("org.apache.karaf.management.cfg"), "rmiServerPort", "rmiServerPort = " + freePort());

        // The build's artifacts in Karaf's system/ repository (Maven layout), where mvn: URLs
        // resolve first: what a KAR or a deployment to a Maven repository would provide.
        for (String bundle : BUNDLES) {
            place(Path.of(System.getProperty("wharf.bundle." + bundle)), bundle, null, "jar");
        }
        Path feature = Path.of(System.getProperty("wharf.feature.dir"));
        place(feature.resolve("features.xml"), "features", "features", "xml");
        place(feature.resolve("echo.cfg"), "features", "echo", "cfg");
        place(feature.resolve("http.cfg"), "features", "http", "cfg");
        // wharf-conscrypt's bundle, where its mvn: URL resolves, and what the README asks of a
        // Karaf of one's own for it: the system bundle exports sun.security.x509, which
        // Conscrypt's bundle imports.
        place(Path.of(System.getProperty("wharf.bundle.conscrypt")), "org/conscrypt", "conscrypt-openjdk-uber",
                System.getProperty("wharf.conscrypt.version"), null, "jar");
        Path config = etc.resolve("config.properties");
        String properties = Files.readString(config);
        String extra = "org.osgi.framework.system.packages.extra = \\\n";
        assertTrue(properties.contains(extra), "no '" + extra + "' in " + config);
        Files.writeString(config, properties.replace(extra, extra + "    sun.security.x509, \\\n"));

        ProcessBuilder start = new ProcessBuilder(karaf.resolve("bin/start").toString()).directory(karaf.toFile())
                .redirectErrorStream(true).redirectOutput(karaf.resolve("start.out").toFile());
        start.environment().put("JAVA_HOME", System.getProperty("java.home"));
        // Ephemeral endpoint ports: the shipped .cfg files read them as ${wharf.echo.port:-7007}.
        start.environment().put("EXTRA_JAVA_OPTS", "-Dwharf.echo.port=0 -Dwharf.http.port=0");
        assertTrue(start.start().waitFor(60, TimeUnit.SECONDS), "bin/start did not return");
    }

    @AfterAll
    static void stopKaraf() throws Exception {
        if (karaf == null) {
            return;
        }
        ProcessBuilder stop = new ProcessBuilder(karaf.resolve("bin/stop").toString()).directory(karaf.toFile())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        stop.environment().put("JAVA_HOME", System.getProperty("java.home"));
        stop.start().waitFor(60, TimeUnit.SECONDS);
        // bin/stop asks; make sure the JVM is gone before the next build touches the folder.
        Path pidFile = karaf.resolve("data/karaf.pid");
        if (Files.exists(pidFile)) {
            long pid = Long.parseLong(Files.readString(pidFile).trim());
            ProcessHandle.of(pid).ifPresent(p -> {
                try {
                    p.onExit().get(30, TimeUnit.SECONDS);
                } catch (Exception e) {
                    p.destroyForcibly();
                }
            });
        }
    }

    @Test
    @Order(1)
    void featuresInstallEndpointsThatServeAndUninstallClosesThem() throws Exception {
        // One client session for the three (each costs a JVM start and an SSH handshake, ~2 s).
        client("feature:repo-add mvn:org.wharf/features/" + VERSION + "/xml/features", "feature:install wharf-echo",
                "feature:install wharf-http");
        String answer = client("feature:list -i");
        assertTrue(answer.contains("wharf-echo") && answer.contains("wharf-http") && answer.contains("wharf-core"),
                "installed features:\n" + answer);

        int echo = awaitListening("echo");
        int http = awaitListening("status");
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), echo)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write("karaf echo\n".getBytes(StandardCharsets.UTF_8));
            assertEquals("karaf echo\n",
                    new String(socket.getInputStream().readNBytes(11), StandardCharsets.UTF_8));
        }
        assertTrue(httpGet(http, "/status").contains("\"name\":\"echo\""));

        // The wharf:* commands, as Karaf commands (shell.karaf, installed with wharf-core since
        // the shell is there): with arguments, and help from their annotations.
        String one = client("wharf:endpoints echo");
        assertTrue(one.contains("LISTENING") && one.contains("echo"), "wharf:endpoints echo:\n" + one);
        String unknown = client("wharf:connections nosuch");
        assertTrue(unknown.contains("no endpoint named nosuch (there are: echo, http)"), unknown);
        String help = client("wharf:endpoints --help");
        assertTrue(help.contains("describes one") && help.contains("the endpoint's name"), help);

        client("feature:uninstall wharf-echo");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (accepts(echo)) {
            assertTrue(System.nanoTime() < deadline, "echo port " + echo + " still open after uninstall");
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
        // The other endpoint runs on, on the same port: removing a protocol bundle does not
        // refresh (restart) the endpoints bundle and every endpoint with it.
        String status = httpGet(http, "/status");
        assertTrue(status.startsWith("{") && status.contains("\"name\":\"http\""), status);

        // A gateway: the proxy feature, and a route to the HTTP endpoint dropped into etc/.
        client("feature:install wharf-proxy");
        java.nio.file.Files.writeString(karaf.resolve("etc").resolve("org.wharf.proxy-gateway.cfg"),
                "name = gateway\nport = 0\nproxy.upstreams = 127.0.0.1:" + http + "\n");
        int gateway = awaitListening("proxy");
        String through = httpGet(gateway, "/status");
        assertTrue(through.contains("\"name\":\"gateway\"") && through.contains("\"name\":\"http\""), through);
    }

    /**
     * tls.provider = Conscrypt in Karaf: an ssl endpoint configured while only wharf-core is there
     * fails (no such provider); {@code feature:install wharf-conscrypt} then installs Conscrypt's
     * bundle and refreshes transport.ssl, which wires its optional import to it, and the same
     * endpoint serves the real openssl on BoringSSL (there is no fallback to the JDK's engine).
     */
    @Test
    @Order(2)
    void theConscryptFeatureWiresTransportSslToBoringSslAndAnEndpointServesOpenssl() throws Exception {
        client("feature:repo-add mvn:org.wharf/features/" + VERSION + "/xml/features", "feature:install wharf-echo");
        Path tls = Files.createDirectories(karaf.resolve("tls"));
        run(tls, 60, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "boring.key", "-out", "boring.pem", "-subj", "/CN=localhost", "-days", "2");
        Files.writeString(karaf.resolve("etc").resolve("org.wharf.server-boring.cfg"),
                "name = boring\ntransport = ssl\nhost = 127.0.0.1\nport = 0\nprotocol = echo\n"
                        + "tls.certificate = " + tls.resolve("boring.pem") + "\ntls.key = " + tls.resolve("boring.key")
                        + "\ntls.provider = Conscrypt\n");
        // transport.ssl resolved without Conscrypt: the provider is not there, and the endpoint says so.
        awaitLog("endpoint boring without Conscrypt", Pattern.compile("tls\\.provider = 'Conscrypt'"));
        assertTrue(!karafLog().contains("listening ssl "), "listening without Conscrypt:\n" + karafLog());

        client("feature:install wharf-conscrypt");
        String bundles = client("bundle:list -s");
        assertTrue(bundles.matches("(?s).*Active.*org\\.conscrypt.*"), "Conscrypt's bundle is active:\n" + bundles);
        int port = awaitListening("ssl", "echo");

        Path input = Files.createTempFile("karaf-conscrypt", ".txt");
        Files.writeString(input, "karaf on boringssl\n");
        Process openssl = Peers.process("openssl", "s_client", "-connect", "127.0.0.1:" + port, "-tls1_3", "-quiet",
                "-ign_eof").redirectInput(input.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            String answer = new java.io.BufferedReader(new java.io.InputStreamReader(openssl.getInputStream(),
                    StandardCharsets.UTF_8)).readLine();
            assertEquals("karaf on boringssl", answer, "echo through Conscrypt\n" + karafLog());
        } finally {
            openssl.destroy();
            openssl.waitFor(10, TimeUnit.SECONDS);
            Files.delete(input);
        }
    }

    /** Runs commands through Karaf's SSH client (batch mode); returns their output. */
    private static String client(String... commands) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(karaf.resolve("bin/client").toString(), "-u", "karaf", "-p", "karaf",
                "-r", "90", "-d", "1", "-b").directory(karaf.toFile()).redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process client = pb.start();
        client.getOutputStream().write((String.join("\n", commands) + "\n").getBytes(StandardCharsets.UTF_8));
        client.getOutputStream().close();
        String out = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(client.waitFor(180, TimeUnit.SECONDS), "bin/client did not return:\n" + out);
        assertEquals(0, client.exitValue(), "bin/client " + commands[0] + " failed:\n" + out + "\n" + karafLog());
        return out;
    }

    /** The port an endpoint logged ({@code listening tcp 127.0.0.1:N echo 0.1.0}) in Karaf's log. */
    private static int awaitListening(String name) throws IOException {
        return awaitListening("tcp", name);
    }

    private static int awaitListening(String transport, String name) throws IOException {
        return Integer.parseInt(awaitLog(transport + " " + name,
                Pattern.compile("listening " + transport + " [^ ]+:(\\d+) " + name + " ")).group(1));
    }

    /** The first match of the pattern in Karaf's log, within 60 s. */
    private static Matcher awaitLog(String what, Pattern pattern) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            Matcher m = pattern.matcher(karafLog());
            if (m.find()) {
                return m;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
        throw new AssertionError(what + ": no '" + pattern + "' in karaf.log:\n" + karafLog());
    }

    private static String karafLog() throws IOException {
        Path log = karaf.resolve("data/log/karaf.log");
        return Files.exists(log) ? Files.readString(log) : "(no karaf.log)";
    }

    private static String httpGet(int port, String path) throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(response.startsWith("HTTP/1.1 200"), response);
            return response.substring(response.indexOf("\r\n\r\n") + 4);
        }
    }

    private static boolean accepts(int port) throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            return true;
        } catch (ConnectException refused) {
            return false;
        }
    }

    private static void place(Path file, String artifactId, String classifier, String type) throws IOException {
        place(file, "org/wharf", artifactId, VERSION, classifier, type);
    }

    private static void place(Path file, String groupPath, String artifactId, String version, String classifier,
            String type) throws IOException {
        Path dir = karaf.resolve("system").resolve(groupPath).resolve(artifactId).resolve(version);
        Files.createDirectories(dir);
        String name = artifactId + "-" + version + (classifier == null ? "" : "-" + classifier) + "." + type;
        Files.copy(file, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }

    private static void replaceLine(Path file, String key, String line) throws IOException {
        String text = Files.readString(file);
        String replaced = text.replaceAll("(?m)^#?\\s*" + Pattern.quote(key) + "\\s*=.*$", Matcher.quoteReplacement(line));
        assertTrue(!replaced.equals(text) || text.contains(line), key + " not found in " + file);
        Files.writeString(file, replaced);
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static void run(Path dir, int seconds, String... command) throws Exception {
        Process p = Peers.process(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(seconds, TimeUnit.SECONDS) && p.exitValue() == 0, String.join(" ", command) + ":\n" + out);
    }

    private static void delete(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
