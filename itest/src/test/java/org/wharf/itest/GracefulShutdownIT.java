package org.wharf.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a balancer and Kubernetes see of a node, in a real Felix: {@code /ready} follows the
 * endpoints (503 naming a failed one), and stopping the framework is the graceful shutdown —
 * not ready at once while still serving for the grace period, then no new connections, an
 * HTTP request in progress answered with {@code Connection: close}, a connection of a protocol
 * that cannot end by itself (echo) served on until the drain deadline closes it, and the
 * framework stopped within grace + drain.
 */
class GracefulShutdownIT {

    private static final long GRACE = 3000;
    private static final long DRAIN = 3000;

    private Felix felix;
    private EndpointsInFelix endpoints;

    @BeforeEach
    void start() throws Exception {
        felix = new Felix("graceful-shutdown", "", Map.of("wharf.shutdown.grace", Long.toString(GRACE),
                "wharf.shutdown.drain", Long.toString(DRAIN)));
        felix.startWharf("protocol.echo", "protocol.http");
        endpoints = new EndpointsInFelix(felix);
        endpoints.configure("status", Map.of("port", 0, "host", "127.0.0.1", "protocol", "status"));
        endpoints.configure("echo", Map.of("port", 0, "host", "127.0.0.1", "protocol", "echo"));
        endpoints.awaitState("status", "LISTENING");
        endpoints.awaitState("echo", "LISTENING");
    }

    @AfterEach
    void stop() throws Exception {
        felix.close();
    }

    @Test
    void readinessFollowsTheEndpointsAndLivenessTheLoops() throws Exception {
        int status = endpoints.port("status");
        assertEquals("200 ready", get(status, "/ready"));
        assertEquals("200 live", get(status, "/live"));
        endpoints.configure("broken", Map.of("port", 70000, "host", "127.0.0.1", "protocol", "echo"));
        endpoints.awaitState("broken", "FAILED");
        String notReady = get(status, "/ready");
        assertTrue(notReady.startsWith("503 not ready: endpoint broken is FAILED") && notReady.contains("70000"),
                notReady);
        assertEquals("200 live", get(status, "/live"), "a failed endpoint is no reason to restart the node");
        endpoints.delete("broken");
        Felix.awaitTrue(() -> get(status, "/ready").equals("200 ready"), "ready again once the broken endpoint went");
        String json = get(status, "/status");
        assertTrue(json.contains("\"ready\":true") && json.contains("\"shuttingDown\":false"), json);
    }

    @Test
    void stoppingTheFrameworkIsAGracefulShutdown() throws Exception {
        int status = endpoints.port("status");
        int echo = endpoints.port("echo");
        try (Socket http = connect(status); Socket idle = connect(status); Socket echoed = connect(echo)) {
            http.setSoTimeout(10_000);
            idle.setSoTimeout(10_000);
            assertTrue(exchange(idle, "GET /live HTTP/1.1\r\nHost: n\r\n\r\n").contains("live"));
            echoed.setSoTimeout(10_000);
            // A keep-alive connection, and a request begun on it before the shutdown: its end comes later.
            assertTrue(exchange(http, "GET /live HTTP/1.1\r\nHost: n\r\n\r\n").contains("live"));
            http.getOutputStream().write("GET /live HTTP/1.1\r\nHost: n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertEquals("a", echo(echoed, "a"));

            long began = System.nanoTime();
            Thread stopper = new Thread(() -> {
                try {
                    felix.framework.stop();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            stopper.start();
            // Not ready at once, and still serving new connections while the balancer notices.
            Felix.awaitTrue(() -> get(status, "/ready").startsWith("503 not ready: shutting down"),
                    "/ready says 503 once the framework stops");
            assertTrue(elapsedMillis(began) < GRACE, "not ready within the grace period, after " + elapsedMillis(began));
            assertEquals("200 live", get(status, "/live"), "a node shutting down is still alive");
            // Once the grace period is over, no new connection is taken.
            Felix.awaitTrue(() -> refused(status), "the status endpoint refuses new connections after the grace period");
            long refusedAfter = elapsedMillis(began);
            assertTrue(refusedAfter >= GRACE, "served for the whole grace period, yet refused after " + refusedAfter + " ms");
            // An idle keep-alive connection is closed soon after draining began, not at the deadline.
            assertEquals(-1, idle.getInputStream().read(), "the idle keep-alive connection is closed");
            long idleClosedAfter = elapsedMillis(began);
            assertTrue(idleClosedAfter < GRACE + DRAIN - 1000, "idle connection closed after " + idleClosedAfter + " ms");
            // The echo connection, whose protocol cannot end by itself, is served on meanwhile...
            assertEquals("b", echo(echoed, "b"));
            // ...and the request in progress is answered, with the connection's end announced.
            String answer = exchange(http, "\r\n");
            assertTrue(answer.startsWith("HTTP/1.1 200") && answer.contains("Connection: close"), answer);
            assertEquals(-1, http.getInputStream().read(), "the connection closes after that answer");
            // The echo connection is closed at the drain deadline, and the framework stops.
            assertEquals(-1, echoed.getInputStream().read(), "closed at the drain deadline");
            long closedAfter = elapsedMillis(began);
            assertTrue(closedAfter >= GRACE + DRAIN - 200, "echo closed after " + closedAfter + " ms, before the deadline");
            assertEquals(org.osgi.framework.FrameworkEvent.STOPPED,
                    felix.framework.waitForStop(GRACE + DRAIN + 10_000).getType());
            assertTrue(elapsedMillis(began) < GRACE + DRAIN + 5_000, "stopped after " + elapsedMillis(began) + " ms");
            stopper.join(TimeUnit.SECONDS.toMillis(10));
        }
    }

    private static long elapsedMillis(long since) {
        return (System.nanoTime() - since) / 1_000_000;
    }

    private static Socket connect(int port) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
        return s;
    }

    private static boolean refused(int port) {
        try (Socket s = connect(port)) {
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** GET on a new connection: the status code and the body, trimmed; "error ..." if it fails. */
    private static String get(int port, String path) {
        try (Socket s = connect(port)) {
            s.setSoTimeout(10_000);
            String response = exchange(s, "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
            int body = response.indexOf("\r\n\r\n");
            return response.substring(9, 12) + " " + response.substring(body + 4).trim();
        } catch (IOException | RuntimeException e) {
            return "error " + e;
        }
    }

    /** Writes a request (or its end) and reads one answer of a Content-Length body. */
    private static String exchange(Socket s, String request) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(request.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = s.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("closed after " + head);
            }
            head.append((char) c);
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?i)Content-Length: (\\d+)").matcher(head);
        int length = m.find() ? Integer.parseInt(m.group(1)) : 0;
        byte[] body = in.readNBytes(length);
        return head + new String(body, StandardCharsets.UTF_8);
    }

    private static String echo(Socket s, String text) throws IOException {
        s.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
        byte[] back = s.getInputStream().readNBytes(text.length());
        return new String(back, StandardCharsets.US_ASCII);
    }
}
