package org.wharf.endpoints.bootstrap;

import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.wharf.endpoints.Client;
import org.wharf.endpoints.Server;
import org.wharf.protocol.api.ProtocolContext;
import org.wharf.protocol.api.ProtocolFactory;
import org.wharf.protocol.api.ProtocolProperties;
import org.wharf.transport.api.ConnectOptions;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.StreamTransportProvider;
import org.wharf.transport.api.Transport;

/**
 * Servers and clients built by hand on a plain module or class path: transports and
 * protocols are found with {@link ServiceLoader}, no framework involved. It reports through
 * {@link System.Logger}.
 *
 * <pre>
 * java -p mods -m org.wharf.endpoints/org.wharf.endpoints.bootstrap.Bootstrap serve greeter 127.0.0.1 7007
 * java -p mods -m org.wharf.endpoints/org.wharf.endpoints.bootstrap.Bootstrap ask 127.0.0.1 7007 hello
 * </pre>
 */
@aQute.bnd.annotation.spi.ServiceConsumer(value = ProtocolFactory.class,
        resolution = aQute.bnd.annotation.Resolution.OPTIONAL)
@aQute.bnd.annotation.spi.ServiceConsumer(value = StreamTransportProvider.class,
        resolution = aQute.bnd.annotation.Resolution.OPTIONAL)
public final class Bootstrap {

    private static final System.Logger LOG = System.getLogger("org.wharf.endpoints.bootstrap");

    private Bootstrap() {
    }

    /**
     * Finds the stream transport of a kind with {@link ServiceLoader}.
     *
     * @param kind such as {@code tcp}
     * @return the provider
     * @throws IllegalArgumentException if none of that kind is on the path
     */
    public static StreamTransportProvider transport(String kind) {
        return ServiceLoader.load(StreamTransportProvider.class).stream().map(ServiceLoader.Provider::get)
                .filter(p -> p.kind().equals(kind)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no " + kind + " transport on the path"));
    }

    /**
     * Finds a protocol by the name in its {@link ProtocolProperties} with {@link ServiceLoader}.
     *
     * @param name such as {@code echo}
     * @return the factory
     * @throws IllegalArgumentException if none of that name is on the path
     */
    public static ProtocolFactory protocol(String name) {
        return ServiceLoader.load(ProtocolFactory.class).stream().filter(p -> {
            ProtocolProperties properties = p.type().getAnnotation(ProtocolProperties.class);
            return properties != null && properties.name().equals(name);
        }).map(ServiceLoader.Provider::get).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no protocol named " + name + " on the path"));
    }

    /**
     * Starts a server for a protocol found by name, over {@code tcp}.
     *
     * @param protocol the protocol's name
     * @param address where to listen
     * @return the running server
     */
    public static Server serve(String protocol, InetSocketAddress address) {
        ProtocolFactory factory = protocol(protocol);
        return Server.builder(transport("tcp")).name(protocol).address(address)
                .protocol(hooks -> factory.newProtocol(new ProtocolContext(protocol, "tcp", Map.of(), hooks)))
                .start().toCompletableFuture().join();
    }

    /**
     * {@code serve <protocol> <host> <port>} or {@code ask <host> <port> <line>}.
     *
     * @param args the command
     * @throws Exception if it fails
     */
    public static void main(String[] args) throws Exception {
        if (args.length == 4 && args[0].equals("serve")) {
            Server server = serve(args[1], new InetSocketAddress(args[2], Integer.parseInt(args[3])));
            for (InetSocketAddress a : server.addresses()) {
                LOG.log(Level.INFO, "listening tcp " + a.getHostString() + ":" + a.getPort() + " " + args[1]);
            }
            Runtime.getRuntime().addShutdownHook(new Thread(() -> server.close(Duration.ofSeconds(5))));
            new CompletableFuture<Void>().join(); // serve until stopped
        } else if (args.length == 4 && args[0].equals("ask")) {
            CompletableFuture<String> answer = new CompletableFuture<>();
            Client<Protocol> client = new Client<>(transport("tcp"), InetSocketAddress.createUnresolved(args[1],
                    Integer.parseInt(args[2])), ConnectOptions.DEFAULT, () -> new OneLine(args[3], answer));
            client.connect().toCompletableFuture().get(30, TimeUnit.SECONDS);
            LOG.log(Level.INFO, "answer: " + answer.get(30, TimeUnit.SECONDS));
            client.close();
        } else {
            throw new IllegalArgumentException("usage: serve <protocol> <host> <port> | ask <host> <port> <line>; got "
                    + List.of(args));
        }
    }

    /** Sends one line and completes with the first line of the answer. */
    private static final class OneLine implements Protocol {
        private final String line;
        private final CompletableFuture<String> answer;
        private final StringBuilder received = new StringBuilder();

        OneLine(String line, CompletableFuture<String> answer) {
            this.line = line;
            this.answer = answer;
        }

        @Override
        public void connectionMade(Transport transport) {
            transport.write(ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8)));
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            received.append(StandardCharsets.UTF_8.decode(data));
            int end = received.indexOf("\n");
            if (end >= 0) {
                answer.complete(received.substring(0, end));
            }
        }

        @Override
        public void connectionLost(Throwable cause) {
            answer.completeExceptionally(cause != null ? cause : new java.io.EOFException("closed before an answer"));
        }
    }
}
