package org.wharf.endpoints;

import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

import org.wharf.transport.nio.internal.Log;
import org.wharf.transport.nio.internal.NioEventLoopGroup;
import org.wharf.transport.nio.internal.NioSettings;
import org.wharf.transport.nio.internal.NioTcpProvider;
import org.wharf.transport.nio.internal.NioUdpProvider;
import org.wharf.transport.nio.internal.Resolver;

/** Real NIO transports for the endpoint tests, and waiting helpers. */
final class Loops implements AutoCloseable {

    final NioEventLoopGroup group = new NioEventLoopGroup(new NioSettings(2, 64 * 1024,
            NioSettings.DEFAULT.writeBufferLimits()), Log.SYSTEM);
    final Resolver resolver = new Resolver();
    final NioTcpProvider tcp = new NioTcpProvider(group, resolver);
    final NioUdpProvider udp = new NioUdpProvider(group, resolver);

    static <T> T await(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError("failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException | InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    static Throwable failure(CompletionStage<?> stage) {
        try {
            Object r = stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
            throw new AssertionError("expected a failure, got " + r);
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (TimeoutException | InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    static void awaitTrue(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 30 s: " + what);
            }
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
    }

    @Override
    public void close() throws Exception {
        group.shutdown().get(10, TimeUnit.SECONDS);
        resolver.shutdown();
    }
}
