package org.wharf.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.charset.StandardCharsets;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

import org.wharf.protocol.api.ProtocolContext;
import org.wharf.protocol.echo.EchoFactory;
import org.wharf.transport.api.Connected;
import org.wharf.transport.api.DatagramOptions;
import org.wharf.transport.api.DatagramProtocol;
import org.wharf.transport.api.DatagramTransport;
import org.wharf.transport.api.ExtraInfo;
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
import org.wharf.transport.nio.internal.NioUdpProvider;
import org.wharf.transport.nio.internal.Resolver;
import org.wharf.transport.ssl.TlsContextBuilder;
import org.wharf.transport.ssl.internal.SslTransportProvider;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;

/**
 * The echo servers under test, each written the way its library's users write one: Wharf's
 * NIO TCP transport (and its TLS layer) with an echo {@link Protocol}, and Netty 4.2 NIO with
 * the echo handler of Netty's own examples (write on read, flush on read complete) behind an
 * {@code SslHandler} for TLS. Both stop reading while their writes are behind, so neither
 * holds more than its write-buffer marks of a slow client's data. Both get the same number of
 * event-loop threads.
 */
public final class EchoServer implements AutoCloseable {

    /** Wharf's echo is the echo protocol bundle's, as users deploy it. */
    private static final EchoFactory ECHO = new EchoFactory();
    private static final ProtocolContext ECHO_TCP = ProtocolContext.of("bench", "tcp");
    /**
     * The UDP echo with its answer-rate guard off (echo.udp.rate and echo.udp.totalRate 0):
     * Netty's echo has none, and one load generator is one source sending as fast as it can.
     */
    private static final ProtocolContext ECHO_UDP = new ProtocolContext("bench", "udp", java.util.Map.of(
            "echo.udp.rate", 0, "echo.udp.totalRate", 0), org.wharf.protocol.api.ConnectionHooks.NONE);

    private final int port;
    private final AutoCloseable stop;

    private EchoServer(int port, AutoCloseable stop) {
        this.port = port;
        this.stop = stop;
    }

    /** @return the loopback port the server listens on */
    public int port() {
        return port;
    }

    /**
     * Starts a server on an ephemeral loopback port.
     *
     * @param implementation {@code wharf} or {@code netty}
     * @param threads event-loop threads
     * @return the running server
     * @throws Exception if it cannot listen
     */
    public static EchoServer start(String implementation, int threads) throws Exception {
        return start(implementation, threads, false);
    }

    /**
     * Starts a TCP or UDP echo server on an ephemeral loopback port.
     *
     * @param implementation {@code wharf} or {@code netty}
     * @param threads event-loop threads
     * @param udp whether to echo datagrams instead of a stream
     * @return the running server
     * @throws Exception if it cannot listen
     */
    public static EchoServer start(String implementation, int threads, boolean udp) throws Exception {
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        if (udp) {
            return startUdp(implementation, threads, any);
        }
        return startTcp(implementation, threads, any, null, null);
    }

    /**
     * Starts a TLS 1.3 echo server on an ephemeral loopback port, both libraries on the JDK's
     * SSLEngine and configured from the same PEM files the way their users do it.
     *
     * @param implementation {@code wharf} or {@code netty}
     * @param threads event-loop threads
     * @param chain the server's certificate chain (PEM)
     * @param key its private key (PEM, PKCS#8)
     * @return the running server
     * @throws Exception if it cannot listen
     */
    public static EchoServer startTls(String implementation, int threads, Path chain, Path key) throws Exception {
        return startTcp(implementation, threads, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                Objects.requireNonNull(chain, "chain"), Objects.requireNonNull(key, "key"));
    }

    private static EchoServer startTcp(String implementation, int threads, InetSocketAddress any, Path chain, Path key)
            throws Exception {
        switch (implementation) {
            case "wharf": {
                NioEventLoopGroup loops = wharfLoops(threads);
                Resolver resolver = new Resolver();
                StreamTransportProvider provider = new NioTcpProvider(loops, resolver);
                ListenOptions options = ListenOptions.DEFAULT;
                if (chain != null) {
                    provider = new SslTransportProvider(provider);
                    options = options.withTls(TlsOptions.of(TlsContextBuilder.create().certificate(chain, key).build())
                            .withProtocols(List.of(TLS_1_3)));
                }
                Listener listener = provider.listen(any, options, () -> ECHO.newProtocol(ECHO_TCP)).toCompletableFuture()
                        .get(10, TimeUnit.SECONDS);
                return new EchoServer(listener.localAddress().getPort(), () -> {
                    listener.close().toCompletableFuture().get(10, TimeUnit.SECONDS);
                    loops.shutdown().get(10, TimeUnit.SECONDS);
                    resolver.shutdown();
                });
            }
            case "netty": {
                EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
                EventLoopGroup workers = new MultiThreadIoEventLoopGroup(threads, NioIoHandler.newFactory());
                NettyEcho echo = new NettyEcho();
                SslContext tls = chain == null ? null : SslContextBuilder.forServer(chain.toFile(), key.toFile())
                        .sslProvider(SslProvider.JDK).protocols(TLS_1_3).build();
                Channel channel = new ServerBootstrap().group(boss, workers).channel(NioServerSocketChannel.class)
                        .option(ChannelOption.SO_BACKLOG, 1024)
                        .childOption(ChannelOption.TCP_NODELAY, true)
                        .childHandler(new ChannelInitializer<SocketChannel>() {
                            @Override
                            protected void initChannel(SocketChannel ch) {
                                if (tls != null) {
                                    ch.pipeline().addLast(tls.newHandler(ch.alloc()));
                                }
                                ch.pipeline().addLast(echo);
                            }
                        }).bind(any).sync().channel();
                return new EchoServer(((InetSocketAddress) channel.localAddress()).getPort(), () -> {
                    channel.close().sync();
                    boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
                    workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
                });
            }
            default:
                throw new IllegalArgumentException("implementation = " + implementation + ": wharf or netty");
        }
    }

    private static final String TLS_1_3 = "TLSv1.3";

    /** Wharf's loops as the platform makes them: 64 KiB read buffers, default write limits. */
    private static NioEventLoopGroup wharfLoops(int threads) {
        return new NioEventLoopGroup("bench", new NioSettings(threads, 64 * 1024, WriteBufferLimits.DEFAULT));
    }

    private static EchoServer startUdp(String implementation, int threads, InetSocketAddress any) throws Exception {
        switch (implementation) {
            case "wharf": {
                NioEventLoopGroup loops = wharfLoops(threads);
                Resolver resolver = new Resolver();
                Connected<DatagramTransport, DatagramProtocol> bound = new NioUdpProvider(loops, resolver)
                        .bind(any, DatagramOptions.DEFAULT, () -> ECHO.newDatagramProtocol(ECHO_UDP)).toCompletableFuture()
                        .get(10, TimeUnit.SECONDS);
                InetSocketAddress local = (InetSocketAddress) bound.transport().extraInfo(ExtraInfo.LOCAL_ADDRESS)
                        .orElseThrow();
                return new EchoServer(local.getPort(), () -> {
                    bound.transport().close();
                    loops.shutdown().get(10, TimeUnit.SECONDS);
                    resolver.shutdown();
                });
            }
            case "netty": {
                EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, NioIoHandler.newFactory());
                Channel channel = new Bootstrap().group(group).channel(NioDatagramChannel.class)
                        .handler(new NettyUdpEcho()).bind(any).sync().channel();
                return new EchoServer(((InetSocketAddress) channel.localAddress()).getPort(), () -> {
                    channel.close().sync();
                    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
                });
            }
            default:
                throw new IllegalArgumentException("implementation = " + implementation + ": wharf or netty");
        }
    }

    @Override
    public void close() throws Exception {
        stop.close();
    }

    /**
     * Runs a server in this JVM until standard input closes; prints {@code port N} first.
     * Each line {@code heap} read from standard input is answered with
     * {@code heap USED direct USED}: the bytes in use after a full collection; each line
     * {@code cpu} with {@code cpu NANOS}, the CPU time of the whole JVM so far.
     *
     * @param args implementation ({@code wharf} or {@code netty}), event-loop threads, and
     *     {@code tcp}, {@code udp} or {@code tls CHAIN.pem KEY.pem}
     * @throws Exception if the server fails
     */
    public static void main(String[] args) throws Exception {
        PrintStream out = System.out;
        String mode = args.length > 2 ? args[2] : "tcp";
        int threads = Integer.parseInt(args[1]);
        try (EchoServer server = mode.equals("tls") ? startTls(args[0], threads, Path.of(args[3]), Path.of(args[4]))
                : start(args[0], threads, mode.equals("udp"))) {
            out.println("port " + server.port());
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line; (line = in.readLine()) != null;) {
                if (line.equals("heap")) {
                    out.println("heap " + usedAfterCollection() + " direct " + directInUse());
                    out.flush();
                } else if (line.equals("cpu")) {
                    out.println("cpu " + ((com.sun.management.OperatingSystemMXBean) ManagementFactory
                            .getOperatingSystemMXBean()).getProcessCpuTime());
                    out.flush();
                }
            }
        }
    }

    /** Heap bytes in use after full collections, once the figure settles. */
    private static long usedAfterCollection() {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            long now = memory.getHeapMemoryUsage().getUsed();
            if (now >= used) {
                return now;
            }
            used = now;
        }
        return used;
    }

    /** Bytes of direct buffers the JDK tracks (Netty's pool may allocate beyond them). */
    private static long directInUse() {
        return ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(pool -> pool.getName().equals("direct")).mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
    }

    /** Netty's datagram echo, as in its examples (QuoteOfTheMoment style): write back, flush per read batch. */
    static final class NettyUdpEcho extends SimpleChannelInboundHandler<DatagramPacket> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
            ctx.write(new DatagramPacket(packet.content().retain(), packet.sender()));
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }
    }

    /**
     * Netty's echo, as in its examples (write on read, flush on read complete), with
     * back-pressure as Netty users add it: autoRead follows writability, so reading stops
     * while the channel is not writable. Without it Netty buffers without bound whatever a
     * slow client does not read, where Wharf's echo pauses reading.
     */
    @Sharable
    static final class NettyEcho extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        /** Reads only while the echo keeps up: autoRead follows writability (64/32 KiB marks). */
        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            ctx.channel().config().setAutoRead(ctx.channel().isWritable());
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
