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
}
