package org.wharf.bench;

import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

import org.wharf.transport.api.Connected;
import org.wharf.transport.api.DatagramOptions;
import org.wharf.transport.api.DatagramProtocol;
import org.wharf.transport.api.DatagramTransport;
import org.wharf.transport.api.ExtraInfo;
import org.wharf.transport.api.ListenOptions;
import org.wharf.transport.api.Listener;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.Transport;
import org.wharf.transport.api.WriteBufferLimits;
import org.wharf.transport.nio.internal.Log;
import org.wharf.transport.nio.internal.NioEventLoopGroup;
import org.wharf.transport.nio.internal.NioSettings;
import org.wharf.transport.nio.internal.NioTcpProvider;
import org.wharf.transport.nio.internal.NioUdpProvider;
import org.wharf.transport.nio.internal.Resolver;

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

/**
 * The echo servers under test, each written the way its library's users write one: Wharf's
 * NIO TCP transport with an echo {@link Protocol}, and Netty 4.2 NIO with the echo handler
 * of Netty's own examples (write on read, flush on read complete). Both get the same number
 * of event-loop threads.
 */
public final class EchoServer implements AutoCloseable {

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
        switch (implementation) {
            case "wharf": {
                NioEventLoopGroup loops = wharfLoops(threads);
                Resolver resolver = new Resolver();
                Listener listener = new NioTcpProvider(loops, resolver).listen(any, ListenOptions.DEFAULT, WharfEcho::new)
                        .toCompletableFuture().get(10, TimeUnit.SECONDS);
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
                Channel channel = new ServerBootstrap().group(boss, workers).channel(NioServerSocketChannel.class)
                        .option(ChannelOption.SO_BACKLOG, 1024)
                        .childOption(ChannelOption.TCP_NODELAY, true)
                        .childHandler(new ChannelInitializer<SocketChannel>() {
                            @Override
                            protected void initChannel(SocketChannel ch) {
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

    /** Wharf's loops as the platform makes them: 64 KiB read buffers, default write limits. */
    private static NioEventLoopGroup wharfLoops(int threads) {
        return new NioEventLoopGroup("bench", new NioSettings(threads, 64 * 1024, WriteBufferLimits.DEFAULT),
                Log.SYSTEM);
    }

    private static EchoServer startUdp(String implementation, int threads, InetSocketAddress any) throws Exception {
        switch (implementation) {
            case "wharf": {
                NioEventLoopGroup loops = wharfLoops(threads);
                Resolver resolver = new Resolver();
                Connected<DatagramTransport, WharfUdpEcho> bound = new NioUdpProvider(loops, resolver)
                        .bind(any, DatagramOptions.DEFAULT, WharfUdpEcho::new).toCompletableFuture()
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
     *
     * @param args implementation ({@code wharf} or {@code netty}), event-loop threads, and
     *     optionally {@code udp}
     * @throws Exception if the server fails
     */
    public static void main(String[] args) throws Exception {
        PrintStream out = System.out;
        boolean udp = args.length > 2 && args[2].equals("udp");
        try (EchoServer server = start(args[0], Integer.parseInt(args[1]), udp)) {
            out.println("port " + server.port());
            out.flush();
            InputStream in = System.in;
            while (in.read() >= 0) {
                // the driver closes our stdin to stop us
            }
        }
    }

    /** Wharf's echo: the received bytes written back (the read buffer is the transport's, so copied). */
    static final class WharfEcho implements Protocol {
        private Transport transport;

        @Override
        public void connectionMade(Transport t) {
            this.transport = t;
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            ByteBuffer copy = ByteBuffer.allocate(data.remaining());
            copy.put(data).flip();
            transport.write(copy);
        }

        @Override
        public boolean eofReceived() {
            return false;
        }

        @Override
        public void connectionLost(Throwable cause) {
        }

        @Override
        public void pauseWriting() {
            transport.pauseReading();
        }

        @Override
        public void resumeWriting() {
            transport.resumeReading();
        }
    }

    /** Wharf's datagram echo: each datagram sent back to its sender. */
    static final class WharfUdpEcho implements DatagramProtocol {
        private DatagramTransport transport;

        @Override
        public void connectionMade(DatagramTransport t) {
            this.transport = t;
        }

        @Override
        public void datagramReceived(ByteBuffer data, SocketAddress sender) {
            ByteBuffer copy = ByteBuffer.allocate(data.remaining());
            copy.put(data).flip();
            transport.sendTo(copy, sender);
        }

        @Override
        public void connectionLost(Throwable cause) {
        }
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

    /** Netty's echo, as in its examples. */
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

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
