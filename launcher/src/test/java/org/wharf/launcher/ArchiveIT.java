package org.wharf.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.wharf.transport.tck.Peers;

/**
 * The distribution archive as a user gets it: unpacked anywhere with tar, and
 * {@code bin/wharf-modules} serving echo on TCP, UDP and TLS on the plain module path, from the
 * same jars, with no framework.
 */
class ArchiveIT {

    @TempDir
    static Path unpacked;
    private static Path home;
    private Process process;

    @BeforeAll
    static void unpack() throws Exception {
        Path archive = Path.of(System.getProperty("wharf.archive"));
        assertTrue(Files.isRegularFile(archive), "the build attaches " + archive);
        run(unpacked, "tar", "xzf", archive.toString(), "-C", unpacked.toString());
        try (Stream<Path> top = Files.list(unpacked)) {
            List<Path> folders = top.toList();
            assertEquals(1, folders.size(), "one folder at the top: " + folders);
            home = folders.get(0);
        }
        assertTrue(home.getFileName().toString().startsWith("wharf-"), home.toString());
    }

    @AfterEach
    void stop() throws Exception {
        if (process != null) {
            process.destroy();
            assertTrue(process.waitFor(30, TimeUnit.SECONDS), "stops on SIGTERM");
        }
    }

    @Test
    void theArchiveHoldsTheDistributionWithRunnableScriptsAndNoStateOfARun() throws Exception {
        for (String script : List.of("bin/wharf", "bin/wharf-modules")) {
            Set<PosixFilePermission> modes = Files.getPosixFilePermissions(home.resolve(script));
            assertTrue(modes.contains(PosixFilePermission.OWNER_EXECUTE), script + ": " + modes);
        }
        for (String file : List.of("lib/wharf-launcher.jar", "lib/endpoints.bootstrap.jar",
                "etc/org.wharf.server-echo.cfg", "etc/org.wharf.server-echo-udp.cfg", "etc/org.wharf.server-echo-tls.cfg",
                "etc/org.wharf.server-http.cfg", "deploy/README.txt")) {
            assertTrue(Files.isRegularFile(home.resolve(file)), file);
        }
        try (Stream<Path> bundles = Files.list(home.resolve("bundle"))) {
            assertTrue(bundles.anyMatch(p -> p.getFileName().toString().startsWith("transport.nio-")));
        }
        assertFalse(Files.exists(home.resolve("data")), "framework storage belongs to a run");
        assertFalse(Files.exists(home.resolve("etc/tls")), "the certificate is made at first start, per copy");
    }

    @Test
    void wharfModulesServesTcpUdpAndTlsOnThePlainModulePathByDefault() throws Exception {
        // The key and certificate bin/wharf makes at first start, made here by openssl.
        Path tls = Files.createDirectories(home.resolve("etc/tls"));
        run(tls, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "self-signed.key", "-out", "self-signed.pem", "-days", "2", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1");
        try {
            ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/wharf-modules").toString()).redirectErrorStream(true);
            // The defaults' ports, moved to free ones: the script's documented variables.
            pb.environment().put("WHARF_ECHO_PORT", "0");
            pb.environment().put("WHARF_ECHO_UDP_PORT", "0");
            pb.environment().put("WHARF_ECHO_TLS_PORT", "0");
            process = pb.start();
            Map<String, Integer> ports = listening(process, 3);

            try (Socket tcp = new Socket(InetAddress.getLoopbackAddress(), ports.get("tcp"))) {
                tcp.setSoTimeout(10_000);
                tcp.getOutputStream().write("over tcp".getBytes(StandardCharsets.UTF_8));
                assertEquals("over tcp", new String(tcp.getInputStream().readNBytes(8), StandardCharsets.UTF_8));
            }
            try (DatagramSocket udp = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
                udp.setSoTimeout(10_000);
                byte[] out = "over udp".getBytes(StandardCharsets.UTF_8);
                udp.send(new DatagramPacket(out, out.length, InetAddress.getLoopbackAddress(), ports.get("udp")));
                DatagramPacket in = new DatagramPacket(new byte[64], 64);
                udp.receive(in);
                assertEquals("over udp", new String(in.getData(), 0, in.getLength(), StandardCharsets.UTF_8));
            }
            // TLS with the certificate trusted, as README shows it.
            Process client = Peers.process("openssl", "s_client", "-quiet", "-verify_return_error", "-connect",
                    "localhost:" + ports.get("ssl"), "-CAfile", tls.resolve("self-signed.pem").toString())
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            client.getOutputStream().write("over tls\n".getBytes(StandardCharsets.UTF_8));
            client.getOutputStream().flush();
            BufferedReader answer = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("over tls", answer.readLine());
            client.destroy();
            client.waitFor(10, TimeUnit.SECONDS);
        } finally {
            try (Stream<Path> files = Files.walk(tls)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void aProtocolMissingFromThePathIsNamedWithThoseThatAreThere() throws Exception {
        process = new ProcessBuilder(home.resolve("bin/wharf-modules").toString(), "serve", "kv", "127.0.0.1", "0")
                .redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS));
        assertTrue(process.exitValue() != 0, out);
        assertTrue(out.contains("no protocol named kv on the path (there are: echo, proxy)")
                && out.contains("@ServiceProvider(ProtocolFactory.class)"), out);
        process = null;
    }

    /** Reads the start-up log until {@code count} endpoints said where they listen: port by transport. */
    private static Map<String, Integer> listening(Process p, int count) throws IOException {
        BufferedReader log = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        Pattern line = Pattern.compile("listening (tcp|udp|ssl) 127\\.0\\.0\\.1:(\\d+) echo");
        Map<String, Integer> ports = new HashMap<>();
        StringBuilder seen = new StringBuilder();
        for (String l; ports.size() < count && (l = log.readLine()) != null;) {
            seen.append(l).append('\n');
            Matcher m = line.matcher(l);
            if (m.find()) {
                ports.put(m.group(1), Integer.parseInt(m.group(2)));
            }
        }
        assertEquals(Set.of("tcp", "udp", "ssl"), ports.keySet(), seen.toString());
        // The rest of the log is not read: drained so the process never blocks on a full pipe.
        Thread drain = new Thread(() -> {
            try {
                log.transferTo(java.io.Writer.nullWriter());
            } catch (IOException ended) {
                // the process ended
            }
        }, "wharf-modules-log");
        drain.setDaemon(true);
        drain.start();
        return ports;
    }

    private static void run(Path dir, String... command) throws Exception {
        Process p = Peers.process(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, String.join(" ", command) + ":\n" + out);
    }
}
