package org.wharf.transport.ssl;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.wharf.transport.tck.Peers;

/** Runs the real {@code openssl} command as a peer. */
final class OpenSsl {

    /** What a finished openssl run printed and returned. */
    record Result(int exit, byte[] out, String err) {
        String text() {
            return new String(out, StandardCharsets.ISO_8859_1);
        }
    }

    private OpenSsl() {
    }

    /** Runs openssl with the given arguments and input, in {@code dir}, and waits for it. */
    static Result run(java.nio.file.Path dir, byte[] input, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = Peers.process(command).directory(dir.toFile()).start();
        CompletableFuture<byte[]> out = drain(p.getInputStream());
        CompletableFuture<byte[]> err = drain(p.getErrorStream());
        try {
            p.getOutputStream().write(input);
            p.getOutputStream().close();
        } catch (IOException exited) {
            // It ended before reading its input (a refused handshake, under load): its exit
            // status and output say why; only a live process that refuses input is a failure.
            // A broken pipe comes as it exits, before the process is reaped: wait for that.
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                throw exited;
            }
        }
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish within 60 s");
        }
        return new Result(p.exitValue(), out.get(10, TimeUnit.SECONDS),
                new String(err.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8));
    }

    /** A running openssl whose input is written step by step and whose output is watched. */
    static final class Interactive implements AutoCloseable {
        private final Process process;
        private final StringBuffer out = new StringBuffer();
        private final StringBuffer err = new StringBuffer();
        private final CompletableFuture<Void> outDone;
        private final CompletableFuture<Void> errDone;

        Interactive(java.nio.file.Path dir, String... args) throws IOException {
            List<String> command = new ArrayList<>(List.of("openssl"));
            command.addAll(List.of(args));
            process = Peers.process(command).directory(dir.toFile()).start();
            outDone = pump(process.getInputStream(), out);
            errDone = pump(process.getErrorStream(), err);
        }

        void send(String text) throws IOException {
            process.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
            process.getOutputStream().flush();
        }

        /** Waits until the output contains {@code text} at least {@code times} times. */
        void awaitOutput(String text, int times) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (count(output(), text) < times) {
                if (!process.isAlive()) {
                    // What it printed last may still be in the pipes: read them to their end.
                    CompletableFuture.allOf(outDone, errDone).completeOnTimeout(null, 10, TimeUnit.SECONDS).join();
                }
                if (System.nanoTime() > deadline || !process.isAlive() && count(output(), text) < times) {
                    throw new AssertionError("openssl did not print '" + text + "' " + times + " times: " + out + err);
                }
                java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
            }
        }

        /** Waits up to 30 s for openssl to end by itself, and for what it printed; true if it ended. */
        boolean awaitExit() throws InterruptedException {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                return false;
            }
            CompletableFuture.allOf(outDone, errDone).completeOnTimeout(null, 10, TimeUnit.SECONDS).join();
            return true;
        }

        String output() {
            return out.toString() + err;
        }

        private static int count(String haystack, String needle) {
            int n = 0;
            for (int i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) {
                n++;
            }
            return n;
        }

        private static CompletableFuture<Void> pump(InputStream in, StringBuffer into) {
            return CompletableFuture.runAsync(() -> {
                byte[] buffer = new byte[4096];
                try {
                    for (int n; (n = in.read(buffer)) >= 0;) {
                        into.append(new String(buffer, 0, n, StandardCharsets.ISO_8859_1));
                    }
                } catch (IOException e) {
                    // the process ended
                }
            });
        }

        @Override
        public void close() throws Exception {
            process.getOutputStream().close();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }

    /** A running {@code openssl s_server}, with the port it listens on. */
    record Server(Process process, int port, CompletableFuture<byte[]> err) implements AutoCloseable {
        @Override
        public void close() {
            process.destroy();
        }
    }

    /** Starts {@code openssl s_server} on an ephemeral loopback port and waits until it listens. */
    static Server server(java.nio.file.Path dir, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("openssl", "s_server", "-accept", "127.0.0.1:0"));
        command.addAll(List.of(args));
        Process p = Peers.process(command).directory(dir.toFile()).start();
        CompletableFuture<byte[]> err = drain(p.getErrorStream());
        InputStream out = p.getInputStream();
        StringBuilder seen = new StringBuilder();
        Pattern accept = Pattern.compile("ACCEPT 127\\.0\\.0\\.1:(\\d+)");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            int c = out.read();
            if (c < 0) {
                break;
            }
            seen.append((char) c);
            Matcher m = accept.matcher(seen);
            if (c == '\n' && m.find()) {
                drain(out);
                return new Server(p, Integer.parseInt(m.group(1)), err);
            }
        }
        p.destroyForcibly();
        throw new AssertionError("openssl s_server did not start: " + seen);
    }

    private static CompletableFuture<byte[]> drain(InputStream in) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                ByteArrayOutputStream b = new ByteArrayOutputStream();
                in.transferTo(b);
                return b.toByteArray();
            } catch (IOException e) {
                return new byte[0];
            }
        });
    }
}
