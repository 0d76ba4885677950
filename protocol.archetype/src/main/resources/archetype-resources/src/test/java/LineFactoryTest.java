package ${package};

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;
import org.wharf.protocol.testkit.ProtocolTestServer;

/** The protocol over Wharf's real TCP transport, in this process, talked to with a socket. */
class LineFactoryTest {

    @Test
    void answersEachLineInCapitals() {
        try (ProtocolTestServer server = ProtocolTestServer.start("${protocol}", new LineFactory())) {
            assertEquals("HELLO", server.exchange("hello"));
        }
    }

    @Test
    void aLineSplitAcrossWritesIsOneLine() throws Exception {
        try (ProtocolTestServer server = ProtocolTestServer.start("${protocol}", new LineFactory());
                Socket socket = server.connect()) {
            OutputStream out = socket.getOutputStream();
            out.write("hel".getBytes(StandardCharsets.UTF_8));
            out.flush();
            out.write("lo\nagain\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("HELLO", in.readLine());
            assertEquals("AGAIN", in.readLine());
        }
    }
}
