package org.wharf.protocol.echo.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.wharf.transport.api.DatagramTransport;
import org.wharf.transport.api.ExtraInfo;
import org.wharf.transport.tck.LogCapture;

/**
 * The datagram echo's decisions without a socket: datagrams handed to it with crafted source
 * addresses, on a clock the test moves, answers and log lines kept.
 */
class DatagramEchoDropsTest {

    private static final InetSocketAddress LOCAL = new InetSocketAddress("127.0.0.1", 40_000);

    /** An echo on a writable fake socket bound to {@link #LOCAL}; what it sends is kept. */
    static final class Rig {
        final AtomicLong now = new AtomicLong(1_000);
        final UdpEchoCounters counters = new UdpEchoCounters();
        final List<InetSocketAddress> answered = new ArrayList<>();
        final DatagramEcho echo;

        Rig(String endpoint, Map<String, ?> settings) {
            echo = new DatagramEcho(endpoint, UdpEchoSettings.from(settings), counters, now::get);
            echo.connectionMade((DatagramTransport) Proxy.newProxyInstance(getClass().getClassLoader(),
                    new Class<?>[] {DatagramTransport.class}, (proxy, method, args) -> switch (method.getName()) {
                        case "extraInfo" -> args[0] == ExtraInfo.LOCAL_ADDRESS ? Optional.of(LOCAL) : Optional.empty();
                        case "isWritable" -> true;
                        case "sendTo", "sendCopyTo" -> {
                            answered.add((InetSocketAddress) args[1]);
                            yield null;
                        }
                        default -> throw new UnsupportedOperationException(method.getName());
                    }));
        }

        void receive(int datagrams, InetSocketAddress from) {
            for (int i = 0; i < datagrams; i++) {
                echo.datagramReceived(ByteBuffer.wrap(new byte[] {'x'}), from);
            }
        }

        void advanceSeconds(long seconds) {
            now.addAndGet(TimeUnit.SECONDS.toNanos(seconds));
        }
    }

    /**
     * A kind of drop goes on for 12 s, and the socket closes: a line at the first drop, none for
     * the rest of the window, one at the first drop after it counting every drop since the
     * first line, and at the close one for what no line told of. Before, the first drop of each
     * kind was the only line in the socket's life: later attacks were never heard of.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "ownAddress    | 127.0.0.1 | 40000 | 100 | 10000 | 0 | 9 | 4",
        "reflectorPort | 127.0.0.2 | 7     | 100 | 10000 | 0 | 9 | 4",
        // The rates let one datagram through at 0 s, 5 s, 11 s and 12 s.
        "sourceRate    | 127.0.0.2 | 50000 | 1   | 0     | 1 | 7 | 2",
        "totalRate     | 127.0.0.2 | 50000 | 0   | 1     | 1 | 7 | 2"})
    void eachKindOfDropIsLoggedOnceAWindowWithHowManySinceTheLastLine(String kind, String host, int port,
            String rate, String totalRate, int answeredPerStep, int secondLine, int atClose) {
        String endpoint = "udp-echo-" + kind; // only this test's lines, whatever else logs meanwhile
        String counter = "echo.udp.dropped." + kind;
        InetSocketAddress from = new InetSocketAddress(host, port);
        try (LogCapture log = new LogCapture()) {
            Rig rig = new Rig(endpoint, Map.of(UdpEchoSettings.RATE, rate, UdpEchoSettings.BURST, "1",
                    UdpEchoSettings.TOTAL_RATE, totalRate));
            rig.receive(5, from);
            assertEquals(1, lines(log, endpoint).size(), lines(log, endpoint).toString());
            rig.advanceSeconds(5);
            rig.receive(4, from);
            assertEquals(1, lines(log, endpoint).size(), "within the window: only counted " + lines(log, endpoint));
            rig.advanceSeconds(6);
            rig.receive(2, from);
            assertEquals(2, lines(log, endpoint).size(), "a window after the first line, another: "
                    + lines(log, endpoint));
            rig.advanceSeconds(1);
            rig.receive(3, from);
            assertEquals(2, lines(log, endpoint).size(), lines(log, endpoint).toString());
            rig.echo.connectionLost(null);
            List<String> lines = lines(log, endpoint);
            assertEquals(3, lines.size(), "what no line told of, at the close: " + lines);

            assertLine(lines.get(0), counter, "dropped 1 datagram ", "since the socket bound");
            assertLine(lines.get(1), counter, "dropped " + secondLine + " datagrams ",
                    "in the 11 s since the last line like it");
            assertLine(lines.get(2), counter, "the socket closed; " + atClose + " datagrams ",
                    "were dropped since the last line like it");
            assertEquals(4 * answeredPerStep, rig.answered.size());
            assertEquals(14 - 4 * answeredPerStep, rig.counters.figures().get(counter));
            assertEquals(14 - 4 * answeredPerStep, 1 + secondLine + atClose, "the lines count every drop");
        }
    }

    private static List<String> lines(LogCapture log, String endpoint) {
        return log.lines().stream().map(LogCapture.Line::message)
                .filter(m -> m.matches("echo endpoint " + endpoint + "[ :].*")).toList();
    }

    private static void assertLine(String line, String counter, String count, String since) {
        assertTrue(line.contains(count), line);
        assertTrue(line.contains(since), line);
        assertTrue(line.contains("(" + counter + ")"), line);
    }
}
