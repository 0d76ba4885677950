package org.wharf.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.module.Configuration;
import java.lang.module.ModuleFinder;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;

/** The jars resolve and run as named modules on a plain module path, with no framework. */
class ModulePathIT {

    @Test
    void apiModulesResolveAndRunInAModuleLayer() throws Exception {
        Path[] jars = BuiltBundles.NAMES.stream().map(BuiltBundles::jar).toArray(Path[]::new);
        ModuleLayer boot = ModuleLayer.boot();
        Configuration config = boot.configuration().resolve(ModuleFinder.of(jars), ModuleFinder.of(),
                Set.of("org.wharf.protocol.api", "org.wharf.transport.tck"));
        ModuleLayer layer = boot.defineModulesWithOneLoader(config, ClassLoader.getSystemClassLoader());

        Module protocolApi = layer.findModule("org.wharf.protocol.api").orElseThrow();
        Module transportApi = layer.findModule("org.wharf.transport.api").orElseThrow();
        assertTrue(protocolApi.canRead(transportApi));
        assertTrue(protocolApi.isExported("org.wharf.protocol.api"));

        // Use a class of the module: a length-field codec round trip through the layer.
        Class<?> codec = layer.findLoader("org.wharf.protocol.api").loadClass("org.wharf.protocol.api.LengthFieldFrameDecoder");
        assertEquals(protocolApi, codec.getModule());
        Object decoder = codec.getConstructor(int.class, ByteOrder.class, int.class).newInstance(2, ByteOrder.BIG_ENDIAN, 100);
        ByteBuffer frame = (ByteBuffer) codec.getMethod("encode", ByteBuffer.class).invoke(decoder, ByteBuffer.wrap("hi".getBytes()));
        List<Object> out = new java.util.ArrayList<>();
        Consumer<Object> sink = out::add;
        codec.getMethod("decode", ByteBuffer.class, Consumer.class).invoke(decoder, frame, sink);
        assertEquals(List.of(ByteBuffer.wrap("hi".getBytes())), out);
    }

    @Test
    void serviceLoaderFindsBothNioProvidersOnThePlainModulePathAndTcpServesARealSocket() throws Exception {
        Path[] jars = {BuiltBundles.jar("transport.api"), BuiltBundles.jar("transport.core"), BuiltBundles.jar("transport.nio")};
        ModuleLayer boot = ModuleLayer.boot();
        Configuration config = boot.configuration().resolve(ModuleFinder.of(jars), ModuleFinder.of(),
                Set.of("org.wharf.transport.nio"));
        // The platform loader as parent: the layer uses its own transport.api, not the class path's.
        ModuleLayer layer = boot.defineModulesWithOneLoader(config, ClassLoader.getPlatformClassLoader());
        ClassLoader api = layer.findLoader("org.wharf.transport.api");

        Class<?> streamType = api.loadClass("org.wharf.transport.api.StreamTransportProvider");
        Class<?> datagramType = api.loadClass("org.wharf.transport.api.DatagramTransportProvider");
        Object tcp = java.util.ServiceLoader.load(layer, streamType).findFirst().orElseThrow();
        Object udp = java.util.ServiceLoader.load(layer, datagramType).findFirst().orElseThrow();
        assertEquals("tcp", streamType.getMethod("kind").invoke(tcp));
        assertEquals("udp", datagramType.getMethod("kind").invoke(udp));
        assertEquals("org.wharf.transport.nio", tcp.getClass().getModule().getName());

        // An echo protocol of the layer's Protocol type, made without compiling against it.
        Class<?> protocolType = api.loadClass("org.wharf.transport.api.Protocol");
        Class<?> transportType = api.loadClass("org.wharf.transport.api.Transport");
        java.lang.reflect.Method write = transportType.getMethod("write", java.nio.ByteBuffer.class);
        java.util.function.Supplier<Object> echo = () -> java.lang.reflect.Proxy.newProxyInstance(
                protocolType.getClassLoader(), new Class<?>[] {protocolType}, new java.lang.reflect.InvocationHandler() {
                    private Object transport;

                    @Override
                    public Object invoke(Object proxy, java.lang.reflect.Method m, Object[] args) throws Throwable {
                        switch (m.getName()) {
                            case "connectionMade" -> transport = args[0];
                            case "dataReceived" -> {
                                java.nio.ByteBuffer in = (java.nio.ByteBuffer) args[0];
                                write.invoke(transport, java.nio.ByteBuffer.allocate(in.remaining()).put(in).flip());
                            }
                            case "eofReceived" -> {
                                return false;
                            }
                            default -> { }
                        }
                        return null;
                    }
                });
        Object options = api.loadClass("org.wharf.transport.api.ListenOptions").getField("DEFAULT").get(null);
        Object listener = ((java.util.concurrent.CompletionStage<?>) streamType.getMethod("listen",
                java.net.InetSocketAddress.class, options.getClass(), java.util.function.Supplier.class)
                .invoke(tcp, new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), options, echo))
                .toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
        java.net.InetSocketAddress address = (java.net.InetSocketAddress) api.loadClass("org.wharf.transport.api.Listener")
                .getMethod("localAddress").invoke(listener);
        try (java.net.Socket socket = new java.net.Socket(address.getAddress(), address.getPort())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write("module path".getBytes());
            assertEquals("module path", new String(socket.getInputStream().readNBytes(11)));
        }
    }

    @Test
    void serviceLoaderLayersTheSslProviderOverTcpOnThePlainModulePath() throws Exception {
        Path[] jars = {BuiltBundles.jar("transport.api"), BuiltBundles.jar("transport.core"), BuiltBundles.jar("transport.nio"),
                BuiltBundles.jar("transport.ssl")};
        ModuleLayer boot = ModuleLayer.boot();
        Configuration config = boot.configuration().resolve(ModuleFinder.of(jars), ModuleFinder.of(),
                Set.of("org.wharf.transport.ssl", "org.wharf.transport.nio"));
        ModuleLayer layer = boot.defineModulesWithOneLoader(config, ClassLoader.getPlatformClassLoader());
        Class<?> streamType = layer.findLoader("org.wharf.transport.api").loadClass(
                "org.wharf.transport.api.StreamTransportProvider");
        java.util.Map<String, Object> byKind = new java.util.HashMap<>();
        for (Object provider : java.util.ServiceLoader.load(layer, streamType)) {
            byKind.put((String) streamType.getMethod("kind").invoke(provider), provider);
        }
        assertEquals(Set.of("tcp", "ssl"), byKind.keySet(), "both stream providers, the ssl one made over tcp");
        assertEquals("org.wharf.transport.ssl", byKind.get("ssl").getClass().getModule().getName());
    }

    @Test
    void theProxyProtocolLoadsAndChecksItsSettingsOnThePlainModulePathWithoutOsgiJars() throws Exception {
        Path[] jars = java.util.stream.Stream.of("transport.api", "transport.core", "protocol.api", "endpoints.api",
                "transport.nio", "transport.ssl", "endpoints", "protocol.proxy").map(BuiltBundles::jar).toArray(Path[]::new);
        ModuleLayer boot = ModuleLayer.boot();
        Configuration config = boot.configuration().resolve(ModuleFinder.of(jars), ModuleFinder.of(),
                Set.of("org.wharf.protocol.proxy", "org.wharf.transport.nio", "org.wharf.transport.ssl"));
        ModuleLayer layer = boot.defineModulesWithOneLoader(config, ClassLoader.getPlatformClassLoader());
        ClassLoader loader = layer.findLoader("org.wharf.protocol.api");
        Class<?> factoryType = loader.loadClass("org.wharf.protocol.api.ProtocolFactory");
        Object found = null;
        for (Object factory : java.util.ServiceLoader.load(layer, factoryType)) { // every provider instantiates
            if (factory.getClass().getName().equals("org.wharf.protocol.proxy.internal.ProxyFactory")) {
                found = factory;
            }
        }
        Object proxy = found;
        assertTrue(proxy != null, "the proxy is a ProtocolFactory provider on the module path");
        assertEquals(java.util.Map.of(), factoryType.getMethod("metrics", String.class).invoke(proxy, "gw"));
        Class<?> contextType = loader.loadClass("org.wharf.protocol.api.ProtocolContext");
        Class<?> hooksType = loader.loadClass("org.wharf.protocol.api.ConnectionHooks");
        Object context = contextType.getConstructor(String.class, String.class, java.util.Map.class, hooksType)
                .newInstance("gw", "tcp", java.util.Map.of("proxy.upstreams", "nowhere"), hooksType.getField("NONE").get(null));
        java.lang.reflect.InvocationTargetException wrong = org.junit.jupiter.api.Assertions.assertThrows(
                java.lang.reflect.InvocationTargetException.class,
                () -> factoryType.getMethod("checkSettings", contextType).invoke(proxy, context));
        assertTrue(wrong.getCause() instanceof IllegalArgumentException
                && wrong.getCause().getMessage().contains("proxy.upstreams = 'nowhere': not host:port"),
                String.valueOf(wrong.getCause()));
    }

    @Test
    void aServerAndAClientProcessOnThePlainModulePathTalkOverARealSocket() throws Exception {
        String modulePath = java.util.stream.Stream.of("transport.api", "transport.core", "protocol.api", "endpoints.api",
                "transport.nio", "endpoints", "endpoints.bootstrap", "itest.protocol").map(m -> BuiltBundles.jar(m).toString())
                .collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
        String launcher = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String main = "org.wharf.endpoints.bootstrap/org.wharf.endpoints.bootstrap.Bootstrap";
        Process server = new ProcessBuilder(launcher, "-p", modulePath, "-m", main, "serve", "greeter", "127.0.0.1", "0")
                .redirectErrorStream(true).start();
        try {
            java.io.BufferedReader log = new java.io.BufferedReader(new java.io.InputStreamReader(server.getInputStream(),
                    java.nio.charset.StandardCharsets.UTF_8));
            java.util.regex.Pattern listening = java.util.regex.Pattern.compile("listening tcp 127\\.0\\.0\\.1:(\\d+) greeter");
            int port = -1;
            StringBuilder seen = new StringBuilder();
            for (String line; port < 0 && (line = log.readLine()) != null;) {
                seen.append(line).append('\n');
                java.util.regex.Matcher m = listening.matcher(line);
                if (m.find()) {
                    port = Integer.parseInt(m.group(1));
                }
            }
            assertTrue(port > 0, "the server process reports where it listens: " + seen);

            Process client = new ProcessBuilder(launcher, "-p", modulePath, "-m", main, "ask", "127.0.0.1",
                    String.valueOf(port), "hello module path").redirectErrorStream(true).start();
            String output = new String(client.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(client.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
            assertEquals(0, client.exitValue(), output);
            assertTrue(output.contains("answer: greeter 0.1.0: hello module path"), output);
        } finally {
            server.destroy();
            server.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
        }
    }
}
