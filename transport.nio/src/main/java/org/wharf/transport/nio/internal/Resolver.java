package org.wharf.transport.nio.internal;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.wharf.transport.api.TransportError;

/**
 * Resolves host names off the event loops (the JDK's resolver blocks), on a few daemon
 * threads that exist only while there is work. Never on the caller's thread: lookups past
 * the threads wait in a bounded queue, and past that they fail at once, so a slow or dead DNS
 * server never blocks an event loop.
 */
public class Resolver {

    /** Lookups that may wait for a thread; more fail at once. */
    static final int MAX_WAITING = 1024;
    private static final AtomicInteger THREADS = new AtomicInteger();

    private final ThreadPoolExecutor executor = new ThreadPoolExecutor(4, 4, 10, TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(MAX_WAITING), Resolver::newThread, new ThreadPoolExecutor.AbortPolicy());

    /**
     * A lookup thread holds nothing of the caller whose lookup made it (a protocol bundle's
     * connect, say): no context class loader, no inherited thread locals, and, made in a
     * privileged block, no access control context with the caller's protection domains (and so
     * class loaders) for as long as it runs.
     */
    @SuppressWarnings("removal")
    private static Thread newThread(Runnable r) {
        return java.security.AccessController.doPrivileged((java.security.PrivilegedAction<Thread>) () -> {
            Thread t = new Thread(null, r, "wharf-resolver-" + THREADS.incrementAndGet(), 0, false);
            t.setDaemon(true);
            t.setContextClassLoader(null);
            return t;
        });
    }

    /** Looks a name up: the JDK's resolver, or a test's. */
    private final java.util.function.Function<String, InetAddress[]> names;

    {
        executor.allowCoreThreadTimeOut(true);
    }

    /** A resolver on the JDK's {@link InetAddress#getAllByName}. */
    public Resolver() {
        this(name -> {
            try {
                return InetAddress.getAllByName(name);
            } catch (UnknownHostException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    /** A resolver with its own lookup (throwing {@link java.io.UncheckedIOException} for an unknown name), for tests. */
    Resolver(java.util.function.Function<String, InetAddress[]> names) {
        this.names = names;
    }

    /**
     * Every address of the host, or the address itself when already resolved.
     *
     * @return completes with the addresses, or fails with {@link TransportError}
     */
    public CompletableFuture<List<InetSocketAddress>> resolve(InetSocketAddress address) {
        if (!address.isUnresolved()) {
            return CompletableFuture.completedFuture(List.of(address));
        }
        try {
            return lookup(address);
        } catch (RejectedExecutionException e) {
            return CompletableFuture.failedFuture(new TransportError("cannot resolve host " + address.getHostString()
                    + ": " + (executor.isShutdown() ? "the resolver is shut down" : MAX_WAITING
                    + " lookups wait already (is DNS answering?)"), e));
        }
    }

    private CompletableFuture<List<InetSocketAddress>> lookup(InetSocketAddress address) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                List<InetSocketAddress> all = new ArrayList<>();
                for (InetAddress a : names.apply(address.getHostString())) {
                    all.add(new InetSocketAddress(a, address.getPort()));
                }
                return all;
            } catch (java.io.UncheckedIOException e) {
                throw new TransportError("cannot resolve host " + address.getHostString() + ": "
                        + e.getCause().getMessage(), e.getCause());
            }
        }, executor);
    }

    /** Ends the resolver threads. */
    public void shutdown() {
        executor.shutdownNow();
    }
}
