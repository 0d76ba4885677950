package org.wharf.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;

import org.wharf.endpoints.Server;
import org.wharf.protocol.api.ProtocolContext;
import org.wharf.protocol.proxy.internal.ProxyFactory;
import org.wharf.transport.api.StreamTransportProvider;

/**
 * Wharf's gateway as the bench runs it, in its own JVM: the proxy protocol in an endpoints
 * {@link Server} on the {@code tcp} transport, both found as on a plain class path ({@code
 * ProxyFactory}'s public constructor and {@link ServiceLoader}), forwarding every connection to
 * one upstream. The NIO transport found this way runs one event loop per processor the JVM
 * sees; the bench starts this JVM pinned to one core and told so, for one loop, as HAProxy
 * gets one thread and nginx one worker.
 */
public final class WharfGateway {

    private WharfGateway() {
    }

    /**
     * Listens on an ephemeral loopback port, prints {@code port N}, and forwards until standard
     * input closes.
     *
     * @param args the upstream as {@code host:port}, then any {@code proxy.*=value} settings
     *     (such as {@code proxy.pooled=true})
     * @throws Exception if the gateway cannot start
     */
    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            throw new IllegalArgumentException("usage: WharfGateway HOST:PORT [proxy.KEY=VALUE ...]");
        }
        Map<String, Object> properties = new java.util.HashMap<>(Map.of("proxy.upstreams", args[0]));
        for (int i = 1; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("setting '" + args[i] + "' is not KEY=VALUE");
            }
            properties.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        // Warnings and errors only, as HAProxy (no log directive) and nginx (error_log warn) are
        // run: the proxy notes each reset at INFO, and iperf3 ends every test with one.
        java.util.logging.Logger.getLogger("").setLevel(java.util.logging.Level.WARNING);
        StreamTransportProvider tcp = ServiceLoader.load(StreamTransportProvider.class).stream()
                .map(ServiceLoader.Provider::get).filter(p -> p.kind().equals("tcp")).findFirst()
                .orElseThrow(() -> new IllegalStateException("no tcp transport on the class path"));
        ProxyFactory proxy = new ProxyFactory();
        proxy.checkSettings(new ProtocolContext("gateway", "tcp", properties,
                org.wharf.protocol.api.ConnectionHooks.NONE));
        Server server = Server.builder(tcp).name("gateway")
                .address(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .protocol(hooks -> proxy.newProtocol(new ProtocolContext("gateway", "tcp", properties, hooks)))
                .start().toCompletableFuture().get(10, TimeUnit.SECONDS);
        PrintStream out = System.out;
        out.println("port " + server.addresses().get(0).getPort());
        out.flush();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            while (in.readLine() != null) {
                // runs until the bench closes standard input
            }
        } finally {
            server.close(Duration.ofSeconds(5)).toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }
}
