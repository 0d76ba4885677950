package org.wharf.endpoints;

import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.wharf.transport.tck.Await;
import org.wharf.transport.nio.internal.NioEventLoopGroup;
import org.wharf.transport.nio.internal.NioSettings;
import org.wharf.transport.nio.internal.NioTcpProvider;
import org.wharf.transport.nio.internal.NioUdpProvider;
import org.wharf.transport.nio.internal.Resolver;

/** Real NIO transports for the endpoint tests, and waiting helpers. */
final class Loops implements AutoCloseable {

    final NioEventLoopGroup group = new NioEventLoopGroup(new NioSettings(2, 64 * 1024,
            NioSettings.DEFAULT.writeBufferLimits()));
    final Resolver resolver = new Resolver();
    final NioTcpProvider tcp = new NioTcpProvider(group, resolver);
    final NioUdpProvider udp = new NioUdpProvider(group, resolver);

    static <T> T await(CompletionStage<T> stage) {
        return Await.await(stage);
    }

    static Throwable failure(CompletionStage<?> stage) {
        return Await.failure(stage);
    }

    static void awaitTrue(BooleanSupplier condition, String what) {
        Await.awaitTrue(condition, what);
    }

    @Override
    public void close() throws Exception {
        group.shutdown().get(10, TimeUnit.SECONDS);
        resolver.shutdown();
    }
}
