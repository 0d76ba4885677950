package org.wharf.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.ref.WeakReference;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.wiring.BundleWiring;
import org.wharf.transport.api.DatagramOptions;
import org.wharf.transport.api.DatagramProtocol;
import org.wharf.transport.api.DatagramTransport;
import org.wharf.transport.api.DatagramTransportProvider;
import org.wharf.transport.api.ListenOptions;
import org.wharf.transport.api.Listener;
import org.wharf.transport.api.StreamTransportProvider;
import org.wharf.transport.api.TransportError;
import org.wharf.transport.tck.EchoProtocol;
import org.wharf.transport.tck.RecordingProtocol;

/** transport.nio as a bundle in a real Felix: services, configuration, metatype, clean stop. */
class NioInFelixIT {

    private static final String PID = "org.wharf.transport.nio";

    private Felix felix;
    private Bundle nio;

    @BeforeEach
    void start() throws Exception {
        felix = new Felix("nio");
        felix.startPlatformServices();
        felix.start("transport.core");
        nio = felix.start("transport.nio");
    }

    @AfterEach
    void stop() throws Exception {
        felix.close();
    }

    @Test
    void tcpAndUdpProvidersAreServicesThatServeRealSockets() throws Exception {
        StreamTransportProvider tcp = service(StreamTransportProvider.class, "(wharf.transport=tcp)");
        assertEquals("tcp", tcp.kind());
        Listener listener = tcp.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), ListenOptions.DEFAULT,
                EchoProtocol::new).toCompletableFuture().get(10, TimeUnit.SECONDS);
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), listener.localAddress().getPort())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write("hello through felix".getBytes(StandardCharsets.UTF_8));
            InputStream in = socket.getInputStream();
            assertEquals("hello through felix", new String(in.readNBytes(19), StandardCharsets.UTF_8));
        }

        DatagramTransportProvider udp = service(DatagramTransportProvider.class, "(wharf.transport=udp)");
        var bound = udp.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), DatagramOptions.DEFAULT,
                org.wharf.transport.tck.DatagramEchoProtocol::new).toCompletableFuture().get(10, TimeUnit.SECONDS);
        int port = ((InetSocketAddress) bound.transport().extraInfo(org.wharf.transport.api.ExtraInfo.LOCAL_ADDRESS)
                .orElseThrow()).getPort();
        try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            socket.setSoTimeout(10_000);
            byte[] data = "datagram".getBytes(StandardCharsets.UTF_8);
            socket.send(new DatagramPacket(data, data.length, InetAddress.getLoopbackAddress(), port));
            DatagramPacket back = new DatagramPacket(new byte[100], 100);
            socket.receive(back);
            assertEquals("datagram", new String(back.getData(), 0, back.getLength(), StandardCharsets.UTF_8));
        }
        listener.close().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void aConfigurationChangeRestartsTheLoopsAndABadOneNamesThePropertyAndKeepsTheServiceAway() throws Exception {
        service(StreamTransportProvider.class, "(wharf.transport=tcp)");
        configure(3);
        Felix.awaitTrue(() -> loopThreads().size() == 3, "3 loop threads after configuring loopThreads=3, got "
                + loopThreads());

        configure(-1);
        Felix.awaitTrue(() -> references(StreamTransportProvider.class, "(wharf.transport=tcp)").isEmpty(),
                "the tcp provider goes away while the configuration is invalid");
        Felix.awaitTrue(() -> loopThreads().isEmpty(), "no loop threads while the configuration is invalid");

        configure(2);
        service(StreamTransportProvider.class, "(wharf.transport=tcp)");
        Felix.awaitTrue(() -> loopThreads().size() == 2, "2 loop threads after the configuration is fixed");
    }

    @Test
    void metatypeDescribesTheConfiguration() throws Exception {
        Object metatype = felix.context().getService(felix.context().getServiceReference(
                "org.osgi.service.metatype.MetaTypeService"));
        Object information = Felix.call(metatype, "getMetaTypeInformation", nio);
        Object definition = Felix.call(information, "getObjectClassDefinition", PID, null);
        Set<String> ids = new java.util.TreeSet<>();
        for (Object attribute : (Object[]) Felix.call(definition, "getAttributeDefinitions", -1)) {
            ids.add((String) Felix.call(attribute, "getID"));
        }
        assertEquals(Set.of("loopThreads", "readBufferSize", "writeBufferHigh", "writeBufferLow", "udpBatch",
                "closeTimeout", "busyPollMicros"), ids);
    }

    @Test
    void stoppingTheBundleClosesConnectionsEndsThreadsAndLeavesNoClassLoaderBehind() throws Exception {
        WeakReference<ClassLoader> loader = new WeakReference<>(nio.adapt(BundleWiring.class).getClassLoader());
        // Everything that holds an object of the bundle stays inside this call.
        // Only the type of the cause is kept: an exception's backtrace references the classes
        // on its stack, which are the bundle's.
        String cause = connectThenStopTheBundle();
        assertEquals(TransportError.class.getName(), cause, "open connections are closed, with a reason");
        Felix.awaitTrue(() -> loopThreads().isEmpty() && threads("wharf-resolver").isEmpty(),
                "no thread of the bundle is alive: " + loopThreads());

        nio.uninstall();
        felix.refresh();
        nio = null;
        Felix.awaitTrue(() -> {
            System.gc();
            return loader.get() == null;
        }, "the bundle's class loader is collected once it is uninstalled");
    }

    /** Connects to a plain socket, stops the bundle, and returns the type the connection was lost with. */
    private String connectThenStopTheBundle() throws Exception {
        StreamTransportProvider tcp = service(StreamTransportProvider.class, "(wharf.transport=tcp)");
        // The peer is a plain socket, so only the bundle's stop can end the connection.
        try (java.net.ServerSocket peer = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            RecordingProtocol client = tcp.connect((InetSocketAddress) peer.getLocalSocketAddress(),
                    org.wharf.transport.api.ConnectOptions.DEFAULT, RecordingProtocol::new).toCompletableFuture()
                    .get(10, TimeUnit.SECONDS).protocol();
            try (Socket accepted = peer.accept()) {
                accepted.getOutputStream().write('x');
                Felix.awaitTrue(() -> client.receivedCount() == 1, "data before the stop");
                assertTrue(!loopThreads().isEmpty());
                nio.stop();
                Throwable cause = client.lost().get(10, TimeUnit.SECONDS);
                return cause == null ? "null" : cause.getClass().getName();
            }
        }
    }

    private void configure(int loopThreads) throws Exception {
        Object admin = felix.context().getService(felix.context().getServiceReference(
                "org.osgi.service.cm.ConfigurationAdmin"));
        Object configuration = Felix.call(admin, "getConfiguration", PID, null);
        Dictionary<String, Object> properties = new Hashtable<>();
        properties.put("loopThreads", loopThreads);
        Felix.call(configuration, "update", properties);
    }

    private <S> S service(Class<S> type, String filter) throws Exception {
        Felix.awaitTrue(() -> !references(type, filter).isEmpty(), type.getSimpleName() + " " + filter + " registered");
        return felix.context().getService(references(type, filter).iterator().next());
    }

    private <S> Collection<ServiceReference<S>> references(Class<S> type, String filter) {
        try {
            return felix.context().getServiceReferences(type, filter);
        } catch (org.osgi.framework.InvalidSyntaxException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static List<Thread> loopThreads() {
        return threads("wharf-nio-").stream().filter(t -> !t.getName().startsWith("wharf-nio-shared"))
                .collect(Collectors.toList());
    }

    private static List<Thread> threads(String prefix) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith(prefix) && t.isAlive())
                .collect(Collectors.toList());
    }

}
