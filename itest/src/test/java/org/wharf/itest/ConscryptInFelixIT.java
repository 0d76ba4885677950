package org.wharf.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.wharf.transport.tck.Peers;

/**
 * tls.provider = Conscrypt in a real Felix: Conscrypt's bundle (its BoringSSL library inside)
 * installed beside Wharf, an endpoint configured with inline tls.* properties naming it, and
 * the real openssl served through it.
 */
class ConscryptInFelixIT {

    private Felix felix;

    @BeforeEach
    void start() throws Exception {
        // Conscrypt's bundle imports sun.security.x509, which the system bundle exports only when told.
        felix = new Felix("conscrypt", "sun.security.x509");
        felix.startPlatformServices();
        felix.start("protocol.api");
        felix.start("transport.core");
        felix.start("transport.nio");
        // Before transport.ssl resolves, so its optional import of org.conscrypt is wired.
        Bundle conscrypt = felix.context().installBundle(Path.of(System.getProperty("wharf.bundle.conscrypt")).toUri()
                .toString());
        conscrypt.start();
        felix.start("transport.ssl");
        felix.start("endpoints.api");
        felix.start("endpoints");
        felix.start("itest.protocol");
    }

    @AfterEach
    void stop() throws Exception {
        felix.close();
    }

    @Test
    void anEndpointOnConscryptServesOpenssl() throws Exception {
        TestCertificate certificate = TestCertificate.create();
        EndpointsInFelix endpoints = new EndpointsInFelix(felix);
        endpoints.configure("boring", Map.of("transport", "ssl", "port", 0, "protocol", "greeter", "tls.keystore",
                certificate.store.toString(), "tls.keystore.password", new String(TestCertificate.PASSWORD),
                "tls.provider", "Conscrypt"));
        endpoints.configure("nowhere", Map.of("transport", "ssl", "port", 0, "protocol", "greeter", "tls.keystore",
                certificate.store.toString(), "tls.keystore.password", new String(TestCertificate.PASSWORD),
                "tls.provider", "NoSuchProvider"));
        endpoints.awaitState("boring", "LISTENING");
        endpoints.awaitState("nowhere", "FAILED");
        assertTrue(endpoints.reason("nowhere").contains("tls.provider = 'NoSuchProvider'"), endpoints.reason("nowhere"));
        Path input = Files.createTempFile("conscrypt", ".txt");
        Files.writeString(input, "through boringssl\n");
        Process openssl = Peers.process("openssl", "s_client", "-connect", "127.0.0.1:" + endpoints.port("boring"),
                "-tls1_3", "-quiet", "-ign_eof").redirectInput(input.toFile()).redirectErrorStream(false).start();
        String answer;
        try {
            // LISTENING means the context came from Conscrypt's provider: there is no fallback.
            answer = new java.io.BufferedReader(new java.io.InputStreamReader(openssl.getInputStream(),
                    StandardCharsets.UTF_8)).readLine();
        } finally {
            openssl.destroy();
            openssl.waitFor(10, TimeUnit.SECONDS);
        }
        assertTrue(answer.contains("through boringssl"), "the greeter answered through Conscrypt: " + answer);
        Bundle conscrypt = java.util.Arrays.stream(felix.context().getBundles())
                .filter(b -> "org.conscrypt".equals(b.getSymbolicName())).findFirst().orElseThrow();
        assertEquals(Bundle.ACTIVE, conscrypt.getState());
    }
}
