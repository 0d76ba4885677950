package org.wharf.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.ref.WeakReference;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.wiring.BundleWiring;

/**
 * The protocol whiteboard in a real Felix: configurations and protocol bundles meet in any
 * order, protocol bundles are removed and upgraded under traffic, bad configurations fail
 * alone, and protocol bundles leave nothing behind.
 */
class WhiteboardIT {

    private Felix felix;
    private Bundle nio;

    @BeforeEach
    void start() throws Exception {
        felix = new Felix("whiteboard");
        felix.startPlatformServices();
        felix.start("protocol.api");
        felix.start("transport.core");
        nio = felix.start("transport.nio");
        felix.start("endpoints.api");
        felix.start("endpoints");
    }

    @AfterEach
    void stop() throws Exception {
        felix.close();
    }

    @Test
    void aConfigurationWaitsForItsProtocolThenServes() throws Exception {
        configure("greet", Map.of("port", 0, "protocol", "greeter"));
        // Visible at once, the reason follows on the whiteboard's first look.
        awaitRuntime(() -> "WAITING".equals(state("greet")) && reason("greet").contains("protocol = greeter"),
                () -> "greet waits for its protocol and says so: " + (endpoint("greet") == null ? "" : reason("greet")));
        felix.start("itest.protocol");
        awaitState("greet", "LISTENING");
        assertAnswer("hello", ask(port("greet"), "hello"));
    }

    @Test
    void theRuntimeIsVisibleThroughGogoCommandsAndJmx() throws Exception {
        felix.start("itest.protocol");
        configure("greet", Map.of("port", 0, "protocol", "greeter"));
        awaitState("greet", "LISTENING");
        int port = port("greet");
        try (Socket open = new Socket(InetAddress.getLoopbackAddress(), port)) {
            open.setSoTimeout(10_000);
            assertAnswer("seen", exchange(open, "seen"));

            javax.management.MBeanServer jmx = java.lang.management.ManagementFactory.getPlatformMBeanServer();
            javax.management.ObjectName name = new javax.management.ObjectName("org.wharf:type=Endpoint,name=\"greet\"");
            assertEquals("LISTENING", jmx.getAttribute(name, "State"));
            assertEquals(1L, jmx.getAttribute(name, "OpenConnections"));
            assertTrue(((String) jmx.getAttribute(name, "Protocol")).startsWith("greeter 0.1.0"));

            String endpoints = endpoints().gogo("wharf:endpoints");
            assertTrue(endpoints.contains("greet") && endpoints.contains("LISTENING") && endpoints.contains(":" + port),
                    endpoints);
            String protocols = endpoints().gogo("wharf:protocols");
            assertTrue(protocols.contains("greeter") && protocols.contains("org.wharf.itest.protocol"), protocols);
            String connections = endpoints().gogo("wharf:connections");
            assertTrue(connections.contains(String.valueOf(open.getLocalPort())), connections);
            // Arguments, coerced by Gogo itself: one endpoint, one endpoint's connections.
            String greet = endpoints().gogo("wharf:endpoints greet");
            assertTrue(greet.matches("(?s)endpoint\\s+greet\n.*state\\s+LISTENING\n.*protocol\\s+greeter 0\\.1\\.0.*"
                    + "open\\s+1\n.*"), greet);
            String ofGreet = endpoints().gogo("wharf:connections greet");
            assertTrue(ofGreet.contains("127.0.0.1:" + open.getLocalPort()), ofGreet);
            assertTrue(endpoints().gogo("wharf:connections nope").startsWith("no endpoint named nope (there are: "));
        }
    }

    @Test
    void aProtocolWaitsForItsConfigurationThenServes() throws Exception {
        felix.start("itest.protocol");
        Felix.awaitTrue(() -> protocols().contains("greeter"), "the protocol is registered");
        configure("greet", Map.of("port", 0, "protocol", "(wharf.protocol.name=greeter)"));
        awaitState("greet", "LISTENING");
        assertAnswer("filter", ask(port("greet"), "filter"));
    }

    @Test
    void uninstallingTheProtocolStopsAcceptingAndEndsConnectionsWithinTheDrainTime() throws Exception {
        Bundle greeter = felix.start("itest.protocol");
        configure("greet", Map.of("port", 0, "protocol", "greeter", "drainTimeout", 300, "replaceWindow", 0));
        awaitState("greet", "LISTENING");
        int port = port("greet");
        try (Socket open = new Socket(InetAddress.getLoopbackAddress(), port)) {
            open.setSoTimeout(10_000);
            assertAnswer("before", exchange(open, "before"));
            greeter.uninstall();
            Felix.awaitTrue(() -> refused(port), "the port stops accepting");
            assertEquals(-1, open.getInputStream().read(), "the open connection ends within the drain time");
        }
        awaitState("greet", "WAITING");
    }

    @Test
    void onRemovalAnOpenConnectionKeepsItsProtocolUntilTheDrainTimeoutAsOnAnUpgrade() throws Exception {
        Bundle greeter = felix.start("itest.protocol");
        configure("greet", Map.of("port", 0, "protocol", "greeter", "drainTimeout", 3000, "replaceWindow", 0));
        awaitState("greet", "LISTENING");
        int port = port("greet");
        try (Socket open = new Socket(InetAddress.getLoopbackAddress(), port)) {
            open.setSoTimeout(10_000);
            assertAnswer("before", exchange(open, "before"));
            long gone = System.nanoTime();
            greeter.stop();
            Felix.awaitTrue(() -> refused(port), "the port stops accepting");
            // Still served by the protocol it was opened with (deactivated, so it says "gone").
            String after = exchange(open, "after");
            assertTrue(after.startsWith("greeter") && after.endsWith(": after"), after);
            assertEquals(-1, open.getInputStream().read(), "closed at the drain timeout");
            long millis = (System.nanoTime() - gone) / 1_000_000;
            assertTrue(millis >= 2_500, "closed " + millis + " ms after the protocol went, before the drain timeout");
        }
        awaitState("greet", "WAITING");
    }

    @Test
    void aProtocolIsActivatedOnlyWhileAnEndpointUsesIt() throws Exception {
        Bundle greeter = felix.start("itest.protocol");
        Felix.awaitTrue(() -> protocols().contains("greeter"), "the protocol is registered");
        assertEquals("SATISFIED", componentState(greeter, "org.wharf.itest.protocol.GreeterFactory"),
                "registered, not activated: no endpoint uses it");
        configure("greet", Map.of("port", 0, "protocol", "greeter", "drainTimeout", 100));
        awaitState("greet", "LISTENING");
        assertEquals("ACTIVE", componentState(greeter, "org.wharf.itest.protocol.GreeterFactory"),
                "activated for the endpoint that uses it");
        assertAnswer("used", ask(port("greet"), "used"));
        endpoints().delete("greet");
        awaitRuntime(() -> endpoint("greet") == null, () -> "the endpoint goes with its configuration");
        Felix.awaitTrue(() -> "SATISFIED".equals(componentState(greeter, "org.wharf.itest.protocol.GreeterFactory")),
                "deactivated again once no endpoint uses it");
    }

    @Test
    void noNewConnectionReachesAProtocolOnceItsUnregistrationReturnsUnderLoad() throws Exception {
        Bundle greeter = felix.start("itest.protocol");
        // A connection opened before a stop keeps its protocol until it ends or drainTimeout
        // closes it, by design: with 100 ms, a request the loaded machine had not answered
        // 100 ms after the stop was cut (an EOF) as promised. Each client here ends its connection
        // after one answer; drainTimeout only bounds a stuck one, far beyond any scheduling delay.
        configure("greet", Map.of("port", 0, "protocol", "greeter", "drainTimeout", 20_000));
        awaitState("greet", "LISTENING");
        Load load = new Load(port("greet"), 4);
        for (int i = 0; i < 10; i++) {
            int before = load.served.get();
            Felix.awaitTrue(() -> load.served.get() > before + 20, "load runs");
            // Stopping deactivates the component (its answers turn to "greeter gone") right
            // after its service is unregistered: a connection made from then on must not reach it.
            greeter.stop();
            greeter.start();
        }
        int before = load.served.get();
        Felix.awaitTrue(() -> load.served.get() > before + 20, "load runs after the last restart");
        load.stop();
        List<String> reached = new ArrayList<>(load.answers).stream().filter(a -> a.startsWith("greeter gone")).toList();
        assertEquals(List.of(), reached, "connections that reached a deactivated protocol");
        assertEquals(0, load.failures.get(), "held during each restart, not refused: " + load.errors);
    }

    @Test
    void aDatagramEndpointCountsItsDatagramsAndRebindsForNewProtocolSettings() throws Exception {
        felix.start("itest.protocol");
        configure("dgram", Map.of("transport", "udp", "host", "127.0.0.1", "port", 0, "protocol", "greeter"));
        awaitState("dgram", "LISTENING");
        int port = port("dgram");
        try (java.net.DatagramSocket socket = new java.net.DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            socket.setSoTimeout(10_000);
            byte[] hello = "hello".getBytes(StandardCharsets.UTF_8);
            socket.send(new java.net.DatagramPacket(hello, hello.length, InetAddress.getLoopbackAddress(), port));
            java.net.DatagramPacket answer = new java.net.DatagramPacket(new byte[256], 256);
            socket.receive(answer);
            assertAnswer("hello", new String(answer.getData(), 0, answer.getLength(), StandardCharsets.UTF_8));
        }
        Felix.awaitTrue(() -> ((Long) Felix.get(endpoint("dgram"), "bytesReceived")) == 5L
                && ((Long) Felix.get(endpoint("dgram"), "sessions")) == 1L, "the datagram is counted: " + endpoint("dgram"));
        // A datagram protocol is made once per bind: a protocol setting that changes needs a new bind.
        restart("dgram", Map.of("transport", "udp", "host", "127.0.0.1", "port", 0, "protocol", "greeter",
                "greeter.anything", "new"), "the endpoint bound again with its new settings");
    }

    @Test
    void aBadConfigurationFailsWithThePropertyNamedAndOthersServe() throws Exception {
        felix.start("itest.protocol");
        configure("good", Map.of("port", 0, "protocol", "greeter"));
        configure("bad-port", Map.of("port", 70000, "protocol", "greeter"));
        configure("bad-filter", Map.of("port", 0, "protocol", "(&(broken"));
        configure("bad-transport", Map.of("port", 0, "protocol", "greeter", "transport", "carrier-pigeon"));
        awaitState("bad-port", "FAILED");
        assertTrue(reason("bad-port").contains("port = ") && reason("bad-port").contains("70000"), reason("bad-port"));
        awaitState("bad-filter", "FAILED");
        assertTrue(reason("bad-filter").contains("protocol = '(&(broken"), reason("bad-filter"));
        awaitState("bad-transport", "WAITING"); // for a transport of that name, as for a protocol
        assertTrue(reason("bad-transport").contains("transport = 'carrier-pigeon'"), reason("bad-transport"));
        awaitState("good", "LISTENING");
        int taken = port("good");
        configure("in-use", Map.of("port", taken, "host", "127.0.0.1", "protocol", "greeter"));
        awaitState("in-use", "FAILED");
        assertTrue(reason("in-use").contains(String.valueOf(taken)), reason("in-use"));
        assertAnswer("fine", ask(taken, "fine"));
    }

    @Test
    void sslEndpointsServeWithInlineOrNamedTlsAndAMissingKeyFileFailsOnlyItsEndpoint() throws Exception {
        felix.start("transport.ssl");
        felix.start("itest.protocol");
        TestCertificate certificate = TestCertificate.create();
        String store = certificate.store.toString();
        String password = new String(TestCertificate.PASSWORD);
        configure("inline", Map.of("transport", "ssl", "port", 0, "protocol", "greeter", "tls.keystore", store,
                "tls.keystore.password", password));
        configure("broken", Map.of("transport", "ssl", "port", 0, "protocol", "greeter",
                "tls.certificate", "/nowhere/cert.pem", "tls.key", "/nowhere/key.pem"));
        Object admin = felix.context().getService(felix.context().getServiceReference(
                "org.osgi.service.cm.ConfigurationAdmin"));
        Object tls = Felix.call(admin, "getFactoryConfiguration", "org.wharf.tls", "site", "?");
        Felix.call(tls, "update", new Hashtable<>(Map.of("name", "site", "tls.keystore", store,
                "tls.keystore.password", password)));
        configure("named", Map.of("transport", "ssl", "port", 0, "protocol", "greeter", "tls", "site"));

        // TLS settings on a tcp endpoint: failed, naming both properties (the transport refused
        // to listen with a message naming no endpoint, and the endpoint waited, saying nothing).
        configure("plain", Map.of("port", 0, "protocol", "greeter", "tls.keystore", store,
                "tls.keystore.password", password));
        awaitState("plain", "FAILED");
        assertTrue(reason("plain").contains("tls.* properties need transport = 'ssl', got transport = 'tcp'"),
                reason("plain"));

        awaitState("broken", "FAILED");
        assertTrue(reason("broken").contains("tls.certificate = '/nowhere/cert.pem'"), reason("broken"));
        for (String name : new String[] {"inline", "named"}) {
            awaitState(name, "LISTENING");
            javax.net.ssl.SSLSocketFactory sockets = certificate.client().context().get().getSocketFactory();
            try (javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) sockets.createSocket("localhost", port(name))) {
                socket.setSoTimeout(10_000);
                assertAnswer("over tls", exchange(socket, "over tls"));
                assertTrue(socket.getSession().getProtocol().startsWith("TLSv1."));
            }
        }
    }

    @Test
    void changingOneEndpointLeavesTheOthersAndTheirConnectionsAlone() throws Exception {
        felix.start("itest.protocol");
        configure("one", Map.of("port", 0, "protocol", "greeter"));
        configure("two", Map.of("port", 0, "protocol", "greeter"));
        awaitState("one", "LISTENING");
        awaitState("two", "LISTENING");
        int twoPort = port("two");
        try (Socket open = new Socket(InetAddress.getLoopbackAddress(), twoPort)) {
            open.setSoTimeout(10_000);
            assertAnswer("before", exchange(open, "before"));
            restart("one", Map.of("port", 0, "protocol", "greeter", "maxConnections", 5),
                    "one restarted with its new configuration");
            assertAnswer("after", exchange(open, "after"));
            assertEquals(twoPort, port("two"), "two was not touched");
            assertAnswer("one", ask(port("one"), "one"));
        }
    }

    @Test
    void aConfiguredPoolIsAServiceThatReusesConnectionsAndGoesWithItsProtocol() throws Exception {
        Bundle protocols = felix.start("itest.protocol");
        configure("greet", Map.of("port", 0, "protocol", "greeter"));
        awaitState("greet", "LISTENING");
        Object admin = felix.context().getService(felix.context().getServiceReference(
                "org.osgi.service.cm.ConfigurationAdmin"));
        Object poolConfig = Felix.call(admin, "getFactoryConfiguration", "org.wharf.client.pool", "greeters", "?");
        Felix.call(poolConfig, "update", new Hashtable<>(Map.of("name", "greeters", "host", "127.0.0.1",
                "port", port("greet"), "protocol", "greeter-client", "maxSize", 2)));
        String filter = "(wharf.pool.name=greeters)";
        Felix.awaitTrue(() -> pool(filter) != null, "the pool is a service");
        Object pool = pool(filter);

        for (int i = 0; i < 3; i++) {
            Object connection = ((java.util.concurrent.CompletionStage<?>) pool.getClass().getMethod("acquire")
                    .invoke(pool)).toCompletableFuture().get(10, TimeUnit.SECONDS);
            org.wharf.transport.api.Transport transport = (org.wharf.transport.api.Transport) Felix.get(connection,
                    "transport");
            transport.write(java.nio.ByteBuffer.wrap(("pooled " + i + "\n").getBytes(StandardCharsets.UTF_8)));
            Object client = Felix.get(connection, "protocol");
            String answer = (String) client.getClass().getMethod("next", long.class).invoke(client, 10_000L);
            assertAnswer("pooled " + i, answer);
            connection.getClass().getMethod("release").invoke(connection);
        }
        assertEquals(1L, Felix.get(pool, "sessions"), "one connection served all three, reused");
        assertEquals(1, Felix.get(pool, "available"));

        protocols.uninstall();
        Felix.awaitTrue(() -> pool(filter) == null, "the pool goes with its client protocol");
    }

    private Object pool(String filter) {
        try {
            org.osgi.framework.ServiceReference<?>[] refs = felix.context().getServiceReferences(
                    "org.wharf.endpoints.api.ConnectionPool", filter);
            return refs == null ? null : felix.context().getService(refs[0]);
        } catch (org.osgi.framework.InvalidSyntaxException e) {
            throw new IllegalArgumentException(e);
        }
    }

    @Test
    void endpointsGoDownAndComeBackWithTheTransport() throws Exception {
        felix.start("itest.protocol");
        configure("greet", Map.of("port", 0, "protocol", "greeter"));
        awaitState("greet", "LISTENING");
        nio.stop();
        // It waits for the transport to come back, saying which one it waits for.
        Felix.awaitTrue(() -> reason("greet").contains("transport = 'tcp'"), "the endpoint names the transport");
        awaitState("greet", "WAITING");
        nio.start();
        awaitState("greet", "LISTENING");
        assertAnswer("back", ask(port("greet"), "back"));
    }

    @Test
    void updatingTheProtocolBundleInPlaceUnderLoadFailsNoRequest() throws Exception {
        Bundle greeter = felix.start("itest.protocol");
        configure("greet", Map.of("port", 0, "protocol", "greeter", "drainTimeout", 200));
        awaitState("greet", "LISTENING");
        int port = port("greet");
        Load load = new Load(port, 4);
        Felix.awaitTrue(() -> load.served.get() > 50, "load runs");
        // Update in place: the old service goes, the new one comes; connections made between
        // the two are held, not refused.
        greeter.update(versioned(BuiltBundles.jar("itest.protocol"), "0.2.0"));
        Felix.awaitTrue(() -> "0.2.0".equals(version("greet")), "the endpoint binds the updated bundle");
        load.answers.clear();
        Felix.awaitTrue(() -> load.answers.size() > 50, "load runs on the new version");
        load.stop();
        assertEquals(0, load.failures.get(), "no request failed during the update: " + load.errors);
        List<String> recent = load.recent(10);
        assertTrue(recent.stream().allMatch(a -> a.startsWith("greeter 0.2.0")), "answered by the new version: " + recent);
        felix.refresh();
        awaitState("greet", "LISTENING");
    }

    /** Clients that each ask one line per connection, as fast as they can. */
    private static final class Load {
        final AtomicBoolean running = new AtomicBoolean(true);
        final AtomicInteger failures = new AtomicInteger();
        final AtomicInteger served = new AtomicInteger();
        final List<String> answers = java.util.Collections.synchronizedList(new ArrayList<>());
        final List<String> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        final List<Thread> clients = new ArrayList<>();

        Load(int port, int threads) {
            for (int i = 0; i < threads; i++) {
                int id = i;
                Thread t = new Thread(() -> {
                    while (running.get()) {
                        try {
                            String answer = ask(port, "client " + id);
                            if (!answer.endsWith(": client " + id)) {
                                failures.incrementAndGet();
                                errors.add("wrong answer " + answer);
                            }
                            served.incrementAndGet();
                            answers.add(answer);
                        } catch (Exception e) {
                            failures.incrementAndGet();
                            errors.add(e.toString());
                        }
                    }
                }, "load-" + i);
                t.start();
                clients.add(t);
            }
        }

        List<String> recent(int n) {
            List<String> all = new ArrayList<>(answers);
            return all.subList(Math.max(0, all.size() - n), all.size());
        }

        void stop() throws InterruptedException {
            running.set(false);
            for (Thread t : clients) {
                t.join(30_000);
            }
        }
    }

    @Test
    void aNewerProtocolServesNewConnectionsUnderLoadWithNoFailedRequest() throws Exception {
        Bundle v1 = felix.start("itest.protocol");
        configure("greet", Map.of("port", 0, "protocol", "greeter", "drainTimeout", 200));
        awaitState("greet", "LISTENING");
        int port = port("greet");

        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger failures = new AtomicInteger();
        AtomicInteger served = new AtomicInteger();
        List<String> lastAnswers = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Thread> clients = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            int id = i;
            Thread t = new Thread(() -> {
                while (running.get()) {
                    try {
                        String answer = ask(port, "client " + id);
                        if (!answer.endsWith(": client " + id)) {
                            failures.incrementAndGet();
                        }
                        served.incrementAndGet();
                        lastAnswers.add(answer);
                    } catch (Exception e) {
                        failures.incrementAndGet();
                    }
                }
            }, "load-" + i);
            t.start();
            clients.add(t);
        }
        Felix.awaitTrue(() -> served.get() > 50, "load runs");
        Bundle v2 = felix.context().installBundle("greeter-0.2.0", versioned(BuiltBundles.jar("itest.protocol"), "0.2.0"));
        v2.start();
        Felix.awaitTrue(() -> "0.2.0".equals(version("greet")), "the endpoint binds the newer version");
        lastAnswers.clear();
        Felix.awaitTrue(() -> lastAnswers.size() > 50, "load runs on the new version");
        v1.uninstall();
        int before = served.get();
        Felix.awaitTrue(() -> served.get() > before + 50, "load runs after the old version is gone");
        running.set(false);
        for (Thread t : clients) {
            t.join(30_000);
        }
        assertEquals(0, failures.get(), "no request failed during the upgrade");
        List<String> recent = new ArrayList<>(lastAnswers);
        assertTrue(recent.subList(recent.size() - 10, recent.size()).stream().allMatch(a -> a.startsWith("greeter 0.2.0")),
                "new connections are answered by the new version: " + recent.subList(recent.size() - 10, recent.size()));
    }

    @Test
    void fiftyInstallUninstallCyclesLeaveNoClassLoaderAndNoThreadBehind() throws Exception {
        configure("greet", Map.of("port", 0, "protocol", "greeter", "drainTimeout", 100, "replaceWindow", 0));
        // One cycle first, so the platform's own threads (loops, whiteboard) are all started.
        cycle(null);
        felix.refresh();
        int threads = Thread.activeCount();
        List<WeakReference<ClassLoader>> loaders = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            cycle(loaders);
        }
        felix.refresh();
        Felix.awaitTrue(() -> {
            System.gc();
            return loaders.stream().allMatch(l -> l.get() == null);
        }, "every uninstalled protocol bundle's class loader is collected");
        Felix.awaitTrue(() -> Thread.activeCount() <= threads, "threads back to " + threads + ", now "
                + Thread.activeCount());
    }

    private void cycle(List<WeakReference<ClassLoader>> loaders) throws Exception {
        Bundle greeter = felix.start("itest.protocol");
        if (loaders != null) {
            loaders.add(new WeakReference<>(greeter.adapt(BundleWiring.class).getClassLoader()));
        }
        awaitState("greet", "LISTENING");
        assertTrue(ask(port("greet"), "cycle").startsWith("greeter 0.1.0"));
        greeter.uninstall();
        awaitState("greet", "WAITING");
    }

    // ---- helpers ----

    /**
     * Configures an endpoint with settings that restart it, and waits until it was replaced and
     * listens again. A new port is no sign of it (the kernel may give the new socket the port
     * just freed); a runtime snapshot showing the endpoint not listening is (the new one waits
     * for its predecessor's ports first), read on each event, on the thread that published it.
     */
    private void restart(String name, Map<String, Object> properties, String what) throws Exception {
        AtomicBoolean replaced = new AtomicBoolean();
        org.osgi.framework.ServiceListener watching = event -> {
            Object e = endpoint(name);
            if (e == null || !"LISTENING".equals(String.valueOf(Felix.get(e, "state")))) {
                replaced.set(true);
            }
        };
        felix.context().addServiceListener(watching, "(objectClass=org.wharf.endpoints.api.EndpointRuntime)");
        try {
            configure(name, properties);
            awaitRuntime(() -> {
                Object e = endpoint(name);
                return replaced.get() && e != null && "LISTENING".equals(String.valueOf(Felix.get(e, "state")));
            }, () -> what + " (replaced " + replaced.get() + ")");
        } finally {
            felix.context().removeServiceListener(watching);
        }
    }

    private void configure(String name, Map<String, Object> properties) throws Exception {
        endpoints().configure(name, properties);
    }

    private Object runtime() {
        return endpoints().runtime();
    }

    private Object endpoint(String name) {
        return endpoints().endpoint(name);
    }

    private String state(String name) {
        return endpoints().state(name);
    }

    private String reason(String name) {
        return endpoints().reason(name);
    }

    private String version(String name) {
        Object e = endpoint(name);
        return e == null ? "" : String.valueOf(Felix.get(e, "protocolVersion"));
    }

    private int port(String name) {
        return endpoints().port(name);
    }

    /** The endpoint's first listening port, or -1 while it has none. */
    private static int port(Object endpoint) {
        return EndpointsInFelix.port(endpoint);
    }

    private EndpointsInFelix endpoints() {
        return new EndpointsInFelix(felix);
    }

    private List<String> protocols() {
        List<String> names = new ArrayList<>();
        for (Object p : (List<?>) Felix.get(Felix.get(runtime(), "getRuntimeDTO"), "protocols")) {
            names.add(String.valueOf(Felix.get(p, "name")));
        }
        return names;
    }

    /** The state of a bundle's DS component, as Service Component Runtime names it. */
    private String componentState(Bundle bundle, String component) {
        try {
            Object scr = felix.context().getService(felix.context().getServiceReference(
                    "org.osgi.service.component.runtime.ServiceComponentRuntime"));
            Object description = Felix.call(scr, "getComponentDescriptionDTO", bundle, component);
            java.util.Collection<?> configurations = (java.util.Collection<?>) Felix.call(scr,
                    "getComponentConfigurationDTOs", description);
            if (configurations.isEmpty()) {
                return "NONE";
            }
            return switch ((Integer) Felix.get(configurations.iterator().next(), "state")) {
                case 1 -> "UNSATISFIED_CONFIGURATION";
                case 2 -> "UNSATISFIED_REFERENCE";
                case 4 -> "SATISFIED";
                case 8 -> "ACTIVE";
                case 16 -> "FAILED_ACTIVATION";
                default -> "UNKNOWN";
            };
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private void awaitState(String name, String expected) {
        endpoints().awaitState(name, expected);
    }

    /** Waits on the runtime's change count until a condition on its DTOs holds. */
    private void awaitRuntime(java.util.function.BooleanSupplier condition, java.util.function.Supplier<String> what) {
        endpoints().awaitRuntime(condition, what);
    }

    /** An answer of version 0.1.0 of the greeter (built as a snapshot) to a line. */
    private static void assertAnswer(String line, String answer) {
        assertTrue(answer.startsWith("greeter 0.1.0") && answer.endsWith(": " + line), answer);
    }

    private static String ask(int port, String line) throws Exception {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.setSoTimeout(10_000);
            return exchange(socket, line);
        }
    }

    private static String exchange(Socket socket, String line) throws Exception {
        OutputStream out = socket.getOutputStream();
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        InputStream in = socket.getInputStream();
        StringBuilder answer = new StringBuilder();
        for (int c; (c = in.read()) != '\n';) {
            if (c < 0) {
                throw new java.io.EOFException("connection closed after '" + answer + "'");
            }
            answer.append((char) c);
        }
        return answer.toString();
    }

    private static boolean refused(int port) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    /** The same bundle with another Bundle-Version, as a new release of it would be. */
    private static java.io.InputStream versioned(Path jar, String version) throws Exception {
        Path copy = Files.createTempFile("greeter-" + version, ".jar");
        try (JarInputStream in = new JarInputStream(Files.newInputStream(jar))) {
            Manifest manifest = new Manifest(in.getManifest());
            manifest.getMainAttributes().put(new Attributes.Name("Bundle-Version"), version);
            try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(copy), manifest)) {
                for (JarEntry e; (e = in.getNextJarEntry()) != null;) {
                    out.putNextEntry(new JarEntry(e.getName()));
                    in.transferTo(out);
                    out.closeEntry();
                }
            }
        }
        return Files.newInputStream(copy);
    }

}
