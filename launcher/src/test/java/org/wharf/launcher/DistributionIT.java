package org.wharf.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.wharf.transport.tck.Peers;

/** The distribution as a newcomer runs it: bin/wharf, real clients, the hot folder, SIGTERM. */
class DistributionIT {

    private Process wharf;
    private final StringBuffer log = new StringBuffer();

    @AfterEach
    void stop() throws Exception {
        if (wharf != null && wharf.isAlive()) {
            wharf.destroyForcibly();
            wharf.waitFor(30, TimeUnit.SECONDS);
        }
    }

    /**
     * FileInstall looks at etc/ and deploy/ every 100 ms rather than the default 500: a test
     * that drops a file waits for the next look, and none tests the interval.
     */
    static final String FAST_POLL = "-Dfelix.fileinstall.poll=100";

    /**
     * A fresh copy of the distribution, so runs share no state; its self-signed pairs already
     * made (the default configuration's test makes them at its first start).
     */
    private static Path copy() throws IOException {
        return Distributions.seeded(Files.createTempDirectory("wharf-dist"));
    }

    private Path start(String echoPort) throws Exception {
        return start(copy(), echoPort);
    }

    private Path start(Path home, String echoPort) throws Exception {
        return start(home, echoPort, "");
    }

    private Path start(Path home, String echoPort, String javaOpts) throws Exception {
        return start(home, echoPort, javaOpts, 0);
    }

    /** @param openFiles a limit of open files (soft and hard) bin/wharf starts under, or 0 for the test's own */
    private Path start(Path home, String echoPort, String javaOpts, int openFiles) throws Exception {
        String wharfScript = home.resolve("bin").resolve("wharf").toString();
        ProcessBuilder pb = new ProcessBuilder(openFiles == 0 ? List.of(wharfScript, "--no-shell")
                : List.of("bash", "-c", "ulimit -n " + openFiles + " && exec \"$0\" --no-shell", wharfScript))
                .directory(Files.createTempDirectory("elsewhere").toFile()).redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("JAVA_OPTS", "-Dwharf.echo.port=" + echoPort + " -Dwharf.echo.udp.port=0"
                + " -Dwharf.echo.tls.port=0 -Dwharf.http.port=0 " + FAST_POLL + " " + javaOpts);
        wharf = pb.start();
        CompletableFuture.runAsync(() -> {
            byte[] buffer = new byte[4096];
            try (InputStream in = wharf.getInputStream()) {
                for (int n; (n = in.read(buffer)) >= 0;) {
                    log.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
                }
            } catch (IOException e) {
                // the process ended
            }
        });
        return home;
    }

    private int awaitPort(String transport, String protocol) {
        Pattern listening = Pattern.compile("listening " + transport + " [^ ]+:(\\d+) " + protocol + " ");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            Matcher m = listening.matcher(log);
            if (m.find()) {
                return Integer.parseInt(m.group(1));
            }
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
        throw new AssertionError("no '" + listening + "' in the log:\n" + log + endpointStates());
    }

    /** What the platform's /status says of every endpoint, when its HTTP endpoint listens: for failure messages. */
    private String endpointStates() {
        Matcher http = Pattern.compile("listening tcp [^ ]+:(\\d+) status ").matcher(log);
        if (!http.find()) {
            return "";
        }
        try {
            Process curl = Peers.process("curl", "-s", "-m", "10", "http://127.0.0.1:" + http.group(1) + "/status")
                    .redirectErrorStream(true).start();
            String status = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            curl.waitFor(15, TimeUnit.SECONDS);
            return "\n/status: " + status;
        } catch (IOException | InterruptedException e) {
            return "\n/status unreadable: " + e;
        }
    }

    @Test
    void theDefaultConfigurationServesEchoOverTcpUdpAndTlsAndStopsOnSigterm() throws Exception {
        start(Distributions.copy(Files.createTempDirectory("wharf-dist"), p -> false), "0");
        int tcp = awaitPort("tcp", "echo");
        int udp = awaitPort("udp", "echo");
        int tls = awaitPort("ssl", "echo");

        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), tcp)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write("tcp echo\n".getBytes(StandardCharsets.UTF_8));
            assertEquals("tcp echo", new String(socket.getInputStream().readNBytes(8), StandardCharsets.UTF_8));
        }
        try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            socket.setSoTimeout(10_000);
            byte[] data = "udp echo".getBytes(StandardCharsets.UTF_8);
            socket.send(new DatagramPacket(data, data.length, InetAddress.getLoopbackAddress(), udp));
            DatagramPacket back = new DatagramPacket(new byte[64], 64);
            socket.receive(back);
            assertEquals("udp echo", new String(back.getData(), 0, back.getLength(), StandardCharsets.UTF_8));
        }
        // TLS with the real openssl client, against the self-signed certificate made at first start.
        Process client = Peers.process("openssl", "s_client", "-connect", "127.0.0.1:" + tls, "-quiet")
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        OutputStream in = client.getOutputStream();
        in.write("tls echo\n".getBytes(StandardCharsets.UTF_8));
        in.flush();
        byte[] answer = client.getInputStream().readNBytes(9);
        client.destroy();
        assertEquals("tls echo\n", new String(answer, StandardCharsets.UTF_8));

        // HTTP with curl: the status page knows every endpoint.
        int http = awaitPort("tcp", "status");
        Process curl = Peers.process("curl", "-s", "-f", "http://127.0.0.1:" + http + "/status")
                .redirectErrorStream(true).start();
        String status = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(curl.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, curl.exitValue(), status);
        assertTrue(status.startsWith("{") && status.contains("\"name\":\"echo-tls\"") && status.contains("\"LISTENING\""),
                status);
        Process page = Peers.process("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                "http://127.0.0.1:" + http + "/nowhere").start();
        assertEquals("404", new String(page.getInputStream().readAllBytes(), StandardCharsets.UTF_8));

        // Keep-alive load with wrk: every request answered (the rate is for the record only).
        System.out.println("wrk against /status: " + wrk(http));

        long start = System.nanoTime();
        wharf.destroy(); // SIGTERM
        assertTrue(wharf.waitFor(15, TimeUnit.SECONDS), "stops within seconds of SIGTERM");
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(15));
        assertFalse(log.toString().contains("Exception"), "a quiet log:\n" + log);
    }

    /** Configures a greeter endpoint and drops the greeter bundle into deploy/; returns its jar there. */
    private static Path deployGreeter(Path home) throws IOException {
        Files.writeString(home.resolve("etc").resolve("org.wharf.server-greet.cfg"),
                "name = greet\nport = 0\nprotocol = greeter\nreplaceWindow = 0\ndrainTimeout = 200\n");
        Path jar = home.resolve("deploy").resolve("greeter.jar");
        Path built = Path.of(System.getProperty("wharf.greeter.jar", ""));
        assertTrue(Files.isRegularFile(built), "the greeter bundle was built: " + built);
        Files.copy(built, jar);
        return jar;
    }

    @Test
    void aProtocolJarDroppedInDeployServesItsConfiguredEndpointAndLeavesWhenRemoved() throws Exception {
        Path home = start("0");
        awaitPort("tcp", "echo");
        Path jar = deployGreeter(home);
        int port = awaitPort("tcp", "greeter");
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write("dropped in\n".getBytes(StandardCharsets.UTF_8));
            String answer = new String(socket.getInputStream().readNBytes(14), StandardCharsets.UTF_8);
            assertTrue(answer.startsWith("greeter 0.1.0"), answer);
        }
        Files.delete(jar);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!refused(port) && System.nanoTime() < deadline) {
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
        assertTrue(refused(port), "removing the jar closes the endpoint's port");
    }

    /**
     * The default endpoints (10,000 connections each) under a limit of 4,096 open files, which
     * the JVM cannot raise past: one warning names each endpoint's maxConnections and the limit,
     * as HAProxy warns of a maxconn over its ulimit-n, and the platform serves on.
     */
    @Test
    void endpointsThatMayHoldMoreConnectionsThanTheProcessMayOpenFilesAreWarnedOfOnce() throws Exception {
        start(copy(), "0", "", 4096);
        int echo = awaitPort("tcp", "echo");
        awaitPort("ssl", "echo");
        awaitPort("tcp", "status");
        Pattern warning = Pattern.compile("the endpoints may hold 30,000 connections \\(echo maxConnections=10000, "
                + "echo-tls maxConnections=10000, http maxConnections=10000\\), and this process may open 4,096 files");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!warning.matcher(log).find()) {
            assertTrue(System.nanoTime() < deadline, "no descriptor warning:\n" + log);
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), echo)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write("still serves\n".getBytes(StandardCharsets.UTF_8));
            assertEquals("still serves", new String(socket.getInputStream().readNBytes(12), StandardCharsets.UTF_8));
        }
        Matcher each = warning.matcher(log);
        int lines = 0;
        while (each.find()) {
            lines++;
        }
        assertEquals(1, lines, log.toString());
    }

    @Test
    void theDefaultEndpointsListenOnLoopbackOnlyUnlessWharfHostSaysOtherwise() throws Exception {
        start("0");
        int echo = awaitPort("tcp", "echo");
        assertTrue(log.toString().contains("listening tcp 127.0.0.1:" + echo + " echo "), log.toString());
        InetAddress outside = nonLoopbackAddress();
        if (outside != null) { // a machine with only loopback has nothing to be exposed on
            assertTrue(refused(outside, echo), "echo is not reachable at " + outside.getHostAddress());
        }
        assertFalse(log.toString().contains("listening tcp 0.0.0.0:"), log.toString());
    }

    private static InetAddress nonLoopbackAddress() throws IOException {
        for (java.net.NetworkInterface nic : java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces())) {
            if (nic.isUp() && !nic.isLoopback()) {
                for (InetAddress a : java.util.Collections.list(nic.getInetAddresses())) {
                    if (a instanceof java.net.Inet4Address) {
                        return a;
                    }
                }
            }
        }
        return null;
    }

    @Test
    void aJarThatIsNoBundleAndABundleThatCannotResolveAreEachSaidOnceAndTheRestServes() throws Exception {
        Path home = start("0");
        int echo = awaitPort("tcp", "echo");
        Files.writeString(home.resolve("deploy").resolve("notes.jar"), "not a jar at all");
        java.util.jar.Manifest manifest = new java.util.jar.Manifest();
        manifest.getMainAttributes().putValue("Manifest-Version", "1.0");
        manifest.getMainAttributes().putValue("Bundle-ManifestVersion", "2");
        manifest.getMainAttributes().putValue("Bundle-SymbolicName", "needs.nothing.here");
        manifest.getMainAttributes().putValue("Import-Package", "com.example.nowhere");
        try (java.util.jar.JarOutputStream out = new java.util.jar.JarOutputStream(
                Files.newOutputStream(home.resolve("deploy").resolve("unresolvable.jar")), manifest)) {
            out.closeEntry();
        }
        awaitLog("deploy/notes.jar is not an OSGi bundle");
        awaitLog("com.example.nowhere");
        // Later scans say nothing more of the jar that is no bundle: our check reports the next
        // file dropped. FileInstall says the unresolvable bundle again when it retries it, which
        // it does when a bundle in deploy/ changes (the moment the answer can change), and only then.
        Files.writeString(home.resolve("deploy").resolve("later.jar"), "nor this");
        awaitLog("deploy/later.jar is not an OSGi bundle");
        assertEquals(1, count("com.example.nowhere"), log.toString());
        deployGreeter(home);
        awaitPort("tcp", "greeter");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (count("com.example.nowhere") < 2 && System.nanoTime() < deadline) {
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
        assertEquals(2, count("com.example.nowhere"), log.toString());
        assertEquals(1, count("deploy/notes.jar is not an OSGi bundle"), log.toString());
        assertEchoes(echo, "still");
    }

    @Test
    void aLoopLostToAFatalErrorEndsTheProcessWithStatus70ForASupervisor() throws Exception {
        Path home = start("0");
        awaitPort("tcp", "echo");
        deployGreeter(home);
        int port = awaitPort("tcp", "greeter");
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.getOutputStream().write("fatal:InternalError\n".getBytes(StandardCharsets.UTF_8));
            assertTrue(wharf.waitFor(60, TimeUnit.SECONDS), "the platform exits:\n" + log);
        }
        assertEquals(70, wharf.exitValue(), log.toString());
        awaitLog("the platform can no longer serve");
    }

    @Test
    void anOutOfMemoryErrorEndsTheProcessInsteadOfLeavingItHoldingItsPorts() throws Exception {
        Path home = start("0");
        awaitPort("tcp", "echo");
        deployGreeter(home);
        int port = awaitPort("tcp", "greeter");
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.getOutputStream().write("fatal:OutOfMemoryError\n".getBytes(StandardCharsets.UTF_8));
            assertTrue(wharf.waitFor(60, TimeUnit.SECONDS), "the platform exits:\n" + log);
        }
        assertEquals(3, wharf.exitValue(), "-XX:+ExitOnOutOfMemoryError's status:\n" + log);
        awaitLog("OutOfMemoryError");
    }

    @Test
    void clientsHoldingLargeBodiesOnASmallHeapAreRefusedPastTheBudgetWhileEveryoneElseIsServed() throws Exception {
        // 128 MiB of heap; 160 clients each start a 1,000,000-byte body (the default limit is
        // 1 MiB) and stop before its end: 150 MB held were the server to take them all.
        Path home = start(copy(), "0", "-Xmx128m");
        int http = awaitPort("tcp", "status");
        byte[] part = new byte[900_000];
        List<Socket> attackers = new ArrayList<>();
        int refused = 0;
        try {
            for (int i = 0; i < 160; i++) {
                Socket s = new Socket(InetAddress.getLoopbackAddress(), http);
                attackers.add(s);
                s.setSoTimeout(10_000);
                try {
                    OutputStream out = s.getOutputStream();
                    out.write(("POST /status HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    out.write(part);
                } catch (IOException e) {
                    // refused before the body was read: the answer is waiting below
                }
            }
            // Each has had 300 ms since the last write, the others longer: one deadline for all, not
            // 300 ms waited out for each held one in turn.
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
            for (Socket s : attackers) {
                if (answered(s, deadline)) {
                    refused++;
                }
            }
            // Everyone else is served meanwhile, and the platform is alive.
            assertTrue(wharf.isAlive(), log.toString());
            assertEquals(200, get(http, "/status"), log.toString());
            assertTrue(refused > 0 && refused < attackers.size(), refused + " of " + attackers.size() + " refused");
            awaitLog("memory budget");
        } finally {
            for (Socket s : attackers) {
                s.close();
            }
        }
        // Once they are gone it has room again: a whole body is read and answered (405: the
        // status page takes no POST), not refused.
        awaitLog("has room again");
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), http)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(("POST /status HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(new byte[1_000_000]);
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertTrue(answer.startsWith("HTTP/1.1 405 "), answer);
        }
        assertTrue(home.toFile().isDirectory());
    }

    @Test
    void aWrongConfigurationIsSaidOnceNamingPropertyAndValueAndStatusShowsNoFolders() throws Exception {
        Path home = start("0");
        int http = awaitPort("tcp", "status");
        Path etc = home.resolve("etc");
        Files.writeString(etc.resolve("org.wharf.server-bad.cfg"), "name = bad\nport = abc\nprotocol = echo\n");
        awaitLog("endpoint bad: port = 'abc'");
        String key = etc.resolve("tls").resolve("missing.key").toString();
        Files.writeString(etc.resolve("org.wharf.server-badtls.cfg"), "name = badtls\nport = 0\nprotocol = echo\n"
                + "transport = ssl\ntls.certificate = " + etc.resolve("tls").resolve("missing.pem") + "\ntls.key = "
                + key + "\n");
        awaitLog("missing.pem");
        // Each is said once (the whiteboard's later passes say nothing more); a change that makes
        // the endpoint wrong differently is said again.
        Files.writeString(etc.resolve("org.wharf.server-bad.cfg"), "name = bad\nport = 70000\nprotocol = echo\n");
        awaitLog("endpoint bad: port = '70000'");
        assertEquals(1, count("endpoint bad: port = 'abc'"), log.toString());
        assertEquals(1, count("missing.pem"), log.toString());
        String status = body(http, "/status");
        assertTrue(status.contains("missing.pem"), status);
        assertFalse(status.contains(home.toString()), "no folder of the platform on the status page: " + status);
        int echo = awaitPort("tcp", "echo");
        assertEchoes(echo, "fine");
    }

    @Test
    void tenThousandConnectionsToOneEndpointDenyNoOtherEndpointAndOneAddressHoldsAThousand() throws Exception {
        start("0");
        int echo = awaitPort("tcp", "echo");
        int http = awaitPort("tcp", "status");
        List<Socket> held = new ArrayList<>();
        try {
            // The default maxConnections of an endpoint, from ten client addresses (127.0.0.2..11):
            // one address may hold at most 1,000 (the shipped maxConnectionsPerClient).
            for (int i = 0; i < 10_000; i++) {
                Socket s = new Socket();
                s.bind(new java.net.InetSocketAddress(InetAddress.getByName("127.0.0." + (2 + i / 1_000)), 0));
                s.connect(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), echo));
                held.add(s);
            }
            // A connect completes in the kernel's backlog before the server accepts it: wait until
            // the endpoint holds all of them, or the next one could take the place of one not yet accepted.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!body(http, "/status").contains("\"open\":10000")) {
                assertTrue(System.nanoTime() < deadline, "the echo endpoint holds 10,000: " + body(http, "/status"));
                java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
            }
            try (Socket over = new Socket(InetAddress.getLoopbackAddress(), echo)) {
                over.setSoTimeout(10_000);
                assertEquals(-1, over.getInputStream().read(), "the one over the limit is closed at once");
            }
            // One address past its thousand is refused even where the endpoint has room.
            held.remove(held.size() - 1).close();
            try (Socket greedy = new Socket()) {
                greedy.bind(new java.net.InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0));
                greedy.connect(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), echo));
                greedy.setSoTimeout(10_000);
                assertEquals(-1, greedy.getInputStream().read(), "the 1,001st from one address is closed at once");
            }
            assertEquals(200, get(http, "/status"), "another endpoint serves on");
            Socket last = held.get(held.size() - 1);
            last.setSoTimeout(10_000);
            last.getOutputStream().write("held\n".getBytes(StandardCharsets.UTF_8));
            assertEquals("held\n", new String(last.getInputStream().readNBytes(5), StandardCharsets.UTF_8));
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
    }

    /**
     * Whether the server is done with this connection: it answered (503) or closed it by the
     * deadline. A server still waiting for the rest of the body says nothing: that client is held.
     */
    private static boolean answered(Socket s, long deadline) {
        try {
            s.setSoTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            s.getInputStream().read();
            return true;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset: the server closed it while the body was on its way
        }
    }

    private static String body(int port, String path) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return answer.substring(answer.indexOf("\r\n\r\n") + 4);
        }
    }

    /** A line sent to a TCP echo endpoint comes back. */
    private static void assertEchoes(int port, String word) throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.setSoTimeout(10_000);
            byte[] line = (word + "\n").getBytes(StandardCharsets.UTF_8);
            socket.getOutputStream().write(line);
            assertEquals(word + "\n", new String(socket.getInputStream().readNBytes(line.length), StandardCharsets.UTF_8));
        }
    }

    private static int get(int port, String path) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            return Integer.parseInt(answer.substring(9, 12));
        }
    }

    private void awaitLog(String text) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!log.toString().contains(text)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no '" + text + "' in the log:\n" + log);
            }
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    private int count(String text) {
        int n = 0;
        for (String line : log.toString().split("\n")) {
            if (line.contains(text)) {
                n++;
            }
        }
        return n;
    }

    @Test
    void aGatewayRouteDroppedInEtcForwardsCurlAndWrkToTheUpstream() throws Exception {
        Path home = start("0");
        int http = awaitPort("tcp", "status");
        Files.writeString(home.resolve("etc").resolve("org.wharf.proxy-gateway.cfg"),
                "name = gateway\nport = 0\nproxy.upstreams = 127.0.0.1:" + http + "\n");
        int gateway = awaitPort("tcp", "proxy");
        Process curl = Peers.process("curl", "-s", "-f", "http://127.0.0.1:" + gateway + "/status")
                .redirectErrorStream(true).start();
        String status = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(curl.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, curl.exitValue(), status);
        assertTrue(status.contains("\"name\":\"gateway\"") && status.contains("\"name\":\"http\""), status);
        String direct = wrk(http);
        String proxied = wrk(gateway);
        System.out.println("wrk -t2 -c32 -d3s /status: direct " + direct + ", through the gateway " + proxied);
    }

    /** A 3 s keep-alive wrk run with every request answered; returns its Requests/sec line. */
    private static String wrk(int port) throws Exception {
        Process load = Peers.process("wrk", "-t2", "-c32", "-d3s", "http://127.0.0.1:" + port + "/status")
                .redirectErrorStream(true).start();
        String report = new String(load.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(load.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, load.exitValue(), report);
        assertFalse(report.contains("Socket errors") || report.contains("Non-2xx"), "no failed request:\n" + report);
        return report.lines().filter(l -> l.startsWith("Requests/sec")).findFirst()
                .orElseThrow(() -> new AssertionError("no Requests/sec in:\n" + report)).trim();
    }

    @Test
    void aDistributionMovedAfterItsFirstRunStartsAgain() throws Exception {
        Path home = start("0");
        awaitPort("tcp", "echo");
        wharf.destroy();
        assertTrue(wharf.waitFor(15, TimeUnit.SECONDS));
        Path moved = Files.createTempDirectory("wharf-moved").resolve("wharf");
        Files.move(home, moved); // with data/: the framework's cache of the first run
        log.setLength(0);
        start(moved, "0");
        awaitPort("tcp", "echo");
        awaitPort("tcp", "status");
        assertFalse(log.toString().contains("Exception"), "a quiet log:\n" + log);
    }

    @Test
    void aPortInUseIsOneLineForThatEndpointAndTheOthersStart() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("0.0.0.0"))) {
            start(String.valueOf(taken.getLocalPort()));
            awaitPort("udp", "echo");
            awaitPort("ssl", "echo");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!log.toString().contains("endpoint echo: cannot listen") && System.nanoTime() < deadline) {
                java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
            }
            List<String> lines = new ArrayList<>();
            for (String line : log.toString().split("\n")) {
                if (line.contains("endpoint echo: cannot listen")) {
                    lines.add(line);
                }
            }
            assertEquals(1, lines.size(), "one line:\n" + log);
            assertTrue(lines.get(0).contains(String.valueOf(taken.getLocalPort())), lines.get(0));
            assertFalse(log.toString().contains("\tat "), "no stack trace:\n" + log);
        }
    }

    private static boolean refused(InetAddress address, int port) {
        try (Socket s = new Socket()) {
            s.connect(new java.net.InetSocketAddress(address, port), 5_000);
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    private static boolean refused(int port) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
