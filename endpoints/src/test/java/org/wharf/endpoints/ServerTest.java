package org.wharf.endpoints;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.wharf.protocol.api.Connection;
import org.wharf.protocol.api.ProtocolConsumer;
import org.wharf.protocol.api.ProtocolError;
import org.wharf.transport.api.ConnectOptions;
import org.wharf.transport.api.ConnectionRefusedError;
import org.wharf.transport.api.Transport;
import org.wharf.transport.api.TransportError;
import org.wharf.transport.tck.EchoProtocol;
import org.wharf.transport.tck.LogCapture;
import org.wharf.transport.tck.RecordingProtocol;
import org.wharf.transport.tck.Peers;

class ServerTest {

    private static final Loops LOOPS = new Loops();

    @AfterAll
    static void stop() throws Exception {
        LOOPS.close();
    }

    private static InetSocketAddress anyPort() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    }

    private static RecordingProtocol connect(InetSocketAddress address) {
        return Loops.await(LOOPS.tcp.connect(address, ConnectOptions.DEFAULT, RecordingProtocol::new)).protocol();
    }

    /** Whether a connect to the address is refused now (one that is not is closed again). */
    private static boolean refusedNow(InetSocketAddress address) {
        try {
            LOOPS.tcp.connect(address, ConnectOptions.DEFAULT, RecordingProtocol::new).toCompletableFuture()
                    .get(10, java.util.concurrent.TimeUnit.SECONDS).transport().close();
            return false;
        } catch (java.util.concurrent.ExecutionException e) {
            return e.getCause() instanceof ConnectionRefusedError;
        } catch (InterruptedException | java.util.concurrent.TimeoutException e) {
            return false;
        }
    }

    private static void send(RecordingProtocol client, String text) {
        client.transport().write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void servesEveryAddressAndCountsSessionsConnectionsAndBytes() {
        List<Transport> made = new CopyOnWriteArrayList<>();
        List<Transport> lost = new CopyOnWriteArrayList<>();
        Server server = Loops.await(Server.builder(LOOPS.tcp).name("echo").address(anyPort()).address(anyPort())
                .protocol(EchoProtocol::new).onConnectionMade(made::add).onConnectionLost((t, e) -> lost.add(t)).start());
        assertEquals(2, server.addresses().size());
        List<RecordingProtocol> clients = new ArrayList<>();
        for (InetSocketAddress a : server.addresses()) {
            RecordingProtocol c = connect(a);
            send(c, "0123456789");
            clients.add(c);
        }
        for (RecordingProtocol c : clients) {
            Loops.awaitTrue(() -> c.receivedCount() == 10, "echo");
        }
        // The server counts a write once the call returns: the echo may be here before that.
        Loops.awaitTrue(() -> server.counters().bytesSent() == 20, "the server counted its writes");
        ServerCounters counters = server.counters();
        assertEquals(2, counters.sessions());
        assertEquals(2, counters.open());
        assertEquals(20, counters.bytesReceived());
        assertEquals(20, counters.bytesSent());
        assertEquals(2, server.connections().size());
        assertEquals(2, made.size());

        clients.forEach(c -> c.transport().close());
        // A connection leaves the open ones before its onConnectionLost runs: wait for both.
        Loops.awaitTrue(() -> server.counters().open() == 0 && lost.size() == 2, "both connections gone");
        assertEquals(new ServerCounters(2, 0, 0, 0, 20, 20), server.counters(), "totals survive the connections");
        Loops.await(server.close(Duration.ofSeconds(1)));
    }

    @Test
    void connectionsOverTheLimitAreAcceptedAndClosedAtOnce() {
        Server server = Loops.await(Server.builder(LOOPS.tcp).address(anyPort()).protocol(EchoProtocol::new)
                .maxConnections(2).start());
        InetSocketAddress address = server.addresses().get(0);
        RecordingProtocol a = connect(address);
        RecordingProtocol b = connect(address);
        Loops.awaitTrue(() -> server.counters().open() == 2, "two served");
        RecordingProtocol c = connect(address);
        assertNull(Loops.await(c.lost()), "the third reads end of input");
        assertEquals(0, c.receivedCount());
        assertEquals(1, server.counters().rejected());
        assertEquals(2, server.counters().open());

        a.transport().close();
        Loops.awaitTrue(() -> server.counters().open() == 1, "a slot came free");
        RecordingProtocol d = connect(address);
        send(d, "hi");
        Loops.awaitTrue(() -> d.receivedCount() == 2, "the next one is served");
        b.transport().close();
        Loops.await(server.close(Duration.ofSeconds(1)));
    }

    @Test
    void failedTlsHandshakesHoldNoSlotAndCloseCompletes(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        // Anyone who can reach a TLS port could fill maxConnections with handshakes that fail:
        // the application's protocol (and the server's slot) now exist only once one succeeds.
        java.nio.file.Path cert = dir.resolve("cert.pem");
        java.nio.file.Path key = dir.resolve("key.pem");
        Process openssl = Peers.process("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-keyout", key.toString(), "-out", cert.toString(), "-days", "1",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1")
                .redirectErrorStream(true).start();
        String output = new String(openssl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, openssl.waitFor(), "openssl made a certificate: " + output);
        org.wharf.transport.api.TlsOptions serverTls = org.wharf.transport.api.TlsOptions.of(
                org.wharf.transport.ssl.TlsContextBuilder.create().certificate(cert, key).build())
                .withHandshakeTimeout(Duration.ofSeconds(3)); // frees the silent clients; long enough under load
        org.wharf.transport.api.TlsOptions clientTls = org.wharf.transport.api.TlsOptions.of(
                org.wharf.transport.ssl.TlsContextBuilder.create().trustCertificates(cert).build());
        org.wharf.transport.api.StreamTransportProvider ssl = new org.wharf.transport.ssl.internal.SslTransportProvider(
                LOOPS.tcp);
        Server server = Loops.await(Server.builder(ssl).address(anyPort())
                .options(org.wharf.transport.api.ListenOptions.DEFAULT.withTls(serverTls))
                .protocol(EchoProtocol::new).maxConnections(2).start());
        InetSocketAddress address = server.addresses().get(0);

        // Plain text, garbage, and silence (the handshake times out): five times the limit.
        List<java.net.Socket> bad = new ArrayList<>();
        byte[][] inputs = {"GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
            new byte[] {0x16, 0x03, 0x01, 0x3f, (byte) 0xff, 1, 2, 3, 4, 5, 6, 7, 8}, new byte[0]};
        for (int i = 0; i < 10; i++) {
            java.net.Socket socket = new java.net.Socket(address.getAddress(), address.getPort());
            socket.setSoTimeout(30_000);
            socket.getOutputStream().write(inputs[i % inputs.length]);
            bad.add(socket);
        }
        for (java.net.Socket socket : bad) {
            try (socket) {
                while (socket.getInputStream().read() >= 0) {
                    // an alert, then the end
                }
            } catch (java.net.SocketException reset) {
                // closed with unread input: as good as an end
            }
        }
        assertEquals(0, server.counters().sessions(), "no failed handshake counted as a session");
        assertEquals(0, server.counters().rejected(), "nor was any refused for lack of a slot");
        // Each failed handshake is a refusal for TLS, counted by cause.
        // (Counted as the connection goes, which may be a turn after the client saw its end.)
        Loops.awaitTrue(() -> server.counters().refused().get(ServerCounters.REFUSED_TLS) == 10L,
                "10 refusals for TLS: " + server.counters().refused());
        ServerCounters failed = server.counters();
        assertEquals(10L, failed.refused().get(ServerCounters.REFUSED_TLS), failed.refused().toString());
        assertEquals(10L, failed.handshakeFailures().values().stream().mapToLong(Long::longValue).sum(),
                failed.handshakeFailures().toString());
        // Plain text is no TLS (protocol); the silent clients and the record announced longer
        // than what follows wait for bytes that never come (timeout).
        assertEquals(java.util.Map.of(org.wharf.transport.api.TransportObserver.PROTOCOL, 4L,
                org.wharf.transport.api.TransportObserver.TIMEOUT, 6L), failed.handshakeFailures());
        assertEquals(0, failed.handshakeDurations().count(), "no handshake completed yet");

        for (int i = 0; i < 3; i++) {
            RecordingProtocol good = Loops.await(ssl.connect(InetSocketAddress.createUnresolved("localhost",
                    address.getPort()), ConnectOptions.DEFAULT.withTls(clientTls), RecordingProtocol::new)).protocol();
            send(good, "hello");
            Loops.awaitTrue(() -> good.receivedCount() == 5, "a good client is served");
            good.transport().close();
            Loops.await(good.lost());
        }
        Loops.awaitTrue(() -> server.counters().open() == 0, "the good clients' slots came free");
        ServerCounters served = server.counters();
        assertEquals(3, served.handshakeDurations().count(), "each completed handshake timed: " + served
                .handshakeDurations());
        assertEquals(3, served.connectionDurations().count(), served.connectionDurations().toString());
        assertEquals(10L, served.handshakeFailures().values().stream().mapToLong(Long::longValue).sum(),
                "a completed handshake is no failure: " + served.handshakeFailures());
        Loops.await(server.close(Duration.ZERO).toCompletableFuture().orTimeout(30, java.util.concurrent.TimeUnit.SECONDS));
    }

    @Test
    void countsRefusalsAndClosesByReasonAndHowLongConnectionsLasted() throws Exception {
        Server server = Loops.await(Server.builder(LOOPS.tcp).address(anyPort()).protocol(EchoProtocol::new)
                .maxConnections(1).idleTimeout(Duration.ofMillis(300)).start());
        InetSocketAddress address = server.addresses().get(0);
        // One served until its idle timeout, one refused meanwhile (the limit is one).
        RecordingProtocol idle = connect(address);
        send(idle, "hi");
        Loops.awaitTrue(() -> idle.receivedCount() == 2, "echo");
        RecordingProtocol over = connect(address);
        assertNull(Loops.await(over.lost()), "over the limit: end of input");
        Loops.await(idle.lost());
        // The client hears the close before the server's loop has freed the slot: wait for it.
        Loops.awaitTrue(() -> server.counters().open() == 0, "the idle one's slot is free");
        // One its client closes, one the server's close ends.
        RecordingProtocol done = connect(address);
        Loops.awaitTrue(() -> server.counters().open() == 1, "served");
        done.transport().close();
        Loops.await(done.lost());
        Loops.awaitTrue(() -> server.counters().open() == 0, "closed");
        RecordingProtocol last = connect(address);
        Loops.awaitTrue(() -> server.counters().open() == 1, "served");
        Loops.await(server.close(Duration.ofSeconds(1)));
        Loops.await(last.lost());

        ServerCounters c = server.counters();
        assertEquals(1L, c.refused().get(ServerCounters.REFUSED_LIMIT), c.refused().toString());
        assertEquals(1L, c.rejected());
        assertEquals(java.util.Map.of(ServerCounters.CLOSED_IDLE, 1L, ServerCounters.CLOSED_NORMAL, 1L,
                ServerCounters.CLOSED_SHUTDOWN, 1L, ServerCounters.CLOSED_ERROR, 0L, ServerCounters.CLOSED_PROTOCOL, 0L),
                c.closed());
        org.wharf.transport.api.Histogram.Snapshot durations = c.connectionDurations();
        assertEquals(3, durations.count(), durations.toString());
        // The idle one lasted its 300 ms at least: above the 250 ms bound.
        long[] bounds = durations.upperBounds();
        long[] counts = durations.bucketCounts();
        long above = 0;
        for (int i = 0; i < counts.length; i++) {
            if (i == bounds.length || bounds[i] > 250_000_000L) {
                above += counts[i];
            }
        }
        assertTrue(above >= 1, "the idle connection lasted past 250 ms: " + durations);
        assertTrue(durations.sum() >= 300_000_000L, "the sum counts the idle connection's 300 ms: " + durations);
    }

    @Test
    void closeStopsAcceptingAndClosesEveryConnectionAndClientsReadTheEnd() {
        Server server = Loops.await(Server.builder(LOOPS.tcp).address(anyPort()).protocol(EchoProtocol::new).start());
        InetSocketAddress address = server.addresses().get(0);
        List<RecordingProtocol> clients = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            clients.add(connect(address));
        }
        Loops.awaitTrue(() -> server.counters().open() == 5, "five served");
        Loops.await(server.close(Duration.ofSeconds(5)));
        assertEquals(0, server.counters().open(), "no connection is left");
        assertFalse(server.isListening());
        for (RecordingProtocol c : clients) {
            assertNull(Loops.await(c.lost()));
            assertTrue(c.events().contains("eofReceived"), "the client read end of input: " + c.events());
        }
        assertInstanceOf(ConnectionRefusedError.class, Loops.failure(LOOPS.tcp.connect(address, ConnectOptions.DEFAULT,
                RecordingProtocol::new)), "the port is closed");
    }

    @Test
    void aProtocolErrorIsLoggedNamingTheProtocolAndTheServerNotTheServersWrapper() {
        Server server = Loops.await(Server.builder(LOOPS.tcp).name("kv").address(anyPort())
                .protocol(Malformed::new).start());
        try (LogCapture log = new LogCapture()) {
            RecordingProtocol client = connect(server.addresses().get(0));
            send(client, "GARBAGE\n");
            Loops.await(client.lost());
            Loops.awaitTrue(() -> log.contains("failed in dataReceived"), "the failure logged");
            String line = log.lines().stream().filter(l -> l.message().contains("failed in dataReceived"))
                    .findFirst().orElseThrow().message();
            assertTrue(line.startsWith("protocol " + Malformed.class.getName() + " (server kv) of tcp 127.0.0.1:"),
                    line);
            assertTrue(line.contains("ProtocolError: no command GARBAGE"), line);
            assertFalse(line.contains("Tracked"), line);
        } finally {
            Loops.await(server.close(Duration.ofSeconds(1)));
        }
    }

    /** Fails on any input, as a protocol does on malformed input. */
    static final class Malformed extends RecordingProtocol {
        @Override
        protected void onDataReceived(ByteBuffer data) {
            throw new ProtocolError("no command " + StandardCharsets.UTF_8.decode(data).toString().trim());
        }
    }

    @Test
    void drainStopsAcceptingAtOnceAndLetsOpenConnectionsGoOnUntilTheTimeout() {
        Server server = Loops.await(Server.builder(LOOPS.tcp).address(anyPort()).protocol(EchoProtocol::new).start());
        InetSocketAddress address = server.addresses().get(0);
        RecordingProtocol client = connect(address);
        Loops.awaitTrue(() -> server.counters().open() == 1, "served");
        long start = System.nanoTime();
        java.util.concurrent.CompletableFuture<Void> drained = server.drain(Duration.ofMillis(1500)).toCompletableFuture();
        // The listening sockets close on their loop, as soon as it runs: a connect racing that
        // may still complete in the kernel's backlog (and is closed at once), the next is refused.
        Loops.awaitTrue(() -> refusedNow(address), "no longer accepting");
        send(client, "still served");
        Loops.awaitTrue(() -> new String(client.received(), StandardCharsets.UTF_8).equals("still served"),
                "the open connection is still served");
        assertFalse(drained.isDone(), "not drained while a connection is open");
        Loops.await(client.eof());
        assertTrue(System.nanoTime() - start >= 1_400_000_000L, "closed at the timeout, not before");
        Loops.await(drained);
        assertEquals(0, server.counters().open());
    }

    @Test
    void closeAbortsConnectionsThatCannotFinishWithinTheGracePeriod() {
        Server server = Loops.await(Server.builder(LOOPS.tcp).address(anyPort()).protocol(() -> new RecordingProtocol() {
            @Override
            protected void onConnectionMade(Transport t) {
                for (int i = 0; i < 512; i++) {
                    t.write(ByteBuffer.allocate(64 * 1024)); // 32 MiB to a reader that reads nothing
                }
            }
        }).start());
        RecordingProtocol stuck = Loops.await(LOOPS.tcp.connect(server.addresses().get(0), ConnectOptions.DEFAULT,
                () -> new RecordingProtocol() {
                    @Override
                    protected void onConnectionMade(Transport t) {
                        t.pauseReading();
                    }
                })).protocol();
        Loops.awaitTrue(() -> server.counters().open() == 1, "served");
        long start = System.nanoTime();
        Loops.await(server.close(Duration.ofMillis(200)));
        assertEquals(0, server.counters().open());
        assertTrue(System.nanoTime() - start < 20_000_000_000L, "the grace period was enforced");
        stuck.transport().abort();
    }

    @Test
    void anIdleConnectionIsClosedAndABusyOneIsNot() {
        Server server = Loops.await(Server.builder(LOOPS.tcp).address(anyPort()).protocol(EchoProtocol::new)
                .idleTimeout(Duration.ofMillis(300)).start());
        InetSocketAddress address = server.addresses().get(0);
        RecordingProtocol quiet = connect(address);
        // Ping-pong keeps the busy connection moving bytes until told to stop.
        boolean[] stop = {false};
        RecordingProtocol busy = Loops.await(LOOPS.tcp.connect(address, ConnectOptions.DEFAULT, () -> new RecordingProtocol() {
            @Override
            protected void onConnectionMade(Transport t) {
                t.write(ByteBuffer.wrap(new byte[] {1}));
            }

            @Override
            protected void onDataReceived(ByteBuffer data) {
                if (!stop[0]) {
                    transport().write(ByteBuffer.wrap(new byte[] {1}));
                }
            }
        })).protocol();
        assertNull(Loops.await(quiet.lost()), "the idle connection is closed");
        assertFalse(busy.transport().isClosing(), "the busy one is not");
        busy.transport().loop().execute(() -> stop[0] = true);
        assertNull(Loops.await(busy.lost()), "once quiet, it is closed too");
        Loops.await(server.close(Duration.ofSeconds(1)));
    }

    @Test
    void requestsOfConnectionProtocolsAreCounted() {
        Server server = Loops.await(Server.builder(LOOPS.tcp).address(anyPort())
                .protocol(hooks -> new Connection(LineAnswer::new, hooks)).start());
        RecordingProtocol c = connect(server.addresses().get(0));
        send(c, "a\nb\nc\n");
        Loops.awaitTrue(() -> c.receivedCount() == 9, "three answers of ok\\n");
        // The answer goes out before finished() counts it, on the server's loop.
        Loops.awaitTrue(() -> server.counters().requests() == 3, "three requests counted");
        Loops.await(server.close(Duration.ofSeconds(1)));
    }

    /** Work a connection's budget share refuses is counted as refused for want of memory. */
    @Test
    void workTheMemoryBudgetRefusesIsCountedAsRefusedForBudget() {
        org.wharf.protocol.api.MemoryBudget endpoint = org.wharf.protocol.api.MemoryBudget.of("endpoint", 1_000);
        Server server = Loops.await(Server.builder(LOOPS.tcp).address(anyPort()).memoryBudget(endpoint, 1_000)
                .protocol((hooks, budget) -> new RecordingProtocol() {
                    @Override
                    protected void onDataReceived(ByteBuffer data) {
                        // Each byte asks for 600 bytes held: the second is refused, and said.
                        for (int i = data.remaining(); i > 0; i--) {
                            transport().write(ByteBuffer.wrap(budget.tryReserve(600) ? new byte[] {'+'}
                                    : new byte[] {'-'}));
                        }
                    }
                }).start());
        RecordingProtocol c = connect(server.addresses().get(0));
        send(c, "ab");
        Loops.awaitTrue(() -> c.receivedCount() == 2, "both answered");
        assertEquals("+-", new String(c.received(), StandardCharsets.US_ASCII));
        assertEquals(1L, server.counters().refused().get(ServerCounters.REFUSED_BUDGET));
        Loops.await(server.close(Duration.ofSeconds(1)));
        assertEquals(0, endpoint.used(), "the connection's share went back when it was lost");
    }

    @Test
    void aRequestsLatencyRunsFromItsFirstByteToItsEnd() {
        Server server = Loops.await(Server.builder(LOOPS.tcp).address(anyPort())
                .protocol(hooks -> new Connection(LineAnswer::new, hooks)).start());
        RecordingProtocol c = connect(server.addresses().get(0));
        send(c, "sl");
        // A slow client: the request is half there and its clock runs (the pause is the workload).
        java.util.concurrent.locks.LockSupport.parkNanos(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(300));
        send(c, "ow\nfast\n");
        Loops.awaitTrue(() -> server.counters().requests() == 2, "two requests counted");
        org.wharf.transport.api.Histogram.Snapshot latency = server.counters().requestDurations();
        assertEquals(2, latency.count(), latency.toString());
        // The server's clock starts when the first bytes arrive, after the client's: it can see a
        // little less than the client's 300 ms pause.
        assertTrue(latency.sum() >= 250_000_000L, "the slow request took about its 300 ms: " + latency);
        long[] bounds = latency.upperBounds();
        long[] counts = latency.bucketCounts();
        long slow = 0;
        for (int i = 0; i < counts.length; i++) {
            if (i == bounds.length || bounds[i] > 250_000_000L) {
                slow += counts[i];
            }
        }
        assertTrue(slow >= 1, "the slow one above 250 ms: " + latency);
        Loops.await(server.close(Duration.ofSeconds(1)));
    }

    /** Answers each chunk with a prefix, to tell protocol versions apart. */
    static final class Prefixing extends RecordingProtocol {
        private final String prefix;

        Prefixing(String prefix) {
            this.prefix = prefix;
        }

        @Override
        protected void onDataReceived(ByteBuffer data) {
            byte[] in = new byte[data.remaining()];
            data.duplicate().get(in);
            transport().write(ByteBuffer.wrap((prefix + new String(in, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8)));
        }
    }

    @Test
    void aReplacedProtocolServesNewConnectionsWhileOldOnesKeepTheirs() {
        Server server = Loops.await(Server.builder(LOOPS.tcp).address(anyPort()).protocol(() -> new Prefixing("v1:"))
                .start());
        InetSocketAddress address = server.addresses().get(0);
        RecordingProtocol old = connect(address);
        send(old, "x");
        Loops.awaitTrue(() -> old.receivedCount() == 4, "v1 answers");
        int generation = server.replaceProtocol(hooks -> new Prefixing("v2:"));
        assertEquals(1, generation);
        RecordingProtocol fresh = connect(address);
        send(fresh, "y");
        send(old, "z");
        Loops.awaitTrue(() -> fresh.receivedCount() == 4 && old.receivedCount() == 8, "both answer");
        assertEquals("v2:y", new String(fresh.received(), StandardCharsets.UTF_8), "new connections get the new protocol");
        assertEquals("v1:xv1:z", new String(old.received(), StandardCharsets.UTF_8), "the old one keeps its protocol");
        assertEquals(1, server.connectionsBefore(generation).size(), "only the old connection is from before");
        server.connectionsBefore(generation).forEach(Transport::close);
        Loops.await(old.lost());
        assertFalse(fresh.transport().isClosing());
        Loops.await(server.close(Duration.ofSeconds(1)));
    }

    /**
     * Behind the PROXY protocol and per-client limits a connection's protocol is made once the
     * header came: the drain predicate still sees the protocol the factory made, not a layer.
     */
    @Test
    void theDrainPredicateSeesTheFactorysProtocolBehindThePROXYLayer() {
        Server server = Loops.await(Server.builder(LOOPS.tcp).address(anyPort())
                .proxyProtocol(ProxyProtocolAcceptance.of(ProxyProtocolAcceptance.Versions.EITHER, List.of("127.0.0.1"),
                        Duration.ofSeconds(5)))
                .clientLimits(10, 100, 100).protocol(() -> new Prefixing("v1:")).start());
        RecordingProtocol old = connect(server.addresses().get(0));
        send(old, "PROXY TCP4 192.0.2.1 127.0.0.1 1234 80\r\nx");
        Loops.awaitTrue(() -> old.receivedCount() == 4, "v1 answers behind the header");
        int generation = server.replaceProtocol(hooks -> new Prefixing("v2:"));
        assertEquals(1, server.connectionsBefore(generation, p -> p instanceof Prefixing).size(),
                "the predicate sees the factory's protocol");
        assertEquals(0, server.connectionsBefore(generation, p -> !(p instanceof Prefixing)).size());
        Loops.await(server.close(Duration.ofSeconds(1)));
    }

    /**
     * A close during a drain (the endpoint removed, its bundle stopping) closes the connections
     * now: it did nothing, so they ran on until the drain's end, their protocol released.
     */
    @Test
    void aCloseDuringADrainClosesTheConnectionsAtOnce() {
        Server server = Loops.await(Server.builder(LOOPS.tcp).address(anyPort()).protocol(EchoProtocol::new).start());
        RecordingProtocol client = connect(server.addresses().get(0));
        send(client, "x");
        Loops.awaitTrue(() -> client.receivedCount() == 1, "echoed");
        java.util.concurrent.CompletionStage<Void> drained = server.drain(Duration.ofMinutes(10));
        send(client, "y");
        Loops.awaitTrue(() -> client.receivedCount() == 2, "a drain lets it run on");
        java.util.concurrent.CompletionStage<Void> closed = server.close(Duration.ofSeconds(1));
        Loops.await(client.lost()); // within the test kit's wait, not the drain's ten minutes
        Loops.await(closed);
        Loops.await(drained);
    }

    @Test
    void aServerThatCannotBindEveryAddressBindsNone() {
        Server first = Loops.await(Server.builder(LOOPS.tcp).address(anyPort()).protocol(EchoProtocol::new).start());
        InetSocketAddress taken = first.addresses().get(0);
        Throwable e = Loops.failure(Server.builder(LOOPS.tcp).address(anyPort()).address(taken)
                .options(org.wharf.transport.api.ListenOptions.DEFAULT.withListenerOptions(
                        org.wharf.transport.api.SocketOptions.NONE))
                .protocol(EchoProtocol::new).start());
        assertInstanceOf(TransportError.class, e);
        assertTrue(e.getMessage().contains(String.valueOf(taken.getPort())), e.getMessage());
        assertThrows(IllegalStateException.class, () -> Server.builder(LOOPS.tcp).protocol(EchoProtocol::new).start());
        Loops.await(first.close(Duration.ofSeconds(1)));
    }

    /** Answers each line with "ok\n" and finishes the request. */
    static final class LineAnswer implements ProtocolConsumer {
        private Connection connection;

        @Override
        public void start(Connection c) {
            connection = c;
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            while (data.hasRemaining()) {
                if (data.get() == '\n') {
                    connection.transport().write(ByteBuffer.wrap("ok\n".getBytes(StandardCharsets.US_ASCII)));
                    connection.finished(this);
                    return;
                }
            }
        }
    }
}
