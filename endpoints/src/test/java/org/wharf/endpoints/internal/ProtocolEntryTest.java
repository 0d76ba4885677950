package org.wharf.endpoints.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Version;
import org.wharf.protocol.api.ProtocolFactory;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.Settings;
import org.wharf.transport.api.Transport;

/**
 * Which protocol a configuration gets (ranking, then version, then the newest registration),
 * what a factory serves, and the gate that keeps new connections away from a departing factory.
 */
class ProtocolEntryTest {

    private static final Protocol NOTHING = new Protocol() {
        @Override
        public void connectionMade(Transport transport) {
        }

        @Override
        public void dataReceived(java.nio.ByteBuffer data) {
        }

        @Override
        public void connectionLost(Throwable cause) {
        }
    };

    private static ProtocolEntry entry(long id, String name, String version, int ranking, ProtocolEntry.Kind kind) {
        Map<String, Object> properties = new HashMap<>();
        properties.put(ProtocolFactory.NAME_PROPERTY, name);
        properties.put(ProtocolFactory.VERSION_PROPERTY, version);
        properties.put("service.id", id);
        if (ranking != 0) {
            properties.put("service.ranking", ranking);
        }
        return new ProtocolEntry(id, kind, null, properties, name, Version.parseVersion(version),
                ProtocolEntry.transports(kind, null), "test");
    }

    private static ProtocolSelector selector(String protocol) {
        return ProtocolSelector.of(Settings.of(Map.of("protocol", protocol)));
    }

    @Test
    void rankingWinsOverVersionAndVersionOverRegistration() {
        ProtocolEntry old = entry(1, "greeter", "1.0.0", 0, ProtocolEntry.Kind.STREAM);
        ProtocolEntry newer = entry(2, "greeter", "2.0.0", 0, ProtocolEntry.Kind.STREAM);
        ProtocolEntry pinned = entry(3, "greeter", "1.5.0", 10, ProtocolEntry.Kind.STREAM);
        ProtocolEntry again = entry(4, "greeter", "2.0.0", 0, ProtocolEntry.Kind.STREAM);
        ProtocolEntry other = entry(5, "echo", "9.0.0", 99, ProtocolEntry.Kind.STREAM);
        ProtocolSelector greeter = selector("greeter");
        assertSame(newer, greeter.best(List.of(old, newer, other), "tcp").orElseThrow(), "the higher version");
        assertSame(again, greeter.best(List.of(old, newer, again), "tcp").orElseThrow(),
                "of equal versions, the newest registration");
        assertSame(pinned, greeter.best(List.of(old, newer, pinned, again, other), "tcp").orElseThrow(),
                "a higher service.ranking wins over a higher version");
        assertSame(old, selector("(&(wharf.protocol.name=greeter)(wharf.protocol.version<=1.2))")
                .best(List.of(old, newer, pinned), "tcp").orElseThrow(), "a filter pins a version range");
    }

    @Test
    void aFactoryServesTheKindsOfItsInterfaceAndThePropertyOnlyNarrowsThem() {
        assertEquals(List.of("tcp", "ssl"), ProtocolEntry.transports(ProtocolEntry.Kind.STREAM, null));
        assertEquals(List.of("tcp", "ssl"), ProtocolEntry.transports(ProtocolEntry.Kind.STREAM, new String[0]));
        assertEquals(List.of("udp"), ProtocolEntry.transports(ProtocolEntry.Kind.DATAGRAM, ""));
        assertEquals(List.of("tcp"), ProtocolEntry.transports(ProtocolEntry.Kind.STREAM, "tcp"));
        assertEquals(List.of("tcp"), ProtocolEntry.transports(ProtocolEntry.Kind.STREAM, new String[] {"tcp", "udp"}),
                "a stream factory cannot claim udp");
        assertEquals(List.of(), ProtocolEntry.transports(ProtocolEntry.Kind.DATAGRAM, "tcp, ssl"),
                "a datagram factory narrowed to stream kinds serves nothing");

        ProtocolEntry stream = entry(1, "echo", "1.0.0", 0, ProtocolEntry.Kind.STREAM);
        ProtocolEntry datagram = entry(1, "echo", "1.0.0", 0, ProtocolEntry.Kind.DATAGRAM);
        ProtocolSelector echo = selector("echo");
        assertSame(datagram, echo.best(List.of(stream, datagram), "udp").orElseThrow());
        assertSame(stream, echo.best(List.of(stream, datagram), "ssl").orElseThrow());
    }

    @Test
    void theServiceObjectIsGotForTheFirstUserAndGivenBackByTheLast() {
        AtomicInteger gets = new AtomicInteger();
        AtomicInteger ungets = new AtomicInteger();
        ProtocolEntry e = entry(1, "greeter", "1.0.0", 0, ProtocolEntry.Kind.STREAM);
        BundleContext context = context(c -> NOTHING, gets, ungets);
        assertThrows(IllegalStateException.class, () -> e.newProtocol(null, () -> null), "not used: not got");
        assertTrue(e.acquire(context));
        assertTrue(e.acquire(context));
        assertEquals(1, gets.get(), "got once for both users");
        e.release(context);
        assertEquals(0, ungets.get(), "one user left");
        assertSame(NOTHING, e.newProtocol(null, () -> null));
        e.release(context);
        assertEquals(1, ungets.get(), "the last user gives it back, so its component can deactivate");
        e.release(context);
        assertEquals(1, ungets.get(), "an extra release is harmless");
    }

    @Test
    void afterDepartureNoCallReachesTheFactoryAndDepartureWaitsForTheCallInFlight() throws Exception {
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch proceed = new CountDownLatch(1);
        AtomicInteger calls = new AtomicInteger();
        ProtocolEntry e = entry(1, "greeter", "1.0.0", 0, ProtocolEntry.Kind.STREAM);
        BundleContext context = context(c -> {
            calls.incrementAndGet();
            inside.countDown();
            try {
                proceed.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
            }
            return NOTHING;
        }, new AtomicInteger(), new AtomicInteger());
        assertTrue(e.acquire(context));
        CompletableFuture<Protocol> inFlight = CompletableFuture.supplyAsync(() -> e.newProtocol(null, () -> null));
        assertTrue(inside.await(30, TimeUnit.SECONDS));
        CompletableFuture<Void> departed = CompletableFuture.runAsync(e::depart);
        // The departure cannot complete while a call is inside the factory: it waits for it.
        assertThrows(java.util.concurrent.TimeoutException.class, () -> departed.get(200, TimeUnit.MILLISECONDS));
        proceed.countDown();
        assertSame(NOTHING, inFlight.get(30, TimeUnit.SECONDS));
        departed.get(30, TimeUnit.SECONDS);
        assertNull(e.newProtocol(null, () -> null), "after departure: the fallback, not the factory");
        assertEquals(1, calls.get());
        assertFalse(departed.isCompletedExceptionally());
    }

    /** A factory that claims every connection starting with 'A', and makes NOTHING. */
    interface Detector extends ProtocolFactory, org.wharf.protocol.api.FirstBytes {
    }

    @Test
    void aDepartedFactoryNoLongerMatchesFirstBytesAndOneWithoutADetectorNeverDoes() {
        ProtocolEntry e = entry(1, "a", "1.0.0", 0, ProtocolEntry.Kind.STREAM);
        Detector detector = new Detector() {
            @Override
            public Protocol newProtocol(org.wharf.protocol.api.ProtocolContext context) {
                return NOTHING;
            }

            @Override
            public Match match(org.wharf.protocol.api.ProtocolContext context, java.nio.ByteBuffer first) {
                return first.get(first.position()) == 'A' ? Match.MATCH : Match.NO;
            }
        };
        BundleContext context = (BundleContext) Proxy.newProxyInstance(BundleContext.class.getClassLoader(),
                new Class<?>[] {BundleContext.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "getService" -> detector;
                    case "ungetService" -> true;
                    default -> throw new UnsupportedOperationException(method.getName());
                });
        assertTrue(e.acquire(context));
        java.nio.ByteBuffer first = java.nio.ByteBuffer.wrap(new byte[] {'A'});
        assertEquals(org.wharf.protocol.api.FirstBytes.Match.MATCH, e.firstBytes(null, first));
        e.depart();
        assertEquals(org.wharf.protocol.api.FirstBytes.Match.NO, e.firstBytes(null, first),
                "once its unregistration began, a factory claims nothing");

        ProtocolEntry plain = entry(2, "greeter", "1.0.0", 0, ProtocolEntry.Kind.STREAM);
        assertTrue(plain.acquire(context(c -> NOTHING, new AtomicInteger(), new AtomicInteger())));
        assertFalse(plain.detects());
        assertEquals(org.wharf.protocol.api.FirstBytes.Match.NO, plain.firstBytes(null, first));
    }

    /** A bundle context whose only service is a stream factory answering with {@code make}. */
    private static BundleContext context(java.util.function.Function<Object, Protocol> make, AtomicInteger gets,
            AtomicInteger ungets) {
        ProtocolFactory factory = make::apply;
        return (BundleContext) Proxy.newProxyInstance(BundleContext.class.getClassLoader(),
                new Class<?>[] {BundleContext.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "getService" -> {
                        gets.incrementAndGet();
                        yield factory;
                    }
                    case "ungetService" -> {
                        ungets.incrementAndGet();
                        yield true;
                    }
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }
}
