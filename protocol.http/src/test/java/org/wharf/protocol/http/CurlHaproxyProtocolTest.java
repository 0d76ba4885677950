package org.wharf.protocol.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.wharf.endpoints.ProxyProtocolAcceptance;
import org.wharf.endpoints.Server;
import org.wharf.protocol.api.ConnectionHooks;
import org.wharf.transport.api.ExtraInfo;
import org.wharf.transport.api.WriteBufferLimits;
import org.wharf.transport.nio.internal.NioEventLoopGroup;
import org.wharf.transport.nio.internal.NioSettings;
import org.wharf.transport.nio.internal.NioTcpProvider;
import org.wharf.transport.nio.internal.Resolver;
import org.wharf.transport.tck.Await;

/**
 * {@code curl --haproxy-protocol} against an HTTP endpoint that accepts the PROXY protocol:
 * answered, and the connection's peer is the address curl's header gave (its own, which
 * {@code -w %{local_port}} tells); curl without the header is refused.
 */
class CurlHaproxyProtocolTest {

    private static String[] curl(int port, String... options) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("curl", "-s", "-m", "20", "-w", "\n%{local_port}"));
        command.addAll(List.of(options));
        command.add("http://127.0.0.1:" + port + "/hello");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return new String[] {out, Integer.toString(p.exitValue())};
    }

    @Test
    void curlsHeaderGivesTheClient() throws Exception {
        NioEventLoopGroup group = new NioEventLoopGroup(new NioSettings(1, 64 * 1024, WriteBufferLimits.DEFAULT));
        Resolver resolver = new Resolver();
        Map<Integer, SocketAddress[]> seen = new ConcurrentHashMap<>();
        Server server = Await.await(Server.builder(new NioTcpProvider(group, resolver)).name("http-pp")
                .address(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .proxyProtocol(ProxyProtocolAcceptance.of(ProxyProtocolAcceptance.Versions.EITHER, List.of("127.0.0.1"),
                        Duration.ofSeconds(5)))
                .onConnectionMade(t -> {
                    InetSocketAddress peer = (InetSocketAddress) t.extraInfo(ExtraInfo.PEER_ADDRESS).orElseThrow();
                    seen.put(peer.getPort(), new SocketAddress[] {peer, t.extraInfo(ExtraInfo.PROXIED_BY).orElse(null)});
                })
                .protocol((ConnectionHooks hooks) -> HttpProtocol.create(r -> HttpResponse.text(200, "hi " + r.target()),
                        HttpLimits.DEFAULT, hooks)).start());
        try {
            int port = server.addresses().get(0).getPort();
            String[] r = curl(port, "--haproxy-protocol");
            assertEquals("0", r[1], r[0]);
            String[] lines = r[0].split("\n");
            assertEquals("hi /hello", lines[0]);
            int curlPort = Integer.parseInt(lines[1].trim());
            SocketAddress[] s = seen.get(curlPort);
            assertEquals(new InetSocketAddress("127.0.0.1", curlPort), s[0], "the peer is what curl's header said");
            assertTrue(s[1] instanceof InetSocketAddress, "and it came through a header: " + s[1]);

            String[] plain = curl(port);
            assertNotEquals("0", plain[1], "without the header: refused, " + plain[0]);
            assertEquals(1, server.counters().sessions(), "no protocol was made for the plain request");
        } finally {
            Await.await(server.close(Duration.ZERO));
            group.shutdown().get(10, TimeUnit.SECONDS);
            resolver.shutdown();
        }
    }
}
