package org.wharf.protocol.proxy.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.wharf.transport.tck.Peers;

/**
 * A real nginx behind a pooled HTTP route: complete exchanges (fixed length, chunked, HEAD,
 * 204, 404) give the upstream connection back, and a client that leaves in the middle of a
 * response never leaves the rest of it to the next client.
 */
class HttpThroughPooledProxyTest {

    private static final String SECRET = "SECRET-OF-CLIENT-A-";
    private static final String SMALL = "the small answer\n";
    private static final int HUGE = 16 << 20;

    private static Legs legs;
    private static Process nginx;
    private static Path root;
    private static int nginxPort;

    @BeforeAll
    static void start() throws Exception {
        legs = new Legs();
        root = Files.createTempDirectory("wharf-proxy-nginx");
        Path www = Files.createDirectories(root.resolve("www"));
        Files.writeString(www.resolve("small.txt"), SMALL);
        Files.createDirectories(www.resolve("slow"));
        Files.writeString(www.resolve("slow/secret.bin"), SECRET.repeat(64 * 1024 / SECRET.length()));
        Files.writeString(www.resolve("big.txt"), "line of a text nginx compresses on the fly\n".repeat(4000));
        byte[] huge = new byte[HUGE];
        new java.util.Random(5).nextBytes(huge);
        Files.write(www.resolve("huge.bin"), huge);
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            nginxPort = probe.getLocalPort();
        }
        Files.createDirectories(root.resolve("tmp"));
        String tmp = root.resolve("tmp").toString();
        Files.writeString(root.resolve("nginx.conf"), String.join("\n",
                "daemon off;", "master_process off;", "worker_processes 1;",
                "pid " + root.resolve("nginx.pid") + ";", "error_log " + root.resolve("error.log") + " warn;",
                "events { worker_connections 256; }",
                "http {",
                "  access_log off; sendfile off; keepalive_requests 10000; keepalive_timeout 60s;",
                "  client_body_temp_path " + tmp + "; proxy_temp_path " + tmp + "; fastcgi_temp_path " + tmp + ";",
                "  uwsgi_temp_path " + tmp + "; scgi_temp_path " + tmp + ";",
                "  gzip on; gzip_types text/plain; gzip_min_length 1;",
                "  server {",
                "    listen 127.0.0.1:" + nginxPort + ";",
                "    root " + www + ";",
                "    location /slow/ { limit_rate 1k; }", // a response that is still coming when its client leaves
                "    location = /nocontent { return 204; }",
                "    location = /status { stub_status; }",
                "  }",
                "}", ""));
        nginx = Peers.process("nginx", "-p", root.toString(), "-e", root.resolve("error.log").toString(), "-c", root.resolve("nginx.conf").toString())
                .redirectErrorStream(true).redirectOutput(root.resolve("nginx.out").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), nginxPort)) {
                break;
            } catch (IOException notYet) {
                if (!nginx.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("nginx did not start: "
                            + Files.readString(root.resolve("nginx.out")), notYet);
                }
                Thread.onSpinWait();
            }
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (nginx != null) {
            nginx.destroy();
            nginx.waitFor(10, TimeUnit.SECONDS);
        }
        legs.close();
        try (var files = Files.walk(root)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void completeExchangesGiveTheUpstreamConnectionBackForTheNextClient() throws Exception {
        Legs.Proxy gw = pooledRoute();
        String base = "http://127.0.0.1:" + gw.address().getPort();
        long before = nginxAccepts();
        for (int i = 0; i < 3; i++) {
            // One curl run is one client connection: five exchanges on it, then a clean close.
            String out = run(List.of("curl", "-sS", "--http1.1", "-o", "/dev/null", "-w", "%{http_code} ",
                    base + "/small.txt",
                    "--next", "-sS", "--http1.1", "--compressed", "-o", "/dev/null", "-w",
                    "%{http_code}:%{size_download}:%header{transfer-encoding} ", base + "/big.txt",
                    "--next", "-sS", "--http1.1", "-I", "-o", "/dev/null", "-w", "%{http_code} ", base + "/small.txt",
                    "--next", "-sS", "--http1.1", "-o", "/dev/null", "-w", "%{http_code} ", base + "/missing",
                    "--next", "-sS", "--http1.1", "-o", "/dev/null", "-w", "%{http_code}", base + "/nocontent"));
            assertTrue(out.matches("200 200:\\d+:chunked 200 404 204"), out);
        }
        // curl exits on its own close; the release follows on the gateway's loop.
        Legs.awaitTrue(() -> gw.factory().metrics("gw").get("proxy.pool.released") == 3L,
                "three releases: " + gw.factory().metrics("gw"));
        Map<String, Long> figures = gw.factory().metrics("gw");
        assertEquals(0L, figures.get("proxy.pool.discarded"), figures.toString());
        assertEquals(2, nginxAccepts() - before, "three clients over one upstream connection, plus the status request");
    }

    /**
     * Client A reads the start of a slow response and leaves cleanly; client B asks for
     * something else. Before, A's upstream connection went back to the pool mid-response and
     * B read the rest of A's body where its own answer should be.
     */
    @Test
    void aClientThatLeavesMidResponseNeverHandsTheRestToTheNextClient() throws Exception {
        Legs.Proxy gw = pooledRoute();
        try (Socket a = new Socket(InetAddress.getLoopbackAddress(), gw.address().getPort())) {
            a.setSoTimeout(10_000);
            a.getOutputStream().write("GET /slow/secret.bin HTTP/1.1\r\nHost: test\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            String start = readUntil(a.getInputStream(), SECRET);
            assertTrue(start.startsWith("HTTP/1.1 200"), start);
            InputStream in = a.getInputStream();
            while (in.available() > 0) { // all that came so far, so the close is a clean one, not a reset
                in.read(new byte[in.available()]);
            }
        }
        // A's upstream connection is back in the pool or closed: B cannot get a new one meanwhile.
        Legs.awaitTrue(() -> gw.route().counters.active.get() == 0 && gw.route().pool().inUse() == 0,
                "the gateway is done with client A");
        try (Socket b = new Socket(InetAddress.getLoopbackAddress(), gw.address().getPort())) {
            b.setSoTimeout(10_000);
            b.getOutputStream().write("GET /small.txt HTTP/1.1\r\nHost: test\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            String answer = readUntil(b.getInputStream(), SMALL, SECRET);
            assertFalse(answer.contains(SECRET), "client B read client A's response: " + abbreviate(answer));
            assertTrue(answer.startsWith("HTTP/1.1 200 OK\r\n"), abbreviate(answer));
            assertTrue(answer.endsWith("\r\n\r\n" + SMALL), abbreviate(answer));
        }
        Map<String, Long> figures = gw.factory().metrics("gw");
        assertTrue(figures.getOrDefault("proxy.pool.discarded", 0L) >= 1, figures.toString());
    }

    /**
     * Clients that connect and send nothing take no pooled connection: the first bytes take
     * one. Four such clients held both connections of a pool of two (and left two acquires
     * waiting), so a real client waited out the acquire timeout and was closed unanswered.
     */
    @Test
    void clientsThatSendNothingTakeNoneOfThePoolsConnections() throws Exception {
        Legs.Proxy gw = legs.proxy("tcp", Map.of(Route.UPSTREAMS, "127.0.0.1:" + nginxPort, Route.POOLED, "true",
                "proxy.protocol", "http", Route.POOL_MAX_SIZE, "2", Route.CONNECT_TIMEOUT, "1000"));
        List<Socket> silent = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                silent.add(new Socket(InetAddress.getLoopbackAddress(), gw.address().getPort()));
            }
            Legs.awaitTrue(() -> gw.factory().metrics("gw").get("proxy.connections.open") == 4L,
                    "the gateway has the four silent clients: " + gw.factory().metrics("gw"));
            String out = run(List.of("curl", "-sS", "--http1.1", "-o", "/dev/null", "-w", "%{http_code}",
                    "http://127.0.0.1:" + gw.address().getPort() + "/small.txt"));
            assertEquals("200", out, "a client that asks is served beside four that hold connections open");
            Map<String, Long> figures = gw.factory().metrics("gw");
            assertEquals(0L, figures.get("proxy.pool.exhausted"), figures.toString());
        } finally {
            for (Socket s : silent) {
                s.close();
            }
        }
    }

    /**
     * A pool whose connections are all in use fails the next client after the acquire timeout,
     * but that is the gateway's shortage, not a failure of the upstream: counted as such, it
     * marked the upstream down (here after one, by default after three), and every client was
     * then refused, those the pool could have served too.
     */
    @Test
    void aPoolWithEveryConnectionInUseIsNotCountedAgainstTheUpstream() throws Exception {
        Legs.Proxy gw = legs.proxy("tcp", Map.of(Route.UPSTREAMS, "127.0.0.1:" + nginxPort, Route.POOLED, "true",
                "proxy.protocol", "http", Route.POOL_MAX_SIZE, "1", Route.CONNECT_TIMEOUT, "300",
                Route.HEALTH_FAILURES, "1"));
        int port = gw.address().getPort();
        try (Socket holder = new Socket(InetAddress.getLoopbackAddress(), port)) {
            // 64 KiB at 1 KiB/s: the one pooled connection is this client's for a minute.
            holder.getOutputStream().write("GET /slow/secret.bin HTTP/1.1\r\nHost: x\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            holder.setSoTimeout(10_000);
            assertTrue(readUntil(holder.getInputStream(), "\r\n\r\n").startsWith("HTTP/1.1 200"));
            try (Socket waiting = new Socket(InetAddress.getLoopbackAddress(), port)) {
                waiting.setSoTimeout(10_000);
                waiting.getOutputStream().write("GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                try {
                    assertEquals(-1, waiting.getInputStream().read(), "closed unanswered after the acquire timeout");
                } catch (java.net.SocketException reset) {
                    // aborted: as good as closed
                }
            }
            Legs.awaitTrue(() -> gw.factory().metrics("gw").get("proxy.pool.exhausted") == 1L,
                    "the client the pool could not serve is counted: " + gw.factory().metrics("gw"));
            Map<String, Long> figures = gw.factory().metrics("gw");
            assertEquals(0L, figures.get("proxy.upstream.failures"), figures.toString());
            assertEquals(1L, figures.get("proxy.upstream.127.0.0.1:" + nginxPort + ".up"), "still up: " + figures);
        }
        // The holder left and gave its connection back: the next client is served.
        Legs.awaitTrue(() -> gw.factory().metrics("gw").get("proxy.connections.open") == 0L,
                "the holder is gone: " + gw.factory().metrics("gw"));
        assertEquals("200", run(List.of("curl", "-sS", "--http1.1", "-o", "/dev/null", "-w", "%{http_code}",
                "http://127.0.0.1:" + port + "/small.txt")));
    }

    /**
     * A pooled upstream connection may run on another loop than its client's: what it reads is
     * copied and handed to the client's loop. While that loop was behind (here: blocked), the
     * upstream read on and queued the copies without bound, 16 MiB here, where a few hundred KiB
     * were allowed; it stops at {@link ProxyConnection#CROSSING_HIGH} now, and reads on once the
     * client's loop has caught up: every byte arrives.
     */
    @Test
    void aPooledUpstreamOnAnotherLoopStopsReadingWhileItsClientsLoopIsBehind() throws Exception {
        Legs.Proxy gw = pooledRoute();
        List<Socket> holders = new java.util.ArrayList<>();
        try {
            // Clients keep their pooled connection: open them until one's runs on the other loop.
            ProxyConnection crossing = null;
            Socket client = null;
            for (int i = 0; i < 16 && crossing == null; i++) {
                Socket s = new Socket(InetAddress.getLoopbackAddress(), gw.address().getPort());
                holders.add(s);
                s.setSoTimeout(10_000);
                s.getOutputStream().write("GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                assertTrue(readUntil(s.getInputStream(), SMALL).endsWith(SMALL));
                ProxyConnection pc = (ProxyConnection) gw.accepted().next();
                if (Legs.await(pc.upstreamTransport()).loop() != pc.clientLoop()) {
                    crossing = pc;
                    client = s;
                }
            }
            assertTrue(crossing != null, "no pooled connection on the other loop in 16 clients");
            org.wharf.transport.api.Transport upstream = Legs.await(crossing.upstreamTransport());
            Socket reader = client;
            CompletableFuture<Long> read = CompletableFuture.supplyAsync(() -> {
                try {
                    return (long) readUntil(reader.getInputStream(), "\r\n\r\n").length()
                            + reader.getInputStream().transferTo(OutputStream.nullOutputStream());
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            client.getOutputStream().write("GET /huge.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            Legs.awaitTrue(() -> received(upstream) > 1 << 20, "the answer is on its way");
            java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
            CompletableFuture<Long> blocked = new CompletableFuture<>();
            crossing.clientLoop().execute(() -> {
                blocked.complete(received(upstream));
                try {
                    release.await(30, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            try {
                long atBlock = Legs.await(blocked);
                long bound = ProxyConnection.CROSSING_HIGH + 2 * 64 * 1024; // past the mark by one read, and one in hand
                long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(1);
                while (System.nanoTime() < deadline) { // polls: the upstream must stay within the bound meanwhile
                    long more = received(upstream) - atBlock;
                    assertTrue(more <= bound, "the upstream read " + more + " bytes while its client's loop was stuck");
                    Thread.onSpinWait();
                }
            } finally {
                release.countDown();
            }
            long total = read.get(60, java.util.concurrent.TimeUnit.SECONDS);
            assertTrue(total > HUGE, "the whole answer arrived once the loop caught up: " + total);
        } finally {
            for (Socket s : holders) {
                s.close();
            }
        }
    }

    private static long received(org.wharf.transport.api.Transport t) {
        return t.extraInfo(org.wharf.transport.api.ExtraInfo.BYTES_RECEIVED).orElse(0L);
    }

    private static Legs.Proxy pooledRoute() {
        return legs.proxy("tcp", Map.of(Route.UPSTREAMS, "127.0.0.1:" + nginxPort, Route.POOLED, "true",
                "proxy.protocol", "http"));
    }

    /** Reads until one of the markers has arrived (or fails after the socket's timeout). */
    private static String readUntil(InputStream in, String... markers) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        while (true) {
            String text = got.toString(StandardCharsets.ISO_8859_1);
            for (String marker : markers) {
                if (text.contains(marker)) {
                    return text;
                }
            }
            int n = in.read(buffer);
            if (n < 0) {
                throw new IOException("the connection ended before " + List.of(markers) + " came: " + abbreviate(text));
            }
            got.write(buffer, 0, n);
        }
    }

    /** nginx's count of connections it accepted, asked directly (that connection counts too). */
    private static long nginxAccepts() throws Exception {
        String status = run(List.of("curl", "-sS", "http://127.0.0.1:" + nginxPort + "/status"));
        // "Active connections: 1 \n server accepts handled requests\n 5 5 9 \n..."
        return Long.parseLong(status.lines().toList().get(2).trim().split("\\s+")[0]);
    }

    private static String abbreviate(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "... (" + s.length() + " chars)" : s;
    }

    private static String run(List<String> command) throws Exception {
        Process p = Peers.process(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), command + " did not finish");
        assertEquals(0, p.exitValue(), command.get(0) + " failed: " + output);
        return output;
    }
}
