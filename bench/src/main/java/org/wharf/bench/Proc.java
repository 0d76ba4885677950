package org.wharf.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What the gateway scenario reads from Linux's {@code /proc}: the CPU time of a process and
 * its descendants ({@code /proc/PID/stat}), the same counter for a JVM, HAProxy and nginx (whose
 * worker is a child of its master), so the proxies' CPU per request is measured alike; and
 * whether a port is listening ({@code /proc/net/tcp}), so a proxy is known to be ready without
 * a connection through it to the upstream.
 */
final class Proc {

    private Proc() {
    }

    /**
     * The user and system CPU time of one {@code /proc/PID/stat} line, in clock ticks: fields
     * 14 ({@code utime}) and 15 ({@code stime}) of proc(5). The command name (field 2) is in
     * parentheses and may hold spaces and parentheses itself, so fields are counted from the
     * last closing parenthesis.
     *
     * @param stat the file's content
     * @return utime + stime, in ticks
     * @throws IllegalArgumentException if the line is not a stat line, quoting it
     */
    static long cpuTicks(String stat) {
        int close = stat.lastIndexOf(')');
        if (close < 0) {
            throw new IllegalArgumentException("not a /proc/PID/stat line (no command name): '" + stat + "'");
        }
        String[] fields = stat.substring(close + 1).trim().split("\\s+");
        // fields[0] is field 3 (state): utime, field 14, is fields[11]; stime, field 15, fields[12].
        if (fields.length < 13) {
            throw new IllegalArgumentException("a /proc/PID/stat line with " + (fields.length + 2)
                    + " fields, proc(5) has at least 15: '" + stat + "'");
        }
        try {
            return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("utime '" + fields[11] + "' or stime '" + fields[12]
                    + "' is not a number in '" + stat + "'", e);
        }
    }

    /**
     * The CPU time of a process and of its descendants alive now, in clock ticks.
     *
     * @param pid the process
     * @return the ticks
     * @throws IOException if the process is gone or /proc cannot be read
     */
    static long cpuTicksOfTree(long pid) throws IOException {
        List<Long> pids = new ArrayList<>();
        pids.add(pid);
        ProcessHandle.of(pid).ifPresent(p -> p.descendants().forEach(d -> pids.add(d.pid())));
        long ticks = 0;
        for (long each : pids) {
            try {
                ticks += cpuTicks(Files.readString(Path.of("/proc", Long.toString(each), "stat"), StandardCharsets.US_ASCII));
            } catch (NoSuchFileException e) {
                if (each == pid) {
                    throw new IOException("process " + pid + " has ended: no /proc/" + pid + "/stat", e);
                }
                // a descendant that ended between listing and reading counts no more
            }
        }
        return ticks;
    }

    /** @return whether this machine has /proc/PID/stat (Linux) */
    static boolean available() {
        return Files.isReadable(Path.of("/proc/self/stat"));
    }

    /**
     * Clock ticks per second ({@code getconf CLK_TCK}), 100 where it cannot be asked: the unit
     * of {@link #cpuTicks}.
     *
     * @return ticks per second
     */
    static long ticksPerSecond() {
        try {
            Process getconf = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
            String out = new String(getconf.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
            return getconf.waitFor() == 0 ? Long.parseLong(out) : 100;
        } catch (IOException | NumberFormatException e) {
            return 100;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 100;
        }
    }

    /** The TCP state LISTEN in /proc/net/tcp's {@code st} column. */
    private static final String LISTEN = "0A";

    /**
     * Whether a table in the format of {@code /proc/net/tcp} or {@code /proc/net/tcp6} has a
     * socket listening on a port (any address).
     *
     * @param table the file's content
     * @param port the port
     * @return whether one listens
     */
    static boolean listening(String table, int port) {
        String hexPort = String.format(java.util.Locale.ROOT, "%04X", port);
        for (String line : table.split("\\R")) {
            String[] fields = line.trim().split("\\s+");
            // sl local_address rem_address st ...: local_address is HEXADDRESS:HEXPORT
            if (fields.length > 3 && fields[1].endsWith(":" + hexPort) && fields[3].equals(LISTEN)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether a TCP socket on this machine listens on a port, from /proc/net/tcp and tcp6.
     *
     * @param port the port
     * @return whether one listens
     * @throws IOException if /proc cannot be read
     */
    static boolean listening(int port) throws IOException {
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            Path file = Path.of(table);
            if (Files.isReadable(file) && listening(Files.readString(file, StandardCharsets.US_ASCII), port)) {
                return true;
            }
        }
        return false;
    }
}
