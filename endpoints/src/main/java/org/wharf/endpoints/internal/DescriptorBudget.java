package org.wharf.endpoints.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Collectors;

/**
 * Whether the listening endpoints' {@code maxConnections} fit the file descriptors the process
 * may open, as HAProxy checks {@code maxconn} against {@code ulimit -n} at start. Past the limit
 * an endpoint does not refuse a connection it has no room for: its accepts fail with "Too many
 * open files", for every endpoint at once, and so do the gateway's upstream connects.
 */
final class DescriptorBudget {

    /**
     * Descriptors the process keeps for itself: the framework's bundle files, selectors and
     * their wake-up pipes, log files, the pools' connections.
     */
    static final int RESERVE = 256;

    private DescriptorBudget() {
    }

    /**
     * The soft limit of open files of this process, from {@code /proc/self/limits} (Linux).
     *
     * @return the limit, empty where it is unlimited or cannot be read
     */
    static OptionalLong processLimit() {
        try {
            return openFiles(Files.readString(Path.of("/proc/self/limits"), StandardCharsets.US_ASCII));
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
    }

    /**
     * The soft "Max open files" of a {@code /proc/PID/limits} text.
     *
     * @param limits the text
     * @return the limit, empty if unlimited or absent
     */
    static OptionalLong openFiles(String limits) {
        for (String line : limits.split("\n")) {
            if (line.startsWith("Max open files")) {
                String[] fields = line.substring("Max open files".length()).trim().split("\\s+");
                if (fields.length > 0 && fields[0].chars().allMatch(Character::isDigit) && !fields[0].isEmpty()) {
                    return OptionalLong.of(Long.parseLong(fields[0]));
                }
                return OptionalLong.empty();
            }
        }
        return OptionalLong.empty();
    }

    /**
     * What to tell when the endpoints may hold more connections than the process may open
     * descriptors for.
     *
     * @param limit the process's open-files limit
     * @param maxConnections each listening stream endpoint's {@code maxConnections}, by name
     *     ({@link Integer#MAX_VALUE} for none, {@code maxConnections = 0})
     * @return the warning, naming each endpoint's {@code maxConnections} and the limit; empty if they fit
     */
    static Optional<String> shortfall(long limit, Map<String, Integer> maxConnections) {
        if (maxConnections.isEmpty()) {
            return Optional.empty();
        }
        boolean unbounded = maxConnections.values().stream().anyMatch(m -> m == Integer.MAX_VALUE);
        long total = maxConnections.values().stream().mapToLong(Integer::longValue).sum();
        if (!unbounded && total + RESERVE <= limit) {
            return Optional.empty();
        }
        String each = maxConnections.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .map(e -> e.getKey() + " maxConnections=" + (e.getValue() == Integer.MAX_VALUE ? "0 (no limit)"
                        : e.getValue()))
                .collect(Collectors.joining(", "));
        return Optional.of("the endpoints may hold " + (unbounded ? "any number of" : String.format("%,d", total))
                + " connections (" + each + "), and this process may open " + String.format("%,d", limit)
                + " files (ulimit -n) with " + RESERVE + " of them its own: past that, accepts fail with"
                + " 'Too many open files' on every endpoint (and a proxied connection takes a second descriptor"
                + " for its upstream); raise the limit (ulimit -n, LimitNOFILE) or lower maxConnections");
    }
}
