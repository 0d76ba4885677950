package org.wharf.transport.nio;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.wharf.transport.api.DatagramTransportProvider;
import org.wharf.transport.nio.internal.NioEventLoopGroup;
import org.wharf.transport.nio.internal.NioSettings;
import org.wharf.transport.nio.internal.NioUdpProvider;
import org.wharf.transport.nio.internal.Resolver;
import org.wharf.transport.tck.DatagramTransportContract;

/** The NIO UDP transport passes the whole datagram transport contract. */
class NioUdpContractTest extends DatagramTransportContract {

    private static NioEventLoopGroup group;
    private static Resolver resolver;
    private static NioUdpProvider provider;

    @BeforeAll
    static void start() {
        group = new NioEventLoopGroup(new NioSettings(2, 64 * 1024, NioSettings.DEFAULT.writeBufferLimits()));
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
}
