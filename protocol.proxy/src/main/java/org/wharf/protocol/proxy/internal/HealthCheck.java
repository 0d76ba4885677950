package org.wharf.protocol.proxy.internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.StreamTransportProvider;
import org.wharf.transport.api.TimerHandle;
import org.wharf.transport.api.Transport;
import org.wharf.transport.api.TransportError;

/**
 * How a route checks an upstream ({@value Route#HEALTH_CHECK}): a connection over the route's
 * transport and options (a TLS handshake for {@code ssl}), or, with {@code protocol}, a request
 * in the route's own protocol that must be answered within the connect timeout: {@code PING}
 * answered by anything but an error for {@code redis}, {@code HEAD /} answered below 500 for
 * {@code http}. A server that accepts connections but no longer answers is caught only by the
 * second.
 */
final class HealthCheck {

    /** What a check asks of an upstream. */
    enum Kind {
        /** That it takes a connection. */
        CONNECT,
        /** That it answers a request of the route's protocol. */
        PROTOCOL
    }

    private HealthCheck() {
    }

    /**
     * The route's check.
     *
     * @param route the route (its transport, options, protocol and kind of check)
     * @param services where the transport comes from
     * @return connects to an upstream once and completes when it passed, or fails with why not
     */
    static Function<Route.Upstream, CompletionStage<?>> of(Route route, ProxyServices services) {
        return u -> {
            StreamTransportProvider provider = services.transport(route.transport());
            if (provider == null) {
                return CompletableFuture.failedFuture(new TransportError("no " + route.transport()
                        + " transport provider is available", null));
            }
            if (route.healthCheck() == Kind.CONNECT || route.application() == Route.Application.TCP) {
                return provider.connect(u.address, route.connectOptions(), Quiet::new)
                        .thenAccept(c -> c.transport().close());
            }
            Probe probe = new Probe(route, u);
            provider.connect(u.address, route.connectOptions(), () -> probe).whenComplete((c, e) -> {
                if (e != null) {
                    probe.result.completeExceptionally(e);
                }
            });
            return probe.result;
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

    /** Asks once, reads the first line of the answer, decides, closes. */
    private static final class Probe implements Protocol {
        final CompletableFuture<Void> result = new CompletableFuture<>();
        private final Route route;
        private final Route.Upstream upstream;
        private final ByteBuffer answer = ByteBuffer.allocate(512);
        private Transport transport;
        private TimerHandle timer;

        Probe(Route route, Route.Upstream upstream) {
            this.route = route;
            this.upstream = upstream;
        }

        @Override
        public void connectionMade(Transport t) {
            transport = t;
            String request = route.application() == Route.Application.REDIS ? "*1\r\n$4\r\nPING\r\n"
                    : "HEAD / HTTP/1.1\r\nHost: " + upstream + "\r\nUser-Agent: wharf-health-check\r\n"
                            + "Connection: close\r\n\r\n";
            t.write(ByteBuffer.wrap(request.getBytes(StandardCharsets.US_ASCII)));
            long millis = route.connectOptions().timeout().toMillis();
            timer = t.loop().schedule(() -> done("no answer within " + millis + " ms"), millis, TimeUnit.MILLISECONDS);
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            int n = Math.min(data.remaining(), answer.remaining());
            answer.put(data.duplicate().limit(data.position() + n));
            int end = -1;
            for (int i = 0; i + 1 < answer.position(); i++) {
                if (answer.get(i) == '\r' && answer.get(i + 1) == '\n') {
                    end = i;
                    break;
                }
            }
            if (end < 0) {
                if (!answer.hasRemaining()) {
                    done("an answer whose first line is longer than " + answer.capacity() + " bytes");
                }
                return;
            }
            String line = new String(answer.array(), 0, end, StandardCharsets.US_ASCII);
            done(judge(line));
        }

        /** What is wrong with the first line of the answer, or null if nothing is. */
        private String judge(String line) {
            if (route.application() == Route.Application.REDIS) {
                return line.startsWith("-") ? "answered PING with " + line : null;
            }
            String[] parts = line.split(" ", 3);
            if (parts.length < 2 || !parts[0].startsWith("HTTP/1.") || !parts[1].matches("\\d{3}")) {
                return "answered HEAD / with '" + line + "'";
            }
            return Integer.parseInt(parts[1]) >= 500 ? "answered HEAD / with " + parts[1] : null;
        }

        @Override
        public boolean eofReceived() {
            done("closed the connection without answering");
            return false;
        }

        @Override
        public void connectionLost(Throwable cause) {
            done(cause == null ? "closed the connection without answering" : cause.getMessage());
        }

        private void done(String problem) {
            if (result.isDone()) {
                return;
            }
            if (timer != null) {
                timer.cancel();
            }
            if (problem == null) {
                result.complete(null);
            } else {
                result.completeExceptionally(new TransportError("upstream " + upstream + " " + problem, null));
            }
            transport.close();
        }
    }
}
