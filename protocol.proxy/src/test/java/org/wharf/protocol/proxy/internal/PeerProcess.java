package org.wharf.protocol.proxy.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real server from Debian (haproxy, nginx) started by a test, its output in a file, ready
 * once its port accepts a connection; {@link #close()} stops it.
 */
final class PeerProcess implements AutoCloseable {

    private final Process process;
    private final Path log;

    PeerProcess(Path dir, String name, List<String> command, int port) throws IOException, InterruptedException {
        log = dir.resolve(name + ".log");
        // Daemons (haproxy, nginx) are in /usr/sbin, which a user's PATH may lack: Peers finds them.
        process = org.wharf.transport.tck.Peers.process(command).redirectErrorStream(true).redirectOutput(log.toFile())
                .start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!accepts(port)) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                throw new IOException(name + " did not listen on " + port + ": " + Files.readString(log));
            }
            TimeUnit.MILLISECONDS.sleep(20); // polling a port against a deadline
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

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
