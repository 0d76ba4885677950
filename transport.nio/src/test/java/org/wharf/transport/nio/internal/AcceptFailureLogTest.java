package org.wharf.transport.nio.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A listener out of file descriptors: every accept fails (EMFILE) and is retried after a
 * backoff for as long as clients keep connecting, which an attacker can make last. It logs
 * one line per window, not one per retry, and serves again once descriptors are free. The
 * server runs in a JVM of its own whose limit the test lowers with {@code prlimit}.
 */
class AcceptFailureLogTest {

    /** How long clients keep the starved listener failing: ten backoffs and more. */
    private static final long STARVED_MILLIS = 1500;

    @Test
    void aListenerOutOfDescriptorsLogsOneLinePerWindowAndServesAgainOnceTheyAreFree(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/fd")), "Linux only: /proc/PID/fd and prlimit");
        assumeTrue(java.util.stream.Stream.of("/usr/bin/prlimit", "/bin/prlimit").anyMatch(p -> Files.isExecutable(Path.of(p))),
                "prlimit (util-linux) is not installed");
        Path stderr = dir.resolve("server.err");
        Process server = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx64m", "-cp", System.getProperty("java.class.path"), DescriptorStarvedEcho.class.getName())
                .redirectError(stderr.toFile()).start();
        List<Socket> clients = new ArrayList<>();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.US_ASCII));
            String line = out.readLine();
            assertTrue(line != null && line.startsWith("listening "), "the server did not start: " + line + "\n"
                    + Files.readString(stderr));
            int port = Integer.parseInt(line.substring("listening ".length()));
            assertEquals("warm\n", echo(port, "warm\n")); // the accept and echo paths' classes are loaded

            // Room for two more descriptors, then every accept fails.
            long open;
            try (Stream<Path> fds = Files.list(Path.of("/proc/" + server.pid() + "/fd"))) {
                open = fds.count();
            }
            long limit = open + 2;
            Process prlimit = new ProcessBuilder("prlimit", "--pid", Long.toString(server.pid()),
                    "--nofile=" + limit + ":" + limit).redirectErrorStream(true).start();
            String said = new String(prlimit.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(prlimit.waitFor(30, TimeUnit.SECONDS) && prlimit.exitValue() == 0, "prlimit failed: " + said);

            for (int i = 0; i < 16; i++) {
                clients.add(connect(port)); // the kernel completes them into the backlog
            }
            awaitLog(stderr, "accepting on", 10_000);
            // Clients keep the listener failing: a retry every 100 ms, each a failed accept.
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(STARVED_MILLIS));
            String log = Files.readString(stderr);
            assertEquals(1, count(log, "accepting on"), "one line for the window, not one per retry:\n" + log);
            assertTrue(log.contains("Too many open files"), log);
            assertTrue(server.isAlive(), "the server died:\n" + log);

            for (Socket c : clients) {
                c.close();
            }
            clients.clear();
            // The backlog's connections are accepted and closed as they end; then new ones are served.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            String answer = null;
            while (System.nanoTime() < deadline && !"again\n".equals(answer)) {
                try {
                    answer = echo(port, "again\n");
                } catch (IOException notYet) {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
                }
            }
            assertEquals("again\n", answer, "not served after the clients left:\n" + Files.readString(stderr));
        } finally {
            for (Socket c : clients) {
                c.close();
            }
            server.getOutputStream().close();
            if (!server.waitFor(10, TimeUnit.SECONDS)) {
                server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private static Socket connect(int port) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
        return socket;
    }

    private static String echo(int port, String text) throws IOException {
        try (Socket socket = connect(port)) {
            socket.setSoTimeout(2000);
            byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
            socket.getOutputStream().write(bytes);
            return new String(socket.getInputStream().readNBytes(bytes.length), StandardCharsets.US_ASCII);
        }
    }

    private static void awaitLog(Path file, String text, long millis) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (!Files.readString(file).contains(text)) {
            assertTrue(System.nanoTime() < deadline, "no '" + text + "' in " + millis + " ms:\n" + Files.readString(file));
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }
}
