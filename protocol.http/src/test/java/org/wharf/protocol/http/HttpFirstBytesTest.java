package org.wharf.protocol.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.wharf.protocol.api.FirstBytes.Match;
import org.wharf.transport.tck.Peers;

/** The HTTP/1.x detector on what real clients send first, and on what other protocols send. */
class HttpFirstBytesTest {

    private static Match match(byte[] bytes, int length) {
        return HttpProtocol.firstBytes(ByteBuffer.wrap(bytes, 0, length).slice());
    }

    private static Match match(String text) {
        byte[] b = text.getBytes(StandardCharsets.ISO_8859_1);
        return match(b, b.length);
    }

    /** What curl sends first, read by a socket that answers nothing. */
    private static byte[] curlSends(String... options) throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of("curl", "-s", "--max-time", "20"));
            command.addAll(java.util.List.of(options));
            command.add("http://127.0.0.1:" + server.getLocalPort() + "/status?x=1");
            Process curl = Peers.process(command).redirectErrorStream(true).start();
            curl.getOutputStream().close();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            try (Socket s = server.accept()) {
                s.setSoTimeout(20_000);
                InputStream in = s.getInputStream();
                while (!got.toString(StandardCharsets.ISO_8859_1).contains("\r\n\r\n")) {
                    int b = in.read();
                    if (b < 0) {
                        break;
                    }
                    got.write(b);
                }
            }
            curl.waitFor(30, TimeUnit.SECONDS);
            return got.toByteArray();
        }
    }

    @Test
    void curlsRequestsAreClaimedOnceTheTargetBeginsAndNotBefore() throws Exception {
        for (String[] options : new String[][] {{}, {"-X", "PROPFIND"}, {"-d", "body"}}) {
            byte[] request = curlSends(options);
            int space = new String(request, StandardCharsets.ISO_8859_1).indexOf(' ');
            for (int n = 1; n <= request.length; n++) {
                assertEquals(n <= space + 1 ? Match.NEED_MORE : Match.MATCH, match(request, n),
                        "the first " + n + " bytes of " + new String(request, StandardCharsets.ISO_8859_1));
            }
        }
    }

    @Test
    void otherFormsAndOtherProtocols() {
        assertEquals(Match.MATCH, match("OPTIONS * HTTP/1.1\r\n"));
        assertEquals(Match.NEED_MORE, match("CONNECT example.com:443 HTTP"));
        assertEquals(Match.MATCH, match("CONNECT example.com:443 HTTP/1.1\r\n"));
        assertEquals(Match.MATCH, match("GET http://example.com/ HTTP/1.1\r\n"));
        assertEquals(Match.NO, match("GET key\r\n"), "a RESP inline command");
        assertEquals(Match.NO, match("SET key value\r\n"), "a RESP inline command");
        assertEquals(Match.NO, match("*1\r\n$4\r\nPING\r\n"), "a RESP array");
        assertEquals(Match.NO, match("\u0016\u0003\u0001\u0002\u0000"), "a TLS ClientHello");
        assertEquals(Match.NO, match("SSH-2.0-OpenSSH_9.2\r\n"));
        assertEquals(Match.NO, match(" GET / HTTP/1.1"), "no method token");
        assertEquals(Match.NO, match("A".repeat(40)), "no method is that long");
        assertEquals(Match.NEED_MORE, match("GET"));
    }
}
