package org.wharf.protocol.proxy.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.wharf.endpoints.ProxyProtocolAcceptance;
import org.wharf.endpoints.Server;
import org.wharf.protocol.api.ConnectionHooks;
import org.wharf.protocol.api.ProtocolContext;

/**
 * A route that sends the PROXY protocol upstream, against a real HAProxy ({@code accept-proxy})
 * and a real nginx (HTTP, {@code listen ... proxy_protocol}) that answer with the client address they were
 * given; and Wharf between two balancers, passing on the client a PROXY header gave it.
 */
class UpstreamProxyProtocolTest {

    /** One pool service, as a framework has: a route makes its pool anew when the service is another. */
    private static final org.wharf.endpoints.api.ConnectionPools POOLS =
            new org.wharf.endpoints.internal.ConnectionPoolsProvider();

    @TempDir
    static Path dir;
    private static Legs legs;
    private static PeerProcess haproxy;
    private static PeerProcess nginx;
    private static int haproxyPort;
    private static int nginxPort;
    private static final InetAddress CLIENT = ip("127.0.0.7");

    private static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @BeforeAll
    static void start() throws Exception {
        legs = new Legs();
        haproxyPort = PeerProcess.freePort();
        Files.writeString(dir.resolve("haproxy.cfg"), """
                global
                  maxconn 100
                defaults
                  timeout connect 5s
                  timeout client 30s
                  timeout server 30s
                frontend web
                  mode http
                  bind 127.0.0.1:%d accept-proxy
                  http-request return status 200 content-type text/plain lf-string "client=%%ci:%%cp authority=%%[fc_pp_authority]"
                """.formatted(haproxyPort));
        haproxy = new PeerProcess(dir, "haproxy", List.of("haproxy", "-db", "-f", dir.resolve("haproxy.cfg").toString()),
                haproxyPort);
        nginxPort = PeerProcess.freePort();
        Files.writeString(dir.resolve("nginx.conf"), """
                daemon off;
                pid %s;
                error_log stderr;
                events { worker_connections 64; }
                http {
                  access_log off;
                  client_body_temp_path %s;
                  server {
                    listen 127.0.0.1:%d proxy_protocol;
                    location / { return 200 "client=$proxy_protocol_addr:$proxy_protocol_port\\n"; }
                  }
                }
                """.formatted(dir.resolve("nginx.pid"), dir.resolve("nginx-body"), nginxPort));
        nginx = new PeerProcess(dir, "nginx", List.of("nginx", "-p", dir.toString(), "-c",
                dir.resolve("nginx.conf").toString()), nginxPort);
    }

    @AfterAll
    static void stop() throws Exception {
        if (haproxy != null) {
            haproxy.close();
        }
        if (nginx != null) {
            nginx.close();
        }
        legs.close();
    }

    private static String request(InetAddress from, InetSocketAddress to, String send) throws IOException {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(from, 0));
            s.setSoTimeout(20_000);
            s.connect(to, 5000);
            s.getOutputStream().write(send.getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII) + "|"
                    + ((InetSocketAddress) s.getLocalSocketAddress()).getPort();
        }
    }

    @Test
    void haproxyBehindAV1RouteSeesTheClient() throws Exception {
        Legs.Proxy proxy = legs.proxy("tcp", Map.of(Route.UPSTREAMS, "127.0.0.1:" + haproxyPort,
                Route.SEND_PROXY_PROTOCOL, "v1"));
        String[] r = request(CLIENT, proxy.address(), "GET / HTTP/1.0\r\n\r\n").split("\\|");
        assertTrue(r[0].startsWith("HTTP/1.1 200"), r[0]);
        assertTrue(r[0].endsWith("client=127.0.0.7:" + r[1] + " authority="), r[0]);
    }

    @Test
    void nginxBehindAV2RouteSeesTheClient() throws Exception {
        Legs.Proxy proxy = legs.proxy("tcp", Map.of(Route.UPSTREAMS, "127.0.0.1:" + nginxPort,
                Route.SEND_PROXY_PROTOCOL, "v2"));
        String[] r = request(CLIENT, proxy.address(), "GET / HTTP/1.0\r\n\r\n").split("\\|");
        assertTrue(r[0].startsWith("HTTP/1.1 200") && r[0].endsWith("\r\n\r\nclient=127.0.0.7:" + r[1] + "\n"), r[0]);
    }

    @Test
    void aV2RouteTellsHaproxyTheServerNameOfTheTlsClient() throws Exception {
        Legs.Proxy proxy = legs.proxy("ssl", Map.of(Route.UPSTREAMS, "127.0.0.1:" + haproxyPort,
                Route.SEND_PROXY_PROTOCOL, "v2"));
        SSLContext trustAll = SSLContext.getInstance("TLS");
        trustAll.init(null, new TrustManager[] {new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        try (SSLSocket s = (SSLSocket) trustAll.getSocketFactory().createSocket()) {
            s.bind(new InetSocketAddress(CLIENT, 0));
            s.setSoTimeout(20_000);
            SSLParameters p = s.getSSLParameters();
            p.setServerNames(List.of(new SNIHostName("localhost")));
            s.setSSLParameters(p);
            s.connect(proxy.address(), 5000);
            s.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertTrue(answer.endsWith("client=127.0.0.7:" + s.getLocalPort() + " authority=localhost"), answer);
        }
    }

    @Test
    void betweenTwoBalancersTheClientAPROXYHeaderGaveIsPassedOn() throws Exception {
        ProxyFactory factory = new ProxyFactory(new ProxyServices(Map.of("tcp", legs.tcp, "ssl", legs.ssl)::get,
                org.wharf.transport.ssl.internal.TlsPropertiesFactory::new,
                () -> POOLS));
        ProtocolContext context = new ProtocolContext("gw-chain", "tcp", Map.of(Route.UPSTREAMS, "127.0.0.1:" + nginxPort,
                Route.SEND_PROXY_PROTOCOL, "v2"), ConnectionHooks.NONE);
        Server gateway = Legs.await(Server.builder(legs.tcp).name("gw-chain")
                .address(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .proxyProtocol(ProxyProtocolAcceptance.of(ProxyProtocolAcceptance.Versions.V1, List.of("127.0.0.1"),
                        Duration.ofSeconds(5)))
                .protocol(() -> factory.newProtocol(context)).start());
        try {
            String[] r = request(ip("127.0.0.1"), gateway.addresses().get(0),
                    "PROXY TCP4 192.0.2.44 192.0.2.1 5555 443\r\nGET / HTTP/1.0\r\n\r\n").split("\\|");
            assertTrue(r[0].endsWith("\r\n\r\nclient=192.0.2.44:5555\n"), r[0]);
        } finally {
            Legs.await(gateway.close(Duration.ZERO));
        }
    }

    @Test
    void aPooledRouteCannotSendIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Route.parse("gw", Map.of(
                Route.UPSTREAMS, "127.0.0.1:1", Route.SEND_PROXY_PROTOCOL, "v1", Route.POOLED, "true", Route.PROTOCOL,
                "redis"), null));
        assertTrue(e.getMessage().contains(Route.SEND_PROXY_PROTOCOL) && e.getMessage().contains(Route.POOLED),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Route.parse("gw", Map.of(Route.UPSTREAMS, "127.0.0.1:1",
                Route.SEND_PROXY_PROTOCOL, "v3"), null));
        assertTrue(e.getMessage().contains("proxy.upstream.proxyProtocol = 'v3'"), e.getMessage());
    }
}
