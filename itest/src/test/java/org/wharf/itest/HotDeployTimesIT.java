package org.wharf.itest;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;

/**
 * How long hot deployment takes, for the record (not asserted: speed belongs to the bench):
 * from installing a protocol bundle to its first served connection, and from uninstalling
 * it to its port refusing connections, 20 times each; the medians are printed.
 */
class HotDeployTimesIT {

    private Felix felix;

    @BeforeEach
    void start() throws Exception {
        felix = new Felix("times");
        felix.startPlatformServices();
        felix.start("protocol.api");
        felix.start("transport.core");
        felix.start("transport.nio");
        felix.start("endpoints.api");
        felix.start("endpoints");
    }

    @AfterEach
    void stop() throws Exception {
        felix.close();
    }

    @Test
    void installToFirstServedConnectionAndUninstallToPortClosed() throws Exception {
        int port;
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        Object admin = felix.context().getService(felix.context().getServiceReference(
                "org.osgi.service.cm.ConfigurationAdmin"));
        Object configuration = Felix.call(admin, "getFactoryConfiguration", "org.wharf.server", "timed", "?");
        Hashtable<String, Object> properties = new Hashtable<>();
        properties.put("name", "timed");
        properties.put("host", "127.0.0.1");
        properties.put("port", port);
        properties.put("protocol", "greeter");
        properties.put("drainTimeout", 100);
        properties.put("replaceWindow", 0);
        Felix.call(configuration, "update", properties);

        List<Long> served = new ArrayList<>();
        List<Long> closed = new ArrayList<>();
        for (int i = 0; i < 21; i++) {
            long start = System.nanoTime();
            Bundle greeter = felix.context().installBundle(BuiltBundles.jar("itest.protocol").toUri().toString());
            greeter.start();
            int cycle = i;
            Felix.awaitTrue(() -> answers(port), "the endpoint serves (cycle " + cycle + "): " + endpoints());
            long up = System.nanoTime() - start;

            start = System.nanoTime();
            greeter.uninstall();
            Felix.awaitTrue(() -> refused(port), "the port closes");
            long down = System.nanoTime() - start;
            if (i > 0) { // the first cycle warms up class loading and JIT
                served.add(up);
                closed.add(down);
            }
            felix.refresh();
        }
        assertTrue(served.size() == 20 && closed.size() == 20);
        System.out.printf("hot deploy over 20 cycles: install to first served connection median %.1f ms "
                + "(min %.1f, max %.1f); uninstall to port closed median %.1f ms (min %.1f, max %.1f)%n",
                median(served), min(served), max(served), median(closed), min(closed), max(closed));
    }

    private String endpoints() {
        Object runtime = felix.context().getService(felix.context().getServiceReference(
                "org.wharf.endpoints.api.EndpointRuntime"));
        return String.valueOf(Felix.get(Felix.get(runtime, "getRuntimeDTO"), "endpoints"));
    }

    private static boolean answers(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
            socket.setSoTimeout(5000);
            OutputStream out = socket.getOutputStream();
            out.write("ping\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = socket.getInputStream();
            StringBuilder answer = new StringBuilder();
            for (int c; (c = in.read()) >= 0 && c != '\n';) {
                answer.append((char) c);
            }
            return answer.toString().startsWith("greeter");
        } catch (Exception e) {
            return false;
        }
    }

    private static boolean refused(int port) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    private static double median(List<Long> nanos) {
        List<Long> sorted = nanos.stream().sorted().toList();
        return (sorted.get(sorted.size() / 2 - 1) + sorted.get(sorted.size() / 2)) / 2e6;
    }

    private static double min(List<Long> nanos) {
        return nanos.stream().mapToLong(Long::longValue).min().orElse(0) / 1e6;
    }

    private static double max(List<Long> nanos) {
        return nanos.stream().mapToLong(Long::longValue).max().orElse(0) / 1e6;
    }
}
