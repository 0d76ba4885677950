package org.wharf.itest;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.wiring.FrameworkWiring;
import org.wharf.transport.tck.Peers;

/**
 * Conscrypt installed after transport.ssl resolved, as FileInstall (deploy/) and Karaf's
 * {@code feature:install wharf-conscrypt} do: the endpoint with tls.provider = Conscrypt fails
 * first; transport.ssl refreshed (what both of them then do) wires its optional import, and the
 * same endpoint, with no change to its configuration, listens and serves openssl on BoringSSL.
 */
class ConscryptLaterInFelixIT {

    private Felix felix;

    @AfterEach
    void stop() throws Exception {
        felix.close();
    }

    @Test
    void aFailedEndpointListensOnConscryptOnceTransportSslIsRefreshedToWireIt() throws Exception {
        felix = new Felix("conscrypt-later", "sun.security.x509");
        felix.startPlatformServices();
        felix.start("protocol.api");
        felix.start("transport.core");
        felix.start("transport.nio");
        Bundle ssl = felix.start("transport.ssl");
        felix.start("endpoints.api");
        felix.start("endpoints");
        felix.start("itest.protocol");

        TestCertificate certificate = TestCertificate.create();
        EndpointsInFelix endpoints = new EndpointsInFelix(felix);
        endpoints.configure("boring", Map.of("transport", "ssl", "port", 0, "protocol", "greeter", "tls.keystore",
                certificate.store.toString(), "tls.keystore.password", new String(TestCertificate.PASSWORD),
                "tls.provider", "Conscrypt"));
        endpoints.awaitState("boring", "FAILED");
        assertTrue(endpoints.reason("boring").contains("tls.provider = 'Conscrypt'"), endpoints.reason("boring"));

        felix.context().installBundle(Path.of(System.getProperty("wharf.bundle.conscrypt")).toUri().toString()).start();
        CountDownLatch refreshed = new CountDownLatch(1);
        felix.context().getBundle(0).adapt(FrameworkWiring.class).refreshBundles(List.of(ssl), e -> {
            if (e.getType() == FrameworkEvent.PACKAGES_REFRESHED) {
                refreshed.countDown();
            }
        });
        assertTrue(refreshed.await(30, TimeUnit.SECONDS), "transport.ssl refreshed");
        endpoints.awaitState("boring", "LISTENING");

        Path input = Files.createTempFile("conscrypt-later", ".txt");
        Files.writeString(input, "wired later\n");
        Process openssl = Peers.process("openssl", "s_client", "-connect", "127.0.0.1:" + endpoints.port("boring"),
                "-tls1_3", "-quiet", "-ign_eof").redirectInput(input.toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            String answer = new BufferedReader(new InputStreamReader(openssl.getInputStream(), StandardCharsets.UTF_8))
                    .readLine();
            assertTrue(answer != null && answer.contains("wired later"), "the greeter answered through Conscrypt: " + answer);
        } finally {
            openssl.destroy();
            openssl.waitFor(10, TimeUnit.SECONDS);
            Files.delete(input);
        }
    }
}
