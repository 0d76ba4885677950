package org.wharf.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.wharf.transport.tck.Peers;

/**
 * TLS on BoringSSL in the distribution, as the README tells it: {@code tls.provider = Conscrypt}
 * in the TLS endpoint's file and Conscrypt's jar dropped into {@code deploy/} of a running
 * platform; the real openssl is served through it, and again after a restart.
 */
class ConscryptDistributionIT {

    private RunningPlatform wharf;

    @AfterEach
    void stop() throws Exception {
        if (wharf != null) {
            wharf.close();
        }
    }

    @Test
    void conscryptDroppedIntoDeployServesTheTlsEndpointOnBoringSslAndAgainAfterARestart() throws Exception {
        Path home = Distributions.seeded(Files.createTempDirectory("wharf-conscrypt"));
        Path tlsEndpoint = home.resolve("etc").resolve("org.wharf.server-echo-tls.cfg");
        Files.writeString(tlsEndpoint, Files.readString(tlsEndpoint) + "tls.provider = Conscrypt\n");

        start(home);
        awaitLog("the tcp echo endpoint", Pattern.compile("listening tcp [^ ]+:(\\d+) echo "));
        // transport.ssl resolved without Conscrypt: the endpoint names what is missing.
        awaitLog("echo-tls failing without Conscrypt", Pattern.compile("tls\\.provider = 'Conscrypt'"));
        assertFalse(wharf.log.toString().contains("listening ssl "), wharf.log.toString());

        // Dropped in while the platform runs: installed, and transport.ssl refreshed (by FileInstall)
        // to wire it; the failed endpoint tries again with the new transport.ssl and listens.
        Path jar = Path.of(System.getProperty("wharf.conscrypt.jar", ""));
        assertTrue(Files.isRegularFile(jar), "Conscrypt's jar: " + jar);
        Files.copy(jar, home.resolve("deploy").resolve(jar.getFileName()));
        int port = Integer.parseInt(awaitLog("echo-tls on Conscrypt",
                Pattern.compile("listening ssl [^ ]+:(\\d+) echo [^ ]+ \\(endpoint echo-tls\\)")).group(1));
        assertEquals("boringssl echo\n", throughOpenssl(port, "boringssl echo\n"));

        // A restart: Conscrypt is installed from the start, and transport.ssl wired to it at once.
        wharf.process.destroy(); // SIGTERM
        assertTrue(wharf.process.waitFor(30, TimeUnit.SECONDS), "stops on SIGTERM:\n" + wharf.log);
        start(home);
        port = Integer.parseInt(awaitLog("echo-tls on Conscrypt after a restart",
                Pattern.compile("listening ssl [^ ]+:(\\d+) echo [^ ]+ \\(endpoint echo-tls\\)")).group(1));
        assertEquals("after a restart\n", throughOpenssl(port, "after a restart\n"));
        assertFalse(wharf.log.toString().contains("Exception"), "a quiet log:\n" + wharf.log);
    }

    private void start(Path home) throws IOException {
        wharf = new RunningPlatform(home, System.getProperty("java.home"));
    }

    private Matcher awaitLog(String what, Pattern pattern) {
        return wharf.awaitLog(what, pattern);
    }

    /** What the echo endpoint sends back through the real openssl client (TLS 1.3). */
    private static String throughOpenssl(int port, String line) throws Exception {
        Process client = Peers.process("openssl", "s_client", "-connect", "127.0.0.1:" + port, "-tls1_3", "-quiet")
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            OutputStream in = client.getOutputStream();
            in.write(line.getBytes(StandardCharsets.UTF_8));
            in.flush();
            return new String(client.getInputStream().readNBytes(line.length()), StandardCharsets.UTF_8);
        } finally {
            client.destroy();
            client.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
