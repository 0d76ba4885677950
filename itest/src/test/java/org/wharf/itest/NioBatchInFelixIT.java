package org.wharf.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.reflect.Method;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.wiring.BundleRevision;
import org.osgi.framework.wiring.BundleWiring;
import org.wharf.transport.api.Connected;
import org.wharf.transport.api.DatagramOptions;
import org.wharf.transport.api.DatagramTransport;
import org.wharf.transport.api.DatagramTransportProvider;
import org.wharf.transport.api.ExtraInfo;

/**
 * The batch datagram fragment (transport.nio.ffm) beside transport.nio in a real Felix. Run
 * twice by the build where a JDK 22+ is found: on Java 17, where the fragment must stay out
 * and UDP run on NIO's calls, and on that JDK (with the two JVM options the fragment needs),
 * where it must attach and carry the datagrams.
 */
class NioBatchInFelixIT {

    private Felix felix;
    private Bundle fragment;
    private Bundle nio;

    @BeforeEach
    void start() throws Exception {
        String jar = System.getProperty("wharf.bundle.transport.nio.ffm");
        assumeTrue(jar != null && !jar.isBlank() && !jar.startsWith("${"),
                "transport.nio.ffm is built only where a JDK 22+ is (the build's 'ffm' profile)");
        felix = new Felix("nio-batch-" + Runtime.version().feature());
        felix.startPlatformServices();
        felix.start("transport.core");
        fragment = felix.context().installBundle(BuiltBundles.jar("transport.nio.ffm").toUri().toString());
        nio = felix.start("transport.nio");
    }

    @AfterEach
    void stop() throws Exception {
        if (felix != null) {
            felix.close();
        }
    }

    @Test
    void theFragmentCarriesDatagramsFromJava22AndStaysOutBefore() throws Exception {
        boolean java22 = Runtime.version().feature() >= 22;
        BundleWiring wiring = nio.adapt(BundleWiring.class);
        boolean attached = !wiring.getProvidedWires(BundleRevision.HOST_NAMESPACE).isEmpty();
        assertEquals(java22, attached, java22 ? "the fragment attaches to transport.nio on Java "
                + Runtime.version().feature() : "the fragment needs Java 22 and stays out on " + Runtime.version());
        assertEquals(java22 ? Bundle.RESOLVED : Bundle.INSTALLED, fragment.getState());

        ServiceReference<DatagramTransportProvider> reference = felix.context()
                .getServiceReferences(DatagramTransportProvider.class, "(wharf.transport=udp)").iterator().next();
        DatagramTransportProvider udp = felix.context().getService(reference);
        Connected<DatagramTransport, org.wharf.transport.tck.DatagramEchoProtocol> bound = udp.bind(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), DatagramOptions.DEFAULT,
                org.wharf.transport.tck.DatagramEchoProtocol::new).toCompletableFuture().get(10, TimeUnit.SECONDS);
        try {
            Method batched = bound.transport().getClass().getDeclaredMethod("batched");
            batched.setAccessible(true);
            // Attached, it runs where the JVM was given --add-exports java.base/sun.nio.ch (the
            // build's Java 22 run is); Maven itself on a newer JDK without it: NIO's calls.
            boolean exported = Object.class.getModule().isExported("sun.nio.ch", NioBatchInFelixIT.class.getModule());
            assertEquals(java22 && exported, batched.invoke(bound.transport()),
                    java22 && exported ? "datagrams go through recvmmsg and sendmmsg" : "datagrams take NIO's calls");
            int port = ((InetSocketAddress) bound.transport().extraInfo(ExtraInfo.LOCAL_ADDRESS).orElseThrow()).getPort();
            try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
                socket.setSoTimeout(10_000);
                for (int i = 0; i < 50; i++) {
                    byte[] data = ("datagram " + i).getBytes(StandardCharsets.UTF_8);
                    socket.send(new DatagramPacket(data, data.length, InetAddress.getLoopbackAddress(), port));
                    DatagramPacket back = new DatagramPacket(new byte[100], 100);
                    socket.receive(back);
                    assertEquals("datagram " + i, new String(back.getData(), 0, back.getLength(), StandardCharsets.UTF_8));
                }
            }
        } finally {
            bound.transport().abort();
        }
        assertNotNull(reference);
        assertTrue(nio.getState() == Bundle.ACTIVE);
    }
}
