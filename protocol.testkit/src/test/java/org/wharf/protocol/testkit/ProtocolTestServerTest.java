package org.wharf.protocol.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.wharf.protocol.api.LineFrameDecoder;
import org.wharf.protocol.api.MessageProtocol;
import org.wharf.protocol.api.ProtocolFactory;

/** The kit serves a protocol over real TCP and talks to it as a client would. */
class ProtocolTestServerTest {

    private static final ProtocolFactory SHOUT = context -> new MessageProtocol<>(new LineFrameDecoder(8192),
            (line, transport) -> transport.write(ByteBuffer.wrap((context.properties().getOrDefault("prefix", "")
                    + line.toUpperCase(Locale.ROOT) + "\r\n").getBytes(StandardCharsets.UTF_8))));

    @Test
    void servesTheProtocolOverTcpWithItsProperties() {
        try (ProtocolTestServer server = ProtocolTestServer.start("shout", SHOUT, Map.of("prefix", "> "))) {
            assertEquals("> HELLO", server.exchange("hello"));
            assertEquals("> AGAIN", server.exchange("again"));
            assertEquals(2, server.sessions());
        }
    }

    @Test
    void aProtocolThatClosesGivesNoAnswerAndAClosedServerRefuses() {
        ProtocolTestServer server = ProtocolTestServer.start("closer", context -> new org.wharf.transport.api.Protocol() {
            @Override
            public void connectionMade(org.wharf.transport.api.Transport transport) {
                transport.close();
            }

            @Override
            public void dataReceived(ByteBuffer data) {
            }

            @Override
            public boolean eofReceived() {
                return false;
            }

            @Override
            public void connectionLost(Throwable cause) {
            }
        });
        assertNull(server.exchange("anyone?"));
        server.close();
        assertThrows(UncheckedIOException.class, () -> server.exchange("still there?"));
    }
}
