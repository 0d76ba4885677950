package org.wharf.transport.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;

import javax.net.ssl.SSLContext;

import org.junit.jupiter.api.Test;

/** The small value types of the API: validation, immutability, and what they apply. */
class ValueTypesTest {

    @Test
    void writeBufferLimitsDefaultAsInAsyncioAndRejectInvertedMarks() {
        assertEquals(new WriteBufferLimits(65536, 16384), WriteBufferLimits.DEFAULT);
        assertEquals(new WriteBufferLimits(1000, 250), WriteBufferLimits.ofHigh(1000));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new WriteBufferLimits(10, 11));
        assertTrue(e.getMessage().contains("high=10") && e.getMessage().contains("low=11"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new WriteBufferLimits(10, -1));
        assertThrows(IllegalArgumentException.class, () -> WriteBufferLimits.ofHigh(-1));
        assertEquals(new WriteBufferLimits(0, 0), WriteBufferLimits.ofHigh(0));
    }

    @Test
    void socketOptionsAreTypedImmutableAndApplyToARealChannel() throws Exception {
        SocketOptions base = SocketOptions.NONE.with(StandardSocketOptions.TCP_NODELAY, true);
        SocketOptions more = base.with(StandardSocketOptions.SO_KEEPALIVE, true).with(StandardSocketOptions.TCP_NODELAY, false);
        assertEquals(List.of(StandardSocketOptions.TCP_NODELAY), List.copyOf(base.options()));
        assertEquals(true, base.get(StandardSocketOptions.TCP_NODELAY).orElseThrow());
        assertEquals(false, more.get(StandardSocketOptions.TCP_NODELAY).orElseThrow());
        assertFalse(base.get(StandardSocketOptions.SO_KEEPALIVE).isPresent());

        @SuppressWarnings({"unchecked", "rawtypes"})
        SocketOption<Object> raw = (SocketOption) StandardSocketOptions.SO_RCVBUF;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> base.with(raw, "big"));
        assertTrue(e.getMessage().contains("SO_RCVBUF"), e.getMessage());

        try (SocketChannel channel = SocketChannel.open()) {
            more.applyTo(channel);
            assertEquals(false, channel.getOption(StandardSocketOptions.TCP_NODELAY));
            assertEquals(true, channel.getOption(StandardSocketOptions.SO_KEEPALIVE));
        }
    }

    @Test
    void extraInfoKeysAreEqualByName() {
        assertEquals(ExtraInfo.socketOption(StandardSocketOptions.TCP_NODELAY),
                ExtraInfo.socketOption(StandardSocketOptions.TCP_NODELAY));
        assertEquals("socket:TCP_NODELAY", ExtraInfo.socketOption(StandardSocketOptions.TCP_NODELAY).name());
        assertEquals(Boolean.class, ExtraInfo.socketOption(StandardSocketOptions.TCP_NODELAY).type());
        assertNotEquals(ExtraInfo.PEER_ADDRESS, ExtraInfo.LOCAL_ADDRESS);
        assertEquals(ExtraInfo.PEER_ADDRESS, ExtraInfo.of("peername", java.net.SocketAddress.class));
        assertThrows(IllegalArgumentException.class, () -> ExtraInfo.of(" ", String.class));
    }

    @Test
    void optionsAreImmutableCopiesWithValidatedValues() throws Exception {
        ListenOptions listen = ListenOptions.DEFAULT.withBacklog(16);
        assertEquals(1024, ListenOptions.DEFAULT.backlog());
        assertEquals(16, listen.backlog());
        assertEquals(true, listen.listenerOptions().get(StandardSocketOptions.SO_REUSEADDR).orElseThrow());
        assertEquals(true, listen.connectionOptions().get(StandardSocketOptions.TCP_NODELAY).orElseThrow());
        assertThrows(IllegalArgumentException.class, () -> ListenOptions.DEFAULT.withBacklog(0));

        ConnectOptions connect = ConnectOptions.DEFAULT.withTimeout(Duration.ofMillis(250))
                .withLocalAddress(new InetSocketAddress("127.0.0.1", 0));
        assertEquals(Duration.ofSeconds(30), ConnectOptions.DEFAULT.timeout());
        assertEquals(Duration.ofMillis(250), connect.timeout());
        assertTrue(connect.localAddress().isPresent());
        assertFalse(connect.tls().isPresent());
        assertThrows(IllegalArgumentException.class, () -> ConnectOptions.DEFAULT.withTimeout(Duration.ZERO));

        assertThrows(IllegalArgumentException.class, () -> DatagramOptions.DEFAULT.withMaxDatagramSize(0));
        assertThrows(IllegalArgumentException.class, () -> DatagramOptions.DEFAULT.withMaxDatagramSize(65537));
        assertEquals(1500, DatagramOptions.DEFAULT.withMaxDatagramSize(1500).maxDatagramSize());

        SSLContext context = SSLContext.getDefault();
        TlsOptions tls = TlsOptions.of(context);
        assertEquals(List.of("TLSv1.3", "TLSv1.2"), tls.protocols());
        assertTrue(tls.verifyHostName(), "clients verify host names unless told otherwise");
        assertTrue(tls.handshakeOnConnect());
        assertEquals(TlsOptions.ClientAuth.NONE, tls.clientAuth());
        TlsOptions changed = tls.withClientAuth(TlsOptions.ClientAuth.REQUIRED).withApplicationProtocols(List.of("h2"));
        assertEquals(TlsOptions.ClientAuth.NONE, tls.clientAuth(), "the original is unchanged");
        assertEquals(TlsOptions.ClientAuth.REQUIRED, changed.clientAuth());
        assertEquals(List.of("h2"), changed.applicationProtocols());
        assertEquals(context, changed.context().get());
        assertThrows(IllegalArgumentException.class, () -> tls.withProtocols(List.of()));
        assertThrows(IllegalArgumentException.class, () -> tls.withHandshakeTimeout(Duration.ZERO));
        assertTrue(ListenOptions.DEFAULT.withTls(tls).tls().isPresent());
    }

    @Test
    void connectedNeedsBothHalves() {
        assertThrows(NullPointerException.class, () -> new Connected<Transport, Protocol>(null, null));
    }
}
