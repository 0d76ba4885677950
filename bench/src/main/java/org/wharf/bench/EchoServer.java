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
import org.wharf.protocol.echo.internal.EchoFactory;
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
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.uring.IoUringChannelOption;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringIoHandlerConfig;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;

/**
 * The echo servers under test, each written the way its library's users write one: Wharf's
 * NIO TCP transport (and its TLS layer, on the JDK's engine or on Conscrypt) with an echo
 * {@link Protocol}, and Netty 4.2 with the
 * echo handler of Netty's own examples (write on read, flush on read complete) behind an
 * {@code SslHandler} for TLS, on the transport and TLS engine its {@link Peer} names. All stop
 * reading while their writes are behind, so none holds more than its write-buffer marks of a
 * slow client's data. All get the same number of event-loop threads, and over TLS all are
 * pinned to TLS 1.3 and one cipher suite (BoringSSL takes no TLS 1.3 suite setting and follows
 * the client's offer, so for Netty's OpenSSL server and Wharf's on Conscrypt the driver's pin
 * is what decides; the driver offers only that suite, and reports the one agreed on).
 */
public final class EchoServer implements AutoCloseable {

    /** The one cipher suite every TLS server and the driver use unless told otherwise. */
    public static final String TLS_SUITE = "TLS_AES_128_GCM_SHA256";

    /**
     * Netty's native datagram channels read several datagrams per system call (recvmmsg) once
     * given a largest datagram size and receive buffers that hold several: 16 of up to 2 KiB,
     * Netty's default of 16 messages per read.
     */
    static final int NATIVE_DATAGRAM_PAYLOAD = 2048;
    static final int NATIVE_DATAGRAMS_PER_READ = 16;

    /**
     * io_uring's completion queue: the kernel's largest (IORING_MAX_CQ_ENTRIES), as Netty's
     * warning advises when idle-10k's connections arrive at once; 16,384 still overflowed.
     */
    static final int IO_URING_CQ_SIZE = 65536;

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
     * @param implementation a {@link Peer}'s name ({@code wharf}, {@code netty-nio}, ...)
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
     * @param implementation a {@link Peer}'s name
     * @param threads event-loop threads
     * @param udp whether to echo datagrams instead of a stream
     * @return the running server
     * @throws Exception if it cannot listen
     */
    public static EchoServer start(String implementation, int threads, boolean udp) throws Exception {
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        Peer peer = Peer.of(implementation);
        if (udp) {
            return startUdp(peer, threads, any);
        }
        return startTcp(peer, threads, any, null, null, List.of());
    }

    /**
     * Starts a TLS 1.3 echo server on an ephemeral loopback port with the bench's one cipher
     * suite ({@link #TLS_SUITE}).
     *
     * @param implementation a {@link Peer}'s name
     * @param threads event-loop threads
     * @param chain the server's certificate chain (PEM)
     * @param key its private key (PEM, PKCS#8)
     * @return the running server
     * @throws Exception if it cannot listen
     */
    public static EchoServer startTls(String implementation, int threads, Path chain, Path key) throws Exception {
        return startTls(implementation, threads, chain, key, List.of(TLS_SUITE));
    }

    /**
     * Starts a TLS 1.3 echo server on an ephemeral loopback port, configured from PEM files the
     * way each library's users do it, with only the given cipher suites enabled.
     *
     * @param implementation a {@link Peer}'s name
     * @param threads event-loop threads
     * @param chain the server's certificate chain (PEM)
     * @param key its private key (PEM, PKCS#8)
     * @param suites the cipher suites enabled
     * @return the running server
     * @throws Exception if it cannot listen
     */
    public static EchoServer startTls(String implementation, int threads, Path chain, Path key, List<String> suites)
            throws Exception {
        return startTcp(Peer.of(implementation), threads, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                Objects.requireNonNull(chain, "chain"), Objects.requireNonNull(key, "key"), suites);
    }

    private static EchoServer startTcp(Peer peer, int threads, InetSocketAddress any, Path chain, Path key,
            List<String> suites) throws Exception {
        if (peer.wharf()) {
            NioEventLoopGroup loops = wharfLoops(threads);
            Resolver resolver = new Resolver();
            StreamTransportProvider provider = new NioTcpProvider(loops, resolver);
            ListenOptions options = ListenOptions.DEFAULT;
            if (chain != null) {
                // wharf-conscrypt: the same TLS layer, its SSLContext from Conscrypt (tls.provider)
                provider = new SslTransportProvider(provider);
                TlsOptions tls = TlsOptions.of(TlsContextBuilder.create().certificate(chain, key)
                        .provider(peer.tlsProvider()).build()).withProtocols(List.of(TLS_1_3));
                // Conscrypt, like BoringSSL under Netty, has no TLS 1.3 suite setting: it drops TLS
                // 1.3 names, and with only those given it enables no suite that names a key type,
                // so it picks no certificate (NO_CERTIFICATE_SET). The driver's offer decides there.
                options = options.withTls(suites.isEmpty() || peer.tlsProvider() != null ? tls
                        : tls.withCipherSuites(suites));
            }
            Listener listener = provider.listen(any, options, () -> ECHO.newProtocol(ECHO_TCP)).toCompletableFuture()
                    .get(10, TimeUnit.SECONDS);
            return new EchoServer(listener.localAddress().getPort(), () -> {
                listener.close().toCompletableFuture().get(10, TimeUnit.SECONDS);
                loops.shutdown().get(10, TimeUnit.SECONDS);
                resolver.shutdown();
            });
        }
        peer.unavailable().ifPresent(cause -> {
            throw new IllegalStateException(peer.id() + " cannot run here: " + cause);
        });
        EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, ioHandler(peer.transport()));
        EventLoopGroup workers = new MultiThreadIoEventLoopGroup(threads, ioHandler(peer.transport()));
        NettyEcho echo = new NettyEcho();
        SslContext tls = chain == null ? null : SslContextBuilder.forServer(chain.toFile(), key.toFile())
                .sslProvider(peer.openSsl() ? SslProvider.OPENSSL : SslProvider.JDK).protocols(TLS_1_3)
                // BoringSSL cannot restrict TLS 1.3 suites (Netty says so in a log line and uses all
                // three): for it the driver's offer decides, and the suites are not passed.
                .ciphers(suites.isEmpty() || peer.openSsl() ? null : suites).build();
        Channel channel = new ServerBootstrap().group(boss, workers).channel(serverChannel(peer.transport()))
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
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

    private static IoHandlerFactory ioHandler(Peer.Transport transport) {
        return switch (transport) {
            case NIO -> NioIoHandler.newFactory();
            case EPOLL -> EpollIoHandler.newFactory();
            // A larger completion queue than the default, as Netty's own warning advises once
            // 10,000 connections arrive at once (idle-10k): overflows cost it extra work.
            case IO_URING -> IoUringIoHandler.newFactory(new IoUringIoHandlerConfig().setCqSize(IO_URING_CQ_SIZE));
        };
    }

    private static Class<? extends ServerChannel> serverChannel(Peer.Transport transport) {
        return switch (transport) {
            case NIO -> NioServerSocketChannel.class;
            case EPOLL -> EpollServerSocketChannel.class;
            case IO_URING -> IoUringServerSocketChannel.class;
        };
    }

    private static final String TLS_1_3 = "TLSv1.3";

    /** Wharf's loops as the platform makes them: 64 KiB read buffers, default write limits. */
    private static NioEventLoopGroup wharfLoops(int threads) {
        return new NioEventLoopGroup("bench", new NioSettings(threads, 64 * 1024, WriteBufferLimits.DEFAULT));
    }

    private static EchoServer startUdp(Peer peer, int threads, InetSocketAddress any) throws Exception {
        if (peer.wharf()) {
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
        peer.unavailable().ifPresent(cause -> {
            throw new IllegalStateException(peer.id() + " cannot run here: " + cause);
        });
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, ioHandler(peer.transport()));
        Bootstrap bootstrap = new Bootstrap().group(group).handler(new NettyUdpEcho());
        switch (peer.transport()) {
            case NIO -> bootstrap.channel(NioDatagramChannel.class); // NIO has no call that reads several datagrams
            case EPOLL -> bootstrap.channel(EpollDatagramChannel.class)
                    .option(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, NATIVE_DATAGRAM_PAYLOAD)
                    .option(ChannelOption.RCVBUF_ALLOCATOR,
                            new FixedRecvByteBufAllocator(NATIVE_DATAGRAM_PAYLOAD * NATIVE_DATAGRAMS_PER_READ));
            case IO_URING -> bootstrap.channel(IoUringDatagramChannel.class)
                    .option(IoUringChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, NATIVE_DATAGRAM_PAYLOAD)
                    .option(ChannelOption.RCVBUF_ALLOCATOR,
                            new FixedRecvByteBufAllocator(NATIVE_DATAGRAM_PAYLOAD * NATIVE_DATAGRAMS_PER_READ));
        }
        Channel channel = bootstrap.bind(any).sync().channel();
        return new EchoServer(((InetSocketAddress) channel.localAddress()).getPort(), () -> {
            channel.close().sync();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        });
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
     * @param args implementation (a {@link Peer}'s name), event-loop threads, and {@code tcp},
     *     {@code udp} or {@code tls CHAIN.pem KEY.pem SUITE[,SUITE...]}
     * @throws Exception if the server fails
     */
    public static void main(String[] args) throws Exception {
        PrintStream out = System.out;
        String mode = args.length > 2 ? args[2] : "tcp";
        int threads = Integer.parseInt(args[1]);
        try (EchoServer server = mode.equals("tls") ? startTls(args[0], threads, Path.of(args[3]), Path.of(args[4]),
                args.length > 5 ? List.of(args[5].split(",")) : List.of(TLS_SUITE))
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
