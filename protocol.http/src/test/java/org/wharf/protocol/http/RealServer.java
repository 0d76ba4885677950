package org.wharf.protocol.http;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.wharf.endpoints.Server;
import org.wharf.protocol.api.ConnectionHooks;
import org.wharf.transport.api.Transport;
import org.wharf.transport.api.WriteBufferLimits;
import org.wharf.transport.nio.internal.NioEventLoopGroup;
import org.wharf.transport.nio.internal.NioSettings;
import org.wharf.transport.nio.internal.NioTcpProvider;
import org.wharf.transport.nio.internal.Resolver;
import org.wharf.transport.tck.Await;
import org.wharf.transport.tck.Peers;

/**
 * An HTTP server on a real NIO TCP endpoint (an ephemeral loopback port, one loop thread), and
 * the real clients the tests start against it: curl, nc, python3 sockets.
 */
final class RealServer implements AutoCloseable {

    /** Marks an answer after which the server did not close the connection within 10 s. */
    static final String STILL_OPEN = "\n[the server did not close the connection]";

    /**
     * For each line of stdin (bytes in hex), on a connection of its own, all at once: connects,
     * sends them, reads until the server closes (or 10 s pass: then says so), and prints what
     * came, in hex, one line per request in order. One process for many connections, as
     * python3 takes a while to start.
     */
    static final String RAW_CLIENT = String.join("\n",
            "import socket, sys, threading",
            "requests = [bytes.fromhex(l.strip()) for l in sys.stdin if l.strip()]",
            "answers = [b''] * len(requests)",
            "def talk(i):",
            "    s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))",
            "    s.settimeout(10)",
            "    s.sendall(requests[i])",
            "    out = b''",
            "    try:",
            "        while True:",
            "            b = s.recv(65536)",
            "            if not b:",
            "                break",
            "            out += b",
            "    except socket.timeout:",
            "        out += sys.argv[2].encode()",
            "    s.close()",
            "    answers[i] = out",
            "threads = [threading.Thread(target=talk, args=(i,)) for i in range(len(requests))]",
            "for t in threads:",
            "    t.start()",
            "for t in threads:",
            "    t.join()",
            "for a in answers:",
            "    print(a.hex())");

    final NioEventLoopGroup group = new NioEventLoopGroup(new NioSettings(1, 64 * 1024, WriteBufferLimits.DEFAULT));
    final Resolver resolver = new Resolver();
    final NioTcpProvider tcp = new NioTcpProvider(group, resolver);
    final Server server;
    final int port;
    private final List<Process> processes = new ArrayList<>();

    RealServer(HttpHandler handler, HttpLimits limits) {
        server = Await.await(Server.builder(tcp).name("http-test")
                .address(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .protocol((ConnectionHooks hooks) -> HttpProtocol.create(handler, limits, hooks)).start());
        port = server.addresses().get(0).getPort();
    }

    Collection<Transport> connections() {
        return server.connections();
    }

    String url(String path) {
        return "http://127.0.0.1:" + port + path;
    }

    /** Starts a client process; it is killed when the server closes, if still running. */
    Process start(String... command) throws IOException {
        Process p = Peers.process(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        processes.add(p);
        return p;
    }

    /** Runs a client to its end and gives what it printed. */
    String run(String... command) throws IOException, InterruptedException {
        return run(null, command);
    }

    /** Runs a client with {@code input} on its stdin, to its end, and gives what it printed. */
    String run(byte[] input, String... command) throws IOException, InterruptedException {
        Process p = start(command);
        if (input != null) {
            p.getOutputStream().write(input);
        }
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            throw new AssertionError(String.join(" ", command) + " did not end");
        }
        return new String(out, StandardCharsets.ISO_8859_1);
    }

    /**
     * Sends raw bytes with a python3 socket and gives all the server answered before it closed
     * (ending with {@link #STILL_OPEN} if it did not close).
     */
    String raw(byte[] request) throws IOException, InterruptedException {
        return raw(List.of(request)).get(0);
    }

    /**
     * Sends each request on a connection of its own, from one python3 process, and gives what
     * the server answered on each before it closed (ending with {@link #STILL_OPEN} if it did not).
     */
    List<String> raw(List<byte[]> requests) throws IOException, InterruptedException {
        StringBuilder in = new StringBuilder();
        requests.forEach(r -> in.append(HexFormat.of().formatHex(r)).append('\n'));
        String out = run(in.toString().getBytes(StandardCharsets.US_ASCII), "python3", "-c", RAW_CLIENT,
                String.valueOf(port), STILL_OPEN);
        List<String> answers = new ArrayList<>();
        for (String hex : out.split("\n")) {
            answers.add(new String(HexFormat.of().parseHex(hex.trim()), StandardCharsets.ISO_8859_1));
        }
        if (answers.size() != requests.size()) {
            throw new AssertionError(requests.size() + " requests sent, " + answers.size() + " answers: " + out);
        }
        return answers;
    }

    @Override
    public void close() throws Exception {
        for (Process p : processes) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        Await.await(server.close(java.time.Duration.ofSeconds(1)));
        group.shutdown().get(10, TimeUnit.SECONDS);
        resolver.shutdown();
    }
}
