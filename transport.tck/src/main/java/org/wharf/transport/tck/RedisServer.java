package org.wharf.transport.tck;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code redis-server} (Debian's, found by {@link Peers}) on a loopback port, for tests:
 * nothing saved to disk, started with any further arguments ({@code --replicaof},
 * {@code --enable-debug-command yes}), returned once it says it is ready; its output is
 * drained so it never blocks on a full pipe.
 */
public final class RedisServer implements AutoCloseable {

    private final Process process;
    private final int port;
    private final Path dir;

    private RedisServer(Process process, int port, Path dir) {
        this.process = process;
        this.port = port;
        this.dir = dir;
    }

    /**
     * Starts one on a free ephemeral port.
     *
     * @param more further arguments
     * @return the server, ready
     * @throws IOException if it cannot start or ends before it is ready
     */
    public static RedisServer start(String... more) throws IOException {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        return start(port, more);
    }

    /**
     * Starts one on a given port.
     *
     * @param port the port
     * @param more further arguments
     * @return the server, ready
     * @throws IOException if it cannot start or ends before it is ready
     */
    public static RedisServer start(int port, String... more) throws IOException {
        Path dir = Files.createTempDirectory("redis-" + port);
        List<String> command = new ArrayList<>(List.of("redis-server", "--port", Integer.toString(port), "--bind",
                "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir.toString()));
        command.addAll(List.of(more));
        Process process = Peers.process(command).redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        StringBuilder said = new StringBuilder();
        while (!said.toString().contains("Ready to accept connections")) {
            String line = out.readLine();
            if (line == null) {
                throw new IOException("redis-server on port " + port + " ended before it was ready: " + said);
            }
            said.append(line).append('\n');
        }
        Thread drain = new Thread(() -> {
            try {
                out.transferTo(java.io.Writer.nullWriter());
            } catch (IOException e) {
                // redis-server ended
            }
        }, "redis-server-" + port);
        drain.setDaemon(true);
        drain.start();
        return new RedisServer(process, port, dir);
    }

    /**
     * The port it listens on, on 127.0.0.1.
     *
     * @return the port
     */
    public int port() {
        return port;
    }

    /** Stops it (SIGTERM, then SIGKILL after 10 s) and removes its working folder. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        try (java.util.stream.Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.delete(f);
            }
            Files.delete(dir);
        } catch (IOException e) {
            // a temporary folder left behind; nothing a test needs to hear
        }
    }
}
