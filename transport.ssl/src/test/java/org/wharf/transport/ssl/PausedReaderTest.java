package org.wharf.transport.ssl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.wharf.transport.api.ConnectOptions;
import org.wharf.transport.api.ExtraInfo;
import org.wharf.transport.api.Listener;
import org.wharf.transport.api.Transport;
import org.wharf.transport.nio.internal.NioEventLoopGroup;
import org.wharf.transport.nio.internal.NioSettings;
import org.wharf.transport.nio.internal.NioTcpProvider;
import org.wharf.transport.nio.internal.Resolver;
import org.wharf.transport.ssl.internal.SslTransportProvider;
import org.wharf.transport.tck.Await;
import org.wharf.transport.tck.RecordingProtocol;

/**
 * A TLS reader that pauses while the peer sends the rest and closes: it gets every byte, then
 * a clean end, however the pause reaches the loop.
 */
class PausedReaderTest {

    private static TestPki pki;
    private static TlsFixture fixture;
    private static NioEventLoopGroup clientLoops;
    private static Resolver resolver;
    private static SslTransportProvider clients;

    @BeforeAll
    static void start() throws Exception {
        pki = TestPki.create();
        fixture = new TlsFixture(pki);
        clientLoops = new NioEventLoopGroup(new NioSettings(1, 64 * 1024, NioSettings.DEFAULT.writeBufferLimits()));
        resolver = new Resolver();
        clients = new SslTransportProvider(new NioTcpProvider(clientLoops, resolver));
    }

    @AfterAll
    static void stop() throws Exception {
        fixture.close();
        clientLoops.shutdown().get();
        resolver.shutdown();
    }

    /** Bytes in a loopback TCP socket's receive queue, from /proc/net/tcp: what its owner has not read. */
    private static long receiveQueue(int localPort) throws IOException {
        long total = -1;
        for (String table : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
            for (String line : Files.readAllLines(Path.of(table))) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 4 && f[1].contains(":") && Integer.parseInt(f[1].substring(f[1].lastIndexOf(':') + 1), 16)
                        == localPort) {
                    total = Math.max(total, Long.parseLong(f[4].substring(f[4].indexOf(':') + 1), 16));
                }
            }
        }
        return total;
    }

    @Test
    void aPauseFromAnotherThreadWhileTheLoopIsBusyStillEndsCleanlyWithAllTheData() throws Exception {
        BlockingQueue<RecordingProtocol> made = new LinkedBlockingQueue<>();
        Listener listener = fixture.listen(fixture.server(), RecordingProtocol::new, made);
        try {
            RecordingProtocol client = Await.await(clients.connect(InetSocketAddress.createUnresolved("localhost",
                    listener.localAddress().getPort()), ConnectOptions.DEFAULT.withTls(fixture.client()),
                    () -> new RecordingProtocol().keepBytes(false))).protocol();
            Transport ct = client.transport();
            Transport st = TlsFixture.await(TlsFixture.take(made).made());
            // The client's loop is held in a timer, with many tasks queued behind it; the pause,
            // made from this thread, reaches the loop as one more task, after them.
            CountDownLatch held = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            ct.loop().schedule(() -> {
                held.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, 0, TimeUnit.MILLISECONDS);
            held.await();
            for (int i = 0; i < 5000; i++) {
                ct.loop().execute(() -> { });
            }
            ct.pauseReading();
            // The rest and the end, close_notify then FIN, all in the client's socket before its loop reads again.
            st.loop().execute(() -> {
                st.write(ByteBuffer.wrap(new byte[100_000]));
                st.close();
            });
            int port = ((InetSocketAddress) ct.extraInfo(ExtraInfo.LOCAL_ADDRESS).orElseThrow()).getPort();
            Await.awaitTrue(() -> {
                try {
                    return receiveQueue(port) >= 100_000;
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, "the server's bytes in the client's socket");
            release.countDown();
            CompletableFuture<Void> after = new CompletableFuture<>();
            ct.loop().execute(() -> after.complete(null)); // after the queued tasks, and the turns that read meanwhile
            Await.await(after);
            ct.resumeReading();
            Throwable cause = Await.await(client.lost());
            assertNull(cause, "a clean end: events " + client.events() + ", received " + client.receivedCount());
            assertEquals(100_000, client.receivedCount(), client.events().toString());
        } finally {
            listener.close();
        }
    }
}
