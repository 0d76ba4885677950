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
        int port = freePort();
        Process server = server(serverPrefix, port, true);
        try {
            return client(port, time, options);
        } finally {
            if (!server.waitFor(5, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        }
    }

    /** @return a loopback port free a moment ago */
    static int freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }

    /**
     * Starts {@code iperf3 -s} on a loopback port and waits until it listens.
     *
     * @param prefix the command prefix that pins it (may be empty)
     * @param port its port
     * @param oneOff whether it serves one test and ends ({@code -1}), or serves until stopped
     * @return the server's process; its output is drained
     * @throws IOException if it ends before listening
     */
    static Process server(List<String> prefix, int port, boolean oneOff) throws IOException {
        List<String> command = new java.util.ArrayList<>(prefix);
        command.addAll(List.of("iperf3", "-s", "--forceflush", "-B", "127.0.0.1", "-p", Integer.toString(port)));
        if (oneOff) {
            command.add("-1");
        }
        Process server = new ProcessBuilder(command).redirectErrorStream(true).start();
        BufferedReader lines = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        for (String line; !(line = Optional.ofNullable(lines.readLine()).orElseThrow(
                () -> new IOException("iperf3 -s on port " + port + " ended before listening"))).contains("listening");) {
            // wait for "Server listening on PORT"
        }
        Thread drain = new Thread(() -> {
            try {
                lines.transferTo(java.io.Writer.nullWriter());
            } catch (IOException e) {
                // the server ended
            }
        }, "iperf3-server-output");
        drain.setDaemon(true);
        drain.start();
        return server;
    }

    /**
     * Runs {@code iperf3 -c} against a server on a loopback port, sending for {@code time}
     * (whole seconds, at least one).
     *
     * @param port the server's (or a proxy's) port
     * @param time how long to send
     * @param options further options ({@code -u} ...)
     * @return the fields of the receiver's sum ({@code bytes}, {@code seconds}, ...)
     * @throws IOException if iperf3 fails
     */
    static Map<String, Double> client(int port, Duration time, List<String> options)
            throws IOException, InterruptedException {
        List<String> clientCommand = new java.util.ArrayList<>(List.of("iperf3", "-c", "127.0.0.1", "-p",
                Integer.toString(port), "-t", Long.toString(seconds(time)), "-J"));
        clientCommand.addAll(options);
        Process client = new ProcessBuilder(clientCommand).redirectErrorStream(true).start();
        String json = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (client.waitFor() != 0) {
            throw new IOException("iperf3 -c 127.0.0.1 -p " + port + " " + options + " failed: " + json);
        }
        return received(json);
    }

    /** iperf3 sends for whole seconds: {@code time} rounded up, at least one. */
    static long seconds(Duration time) {
        return Math.max(1, (time.toMillis() + 999) / 1000);
    }

    /**
     * The receiver's sum of an iperf3 {@code -J} report.
     *
     * @param json the report
     * @return its numeric fields
     * @throws IOException if the report has no {@code sum_received}
     */
    static Map<String, Double> received(String json) throws IOException {
        Matcher object = OBJECT.matcher(json);
        if (!object.find()) {
            throw new IOException("no sum_received in iperf3's report: " + json);
        }
        Map<String, Double> fields = new HashMap<>();
        for (Matcher f = FIELD.matcher(object.group(1)); f.find();) {
            fields.put(f.group(1), Double.parseDouble(f.group(2)));
        }
        return fields;
    }
}
