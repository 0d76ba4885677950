package org.wharf.transport.nio.internal;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

import org.wharf.transport.api.ListenOptions;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.Transport;

/**
 * An echo server on NIO in a JVM of its own, for {@link AcceptFailureLogTest}: that test lowers
 * this process's descriptor limit, which it could not do to its own JVM without starving it.
 * Prints {@code listening PORT} once it serves, and exits when its standard input ends.
 */
public final class DescriptorStarvedEcho {

    private DescriptorStarvedEcho() {
    }

    public static void main(String[] args) throws Exception {
        // The logging path is set up (and its classes loaded) before the limit is lowered.
        System.getLogger("org.wharf.transport.nio").log(System.Logger.Level.INFO, "descriptor-starved echo starting");
        NioTcpProvider tcp = new NioTcpProvider();
        int port = tcp.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), ListenOptions.DEFAULT, Echo::new)
                .toCompletableFuture().get().localAddress().getPort();
        System.out.println("listening " + port);
        System.out.flush();
        while (System.in.read() >= 0) {
            // until the test closes our standard input
        }
        System.exit(0);
    }

    private static final class Echo implements Protocol {
        private Transport transport;

        @Override
        public void connectionMade(Transport transport) {
            this.transport = transport;
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            ByteBuffer copy = ByteBuffer.allocate(data.remaining());
            copy.put(data).flip();
            transport.write(copy);
        }

        @Override
        public void connectionLost(Throwable cause) {
            // nothing held
        }
    }
}
