package org.wharf.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * The distribution's batch UDP as README tells it: where the build had a JDK 22+ the fragment
 * is in {@code bundle/}; started on that JDK, {@code bin/wharf} gives the JVM what the
 * fragment needs and the UDP echo runs through recvmmsg and sendmmsg; started on Java 17,
 * the same distribution runs the UDP echo on NIO's calls.
 */
class BatchUdpDistributionIT {

    private static final Path FFM_JDK = Path.of(System.getProperty("wharf.ffm.jdk",
            "/usr/lib/jvm/temurin-25-jdk-amd64"));
    private static final Pattern BATCH = Pattern.compile("udp: datagrams are received and sent \\d+ per system call");

    @Test
    void onAJdk22TheUdpEchoRunsInBatches() throws Exception {
        assumeTrue(Files.isExecutable(FFM_JDK.resolve("bin").resolve("java")), "no JDK 22+ at " + FFM_JDK);
        try (RunningPlatform wharf = start("wharf-batch-udp", FFM_JDK.toString())) {
            echoesThroughUdp(wharf);
            wharf.awaitLog("the batch path in use", BATCH);
        }
    }

    @Test
    void onJava17TheSameDistributionRunsTheUdpEchoOnNio() throws Exception {
        assumeTrue(Runtime.version().feature() < 22, "the build's own JVM is the Java 17 case");
        try (RunningPlatform wharf = start("wharf-nio-udp", System.getProperty("java.home"))) {
            echoesThroughUdp(wharf);
            assertFalse(BATCH.matcher(wharf.log).find(), "no batch path on Java 17:\n" + wharf.log);
        }
    }

    private static RunningPlatform start(String name, String javaHome) throws IOException {
        Path home = Distributions.seeded(Files.createTempDirectory(name));
        try (Stream<Path> bundles = Files.list(home.resolve("bundle"))) {
            assumeTrue(bundles.anyMatch(p -> p.getFileName().toString().startsWith("transport.nio.ffm-")),
                    "the fragment is built only where the build found a JDK 22+ (its 'ffm' profile)");
        }
        return new RunningPlatform(home, javaHome);
    }

    /** 50 datagrams echoed, each checked: within the echo's default burst per source (100). */
    private static void echoesThroughUdp(RunningPlatform wharf) throws IOException {
        int port = Integer.parseInt(wharf.awaitLog("the UDP echo endpoint",
                Pattern.compile("listening udp [^ ]+:(\\d+) echo ")).group(1));
        try (DatagramChannel client = DatagramChannel.open()) {
            client.connect(new InetSocketAddress("127.0.0.1", port));
            client.socket().setSoTimeout(10_000);
            for (int i = 0; i < 50; i++) {
                byte[] sent = ("datagram " + i).getBytes(StandardCharsets.US_ASCII);
                client.write(ByteBuffer.wrap(sent));
                ByteBuffer back = ByteBuffer.allocate(64);
                java.net.DatagramPacket packet = new java.net.DatagramPacket(back.array(), back.capacity());
                client.socket().receive(packet);
                assertEquals("datagram " + i, new String(packet.getData(), 0, packet.getLength(),
                        StandardCharsets.US_ASCII));
            }
        }
        assertTrue(wharf.process.isAlive(), wharf.log::toString);
    }
}
