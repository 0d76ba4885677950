package org.wharf.protocol.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;

import org.wharf.endpoints.Server;
import org.wharf.protocol.api.ProtocolContext;
import org.wharf.protocol.api.ProtocolFactory;
import org.wharf.transport.api.StreamTransportProvider;

/**
 * A protocol factory served over the real TCP transport in the test's process: an endpoints
 * {@link Server} on an ephemeral loopback port, as the platform would run it, with the
 * transport found by {@link ServiceLoader}. Talk to it with {@link #connect()} (a plain
 * socket) or {@link #exchange(String)}; close it when done.
 *
 * <pre>
 * try (ProtocolTestServer server = ProtocolTestServer.start("shout", new ShoutFactory())) {
 *     assertEquals("HELLO", server.exchange("hello"));
 * }
 * </pre>
 */
public final class ProtocolTestServer implements AutoCloseable {

    private static final int TIMEOUT_MILLIS = 10_000;

    private final Server server;

    private ProtocolTestServer(Server server) {
        this.server = server;
    }

    /**
     * Serves a protocol with no endpoint properties.
     *
     * @param endpoint the endpoint's name (what the protocol's context says)
     * @param factory the protocol factory, as DS would register it
     * @return the running server
     */
    public static ProtocolTestServer start(String endpoint, ProtocolFactory factory) {
        return start(endpoint, factory, Map.of());
    }

    /**
     * Serves a protocol with endpoint properties, as an endpoint's {@code .cfg} gives them.
     *
     * @param endpoint the endpoint's name
     * @param factory the protocol factory
     * @param properties what {@link ProtocolContext#properties()} holds
     * @return the running server
     * @throws IllegalStateException if no tcp transport is on the class or module path
     */
    public static ProtocolTestServer start(String endpoint, ProtocolFactory factory, Map<String, ?> properties) {
        StreamTransportProvider tcp = ServiceLoader.load(StreamTransportProvider.class).stream()
                .map(ServiceLoader.Provider::get).filter(p -> p.kind().equals("tcp")).findFirst()
                .orElseThrow(() -> new IllegalStateException("no tcp transport on the path: the test needs "
                        + "org.wharf:transport.nio (a dependency of protocol.testkit)"));
        Map<String, Object> settings = Map.copyOf(properties);
        Server server = Server.builder(tcp).name(endpoint)
                .address(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .protocol(hooks -> factory.newProtocol(new ProtocolContext(endpoint, "tcp", settings, hooks)))
                .start().toCompletableFuture().orTimeout(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS).join();
        return new ProtocolTestServer(server);
    }

    /**
     * Where it listens.
     *
     * @return the loopback address and port
     */
    public InetSocketAddress address() {
        return server.addresses().get(0);
    }

    /**
     * Opens a client connection (reads time out after 10 s).
     *
     * @return a connected socket; the caller closes it
     */
    public Socket connect() {
        try {
            Socket socket = new Socket(address().getAddress(), address().getPort());
            socket.setSoTimeout(TIMEOUT_MILLIS);
            return socket;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot connect to " + address(), e);
        }
    }

    /**
     * Sends one line (with {@code \n}) on a new connection and returns the first line answered,
     * without its line end.
     *
     * @param line the line to send
     * @return the answer, or {@code null} if the server closed without one
     */
    public String exchange(String line) {
        try (Socket socket = connect()) {
            OutputStream out = socket.getOutputStream();
            out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            return new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8)).readLine();
        } catch (IOException e) {
            throw new UncheckedIOException("exchange with " + address() + " failed", e);
        }
    }

    /**
     * Connections served so far (open or closed).
     *
     * @return the count
     */
    public long sessions() {
        return server.counters().sessions();
    }

    /** Closes the server and its connections (1 s grace). */
    @Override
    public void close() {
        server.close(Duration.ofSeconds(1)).toCompletableFuture().orTimeout(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS).join();
    }
}
