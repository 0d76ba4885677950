package org.wharf.protocol.proxy.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.wharf.protocol.api.ConnectionHooks;
import org.wharf.protocol.api.FirstBytes.Match;
import org.wharf.protocol.api.MemoryBudget;
import org.wharf.protocol.api.ProtocolContext;
import org.wharf.transport.tck.Peers;

/** The gateway's RESP detector on what redis-cli sends first, on inline commands, and on other protocols. */
class RespFirstBytesTest {

    private static Match resp(String text) {
        return ProxyFactory.resp(ByteBuffer.wrap(text.getBytes(StandardCharsets.ISO_8859_1)));
    }

    /** What redis-cli sends first, read by a socket that answers nothing. */
    private static byte[] redisCliSends() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Process cli = Peers.process("redis-cli", "-h", "127.0.0.1", "-p", Integer.toString(server.getLocalPort()),
                    "PING").redirectErrorStream(true).start();
            cli.getOutputStream().close();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            try (Socket s = server.accept()) {
                s.setSoTimeout(20_000);
                InputStream in = s.getInputStream();
                byte[] b = new byte[256];
                int n = in.read(b);
                got.write(b, 0, Math.max(0, n));
            }
            cli.waitFor(30, TimeUnit.SECONDS);
            return got.toByteArray();
        }
    }

    @Test
    void redisCliIsClaimedFromItsSecondByte() throws Exception {
        byte[] sent = redisCliSends();
        assertEquals(Match.NEED_MORE, ProxyFactory.resp(ByteBuffer.wrap(sent, 0, 1).slice()));
        for (int n = 2; n <= sent.length; n++) {
            assertEquals(Match.MATCH, ProxyFactory.resp(ByteBuffer.wrap(sent, 0, n).slice()),
                    "the first " + n + " bytes of " + new String(sent, StandardCharsets.ISO_8859_1));
        }
    }

    @Test
    void inlineCommandsAtTheirLinesEndAndNotHttpOrTls() {
        assertEquals(Match.NEED_MORE, resp("PING"));
        assertEquals(Match.MATCH, resp("PING\r\n"));
        assertEquals(Match.MATCH, resp("SET key value\n"));
        assertEquals(Match.NO, resp("GET / HTTP/1.1\r\n"));
        assertEquals(Match.NO, resp("*x"));
        assertEquals(Match.NO, resp("\u0016\u0003\u0001"));
        assertEquals(Match.NO, resp("PI\u0000NG\r\n"));
    }

    @Test
    void onlyARouteThatForwardsRedisClaimsRespAtAll() {
        ProxyFactory factory = new ProxyFactory(ProxyServices.fromServiceLoader());
        ByteBuffer ping = ByteBuffer.wrap("*1\r\n$4\r\nPING\r\n".getBytes(StandardCharsets.US_ASCII));
        assertEquals(Match.MATCH, factory.match(context(Map.of("proxy.protocol", "redis")), ping.duplicate()));
        assertEquals(Match.NO, factory.match(context(Map.of("proxy.protocol", "tcp")), ping.duplicate()));
        assertEquals(Match.NO, factory.match(context(Map.of()), ping.duplicate()), "tcp, the default");
    }

    private static ProtocolContext context(Map<String, Object> properties) {
        return new ProtocolContext("gw", "tcp", properties, ConnectionHooks.NONE, MemoryBudget.UNLIMITED);
    }
}
