package org.wharf.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A copy of the distribution started with {@code bin/wharf --no-shell} on ephemeral ports, its
 * output kept for the test to wait on.
 */
final class RunningPlatform implements AutoCloseable {

    final Process process;
    final StringBuffer log = new StringBuffer();

    /**
     * Starts it.
     *
     * @param home the distribution's folder
     * @param javaHome the JDK it runs on ({@code JAVA_HOME})
     */
    RunningPlatform(Path home, String javaHome) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin").resolve("wharf").toString(), "--no-shell")
                .directory(home.toFile()).redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", javaHome);
        pb.environment().put("JAVA_OPTS", "-Dwharf.echo.port=0 -Dwharf.echo.udp.port=0 -Dwharf.echo.tls.port=0"
                + " -Dwharf.http.port=0");
        process = pb.start();
        Process p = process;
        StringBuffer out = log;
        CompletableFuture.runAsync(() -> {
            byte[] buffer = new byte[4096];
            try (InputStream in = p.getInputStream()) {
                for (int n; (n = in.read(buffer)) >= 0;) {
                    out.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
                }
            } catch (IOException e) {
                // the process ended
            }
        });
    }

    /** Waits up to a minute for a line of the log, failing with the whole log. */
    Matcher awaitLog(String what, Pattern pattern) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            Matcher m = pattern.matcher(log);
            if (m.find()) {
                return m;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
        throw new AssertionError(what + ": no '" + pattern + "' in the log:\n" + log);
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }
}
