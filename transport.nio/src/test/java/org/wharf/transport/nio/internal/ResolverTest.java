package org.wharf.transport.nio.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;

import org.junit.jupiter.api.Test;
import org.wharf.transport.api.ConnectOptions;
import org.wharf.transport.api.Connected;
import org.wharf.transport.api.Transport;
import org.wharf.transport.api.TransportTimeoutError;
import org.wharf.transport.tck.Await;
import org.wharf.transport.tck.RecordingProtocol;

/** Name lookups for connects: never on an event loop, and within the connect's timeout. */
class ResolverTest {

    @Test
    void aLookupThreadInheritsNeitherTheCallersThreadLocalsNorItsClassLoader() throws Exception {
        InheritableThreadLocal<String> bundleState = new InheritableThreadLocal<>();
        CompletableFuture<String> seen = new CompletableFuture<>();
        Resolver resolver = new Resolver(name -> {
            seen.complete(bundleState.get() + " " + Thread.currentThread().getContextClassLoader());
            return new InetAddress[] {InetAddress.getLoopbackAddress()};
        });
        try {
            // The first lookup makes the thread, from a caller with its own thread local and loader.
            ClassLoader callers = new java.net.URLClassLoader(new java.net.URL[0]);
            CompletableFuture<List<InetSocketAddress>> resolved = new CompletableFuture<>();
            Thread caller = new Thread(() -> {
                bundleState.set("the caller's");
                Thread.currentThread().setContextClassLoader(callers);
                resolver.resolve(InetSocketAddress.createUnresolved("host.example", 80)).whenComplete((a, e) -> {
                    if (e != null) {
                        resolved.completeExceptionally(e);
                    } else {
                        resolved.complete(a);
                    }
                });
            });
            caller.start();
            Await.await(resolved);
            assertEquals("null null", Await.await(seen), "thread local and context class loader of the lookup thread");
        } finally {
            resolver.shutdown();
        }
    }

    @Test
    void connectsFromALoopToNamesADeadDnsNeverAnswersFailAtTheirTimeoutAndNoLookupRunsOnTheLoop() throws Exception {
        CountDownLatch dnsAnswers = new CountDownLatch(1);
        Set<String> lookupThreads = ConcurrentHashMap.newKeySet();
        Resolver resolver = new Resolver(name -> {
            lookupThreads.add(Thread.currentThread().getName());
            try {
                dnsAnswers.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new InetAddress[] {InetAddress.getLoopbackAddress()};
        });
        NioEventLoopGroup group = new NioEventLoopGroup("resolver-test", new NioSettings(1, 16 * 1024,
                NioSettings.DEFAULT.writeBufferLimits()));
        try {
            NioTcpProvider tcp = new NioTcpProvider(group, resolver);
            ConnectOptions options = ConnectOptions.DEFAULT.withTimeout(Duration.ofMillis(300));
            // Ten connects made on the loop (as a gateway's or a pool's are), more than the resolver's threads.
            CompletableFuture<List<CompletionStage<Connected<Transport, RecordingProtocol>>>> made = new CompletableFuture<>();
            group.next().execute(() -> {
                List<CompletionStage<Connected<Transport, RecordingProtocol>>> connects = new ArrayList<>();
                for (int i = 0; i < 10; i++) {
                    connects.add(tcp.connect(InetSocketAddress.createUnresolved("host" + i + ".example", 6379), options,
                            RecordingProtocol::new));
                }
                made.complete(connects);
            });
            for (CompletionStage<Connected<Transport, RecordingProtocol>> c : Await.await(made)) {
                Throwable error = Await.failure(c);
                assertInstanceOf(TransportTimeoutError.class, error);
                assertTrue(error.getMessage().contains("timed out after 300 ms (looking its name up)"), error.getMessage());
            }
            assertTrue(lookupThreads.stream().allMatch(t -> t.startsWith("wharf-resolver-")),
                    "lookups ran on " + lookupThreads);
            assertEquals(4, lookupThreads.size(), "four lookup threads, the other lookups waiting: " + lookupThreads);
        } finally {
            dnsAnswers.countDown();
            group.shutdown().get();
            resolver.shutdown();
        }
    }
}
