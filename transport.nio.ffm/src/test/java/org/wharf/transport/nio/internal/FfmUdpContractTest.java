package org.wharf.transport.nio.internal;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.wharf.transport.api.DatagramOptions;
import org.wharf.transport.api.DatagramTransport;
import org.wharf.transport.api.DatagramTransportProvider;
import org.wharf.transport.tck.DatagramTransportContract;

/**
 * The whole datagram transport contract, with every datagram through recvmmsg and sendmmsg
 * (the batch is checked to be in use: without it this would only test NIO again).
 */
class FfmUdpContractTest extends DatagramTransportContract {

    private static NioEventLoopGroup group;
    private static Resolver resolver;
    private static NioUdpProvider provider;

    @BeforeAll
    static void start() {
        group = new NioEventLoopGroup(new NioSettings(2, 64 * 1024, NioSettings.DEFAULT.writeBufferLimits(), 16));
        resolver = new Resolver();
        provider = new NioUdpProvider(group, resolver);
    }

    @AfterAll
    static void stop() throws Exception {
        group.shutdown().get();
        resolver.shutdown();
    }

    @Override
    protected DatagramTransportProvider provider() {
        return provider;
    }

    @Test
    void datagramsGoThroughTheBatchCalls() throws Exception {
        DatagramTransport transport = provider.bind(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0),
                DatagramOptions.DEFAULT, org.wharf.transport.tck.RecordingDatagramProtocol::new).toCompletableFuture()
                .get(30, TimeUnit.SECONDS).transport();
        try {
            assertTrue(((NioDatagramTransport) transport).batched(),
                    "the batch path is installed on this JDK, so transports use it");
        } finally {
            transport.abort();
        }
    }
}
