package org.wharf.protocol.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.wharf.transport.api.ListenOptions;
import org.wharf.transport.api.Listener;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.Transport;
import org.wharf.transport.api.WriteBufferLimits;
import org.wharf.transport.nio.internal.NioEventLoopGroup;
import org.wharf.transport.nio.internal.NioSettings;
import org.wharf.transport.nio.internal.NioTcpProvider;
import org.wharf.transport.nio.internal.Resolver;
import org.wharf.transport.tck.Await;
import org.wharf.transport.tck.Peers;

/**
 * Back-pressure of the request cycle and of {@link MessageProtocol} over real sockets: a
 * python3 client pipelines thousands of requests and never reads; the server's write buffer
 * stays within the high-water mark plus one answer, and another client (nc) is answered
 * meanwhile. One loop thread serves both, so a server busy queueing would delay the other.
 */
class BackPressureOverTcpTest {

    /** Each answer is 16 KiB: 2,000 of them are 32 MiB, far more than the kernel's socket buffers. */
    private static final int ANSWER = 16 * 1024;
    private static final int REQUESTS = 2000;

    /** Connects, sends {@code n} lines at once, says so, then holds the connection without reading. */
    private static final String STALLED_CLIENT = String.join("\n",
            "import socket, sys",
            "s = socket.socket()",
            "s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)",
            "s.connect(('127.0.0.1', int(sys.argv[1])))",
            "s.settimeout(10)",
            "try:",
            "    s.sendall(b''.join(b'r%d\\n' % i for i in range(int(sys.argv[2]))))",
            "except socket.timeout:",
            "    pass",
            "print('sent', flush=True)",
            "sys.stdin.read()",
            "s.close()");

    private final NioEventLoopGroup group = new NioEventLoopGroup(new NioSettings(1, 64 * 1024,
            WriteBufferLimits.DEFAULT));
    private final Resolver resolver = new Resolver();
    private final NioTcpProvider tcp = new NioTcpProvider(group, resolver);
    private final AtomicInteger answered = new AtomicInteger();
    private final AtomicReference<Transport> first = new AtomicReference<>();
    private Listener listener;
    private Process stalled;

    @AfterEach
    void stop() throws Exception {
        if (stalled != null) {
            stalled.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        if (listener != null) {
            listener.close();
        }
        group.shutdown().get(10, TimeUnit.SECONDS);
        resolver.shutdown();
    }

    private static ByteBuffer answer(String line) {
        return ByteBuffer.wrap(("x".repeat(ANSWER - line.length() - 1) + line + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /** The request cycle: one {@link Connection} per client, one consumer per line. */
    private Protocol lineConnection() {
        return new Connection(() -> new OneLine((connection, line) -> {
            answered.incrementAndGet();
            connection.transport().write(answer(line));
        })) {
            @Override
            public void connectionMade(Transport transport) {
                super.connectionMade(transport);
                first.compareAndSet(null, transport);
            }
        };
    }

    private Protocol lineMessages() {
        return new MessageProtocol<String>(new LineFrameDecoder(100), (line, t) -> {
            answered.incrementAndGet();
            t.write(answer(line));
        }) {
            @Override
            public void connectionMade(Transport transport) {
                super.connectionMade(transport);
                first.compareAndSet(null, transport);
            }
        };
    }

    @Test
    void theRequestCycleStopsReadingAClientThatDoesNotReadItsAnswers() throws Exception {
        aClientThatNeverReadsCostsOneAnswerPastTheMark(this::lineConnection);
    }

    @Test
    void aMessageProtocolStopsReadingAClientThatDoesNotReadItsReplies() throws Exception {
        aClientThatNeverReadsCostsOneAnswerPastTheMark(this::lineMessages);
    }

    private void aClientThatNeverReadsCostsOneAnswerPastTheMark(Supplier<Protocol> protocol) throws Exception {
        listener = Await.await(tcp.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                ListenOptions.DEFAULT, protocol::get));
        int port = ((InetSocketAddress) listener.localAddress()).getPort();
        long bound = WriteBufferLimits.DEFAULT.high() + ANSWER;

        stalled = Peers.process("python3", "-c", STALLED_CLIENT, String.valueOf(port), String.valueOf(REQUESTS))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BufferedReader said = new BufferedReader(new InputStreamReader(stalled.getInputStream(), StandardCharsets.UTF_8));
        assertEquals("sent", said.readLine(), "the stalled client sent its requests");

        // The server answers until the kernel's buffers and then its own are full.
        long[] most = {0};
        Await.awaitTrue(() -> {
            Transport t = first.get();
            long size = t == null ? 0 : t.writeBufferSize();
            most[0] = Math.max(most[0], size);
            return size > WriteBufferLimits.DEFAULT.high() || answered.get() == REQUESTS;
        }, "the server's write buffer above its high-water mark");

        // Another client is answered meanwhile, by the same (only) loop thread.
        long started = System.nanoTime();
        Process other = Peers.process("nc", "-N", "127.0.0.1", String.valueOf(port))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        other.getOutputStream().write("other\n".getBytes(StandardCharsets.US_ASCII));
        other.getOutputStream().close();
        byte[] reply = other.getInputStream().readAllBytes();
        assertTrue(other.waitFor(30, TimeUnit.SECONDS));
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertEquals(answer("other").remaining(), reply.length, "the other client's answer");
        // Wall time, nc's start-up included: generous, as the machine may be busy.
        assertTrue(millis < 5000, "the other client waited " + millis + " ms");

        long now = first.get().writeBufferSize();
        most[0] = Math.max(most[0], now);
        assertTrue(answered.get() - 1 < REQUESTS, "all " + REQUESTS + " requests of a client that reads nothing were "
                + "answered; " + now + " bytes wait for it");
        assertTrue(most[0] <= bound, "the server held up to " + most[0] + " bytes for a client that reads nothing"
                + " (now " + now + "; high-water mark + one answer = " + bound + "); answered "
                + (answered.get() - 1) + " of " + REQUESTS);
    }
}
