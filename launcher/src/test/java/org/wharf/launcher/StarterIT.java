package org.wharf.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.wharf.transport.tck.Peers;

/**
 * The protocol-bundle starter end to end, as README's "Write a protocol bundle" runs it: a
 * project generated from the archetype outside the reactor, built (its test runs the protocol
 * over real TCP) against the artifacts this build just made, deployed into a running
 * distribution, served, upgraded in place and removed. The child builds run Maven on a
 * staging repository holding this build's artifacts, with the local repository as their only
 * (file) remote: no network.
 */
class StarterIT {

    private static final long MAVEN_SECONDS = 300;

    @TempDir
    Path work;
    private Process wharf;
    private final StringBuffer log = new StringBuffer();

    @AfterEach
    void stop() throws Exception {
        if (wharf != null) {
            wharf.destroy();
            if (!wharf.waitFor(30, TimeUnit.SECONDS)) {
                wharf.destroyForcibly();
            }
        }
    }

    @Test
    void aGeneratedProtocolBuildsDeploysServesUpgradesAndGoes() throws Exception {
        Path repo = stage();
        Path settings = work.resolve("settings.xml");
        Files.writeString(settings, "<settings><mirrors><mirror><id>local</id><mirrorOf>*</mirrorOf><url>"
                + Path.of(System.getProperty("wharf.localRepository")).toUri() + "</url></mirror></mirrors></settings>");
        List<String> maven = List.of("mvn", "-B", "-s", settings.toString(), "-Dmaven.repo.local=" + repo);

        Path projects = Files.createDirectories(work.resolve("projects"));
        mvn(projects, maven, "org.apache.maven.plugins:maven-archetype-plugin:3.2.1:generate", "-DinteractiveMode=false",
                "-DarchetypeGroupId=org.wharf", "-DarchetypeArtifactId=protocol.archetype",
                "-DarchetypeVersion=" + System.getProperty("wharf.version"), "-DgroupId=com.example",
                "-DartifactId=shout", "-Dversion=1.0.0", "-Dpackage=com.example.shout", "-Dprotocol=shout");
        Path project = projects.resolve("shout");

        Path home = Distributions.seed(distribution()); // its self-signed pairs made: no keytool at start
        String cfg = Files.readString(project.resolve("etc/org.wharf.server-shout.cfg")).replace("port = 7010", "port = 0");
        Files.writeString(home.resolve("etc/org.wharf.server-shout.cfg"), cfg);
        start(home);

        // Build (its own test over real TCP) and deploy in one command, as README says.
        String built = mvn(project, maven, "package", "-Dwharf.deploy=" + home.resolve("deploy"));
        assertTrue(built.contains("Tests run: 2, Failures: 0, Errors: 0"), built);
        Matcher listening = await("listening tcp 127\\.0\\.0\\.1:(\\d+) shout 1\\.0\\.0 \\(endpoint shout\\)");
        int port = Integer.parseInt(listening.group(1));
        assertEquals("HELLO", exchange(port, "hello"));

        // A newer build copied over the old one: an update in place, the port never closes.
        try (Socket before = open(port)) {
            String pom = Files.readString(project.resolve("pom.xml"));
            Files.writeString(project.resolve("pom.xml"), pom.replace("<version>1.0.0</version>", "<version>1.1.0</version>"));
            mvn(project, maven, "package", "-DskipTests", "-Dwharf.deploy=" + home.resolve("deploy"));
            await("endpoint shout: shout 1\\.1\\.0 takes over|endpoint shout: new connections get shout 1\\.1\\.0");
            assertEquals("AGAIN", exchange(port, "again"));
            assertEquals("STILL", send(before, "still"), "a connection opened before the update keeps being served");
        }

        Files.delete(home.resolve("deploy/shout.jar"));
        awaitTrue(() -> refused(port), "the port closes once the bundle is gone");
        await("endpoint shout: protocol shout 1\\.1\\.0 went away and no replacement came within");
    }

    /** This build's artifacts a generated project needs, in a repository of their own. */
    private Path stage() throws IOException {
        Path root = Path.of(System.getProperty("wharf.root")).toAbsolutePath().normalize();
        String version = System.getProperty("wharf.version");
        Path repo = Files.createDirectories(work.resolve("repo"));
        stagePom(repo, "wharf", root.resolve("pom.xml"), version);
        stagePom(repo, "protocol.parent", root.resolve("protocol.parent/pom.xml"), version);
        for (String module : List.of("transport.api", "transport.core", "protocol.api", "endpoints.api", "transport.nio",
                "endpoints", "protocol.testkit", "protocol.archetype")) {
            Path dir = stagePom(repo, module, root.resolve(module).resolve("pom.xml"), version);
            Path jar = root.resolve(module).resolve("target").resolve(module + "-" + version + ".jar");
            assertTrue(Files.isRegularFile(jar), "built before this test: " + jar);
            Files.copy(jar, dir.resolve(module + "-" + version + ".jar"));
        }
        return repo;
    }

    private static Path stagePom(Path repo, String artifact, Path pom, String version) throws IOException {
        Path dir = Files.createDirectories(repo.resolve("org/wharf").resolve(artifact).resolve(version));
        Files.copy(pom, dir.resolve(artifact + "-" + version + ".pom"));
        return dir;
    }

    /** A fresh copy of the built distribution, without the state of earlier runs. */
    private Path distribution() throws IOException {
        Path from = Path.of(System.getProperty("wharf.dist"));
        Path to = work.resolve("wharf");
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : all.toList()) {
                Path relative = from.relativize(p);
                if (relative.startsWith("data") || relative.startsWith("deploy") && !relative.toString().equals("deploy")) {
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

    private void start(Path home) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/wharf").toString(), "--no-shell").redirectErrorStream(true);
        pb.environment().put("JAVA_OPTS", "-Dwharf.echo.port=0 -Dwharf.echo.udp.port=0 -Dwharf.echo.tls.port=0 "
                + "-Dwharf.http.port=0 " + DistributionIT.FAST_POLL);
        wharf = pb.start();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(wharf.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null;) {
                    log.append(line).append('\n');
                }
            } catch (IOException ended) {
                // the platform stopped
            }
        }, "wharf-log");
        reader.setDaemon(true);
        reader.start();
    }

    private Matcher await(String regex) throws InterruptedException {
        Pattern pattern = Pattern.compile(regex);
        Matcher[] found = new Matcher[1];
        awaitTrue(() -> {
            Matcher m = pattern.matcher(log);
            if (m.find()) {
                found[0] = m;
                return true;
            }
            return false;
        }, "the platform's log says " + regex);
        return found[0];
    }

    private void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline || !wharf.isAlive()) {
                throw new AssertionError("not within 60 s: " + what + "\n" + log);
            }
            TimeUnit.MILLISECONDS.sleep(50); // polling with a deadline: a log line has no event to wait on
        }
    }

    private static String mvn(Path dir, List<String> maven, String... args) throws Exception {
        List<String> command = new ArrayList<>(maven);
        command.addAll(List.of(args));
        ProcessBuilder pb = Peers.process(command).directory(dir.toFile()).redirectErrorStream(true);
        // Short builds: the C1 compiler alone and the serial collector start Maven faster.
        pb.environment().merge("MAVEN_OPTS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC", (mine, added) -> mine + " " + added);
        Process p = pb.start();
        p.getOutputStream().close();
        StringBuilder out = new StringBuilder();
        Thread reader = new Thread(() -> {
            try {
                out.append(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException ended) {
                // the build ended
            }
        });
        reader.start();
        if (!p.waitFor(MAVEN_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish within " + MAVEN_SECONDS + " s");
        }
        reader.join(10_000);
        assertEquals(0, p.exitValue(), String.join(" ", command) + " in " + dir + ":\n" + out);
        return out.toString();
    }

    private static Socket open(int port) throws IOException {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), port);
        socket.setSoTimeout(10_000);
        return socket;
    }

    private static String exchange(int port, String line) throws IOException {
        try (Socket socket = open(port)) {
            return send(socket, line);
        }
    }

    private static String send(Socket socket, String line) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        StringBuilder answer = new StringBuilder();
        for (int c; (c = socket.getInputStream().read()) != '\n';) {
            if (c < 0) {
                throw new java.io.EOFException("closed after '" + answer + "'");
            }
            if (c != '\r') {
                answer.append((char) c);
            }
        }
        return answer.toString();
    }

    private static boolean refused(int port) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
