package org.wharf.endpoints;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real HAProxy (Debian's {@code haproxy}) in TCP mode, started by a test from a configuration
 * written into a temporary folder, on ephemeral loopback ports; {@link #close()} stops it.
 */
final class Haproxy implements AutoCloseable {

    private final Process process;
    private final Path dir;
    final List<Integer> ports;

    /**
     * Starts HAProxy with one frontend per section given.
     *
     * @param dir where to write the configuration (and any files the sections name)
     * @param sections each a frontend's {@code bind} options and its backend's {@code server}
     *        line, with {@code %PORT%} for the frontend's port (chosen here)
     */
    Haproxy(Path dir, List<String[]> sections) throws IOException, InterruptedException {
        this.dir = dir;
        List<Integer> chosen = new ArrayList<>();
        StringBuilder cfg = new StringBuilder("""
                global
                  maxconn 200
                defaults
                  mode tcp
                  timeout connect 5s
                  timeout client 30s
                  timeout server 30s
                """);
        int i = 0;
        for (String[] s : sections) {
            int port = freePort();
            chosen.add(port);
            cfg.append("frontend f").append(i).append("\n  bind 127.0.0.1:").append(port).append(' ').append(s[0])
                    .append("\n  default_backend b").append(i).append("\nbackend b").append(i).append("\n  server s ")
                    .append(s[1]).append('\n');
            i++;
        }
        ports = List.copyOf(chosen);
        Path file = dir.resolve("haproxy.cfg");
        Files.writeString(file, cfg, StandardCharsets.UTF_8);
        process = org.wharf.transport.tck.Peers.process("haproxy", "-db", "-f", file.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("haproxy.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        // HAProxy binds every frontend before it serves any: one answering is enough, and the
        // others stay untouched (a probe through them would reach the backends).
        for (int port : ports.subList(0, 1)) {
            while (!accepts(port)) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    throw new IOException("haproxy did not listen on " + port + ": "
                            + Files.readString(dir.resolve("haproxy.log")));
                }
                Thread.onSpinWait();
                TimeUnit.MILLISECONDS.sleep(20); // polling a port with a deadline, not synchronising on time
            }
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    String log() throws IOException {
        return Files.readString(dir.resolve("haproxy.log"));
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
