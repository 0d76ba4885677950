package org.wharf.itest;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;

import org.wharf.transport.api.TlsOptions;
import org.wharf.transport.ssl.TlsContextBuilder;

/** A self-signed certificate for localhost, made with the JDK's keytool for a test run. */
final class TestCertificate {

    static final char[] PASSWORD = "changeit".toCharArray();

    final Path store;

    private TestCertificate(Path store) {
        this.store = store;
    }

    static TestCertificate create() throws Exception {
        Path dir = Files.createTempDirectory("wharf-itest-tls");
        Path store = dir.resolve("server.p12");
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        Process p = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", "server", "-keyalg", "EC",
                "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2",
                "-keystore", store.toString(), "-storetype", "PKCS12", "-storepass", new String(PASSWORD))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("keytool failed: " + out);
        }
        return new TestCertificate(store);
    }

    /** The server side: the key and its certificate. */
    TlsOptions server() {
        SSLContext context = TlsContextBuilder.create().keyStore(store, PASSWORD).build();
        return TlsOptions.of(context);
    }

    /** The client side: trusts this certificate only. */
    TlsOptions client() {
        SSLContext context = TlsContextBuilder.create().trustStore(store, PASSWORD).build();
        return TlsOptions.of(context);
    }
}
