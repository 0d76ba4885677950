package org.wharf.transport.nio;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.wharf.transport.api.DatagramTransportProvider;
import org.wharf.transport.api.StreamTransportProvider;
import org.wharf.transport.nio.internal.NioEventLoopGroup;
import org.wharf.transport.nio.internal.NioSettings;
import org.wharf.transport.nio.internal.NioTcpProvider;
import org.wharf.transport.nio.internal.NioUdpProvider;
import org.wharf.transport.nio.internal.Resolver;
import org.wharf.transport.tck.DatagramTransportContract;
import org.wharf.transport.tck.StreamTransportContract;

/**
 * The NIO transports pass the whole stream and datagram contracts with busy polling on: the
 * loops' poll before they sleep must lose no I/O, task, timer or close.
 */
class NioBusyPollContractTest {

    /** Long enough that the contract's own exchanges are mostly caught by a poll. */
    static final int BUSY_POLL_MICROS = 200;

    private static NioEventLoopGroup group;
    private static NioEventLoopGroup closeTimeoutGroup;
    private static Resolver resolver;
    private static NioTcpProvider tcp;
    private static NioUdpProvider udp;
    private static NioTcpProvider closeTimeoutTcp;

    @BeforeAll
    static void start() {
        group = new NioEventLoopGroup(new NioSettings(2, 64 * 1024, NioSettings.DEFAULT.writeBufferLimits(),
                NioSettings.DEFAULT_UDP_BATCH, NioSettings.DEFAULT_CLOSE_TIMEOUT, BUSY_POLL_MICROS));
        resolver = new Resolver();
        tcp = new NioTcpProvider(group, resolver);
        udp = new NioUdpProvider(group, resolver);
    }

    @AfterAll
    static void stop() throws Exception {
        group.shutdown().get();
        if (closeTimeoutGroup != null) {
            closeTimeoutGroup.shutdown().get();
        }
        resolver.shutdown();
    }

    @Nested
    class Tcp extends StreamTransportContract {
        @Override
        protected StreamTransportProvider provider() {
            return tcp;
        }

        @Override
        protected StreamTransportProvider closeTimeoutProvider() {
            if (closeTimeoutGroup == null) { // made here, where the contract's CLOSE_TIMEOUT is seen
                closeTimeoutGroup = new NioEventLoopGroup(new NioSettings(1, 64 * 1024,
                        NioSettings.DEFAULT.writeBufferLimits(), NioSettings.DEFAULT_UDP_BATCH, CLOSE_TIMEOUT,
                        BUSY_POLL_MICROS));
                closeTimeoutTcp = new NioTcpProvider(closeTimeoutGroup, resolver);
            }
            return closeTimeoutTcp;
        }
    }

    @Nested
    class Udp extends DatagramTransportContract {
        @Override
        protected DatagramTransportProvider provider() {
            return udp;
        }
    }
}
