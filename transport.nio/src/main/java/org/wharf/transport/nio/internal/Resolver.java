package org.wharf.transport.nio.internal;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.wharf.transport.api.TransportError;

/**
 * Resolves host names off the event loops (the JDK's resolver blocks), on a few daemon
 * threads that exist only while there is work.
 */
public class Resolver {

    private static final AtomicInteger THREADS = new AtomicInteger();

    private final ThreadPoolExecutor executor = new ThreadPoolExecutor(0, 4, 10, TimeUnit.SECONDS,
            new SynchronousQueue<>(), r -> {
                Thread t = new Thread(r, "wharf-resolver-" + THREADS.incrementAndGet());
                t.setDaemon(true);
                t.setContextClassLoader(null);
                return t;
            }, new ThreadPoolExecutor.CallerRunsPolicy());

    /**
     * Every address of the host, or the address itself when already resolved.
     *
     * @return completes with the addresses, or fails with {@link TransportError}
     */
    public CompletableFuture<List<InetSocketAddress>> resolve(InetSocketAddress address) {
        if (!address.isUnresolved()) {
            return CompletableFuture.completedFuture(List.of(address));
        }
        return CompletableFuture.supplyAsync(() -> {
            try {
                List<InetSocketAddress> all = new ArrayList<>();
                for (InetAddress a : InetAddress.getAllByName(address.getHostString())) {
                    all.add(new InetSocketAddress(a, address.getPort()));
                }
                return all;
            } catch (UnknownHostException e) {
                throw new TransportError("cannot resolve host " + address.getHostString() + ": " + e.getMessage(), e);
            }
        }, executor);
    }

    /** Ends the resolver threads. */
    public void shutdown() {
        executor.shutdownNow();
    }
}
