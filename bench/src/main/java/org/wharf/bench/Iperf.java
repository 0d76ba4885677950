package org.wharf.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The machine's loopback limit as iperf3 measures it, one way, client and server on the
 * same cores the bench's driver and servers use: TCP in MB/s, and 64-byte UDP datagrams
 * received per second.
 */
final class Iperf {

    private static final Pattern OBJECT = Pattern.compile("\"sum_received\":\\s*\\{([^}]*)\\}");
    private static final Pattern FIELD = Pattern.compile("\"(\\w+)\":\\s*([-0-9.eE+]+)");

    private Iperf() {
    }

    /** @return whether iperf3 can be run here */
    static boolean available() {
        try {
            Process p = new ProcessBuilder("iperf3", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * One-way loopback TCP.
     *
     * @param serverPrefix the command prefix that pins the server (may be empty)
     * @param time how long to send
     * @return MB/s received
     * @throws IOException if iperf3 fails
     */
    static double tcp(List<String> serverPrefix, Duration time) throws IOException, InterruptedException {
        Map<String, Double> received = run(serverPrefix, time, List.of());
        return received.get("bytes") / received.get("seconds") / 1e6;
    }

    /**
     * One-way loopback UDP, as fast as the sender can, in 64-byte datagrams.
     *
     * @param serverPrefix the command prefix that pins the server (may be empty)
     * @param time how long to send
     * @return datagrams received per second
     * @throws IOException if iperf3 fails
     */
    static double udp(List<String> serverPrefix, Duration time) throws IOException, InterruptedException {
        Map<String, Double> received = run(serverPrefix, time, List.of("-u", "-b", "0", "-l", "64"));
        return (received.get("packets") - received.get("lost_packets")) / received.get("seconds");
    }

    private static Map<String, Double> run(List<String> serverPrefix, Duration time, List<String> options)
            throws IOException, InterruptedException {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        List<String> serverCommand = new java.util.ArrayList<>(serverPrefix);
        serverCommand.addAll(List.of("iperf3", "-s", "-1", "--forceflush", "-B", "127.0.0.1", "-p",
                Integer.toString(port)));
        Process server = new ProcessBuilder(serverCommand).redirectErrorStream(true).start();
        try {
            BufferedReader lines = new BufferedReader(new InputStreamReader(server.getInputStream(),
                    StandardCharsets.UTF_8));
            for (String line; !(line = Optional.ofNullable(lines.readLine()).orElseThrow(
                    () -> new IOException("iperf3 -s ended before listening"))).contains("listening");) {
                // wait for "Server listening on PORT"
            }
            List<String> clientCommand = new java.util.ArrayList<>(List.of("iperf3", "-c", "127.0.0.1", "-p",
                    Integer.toString(port), "-t", Long.toString(Math.max(1, time.toSeconds())), "-J"));
            clientCommand.addAll(options);
            Process client = new ProcessBuilder(clientCommand).redirectErrorStream(true).start();
            String json = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (client.waitFor() != 0) {
                throw new IOException("iperf3 " + options + " failed: " + json);
            }
            Matcher object = OBJECT.matcher(json);
            if (!object.find()) {
                throw new IOException("no sum_received in iperf3's report: " + json);
            }
            Map<String, Double> fields = new HashMap<>();
            for (Matcher f = FIELD.matcher(object.group(1)); f.find();) {
                fields.put(f.group(1), Double.parseDouble(f.group(2)));
            }
            return fields;
        } finally {
            if (!server.waitFor(5, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        }
    }
}
