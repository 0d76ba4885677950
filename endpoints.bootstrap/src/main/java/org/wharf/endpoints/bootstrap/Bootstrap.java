package org.wharf.endpoints.bootstrap;

import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.wharf.endpoints.Client;
import org.wharf.endpoints.DatagramServer;
import org.wharf.endpoints.Server;
import org.wharf.protocol.api.BaseProtocolFactory;
import org.wharf.protocol.api.ConnectionHooks;
import org.wharf.protocol.api.DatagramProtocolFactory;
import org.wharf.protocol.api.ProtocolContext;
import org.wharf.protocol.api.ProtocolFactory;
import org.wharf.protocol.api.ProtocolProperties;
import org.wharf.transport.api.Addresses;
import org.wharf.transport.api.ConnectOptions;
import org.wharf.transport.api.DatagramOptions;
import org.wharf.transport.api.DatagramTransportProvider;
import org.wharf.transport.api.ListenOptions;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.StreamTransportProvider;
import org.wharf.transport.api.TlsOptionsFactory;
import org.wharf.transport.api.Transport;

/**
 * Servers and clients built by hand on a plain module or class path: transports and
 * protocols are found with {@link ServiceLoader}, no framework involved. It reports through
 * {@link System.Logger}.
 *
 * <pre>
 * java -p mods -m org.wharf.endpoints.bootstrap serve echo 127.0.0.1 7007 \
 *     + echo 127.0.0.1 7007 transport=udp \
 *     + echo 127.0.0.1 7443 transport=ssl tls.certificate=etc/tls/self-signed.pem tls.key=etc/tls/self-signed.key
 * java -p mods -m org.wharf.endpoints.bootstrap ask 127.0.0.1 7007 hello
 * </pre>
 *
 * <p>Each endpoint is {@code PROTOCOL HOST PORT} and then {@code key=value} properties as in an
 * endpoint's {@code .cfg}: {@code transport} ({@code tcp}, the default, {@code udp} or
 * {@code ssl}), the {@code tls.*} keys for {@code ssl} (read by the TLS transport's
 * {@link TlsOptionsFactory}), and whatever the protocol reads from its context; {@code +}
 * separates endpoints. {@code bin/wharf-modules} in the distribution runs this with the
 * distribution's jars (and {@code deploy/}'s) as the module path.
 */
@aQute.bnd.annotation.spi.ServiceConsumer(value = ProtocolFactory.class,
        resolution = aQute.bnd.annotation.Resolution.OPTIONAL)
@aQute.bnd.annotation.spi.ServiceConsumer(value = DatagramProtocolFactory.class,
        resolution = aQute.bnd.annotation.Resolution.OPTIONAL)
@aQute.bnd.annotation.spi.ServiceConsumer(value = StreamTransportProvider.class,
        resolution = aQute.bnd.annotation.Resolution.OPTIONAL)
@aQute.bnd.annotation.spi.ServiceConsumer(value = DatagramTransportProvider.class,
        resolution = aQute.bnd.annotation.Resolution.OPTIONAL)
@aQute.bnd.annotation.spi.ServiceConsumer(value = TlsOptionsFactory.class,
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
     * @throws IllegalArgumentException if none of that name is on the path, naming those that are
     */
    public static ProtocolFactory protocol(String name) {
        return find(ProtocolFactory.class, name);
    }

    /**
     * Finds a datagram protocol by the name in its {@link ProtocolProperties}.
     *
     * @param name such as {@code echo}
     * @return the factory
     * @throws IllegalArgumentException if none of that name is on the path, naming those that are
     */
    public static DatagramProtocolFactory datagramProtocol(String name) {
        return find(DatagramProtocolFactory.class, name);
    }

    private static <F extends BaseProtocolFactory> F find(Class<F> type, String name) {
        List<ServiceLoader.Provider<F>> all = ServiceLoader.load(type).stream().toList();
        return all.stream().filter(p -> name.equals(nameOf(p.type()))).map(ServiceLoader.Provider::get).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no " + (type == ProtocolFactory.class ? "" : "datagram ")
                        + "protocol named " + name + " on the path (there are: " + all.stream().map(p -> nameOf(p.type()))
                                .sorted().collect(Collectors.joining(", ")) + "); a protocol bundle is found outside a "
                        + "framework only if its factory says @ServiceProvider(" + type.getSimpleName() + ".class)"));
    }

    private static String nameOf(Class<?> factory) {
        ProtocolProperties properties = factory.getAnnotation(ProtocolProperties.class);
        return properties == null ? factory.getName() : properties.name();
    }

    /**
     * Finds the datagram transport ({@code udp}) with {@link ServiceLoader}.
     *
     * @return the provider
     * @throws IllegalArgumentException if there is none on the path
     */
    public static DatagramTransportProvider datagramTransport() {
        return ServiceLoader.load(DatagramTransportProvider.class).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no udp transport on the path"));
    }

    /**
     * Starts one endpoint as a configuration would: {@code transport} ({@code tcp}, {@code udp},
     * {@code ssl}) and {@code tls.*} among the properties, the rest for the protocol.
     *
     * @param protocol the protocol's name
     * @param address where to listen
     * @param properties the endpoint's properties
     * @return what to close to stop it, and where it listens
     */
    public static Running start(String protocol, InetSocketAddress address, Map<String, String> properties) {
        String kind = properties.getOrDefault("transport", "tcp");
        if (kind.equals("udp")) {
            DatagramProtocolFactory factory = datagramProtocol(protocol);
            ProtocolContext context = new ProtocolContext(protocol, kind, Map.copyOf(properties), ConnectionHooks.NONE);
            DatagramServer server = DatagramServer.bind(datagramTransport(), List.of(address), DatagramOptions.DEFAULT,
                    () -> factory.newDatagramProtocol(context)).toCompletableFuture().join();
            return new Running(kind, protocol, server.addresses(), () -> server.close());
        }
        ProtocolFactory factory = protocol(protocol);
        ListenOptions options = ListenOptions.DEFAULT;
        if (kind.equals("ssl")) {
            TlsOptionsFactory tls = ServiceLoader.load(TlsOptionsFactory.class).findFirst().orElseThrow(
                    () -> new IllegalArgumentException("transport = ssl: no TLS transport (org.wharf.transport.ssl) on the "
                            + "path"));
            options = options.withTls(tls.fromProperties(properties));
        }
        Server server = Server.builder(transport(kind)).name(protocol).address(address).options(options)
                .protocol(hooks -> factory.newProtocol(new ProtocolContext(protocol, kind, Map.copyOf(properties), hooks)))
                .start().toCompletableFuture().join();
        return new Running(kind, protocol, server.addresses(), () -> server.close(Duration.ofSeconds(5)));
    }

    /**
     * A started endpoint.
     *
     * @param transport its transport
     * @param protocol its protocol's name
     * @param addresses where it listens, with the real ports
     * @param stop stops it
     */
    public record Running(String transport, String protocol, List<InetSocketAddress> addresses, Runnable stop) {
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
        if (args.length >= 4 && args[0].equals("serve")) {
            List<Running> running = new ArrayList<>();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> running.forEach(r -> r.stop().run())));
            for (List<String> spec : endpoints(List.of(args).subList(1, args.length))) {
                if (spec.size() < 3) {
                    throw new IllegalArgumentException("an endpoint is PROTOCOL HOST PORT [key=value ...]; got " + spec);
                }
                Map<String, String> properties = new LinkedHashMap<>();
                for (String pair : spec.subList(3, spec.size())) {
                    int eq = pair.indexOf('=');
                    if (eq <= 0) {
                        throw new IllegalArgumentException("expected key=value after " + spec.subList(0, 3) + "; got "
                                + pair);
                    }
                    properties.put(pair.substring(0, eq), pair.substring(eq + 1));
                }
                Running r = start(spec.get(0), new InetSocketAddress(spec.get(1), Integer.parseInt(spec.get(2))),
                        properties);
                running.add(r);
                for (InetSocketAddress a : r.addresses()) {
                    LOG.log(Level.INFO, "listening " + r.transport() + " " + Addresses.text(a) + " " + r.protocol());
                }
            }
            new CompletableFuture<Void>().join(); // serve until stopped
        } else if (args.length == 4 && args[0].equals("ask")) {
            CompletableFuture<String> answer = new CompletableFuture<>();
            Client<Protocol> client = new Client<>(transport("tcp"), InetSocketAddress.createUnresolved(args[1],
                    Integer.parseInt(args[2])), ConnectOptions.DEFAULT, () -> new OneLine(args[3], answer));
            client.connect().toCompletableFuture().get(30, TimeUnit.SECONDS);
            LOG.log(Level.INFO, "answer: " + answer.get(30, TimeUnit.SECONDS));
            client.close();
        } else {
            throw new IllegalArgumentException("usage: serve PROTOCOL HOST PORT [key=value ...] [+ PROTOCOL HOST PORT ...]"
                    + " | ask HOST PORT LINE; got " + List.of(args));
        }
    }

    /** The endpoints of a {@code serve} command, split at each {@code +}. */
    private static List<List<String>> endpoints(List<String> words) {
        List<List<String>> all = new ArrayList<>();
        List<String> current = new ArrayList<>();
        for (String w : words) {
            if (w.equals("+")) {
                all.add(current);
                current = new ArrayList<>();
            } else {
                current.add(w);
            }
        }
        all.add(current);
        return all;
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
