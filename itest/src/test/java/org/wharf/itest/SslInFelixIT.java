package org.wharf.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.wharf.transport.api.ConnectOptions;
import org.wharf.transport.api.ExtraInfo;
import org.wharf.transport.api.ListenOptions;
import org.wharf.transport.api.Listener;
import org.wharf.transport.api.StreamTransportProvider;
import org.wharf.transport.tck.EchoProtocol;
import org.wharf.transport.tck.RecordingProtocol;

/** transport.ssl in a real Felix: a service layered on tcp, echoing over TLS, coming and going with tcp. */
class SslInFelixIT {

    private Felix felix;
    private Bundle nio;

    @BeforeEach
    void start() throws Exception {
        felix = new Felix("ssl");
        felix.startPlatformServices();
        felix.start("transport.core");
        nio = felix.start("transport.nio");
        felix.start("transport.ssl");
    }

    @AfterEach
    void stop() throws Exception {
        felix.close();
    }

    @Test
    void theSslServiceEchoesOverTlsAndFollowsTheTcpProvider() throws Exception {
        TestCertificate certificate = TestCertificate.create();
        echoOverTls(certificate);

        nio.stop();
        Felix.awaitTrue(() -> references("(wharf.transport=ssl)").isEmpty(), "ssl goes away with tcp");
        nio.start();
        Felix.awaitTrue(() -> !references("(wharf.transport=ssl)").isEmpty(), "ssl comes back with tcp");
        echoOverTls(certificate);
    }

    private void echoOverTls(TestCertificate certificate) throws Exception {
        Felix.awaitTrue(() -> !references("(wharf.transport=ssl)").isEmpty(), "the ssl provider is registered");
        StreamTransportProvider ssl = felix.context().getService(references("(wharf.transport=ssl)").iterator().next());
        assertEquals("ssl", ssl.kind());
        Listener listener = ssl.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                ListenOptions.DEFAULT.withTls(certificate.server()), EchoProtocol::new).toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
        RecordingProtocol client = ssl.connect(InetSocketAddress.createUnresolved("localhost",
                listener.localAddress().getPort()), ConnectOptions.DEFAULT.withTls(certificate.client()),
                RecordingProtocol::new).toCompletableFuture().get(10, TimeUnit.SECONDS).protocol();
        assertTrue(client.transport().extraInfo(ExtraInfo.TLS_PROTOCOL).orElseThrow().startsWith("TLSv1."));
        client.transport().write(ByteBuffer.wrap("secure hello".getBytes(StandardCharsets.UTF_8)));
        Felix.awaitTrue(() -> client.receivedCount() == 12, "echo over TLS");
        assertEquals("secure hello", new String(client.received(), StandardCharsets.UTF_8));
        client.transport().close();
        listener.close().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private Collection<ServiceReference<StreamTransportProvider>> references(String filter) {
        try {
            return felix.context().getServiceReferences(StreamTransportProvider.class, filter);
        } catch (InvalidSyntaxException e) {
            throw new IllegalArgumentException(e);
        }
    }

    @Test
    void aTlsFactoryConfigurationBecomesNamedTlsOptionsThatServe() throws Exception {
        TestCertificate certificate = TestCertificate.create();
        Object admin = felix.context().getService(felix.context().getServiceReference(
                "org.osgi.service.cm.ConfigurationAdmin"));
        Object configuration = Felix.call(admin, "getFactoryConfiguration", "org.wharf.tls", "public", "?");
        java.util.Hashtable<String, Object> properties = new java.util.Hashtable<>();
        properties.put("name", "public");
        properties.put("tls.keystore", certificate.store.toString());
        properties.put("tls.keystore.password", new String(TestCertificate.PASSWORD));
        Felix.call(configuration, "update", properties);

        String filter = "(wharf.tls.name=public)";
        Felix.awaitTrue(() -> !tlsOptions(filter).isEmpty(), "the named TLS options are a service");
        org.wharf.transport.api.TlsOptions options = felix.context().getService(tlsOptions(filter).iterator().next());
        Felix.awaitTrue(() -> !references("(wharf.transport=ssl)").isEmpty(), "the ssl provider is registered");
        StreamTransportProvider ssl = felix.context().getService(references("(wharf.transport=ssl)").iterator().next());
        Listener listener = ssl.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                ListenOptions.DEFAULT.withTls(options), EchoProtocol::new).toCompletableFuture().get(10, TimeUnit.SECONDS);
        RecordingProtocol client = ssl.connect(InetSocketAddress.createUnresolved("localhost",
                listener.localAddress().getPort()), ConnectOptions.DEFAULT.withTls(certificate.client()),
                RecordingProtocol::new).toCompletableFuture().get(10, TimeUnit.SECONDS).protocol();
        client.transport().write(ByteBuffer.wrap("configured".getBytes(StandardCharsets.UTF_8)));
        Felix.awaitTrue(() -> client.receivedCount() == 10, "echo with the configured certificate");
        listener.close().toCompletableFuture().get(10, TimeUnit.SECONDS);

        // A path that does not exist: the settings go away (and the log names the property).
        properties.put("tls.keystore", "/nowhere/server.p12");
        Felix.call(configuration, "update", properties);
        Felix.awaitTrue(() -> tlsOptions(filter).isEmpty(), "unusable settings are withdrawn");

        Object metatype = felix.context().getService(felix.context().getServiceReference(
                "org.osgi.service.metatype.MetaTypeService"));
        Bundle sslBundle = references("(wharf.transport=ssl)").isEmpty() ? null
                : references("(wharf.transport=ssl)").iterator().next().getBundle();
        Object information = Felix.call(metatype, "getMetaTypeInformation", sslBundle);
        java.util.List<String> factories = java.util.List.of((String[]) Felix.call(information, "getFactoryPids"));
        assertTrue(factories.contains("org.wharf.tls"), "Metatype describes org.wharf.tls: " + factories);
    }

    private Collection<ServiceReference<org.wharf.transport.api.TlsOptions>> tlsOptions(String filter) {
        try {
            return felix.context().getServiceReferences(org.wharf.transport.api.TlsOptions.class, filter);
        } catch (InvalidSyntaxException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
