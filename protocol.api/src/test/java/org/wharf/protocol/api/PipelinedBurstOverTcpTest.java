package org.wharf.protocol.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.wharf.transport.api.ListenOptions;
import org.wharf.transport.api.Listener;
import org.wharf.transport.api.WriteBufferLimits;
import org.wharf.transport.nio.internal.NioEventLoopGroup;
import org.wharf.transport.nio.internal.NioSettings;
import org.wharf.transport.nio.internal.NioTcpProvider;
import org.wharf.transport.nio.internal.Resolver;
import org.wharf.transport.tck.Await;

/**
 * One client's burst of pipelined requests does not keep the loop from its other connections:
 * a second client that connects and sends one request while the first's burst is being served,
 * by the same (only) loop thread, is answered long before the burst's end.
 */
class PipelinedBurstOverTcpTest {

    private static final int BURST = 2000;

    private final NioEventLoopGroup group = new NioEventLoopGroup(new NioSettings(1, 64 * 1024,
            WriteBufferLimits.DEFAULT));
    private final Resolver resolver = new Resolver();
    private final NioTcpProvider tcp = new NioTcpProvider(group, resolver);
    /** The requests in the order the loop served them. */
    private final List<String> served = Collections.synchronizedList(new ArrayList<>());
    private final CountDownLatch burstBegun = new CountDownLatch(1);
    private final CountDownLatch otherSent = new CountDownLatch(1);
    private Listener listener;

    @AfterEach
    void stop() throws Exception {
        otherSent.countDown();
        if (listener != null) {
            listener.close();
        }
        group.shutdown().get(10, TimeUnit.SECONDS);
        resolver.shutdown();
    }

    /** One consumer per line; the burst's first request holds the loop until the other client has sent. */
    private Connection lines() {
        return new Connection(() -> new OneLine((connection, request) -> {
            served.add(request);
            if (request.equals("a0")) {
                burstBegun.countDown();
                try {
                    // The other client's request is in the kernel before the burst goes on.
                    otherSent.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            connection.transport().write(ByteBuffer.wrap((request + "\n").getBytes(StandardCharsets.US_ASCII)));
        }));
    }

    @Test
    void anotherClientIsAnsweredWhileABurstOfPipelinedRequestsIsServed() throws Exception {
        listener = Await.await(tcp.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                ListenOptions.DEFAULT, this::lines));
        int port = ((InetSocketAddress) listener.localAddress()).getPort();
        StringBuilder burst = new StringBuilder();
        for (int i = 0; i < BURST; i++) {
            burst.append('a').append(i).append('\n');
        }
        try (Socket a = new Socket(InetAddress.getLoopbackAddress(), port);
                Socket b = new Socket()) {
            Thread drain = new Thread(() -> {
                try (InputStream in = a.getInputStream()) {
                    in.transferTo(OutputStream.nullOutputStream());
                } catch (java.io.IOException closed) {
                    // the test ends
                }
            }, "burst-reader");
            drain.setDaemon(true);
            drain.start();
            a.getOutputStream().write(burst.toString().getBytes(StandardCharsets.US_ASCII)); // about 13 KB: one read
            assertTrue(burstBegun.await(30, TimeUnit.SECONDS), "the burst's first request was served");

            b.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 10_000);
            b.setSoTimeout(30_000);
            b.getOutputStream().write("b\n".getBytes(StandardCharsets.US_ASCII));
            otherSent.countDown();
            byte[] answer = b.getInputStream().readNBytes(2);
            assertEquals("b\n", new String(answer, StandardCharsets.US_ASCII));

            Await.awaitTrue(() -> served.size() == BURST + 1, "every request served");
            int at = served.indexOf("b");
            // Each turn serves Connection.REQUESTS_PER_TURN of the burst: the other client waits
            // a few turns (its accept, its read), not for the whole burst.
            assertTrue(at < BURST / 4, "the other client's request was served after " + at + " of the burst's " + BURST);
            assertEquals("a" + (BURST - 1), served.get(BURST), "the burst's requests, in order, end the list");
        }
    }
}
