package org.wharf.transport.ssl;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import org.wharf.transport.api.ConnectOptions;
import org.wharf.transport.api.ListenOptions;
import org.wharf.transport.api.Listener;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.StreamTransportProvider;
import org.wharf.transport.api.TlsOptions;
import org.wharf.transport.api.Transport;
import org.wharf.transport.api.WriteBufferLimits;
import org.wharf.transport.nio.internal.NioEventLoopGroup;
import org.wharf.transport.nio.internal.NioSettings;
import org.wharf.transport.nio.internal.NioTcpProvider;
import org.wharf.transport.nio.internal.Resolver;
import org.wharf.transport.ssl.internal.SslTransportProvider;
import org.wharf.transport.tck.EchoProtocol;
import org.wharf.transport.tck.StreamSender;

/**
 * Quick loopback figures for TCP and TLS side by side: round trips per second of 64-byte
 * messages (one outstanding per connection) with 1 and 64 connections, and MB/s of one
 * connection streaming 64 KiB writes to an echo. Server and clients run on separate
 * single-thread loop groups in one JVM. Not a test: the bench module is where Wharf is
 * measured against peers.
 *
 * <p>Usage: {@code LoopbackFigures [seconds per figure]}
 */
public final class LoopbackFigures {

    private LoopbackFigures() {
    }

    /** Sends a message when the previous one is back. */
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
     * Prints the figures.
     *
     * @param args seconds per figure
     * @throws Exception if a run fails
     */
    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        TestPki pki = TestPki.create();
        NioSettings one = new NioSettings(1, 64 * 1024, WriteBufferLimits.DEFAULT);
        NioEventLoopGroup serverLoops = new NioEventLoopGroup("server", one);
        NioEventLoopGroup clientLoops = new NioEventLoopGroup("client", one);
        Resolver resolver = new Resolver();
        StreamTransportProvider serverTcp = new NioTcpProvider(serverLoops, resolver);
        StreamTransportProvider clientTcp = new NioTcpProvider(clientLoops, resolver);
        TlsOptions serverTls = TlsOptions.of(TlsContextBuilder.create().certificate(pki.file("server.pem"),
                pki.file("server.key")).build()).withProtocols(List.of("TLSv1.3"));
        TlsOptions clientTls = TlsOptions.of(TlsContextBuilder.create().trustCertificates(pki.file("ca.pem")).build());

        for (boolean tls : new boolean[] {false, true}) {
            StreamTransportProvider server = tls ? new SslTransportProvider(serverTcp) : serverTcp;
            StreamTransportProvider client = tls ? new SslTransportProvider(clientTcp) : clientTcp;
            ListenOptions listen = tls ? ListenOptions.DEFAULT.withTls(serverTls) : ListenOptions.DEFAULT;
            ConnectOptions connect = tls ? ConnectOptions.DEFAULT.withTls(clientTls) : ConnectOptions.DEFAULT;
            Listener listener = server.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), listen,
                    () -> new EchoProtocol().keepBytes(false)).toCompletableFuture().get();
            InetSocketAddress address = InetSocketAddress.createUnresolved("localhost", listener.localAddress().getPort());
            String name = tls ? "tls" : "tcp";
            for (int connections : new int[] {1, 64}) {
                LongAdder trips = new LongAdder();
                List<PingPong> clients = new ArrayList<>();
                for (int i = 0; i < connections; i++) {
                    PingPong p = new PingPong(trips);
                    clients.add(p);
                    client.connect(address, connect, () -> p).toCompletableFuture().get();
                }
                TimeUnit.SECONDS.sleep(2); // warm-up
                trips.reset();
                long start = System.nanoTime();
                TimeUnit.SECONDS.sleep(seconds);
                double rate = trips.sum() / ((System.nanoTime() - start) / 1e9);
                clients.forEach(p -> p.stop = true);
                System.out.printf(Locale.ROOT, "%s echo, %2d connection(s): %,10.0f round trips/s%n", name, connections,
                        rate);
            }
            long total = 2L << 30;
            StreamSender sender = new StreamSender(total, 64 * 1024, 1);
            long start = System.nanoTime();
            client.connect(address, connect, () -> sender).toCompletableFuture().get();
            String received = sender.receivedHash().get(10, TimeUnit.MINUTES);
            double mbps = total / 1e6 / ((System.nanoTime() - start) / 1e9);
            if (!received.equals(sender.sentHash())) {
                throw new AssertionError("bulk transfer corrupted");
            }
            System.out.printf(Locale.ROOT, "%s bulk, 64 KiB writes echoed: %,10.0f MB/s each way (2 GiB, SHA-256 checked)%n",
                    name, mbps);
            listener.close().toCompletableFuture().get();
        }
        clientLoops.shutdown().get();
        serverLoops.shutdown().get();
        resolver.shutdown();
    }
}
