package org.wharf.endpoints;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.wharf.transport.api.ConnectOptions;
import org.wharf.transport.api.ConnectionRefusedError;
import org.wharf.transport.api.DatagramOptions;
import org.wharf.transport.api.DatagramTransport;
import org.wharf.transport.tck.EchoProtocol;
import org.wharf.transport.tck.DatagramEchoProtocol;
import org.wharf.transport.tck.RecordingDatagramProtocol;
import org.wharf.transport.tck.RecordingProtocol;

class ClientAndDatagramTest {

    private static final Loops LOOPS = new Loops();

    @AfterAll
    static void stop() throws Exception {
        LOOPS.close();
    }

    @Test
    void aClientConnectsOnceResolvingTheName() {
        Server server = Loops.await(Server.builder(LOOPS.tcp).address(new InetSocketAddress(InetAddress.getLoopbackAddress(),
                0)).protocol(EchoProtocol::new).start());
        Client<RecordingProtocol> client = new Client<>(LOOPS.tcp, InetSocketAddress.createUnresolved("localhost",
                server.addresses().get(0).getPort()), ConnectOptions.DEFAULT, RecordingProtocol::new);
        RecordingProtocol p = Loops.await(client.connect());
        assertSame(p, client.protocol());
        assertNotNull(client.transport());
        IllegalStateException twice = assertThrows(IllegalStateException.class, client::connect);
        assertEquals(true, twice.getMessage().contains("connected already"), twice.getMessage());
        client.close();
        Loops.await(p.lost());
        Loops.await(server.close(Duration.ofSeconds(1)));
    }

    @Test
    void aRefusedConnectIsAConnectionRefusedError() throws Exception {
        InetSocketAddress nobody;
        try (ServerSocketChannel probe = ServerSocketChannel.open()) {
            probe.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            nobody = (InetSocketAddress) probe.getLocalAddress();
        }
        Client<RecordingProtocol> client = new Client<>(LOOPS.tcp, nobody, ConnectOptions.DEFAULT, RecordingProtocol::new);
        assertInstanceOf(ConnectionRefusedError.class, Loops.failure(client.connect()));
    }

    @Test
    void aDatagramServerOnTwoAddressesAnswersDatagramClients() throws Exception {
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        DatagramServer server = Loops.await(DatagramServer.bind(LOOPS.udp, List.of(any, any), DatagramOptions.DEFAULT,
                DatagramEchoProtocol::new));
        assertEquals(2, server.addresses().size());
        for (InetSocketAddress address : server.addresses()) {
            DatagramClient<RecordingDatagramProtocol> client = new DatagramClient<>(LOOPS.udp, address,
                    DatagramOptions.DEFAULT, RecordingDatagramProtocol::new);
            RecordingDatagramProtocol p = Loops.await(client.connect());
            assertThrows(IllegalStateException.class, client::connect);
            client.transport().send(ByteBuffer.wrap(new byte[] {4, 2}));
            RecordingDatagramProtocol.Datagram back = p.datagrams().poll(30, TimeUnit.SECONDS);
            assertNotNull(back);
            assertArrayEquals(new byte[] {4, 2}, back.data());
            assertEquals(address, back.sender());
            client.close();
        }
        // Each socket answered one datagram of two bytes: the endpoint's counters say so.
        ServerCounters counters = server.counters();
        assertEquals(2, counters.sessions(), counters.toString());
        assertEquals(4, counters.bytesReceived(), counters.toString());
        Loops.awaitTrue(() -> server.counters().bytesSent() == 4, "both answers counted as sent");
        assertEquals(0, counters.open());
        server.close();
        for (DatagramTransport t : server.transports()) {
            Loops.awaitTrue(t::isClosing, "closed");
        }
    }
}
