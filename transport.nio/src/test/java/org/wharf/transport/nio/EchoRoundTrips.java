package org.wharf.transport.nio;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import org.wharf.transport.api.ConnectOptions;
import org.wharf.transport.api.ListenOptions;
import org.wharf.transport.api.Listener;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.Transport;
import org.wharf.transport.api.WriteBufferLimits;
import org.wharf.transport.nio.internal.Log;
import org.wharf.transport.nio.internal.NioEventLoopGroup;
import org.wharf.transport.nio.internal.NioSettings;
import org.wharf.transport.nio.internal.NioTcpProvider;
import org.wharf.transport.nio.internal.Resolver;

/**
 * A quick loopback echo figure: round trips per second of 64-byte messages, one outstanding
 * per connection, server and clients on separate loop groups in one JVM. Not a test; the
 * bench module is where Wharf is measured against peers.
 *
 * <p>Usage: {@code EchoRoundTrips <connections> <seconds>}
 */
public final class EchoRoundTrips {

    private EchoRoundTrips() {
    }

    /** Echo server protocol: writes back what arrives. */
    static final class Echo implements Protocol {
        private Transport transport;

        @Override
        public void connectionMade(Transport t) {
            transport = t;
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            transport.write(ByteBuffer.allocate(data.remaining()).put(data).flip());
        }

        @Override
        public void connectionLost(Throwable cause) {
        }
    }

    /** Client protocol: sends a message when the previous one is back. */
    static final class PingPong implements Protocol {
        private final LongAdder trips;
        private Transport transport;
        private int pending;
        volatile boolean stop;

        PingPong(LongAdder trips) {
            this.trips = trips;
        }

        @Override
        public void connectionMade(Transport t) {
            transport = t;
            send();
        }

        private void send() {
            pending = 64;
            transport.write(ByteBuffer.allocate(64));
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            pending -= data.remaining();
            if (pending == 0) {
                trips.increment();
                if (!stop) {
                    send();
                }
            }
        }

        @Override
        public void connectionLost(Throwable cause) {
        }
    }

    /**
     * Runs the measurement.
     *
     * @param args connections and seconds
     * @throws Exception if it fails
     */
    public static void main(String[] args) throws Exception {
        int connections = args.length > 0 ? Integer.parseInt(args[0]) : 1;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        NioSettings settings = new NioSettings(1, 64 * 1024, WriteBufferLimits.DEFAULT);
        NioEventLoopGroup serverGroup = new NioEventLoopGroup("server", settings, Log.SYSTEM);
        NioEventLoopGroup clientGroup = new NioEventLoopGroup("client", settings, Log.SYSTEM);
        Resolver resolver = new Resolver();
        NioTcpProvider server = new NioTcpProvider(serverGroup, resolver);
        NioTcpProvider client = new NioTcpProvider(clientGroup, resolver);
        Listener listener = server.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                ListenOptions.DEFAULT, Echo::new).toCompletableFuture().get();
        LongAdder trips = new LongAdder();
        List<PingPong> clients = new ArrayList<>();
        // Warm-up, then the measured run.
        for (int i = 0; i < connections; i++) {
            PingPong p = new PingPong(trips);
            clients.add(p);
            client.connect(listener.localAddress(), ConnectOptions.DEFAULT, () -> p).toCompletableFuture().get();
        }
        TimeUnit.SECONDS.sleep(2);
        trips.reset();
        long start = System.nanoTime();
        TimeUnit.SECONDS.sleep(seconds);
        long count = trips.sum();
        double elapsed = (System.nanoTime() - start) / 1e9;
        clients.forEach(p -> p.stop = true);
        System.out.printf("connections=%d round trips/s=%.0f (%d in %.1f s)%n", connections, count / elapsed, count,
                elapsed);
        clientGroup.shutdown().get();
        serverGroup.shutdown().get();
        resolver.shutdown();
    }
}
