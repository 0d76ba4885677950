package org.wharf.transport.nio;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.wharf.transport.api.StreamTransportProvider;
import org.wharf.transport.nio.internal.NioEventLoopGroup;
import org.wharf.transport.nio.internal.NioSettings;
import org.wharf.transport.nio.internal.NioTcpProvider;
import org.wharf.transport.nio.internal.Resolver;
import org.wharf.transport.tck.StreamTransportContract;

/** The NIO TCP transport passes the whole stream transport contract. */
class NioTcpContractTest extends StreamTransportContract {

    private static NioEventLoopGroup group;
    private static Resolver resolver;
    private static NioTcpProvider provider;
    private static NioEventLoopGroup closeTimeoutGroup;
    private static NioTcpProvider closeTimeoutProvider;

    @BeforeAll
    static void start() {
        group = new NioEventLoopGroup(new NioSettings(2, 64 * 1024, NioSettings.DEFAULT.writeBufferLimits()));
        resolver = new Resolver();
        provider = new NioTcpProvider(group, resolver);
        closeTimeoutGroup = new NioEventLoopGroup(new NioSettings(1, 64 * 1024, NioSettings.DEFAULT.writeBufferLimits(),
                NioSettings.DEFAULT_UDP_BATCH, CLOSE_TIMEOUT));
        closeTimeoutProvider = new NioTcpProvider(closeTimeoutGroup, resolver);
    }

    @AfterAll
    static void stop() throws Exception {
        group.shutdown().get();
        closeTimeoutGroup.shutdown().get();
        resolver.shutdown();
    }

    @Override
    protected StreamTransportProvider provider() {
        return provider;
    }

    @Override
    protected StreamTransportProvider closeTimeoutProvider() {
        return closeTimeoutProvider;
    }
}
