package org.wharf.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;

import org.wharf.transport.tck.RedisServer;

/**
 * The proxy protocol bundle hot-deployed into a running Felix: its configured route serves
 * once the bundle is there, a new upstream in the configuration takes new connections while
 * the open ones run on, and uninstalling the bundle closes the port. A health probe in another
 * bundle is used while that bundle is there.
 */
class ProxyInFelixIT {

    private Felix felix;
    private EndpointsInFelix endpoints;
    private LineServer a;
    private LineServer b;

    @BeforeEach
    void start() throws Exception {
        a = new LineServer("A");
        b = new LineServer("B");
        startFelix(new Felix("proxy"));
    }

    /** Starts the platform in this framework, the one the test uses. */
    private void startFelix(Felix framework) throws Exception {
        felix = framework;
        felix.startPlatformServices();
        felix.start("protocol.api");
        felix.start("transport.core");
        felix.start("transport.nio");
        felix.start("transport.ssl");
        felix.start("endpoints.api");
        felix.start("endpoints");
        endpoints = new EndpointsInFelix(felix);
    }

    @AfterEach
    void stop() throws Exception {
        felix.close();
        a.close();
        b.close();
    }

    @Test
    void theProxyBundleServesItsRouteAndTakesANewUpstreamWithoutARestart() throws Exception {
        endpoints.configure("gw", Map.of("port", 0, "protocol", "proxy", "proxy.upstreams", "127.0.0.1:" + a.port()));
        endpoints.awaitState("gw", "WAITING");
        Bundle proxy = felix.start("protocol.proxy"); // hot deploy
        endpoints.awaitState("gw", "LISTENING");
        int port = endpoints.port("gw");
        try (Socket open = new Socket(InetAddress.getLoopbackAddress(), port)) {
            open.setSoTimeout(10_000);
            assertEquals("A hello", exchange(open, "hello"));

            endpoints.configure("gw", Map.of("port", 0, "protocol", "proxy", "proxy.upstreams", "127.0.0.1:" + b.port()));
            Felix.awaitTrue(() -> {
                try (Socket fresh = new Socket(InetAddress.getLoopbackAddress(), port)) {
                    fresh.setSoTimeout(10_000);
                    return exchange(fresh, "new").equals("B new");
                } catch (IOException e) {
                    throw new AssertionError("the endpoint stopped listening on " + port + ": " + e, e);
                }
            }, "new connections go to the new upstream, on the same port");
            assertEquals("LISTENING", endpoints.state("gw"));
            assertEquals("A still", exchange(open, "still"), "the open connection runs on, to its upstream");

            String metrics = endpoints.gogo("wharf:metrics");
            assertTrue(metrics.contains("proxy.connections.open") && metrics.contains("proxy.bytes.toClient")
                    && metrics.contains("proxy.upstream.127.0.0.1:" + b.port() + ".open")
                    && metrics.contains("proxy.upstream.127.0.0.1:" + b.port() + ".up"), metrics);
        }
        proxy.uninstall();
        Felix.awaitTrue(() -> {
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                return false;
            } catch (IOException refused) {
                return true;
            }
        }, "the port closes with the proxy bundle gone");
    }

    @Test
    void aWrongRouteFailsTheEndpointNamingThePropertyAndValue() throws Exception {
        felix.start("protocol.proxy");
        endpoints.configure("gw", Map.of("port", 0, "protocol", "proxy", "proxy.upstreams", "nowhere"));
        endpoints.awaitState("gw", "FAILED");
        assertTrue(endpoints.reason("gw").contains("proxy.upstreams = 'nowhere': not host:port"), endpoints.reason("gw"));
        endpoints.configure("gw", Map.of("port", 0, "protocol", "proxy", "proxy.upstreams", "127.0.0.1:" + a.port()));
        endpoints.awaitState("gw", "LISTENING");
        int port = endpoints.port("gw");
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            assertEquals("A fixed", exchange(s, "fixed"));
            // A wrong update of a running route is refused the same way: the endpoint fails with the reason.
            endpoints.configure("gw", Map.of("port", 0, "protocol", "proxy", "proxy.upstreams", "127.0.0.1:" + a.port(),
                    "proxy.balancing", "random"));
            endpoints.awaitState("gw", "FAILED");
            assertTrue(endpoints.reason("gw").contains("proxy.balancing = 'random'"), endpoints.reason("gw"));
        }
    }

    @Test
    void aGatewayConfigurationWithMetatypeMakesItsEndpointAndDeletingItRemovesIt() throws Exception {
        Bundle proxy = felix.start("protocol.proxy");
        Object metatype = felix.context().getService(felix.context().getServiceReference(
                "org.osgi.service.metatype.MetaTypeService"));
        Object information = Felix.call(metatype, "getMetaTypeInformation", proxy);
        Object definition = Felix.call(information, "getObjectClassDefinition", "org.wharf.proxy", null);
        java.util.Set<String> ids = new java.util.TreeSet<>();
        for (Object attribute : (Object[]) Felix.call(definition, "getAttributeDefinitions", -1)) {
            ids.add((String) Felix.call(attribute, "getID"));
        }
        assertTrue(ids.containsAll(java.util.Set.of("name", "port", "transport", "proxy.upstreams",
                "proxy.upstream.transport", "proxy.balancing", "proxy.connectTimeout", "proxy.retries",
                "proxy.idleTimeout", "proxy.pooled", "proxyProtocol", "proxyProtocol.trusted",
                "proxyProtocol.headerTimeout", "maxConnectionsPerClient", "connectionRatePerClient",
                "connectionBurstPerClient", "proxy.upstream.proxyProtocol", "proxy.accessLog", "proxy.health.failures",
                "proxy.health.downTime", "proxy.health.maxDownTime", "proxy.sniTimeout", "proxy.health.check",
                "proxy.health.probe", "proxy.health.maxBytes")), ids.toString());

        Object admin = felix.context().getService(felix.context().getServiceReference(
                "org.osgi.service.cm.ConfigurationAdmin"));
        Object gateway = Felix.call(admin, "getFactoryConfiguration", "org.wharf.proxy", "edge", "?");
        Felix.call(gateway, "update", new java.util.Hashtable<>(Map.of("name", "edge", "port", 0,
                "proxy.upstreams", new String[] {"127.0.0.1:" + a.port()})));
        endpoints.awaitState("edge", "LISTENING");
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), endpoints.port("edge"))) {
            s.setSoTimeout(10_000);
            assertEquals("A through edge", exchange(s, "through edge"));
        }
        // The runtime reads org.wharf.proxy itself: nothing is copied into org.wharf.server.
        assertEquals(List.of(), endpoints.configurations("(service.factoryPid=org.wharf.server)"));

        // Without its protocol the gateway waits, and its configuration stays the user's.
        proxy.uninstall();
        endpoints.awaitRuntime(() -> "WAITING".equals(endpoints.state("edge"))
                && endpoints.reason("edge").contains("proxy"), () -> "the gateway waits for its protocol and says so");
        assertEquals(1, endpoints.configurations("(service.factoryPid=org.wharf.proxy)").size());
        assertEquals(List.of(), endpoints.configurations("(service.factoryPid=org.wharf.server)"),
                "nothing left behind");

        Felix.call(gateway, "delete");
        endpoints.awaitRuntime(() -> endpoints.endpoint("edge") == null,
                () -> "the gateway's endpoint goes with its configuration");
    }


    @Test
    void aGatewayBehindABalancerPassesTheClientOnAndChecksItsSettings() throws Exception {
        felix.start("protocol.proxy");
        endpoints.configure("gw", Map.of("port", 0, "protocol", "proxy", "proxy.upstreams", "127.0.0.1:" + a.port(),
                "proxyProtocol", "v2"));
        endpoints.awaitState("gw", "FAILED");
        assertTrue(endpoints.reason("gw").contains("proxyProtocol.trusted"), endpoints.reason("gw"));
        endpoints.configure("gw", Map.of("port", 0, "protocol", "proxy", "proxy.upstreams", "127.0.0.1:" + a.port(),
                "proxyProtocol", "either", "proxyProtocol.trusted", "127.0.0.1", "proxy.upstream.proxyProtocol", "v1"));
        endpoints.awaitState("gw", "LISTENING");
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), endpoints.port("gw"))) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("PROXY TCP4 192.0.2.9 192.0.2.1 5555 443\r\n".getBytes(StandardCharsets.US_ASCII));
            // The upstream answers every line it reads: first the header the gateway sent, naming the client.
            assertEquals("A PROXY TCP4 192.0.2.9 192.0.2.1 5555 443", exchange(s, "hello"));
        }
        endpoints.configure("gw", Map.of("port", 0, "protocol", "proxy", "proxy.upstreams", "127.0.0.1:" + a.port(),
                "proxyProtocol", "v1", "proxyProtocol.trusted", "10.0.0.0/33"));
        endpoints.awaitState("gw", "FAILED");
        assertTrue(endpoints.reason("gw").contains("proxyProtocol.trusted = '10.0.0.0/33'"), endpoints.reason("gw"));
    }

    @Test
    void aServerNameWithACertificateIsTerminatedByTheGatewayInTheFramework() throws Exception {
        felix.start("protocol.proxy");
        TestCertificate certificate = TestCertificate.create();
        endpoints.configure("gw", Map.of("port", 0, "protocol", "proxy",
                "proxy.sni.localhost", "127.0.0.1:" + a.port(),
                "proxy.sni.localhost.tls.keystore", certificate.store.toString(),
                "proxy.sni.localhost.tls.keystore.password", new String(TestCertificate.PASSWORD),
                "proxy.upstreams", "127.0.0.1:" + b.port()));
        endpoints.awaitState("gw", "LISTENING");
        javax.net.ssl.SSLSocketFactory factory = certificate.client().context().get().getSocketFactory();
        try (javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) factory.createSocket("localhost",
                endpoints.port("gw"))) {
            s.setSoTimeout(10_000);
            javax.net.ssl.SSLParameters p = s.getSSLParameters();
            p.setServerNames(List.of(new javax.net.ssl.SNIHostName("localhost")));
            p.setEndpointIdentificationAlgorithm("HTTPS");
            s.setSSLParameters(p);
            // The upstream is a plain line server: it can only answer if the gateway ended the TLS.
            assertEquals("A hello", exchange(s, "hello"));
        }
        try (Socket plain = new Socket(InetAddress.getLoopbackAddress(), endpoints.port("gw"))) {
            plain.setSoTimeout(10_000);
            assertEquals("B plain", exchange(plain, "plain"), "plain text on the same port: the default route");
        }
    }

    @Test
    void theGatewaysOwnProbesAreServicesTooSoAProtocolCheckWorksInTheFramework() throws Exception {
        felix.start("protocol.proxy");
        // A line server answers HEAD / with "A HEAD / HTTP/1.1": it takes connections, but is no HTTP server.
        endpoints.configure("gw", Map.of("port", 0, "protocol", "proxy", "proxy.upstreams", "127.0.0.1:" + a.port(),
                "proxy.protocol", "http", "proxy.health.check", "protocol", "proxy.health.interval", "100",
                "proxy.health.failures", "1"));
        endpoints.awaitState("gw", "LISTENING");
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), endpoints.port("gw"))) {
            s.setSoTimeout(10_000);
            assertEquals("A first", exchange(s, "first")); // the route's first connection starts its checks
        }
        Felix.awaitTrue(() -> metric("proxy.upstream.127.0.0.1:" + a.port() + ".up") == 0L,
                "the http probe, a service of the proxy bundle, finds the line server is no HTTP server");
    }

    @Test
    void aHealthProbeBundleIsPickedUpWhenInstalledAndDroppedWhenUninstalled() throws Exception {
        // Both probes open at once: two ports taken one after the other can be the same port
        // (the kernel may hand a bind to port 0 the port just freed), and the replica then fails.
        int masterPort;
        int replicaPort;
        try (ServerSocket m = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                ServerSocket r = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            masterPort = m.getLocalPort();
            replicaPort = r.getLocalPort();
        }
        try (RedisServer master = RedisServer.start(masterPort);
                RedisServer replica = RedisServer.start(replicaPort, "--replicaof", "127.0.0.1",
                        Integer.toString(masterPort))) {
            felix.start("protocol.proxy");
            endpoints.configure("gw", Map.ofEntries(Map.entry("port", 0), Map.entry("protocol", "proxy"),
                    Map.entry("proxy.upstreams", "127.0.0.1:" + masterPort + ",127.0.0.1:" + replicaPort),
                    Map.entry("proxy.protocol", "redis"), Map.entry("proxy.health.check", "probe"),
                    Map.entry("proxy.health.probe", "redis-master"), Map.entry("proxy.health.interval", "100"),
                    Map.entry("proxy.health.failures", "2"), Map.entry("proxy.health.downTime", "100"),
                    Map.entry("proxy.health.maxDownTime", "200"), Map.entry("proxy.connectTimeout", "2000")));
            endpoints.awaitState("gw", "LISTENING");
            int port = endpoints.port("gw");
            assertEquals("+PONG\r\n", redis(port, "PING", 7)); // the route's first connection starts its checks
            String replicaUp = "proxy.upstream.127.0.0.1:" + replicaPort + ".up";
            String masterUp = "proxy.upstream.127.0.0.1:" + masterPort + ".up";

            Bundle probes = felix.start("itest.protocol"); // the bundle with the redis-master probe
            Felix.awaitTrue(() -> metric(replicaUp) == 0L, "the installed probe marks the replica down");
            assertEquals(1L, metric(masterUp), "and keeps the master up");
            for (int i = 0; i < 6; i++) {
                assertEquals("+OK\r\n", redis(port, "SET felix" + i + " " + i, 5), "a write reaches the master");
            }

            probes.uninstall();
            Felix.awaitTrue(() -> metric(replicaUp) == 1L, "with the probe gone, checks connect: the replica is up");

            felix.start("itest.protocol");
            Felix.awaitTrue(() -> metric(replicaUp) == 0L, "installed again, the probe is used again");
            assertEquals(1L, metric(masterUp));
        }
    }

    /**
     * A pooled route makes new upstream connections after the transport bundle is updated. With
     * SCR keeping delayed components (ds.delayed.keepInstances, as many containers set it) the
     * proxy's component, and its route, outlive the update; before, the route kept the pool it
     * had made on the old transport, whose loops had ended, so every acquire that needed a new
     * connection failed. Two clients at a time need two upstream connections: one waits in
     * BLPOP, the other asks PING, then a third pushes what the first waits for.
     */
    @Test
    void aPooledRouteMakesNewUpstreamConnectionsAfterTheTransportBundleIsUpdated() throws Exception {
        felix.close();
        startFelix(new Felix("proxy-kept", "", Map.of("ds.delayed.keepInstances", "true")));
        try (RedisServer redis = RedisServer.start()) {
            felix.start("protocol.proxy");
            endpoints.configure("gw", Map.of("port", 0, "protocol", "proxy", "proxy.upstreams", "127.0.0.1:"
                    + redis.port(), "proxy.protocol", "redis", "proxy.pooled", "true"));
            endpoints.awaitState("gw", "LISTENING");
            assertEquals("+PONG\r\n", redis(endpoints.port("gw"), "PING", 7), "the route's pool is made");

            // Whether a runtime snapshot since the update showed gw stopped: read on each event, on
            // the thread that published it (the endpoint restarts after the update returns).
            java.util.concurrent.atomic.AtomicBoolean restarted = new java.util.concurrent.atomic.AtomicBoolean();
            org.osgi.framework.ServiceListener stopped = event -> restarted.compareAndSet(false,
                    !"LISTENING".equals(endpoints.state("gw")));
            felix.context().addServiceListener(stopped, "(objectClass=org.wharf.endpoints.api.EndpointRuntime)");
            try {
                Bundle transport = java.util.Arrays.stream(felix.context().getBundles())
                        .filter(b -> "org.wharf.transport.nio".equals(b.getSymbolicName())).findFirst().orElseThrow();
                transport.update(); // the same jar: a new revision, its services registered anew
                endpoints.awaitRuntime(() -> restarted.get() && "LISTENING".equals(endpoints.state("gw")),
                        () -> "gw stops and listens again on the new transport (it is " + endpoints.state("gw") + ")");
            } finally {
                felix.context().removeServiceListener(stopped);
            }
            int port = endpoints.port("gw");
            try (Socket waiting = new Socket(InetAddress.getLoopbackAddress(), port)) {
                waiting.setSoTimeout(10_000);
                waiting.getOutputStream().write("BLPOP wharf-updated 0\r\n".getBytes(StandardCharsets.US_ASCII));
                assertEquals("+PONG\r\n", redis(port, "PING", 7), "a second upstream connection, after the update");
                assertEquals(":1\r\n", redis(port, "LPUSH wharf-updated yes", 4), "and a third");
                assertEquals("*2\r\n$13\r\nwharf-updated\r\n$3\r\nyes\r\n", new String(waiting.getInputStream()
                        .readNBytes(33), StandardCharsets.US_ASCII), "the waiting client got its answer");
            }
        }
    }

    /**
     * An update of the proxy bundle leaves the connections open on the old version their
     * drain timeout, as for any protocol: a request in flight (BLPOP, waiting on its pooled
     * upstream connection) gets its answer, and an open connection's next request is served.
     * Before, deactivating the proxy closed its routes' pools: the BLPOP's upstream connection
     * was cut, and the open connection's next request failed on a closed route.
     */
    @Test
    void aProxyBundleUpdateLetsOpenPooledConnectionsFinish() throws Exception {
        try (RedisServer redis = RedisServer.start()) {
            Bundle proxy = felix.start("protocol.proxy");
            endpoints.configure("gw", Map.of("port", 0, "protocol", "proxy", "proxy.upstreams", "127.0.0.1:"
                    + redis.port(), "proxy.protocol", "redis", "proxy.pooled", "true", "drainTimeout", 60000));
            endpoints.awaitState("gw", "LISTENING");
            int port = endpoints.port("gw");
            try (Socket open = new Socket(InetAddress.getLoopbackAddress(), port);
                    Socket waiting = new Socket(InetAddress.getLoopbackAddress(), port)) {
                open.setSoTimeout(10_000);
                waiting.setSoTimeout(20_000);
                assertEquals("+PONG\r\n", command(open, "PING", 7));
                waiting.getOutputStream().write("BLPOP wharf-proxy-updated 0\r\n".getBytes(StandardCharsets.US_ASCII));
                Felix.awaitTrue(() -> info(redis.port()).contains("blocked_clients:1"), "the BLPOP waits upstream");

                proxy.update(); // the same jar: a new revision; the endpoint holds new connections meanwhile
                assertEquals("+PONG\r\n", redis(port, "PING", 7), "a new connection, on the new version");
                assertEquals("+PONG\r\n", command(open, "PING", 7), "the open connection's next request");
                assertEquals(":1\r\n", redis(port, "LPUSH wharf-proxy-updated yes", 4));
                assertEquals("*2\r\n$19\r\nwharf-proxy-updated\r\n$3\r\nyes\r\n", new String(waiting
                        .getInputStream().readNBytes(39), StandardCharsets.US_ASCII), "the request in flight is answered");
            }
        }
    }

    private static String command(Socket s, String command, int answerBytes) throws IOException {
        s.getOutputStream().write((command + "\r\n").getBytes(StandardCharsets.US_ASCII));
        return new String(s.getInputStream().readNBytes(answerBytes), StandardCharsets.US_ASCII);
    }

    /** Redis's {@code INFO clients}, asked directly. */
    private static String info(int redisPort) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), redisPort)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("INFO clients\r\n".getBytes(StandardCharsets.US_ASCII));
            java.io.DataInputStream in = new java.io.DataInputStream(s.getInputStream());
            StringBuilder header = new StringBuilder();
            for (int c; (c = in.read()) != '\n';) {
                if (c < 0) {
                    throw new java.io.EOFException("no answer to INFO");
                }
                header.append((char) c);
            }
            byte[] body = new byte[Integer.parseInt(header.toString().trim().substring(1))];
            in.readFully(body);
            return new String(body, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new AssertionError("cannot ask redis: " + e, e);
        }
    }

    /** The proxy factory's figure for the endpoint {@code gw}, or -1 while it has none. */
    private long metric(String name) {
        try {
            org.osgi.framework.ServiceReference<?>[] refs = felix.context().getServiceReferences(
                    "org.wharf.protocol.api.ProtocolFactory", "(wharf.protocol.name=proxy)");
            Object factory = felix.context().getService(refs[0]);
            try {
                Object value = ((Map<?, ?>) Felix.call(factory, "metrics", "gw")).get(name);
                return value == null ? -1 : (Long) value;
            } finally {
                felix.context().ungetService(refs[0]);
            }
        } catch (Exception e) {
            throw new AssertionError("cannot read the proxy's metrics: " + e, e);
        }
    }

    private static String redis(int port, String command, int answerBytes) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write((command + "\r\n").getBytes(StandardCharsets.US_ASCII));
            return new String(s.getInputStream().readNBytes(answerBytes), StandardCharsets.US_ASCII);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }

    private static String exchange(Socket socket, String line) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        StringBuilder answer = new StringBuilder();
        for (int c; (c = socket.getInputStream().read()) != '\n';) {
            if (c < 0) {
                throw new java.io.EOFException("connection closed after '" + answer + "'");
            }
            answer.append((char) c);
        }
        return answer.toString();
    }

    /** A plain upstream server: answers each line with its tag and the line, a thread per connection. */
    private static final class LineServer implements AutoCloseable {
        private final ServerSocket socket;
        private final String tag;

        LineServer(String tag) throws IOException {
            this.tag = tag;
            this.socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread acceptor = new Thread(this::accept, "upstream-" + tag);
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        private void accept() {
            while (!socket.isClosed()) {
                try {
                    Socket s = socket.accept();
                    Thread t = new Thread(() -> serve(s), "upstream-" + tag + "-conn");
                    t.setDaemon(true);
                    t.start();
                } catch (IOException closed) {
                    return;
                }
            }
        }

        private void serve(Socket s) {
            try (s; BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(),
                    StandardCharsets.UTF_8))) {
                OutputStream out = s.getOutputStream();
                for (String line; (line = in.readLine()) != null;) {
                    out.write((tag + " " + line + "\n").getBytes(StandardCharsets.UTF_8));
                    out.flush();
                }
            } catch (IOException e) {
                // the client went away
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
