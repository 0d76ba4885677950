package org.wharf.protocol.proxy.internal;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import org.wharf.protocol.api.HealthProbe;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.StreamTransportProvider;
import org.wharf.transport.api.TimerHandle;
import org.wharf.transport.api.Transport;
import org.wharf.transport.api.TransportError;

/**
 * How a route checks an upstream ({@value Route#HEALTH_CHECK}): a connection over the route's
 * transport and options (a TLS handshake for {@code ssl}), or, through a {@link HealthProbe}, a
 * request in a protocol answered within the connect timeout and in at most
 * {@value Route#HEALTH_MAX_BYTES} bytes: with {@code protocol}, the probe named as the route's
 * {@value Route#PROTOCOL} ({@code redis}: PING, {@code http}: HEAD /, both the gateway's own);
 * with {@code probe}, the one {@value Route#HEALTH_PROBE} names. A server that accepts
 * connections but no longer answers is caught only by a probe. While the probe is not
 * registered, checks connect (and the route says so once).
 */
final class HealthCheck {

    /** What a check asks of an upstream. */
    enum Kind {
        /** That it takes a connection. */
        CONNECT,
        /** That it answers a request of the route's protocol (the probe of that name). */
        PROTOCOL,
        /** That it satisfies the probe {@value Route#HEALTH_PROBE} names. */
        PROBE
    }

    private HealthCheck() {
    }

    /**
     * The route's check.
     *
     * @param route the route (its transport, options, protocol and kind of check)
     * @param services where the transport and the probes come from
     * @return connects to an upstream once and completes when it passed, or fails with why not
     */
    static Function<Route.Upstream, CompletionStage<?>> of(Route route, ProxyServices services) {
        return u -> {
            StreamTransportProvider provider = services.transport(route.transport());
            if (provider == null) {
                return CompletableFuture.failedFuture(new TransportError("no " + route.transport()
                        + " transport provider is available", null));
            }
            String name = route.probeName();
            HealthProbe probe = name == null ? null : services.probe(name);
            if (name != null) {
                route.probeAvailable(probe != null);
            }
            if (probe == null) {
                return provider.connect(u.address, route.connectOptions(), Quiet::new)
                        .thenAccept(c -> c.transport().close());
            }
            Checking checking = new Checking(route, u, name, probe);
            provider.connect(u.address, route.connectOptions(), () -> checking).whenComplete((c, e) -> {
                if (e != null) {
                    checking.result.completeExceptionally(e);
                }
            });
            return checking.result;
        };
    }

    /** The protocol of a connect check: it only needs to be made. */
    private static final class Quiet implements Protocol {
        @Override
        public void connectionMade(Transport transport) {
        }

        @Override
        public void dataReceived(ByteBuffer data) {
        }

        @Override
        public void connectionLost(Throwable cause) {
        }
    }

    /**
     * One check connection: the probe's protocol inside the gateway's bounds. It hands the
     * probe at most the route's byte limit, fails the check at the deadline or when the
     * connection ends without a verdict, and closes the connection once there is one.
     */
    private static final class Checking implements Protocol, HealthProbe.Check {
        final CompletableFuture<Void> result = new CompletableFuture<>();
        private final Route route;
        private final Route.Upstream upstream;
        private final String name;
        private final HealthProbe probe;
        private volatile Transport transport;
        private volatile TimerHandle timer;
        private Protocol inner;
        private long read;

        Checking(Route route, Route.Upstream upstream, String name, HealthProbe probe) {
            this.route = route;
            this.upstream = upstream;
            this.name = name;
            this.probe = probe;
        }

        @Override
        public InetSocketAddress upstream() {
            return upstream.address;
        }

        @Override
        public String endpoint() {
            return route.endpoint();
        }

        @Override
        public Map<String, Object> properties() {
            return Collections.unmodifiableMap(route.properties());
        }

        @Override
        public void healthy() {
            done(null);
        }

        @Override
        public void unhealthy(String reason) {
            done(reason + " (probe " + name + ")");
        }

        @Override
        public void connectionMade(Transport t) {
            transport = t;
            long millis = route.connectOptions().timeout().toMillis();
            timer = t.loop().schedule(() -> done("no answer within " + millis + " ms"), millis, TimeUnit.MILLISECONDS);
            try {
                inner = probe.newCheck(this);
                inner.connectionMade(t);
            } catch (RuntimeException e) {
                failed(e);
            }
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            if (result.isDone() || inner == null) {
                return;
            }
            long allowed = route.healthMaxBytes() - read;
            int n = (int) Math.min(data.remaining(), allowed);
            read += n;
            try {
                inner.dataReceived(n == data.remaining() ? data : data.slice(data.position(), n));
            } catch (RuntimeException e) {
                failed(e);
            }
            if (read >= route.healthMaxBytes()) {
                done("answered " + read + " bytes without a verdict (" + Route.HEALTH_MAX_BYTES + " = "
                        + route.healthMaxBytes() + ", probe " + name + ")");
            }
        }

        @Override
        public boolean eofReceived() {
            if (inner != null && !result.isDone()) {
                try {
                    inner.eofReceived(); // a probe may judge an answer that ends with the connection
                } catch (RuntimeException e) {
                    failed(e);
                }
            }
            done("closed the connection without answering");
            return false;
        }

        @Override
        public void pauseWriting() {
            if (inner != null) {
                inner.pauseWriting();
            }
        }

        @Override
        public void resumeWriting() {
            if (inner != null) {
                inner.resumeWriting();
            }
        }

        @Override
        public void connectionLost(Throwable cause) {
            done(cause == null ? "closed the connection without answering" : cause.getMessage());
            if (inner != null) {
                try {
                    inner.connectionLost(cause);
                } catch (RuntimeException e) {
                    // the verdict is in; the probe's cleanup failing changes nothing
                }
            }
        }

        private void failed(RuntimeException e) {
            done("could not be checked: probe " + name + " failed: " + e);
        }

        /** The first verdict counts: completes the check and closes its connection. */
        private void done(String problem) {
            boolean first = problem == null ? result.complete(null)
                    : result.completeExceptionally(new TransportError("upstream " + upstream + " " + problem, null));
            if (!first) {
                return;
            }
            TimerHandle t = timer;
            if (t != null) {
                t.cancel();
            }
            Transport connection = transport;
            if (connection != null) {
                connection.close();
            }
        }
    }
}
