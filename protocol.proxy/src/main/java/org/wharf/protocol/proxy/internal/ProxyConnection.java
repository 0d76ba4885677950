package org.wharf.protocol.proxy.internal;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;

import org.wharf.endpoints.api.PoolExhaustedError;
import org.wharf.endpoints.api.PooledConnection;
import org.wharf.protocol.api.IdleTimer;
import org.wharf.transport.api.Connected;
import org.wharf.transport.api.ExtraInfo;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.StreamTransportProvider;
import org.wharf.transport.api.Transport;
import org.wharf.transport.api.TransportError;

/**
 * One client connection and the upstream connection made for it. Bytes go across both
 * ways; a leg that cannot keep up pauses reading on the other (pauseWriting on one transport
 * is pauseReading on its peer), so nothing is buffered beyond the transports' write limits;
 * end of input becomes writeEof on the other leg; a leg that fails (a reset, an I/O or TLS
 * error) resets the other.
 *
 * <p>On a pooled route the upstream connection outlives its client, so it never sees the
 * client's end of input, and it goes back to the pool only when the route's {@link Exchange}
 * has seen every request answered in full; otherwise it is closed. A client that ends its
 * input while answers are owed still gets them, and is closed after the last; once the
 * exchange is unsafe the upstream connection is this client's alone, and ends as on an
 * unpooled route.
 *
 * <p>A route by server name that terminates TLS ({@code proxy.sni.NAME.tls.*}) starts TLS on
 * the accepted connection over the ClientHello already read (the {@code ssl} provider's
 * {@link StreamTransportProvider#startTls}): this protocol stays the connection's and hands its
 * callbacks to the TLS layer, and once the handshake is done the client leg is the TLS
 * transport, whose plain bytes go upstream.
 *
 * <p>Everything runs on the client connection's loop. The upstream connection is asked to
 * run on the same loop; when its provider cannot do that, its callbacks are handed over.
 */
final class ProxyConnection implements Protocol {

    private final Route route;
    private final ProxyServices services;
    private static final System.Logger LOG = System.getLogger("org.wharf.protocol.proxy");
    /** One line per connection, under its own name so a logging back end can give it its own file. */
    static final System.Logger ACCESS = System.getLogger("org.wharf.access");

    private Transport client;
    private Transport upstream;
    private Route.Upstream target;
    private List<Route.Upstream> candidates;
    private int attempt;
    private final ArrayDeque<ByteBuffer> early = new ArrayDeque<>(2);
    private boolean clientEof;
    private boolean upstreamEof;
    private boolean clientGone;
    /** connectionMade came: the connection counts for its route until clientLost. */
    private boolean opened;
    private boolean upstreamGone;
    /** The pooled upstream connection held, in pooled mode. */
    private PooledConnection<PooledLeg> pooled;
    /** What this client asked and what came back, in pooled mode; {@code null} otherwise. */
    private final Exchange exchange;
    /** The client's end of input went to the pooled upstream connection, which is closed at the end. */
    private boolean dedicated;
    /** Bytes moved either way, for the idle timer. */
    private long moved;
    private IdleTimer idleTimer;
    /** When the client connection was made, for the access log. */
    private long started;
    /** How the connection ended, for the access log: the first reason known wins. */
    private String end;
    /** The last upstream tried, for the access log when none took the connection. */
    private Route.Upstream tried;

    ProxyConnection(Route route, ProxyServices services) {
        this.route = route;
        this.services = services;
        this.exchange = route.pooled() ? route.newExchange() : null;
        this.transportWhenMade = services.transport(route.transport());
    }

    /**
     * The upstream transport when the proxy took the connection: used if the proxy's own
     * reference to it is gone by the time it connects. SCR unbinds a deactivating component's
     * references right after its service unregisters (the proxy bundle updated), and a
     * connection the old component took a moment before connects after that.
     */
    private final StreamTransportProvider transportWhenMade;

    // ---- the client leg ----

    @Override
    public void connectionMade(Transport t) {
        client = t;
        opened = true;
        route.clientOpened();
        route.counters.active.incrementAndGet();
        started = System.nanoTime();
        client.pauseReading(); // until an upstream takes the connection
        route.counters.connections.increment();
        Duration idle = route.idleTimeout();
        if (idle != null) {
            idleTimer = IdleTimer.start(client.loop(), idle, () -> moved, this::idle);
        }
        route.startActiveChecks(client.loop(), HealthCheck.of(route, services)); // with the route's first connection
        if (route.routesByName()) {
            // Where it goes depends on its first bytes: read them (a copy is kept) before connecting.
            firstBytes = ByteBuffer.allocate(Math.min(1024, route.sniMaxBytes()));
            helloReader = new ClientHello.Reader(route.sniMaxBytes());
            firstBytesTimer = client.loop().schedule(this::firstBytesTimedOut, route.sniTimeout().toNanos(),
                    java.util.concurrent.TimeUnit.NANOSECONDS);
            client.resumeReading();
            return;
        }
        if (route.pooled() && route.anyUp()) { // (none up: refused at once below, as ever)
            // Redis and HTTP clients speak first: the upstream is chosen, and its pooled connection
            // taken, with the first bytes, so clients that only hold connections open take none.
            acquireWithFirstBytes = true;
            client.resumeReading();
            return;
        }
        candidates = route.candidates();
        connectNext(null);
    }

    /** A pooled route's client that has sent nothing yet; see {@link #connectionMade}. */
    private boolean acquireWithFirstBytes;

    /** The first bytes, while the route waits for them to choose upstreams; null once chosen. */
    private ByteBuffer firstBytes;
    /** Reads {@link #firstBytes} as they come; null once the route is chosen. */
    private ClientHello.Reader helloReader;
    private org.wharf.transport.api.TimerHandle firstBytesTimer;
    /** The server name a routed TLS connection asked for, for the access log. */
    private String serverName;
    /** The ALPN protocol whose route took the connection, for the access log; null if none did. */
    private String alpn;
    /** The TLS layer the accepted connection's callbacks go to, once the gateway terminates its TLS; else null. */
    private Protocol tlsLayer;
    /** The TLS handshake of a terminated connection completed: {@link #client} is the TLS transport. */
    private boolean terminated;

    /** Reads the first bytes so far; once they tell where the connection goes, connects there. */
    private void route(ByteBuffer data) {
        if (firstBytes.remaining() < data.remaining()) {
            int size = Math.min(route.sniMaxBytes(), Math.max(firstBytes.capacity() * 2,
                    firstBytes.position() + data.remaining()));
            firstBytes = ByteBuffer.allocate(size).put(firstBytes.flip());
        }
        firstBytes.put(data.duplicate().limit(data.position() + Math.min(data.remaining(), firstBytes.remaining())));
        ClientHello hello = helloReader.read(firstBytes.duplicate().flip());
        switch (hello.kind) {
            case MORE -> {
                if (!firstBytes.hasRemaining()) {
                    refuseFirstBytes("no ClientHello within " + route.sniMaxBytes() + " bytes (" + Route.SNI_MAX_BYTES
                            + ")");
                }
            }
            case MALFORMED -> refuseFirstBytes("its first bytes begin a TLS record but no well-formed ClientHello");
            case PLAIN -> chosen(null);
            case TLS -> {
                serverName = hello.serverName;
                chosen(hello);
            }
        }
    }

    /** The first bytes said where the connection goes: a ClientHello, or null for plain text or none. */
    private void chosen(ClientHello hello) {
        firstBytes = null;
        helloReader = null;
        firstBytesTimer.cancel();
        Route.Choice choice = route.choose(hello == null ? null : hello.serverName,
                hello == null ? List.of() : hello.applicationProtocols);
        alpn = choice.alpn();
        candidates = choice.candidates();
        if (choice.terminate() != null && !candidates.isEmpty()) {
            terminate(choice.terminate());
            return;
        }
        client.pauseReading(); // until an upstream takes the connection; what came is in early
        connectNext(null);
    }

    /**
     * Ends the client's TLS here: starts a server handshake on the accepted connection over the
     * bytes read so far (the ClientHello), with the certificate of the name's route. The upstream
     * connection is made once the handshake is done, so a failed one costs no upstream.
     */
    private void terminate(org.wharf.transport.api.TlsOptions options) {
        int size = 0;
        for (ByteBuffer b : early) {
            size += b.remaining();
        }
        ByteBuffer hello = ByteBuffer.allocate(size);
        for (ByteBuffer b; (b = early.poll()) != null;) {
            hello.put(b);
        }
        hello.flip();
        route.counters.bytesToUpstream.add(-size); // handshake bytes: they end here
        StreamTransportProvider ssl = services.transport(org.wharf.transport.api.TransportProvider.SSL);
        if (ssl == null) {
            refuseTls("no ssl transport provider is available to terminate TLS for " + serverName, null);
            return;
        }
        try {
            tlsLayer = ssl.startTls(client, options, hello, Decrypted::new);
        } catch (RuntimeException e) {
            refuseTls("TLS for " + serverName + " could not start: " + e.getMessage(), e);
        }
    }

    private void refuseTls(String why, Throwable error) {
        ended("refused: " + why);
        route.log.log(WARNING, RouteLog.Kind.TLS_REFUSED, () -> "proxy " + route.endpoint() + ": closing the connection from "
                + peer() + ": " + why, error);
        client.abort(error);
    }

    /** Nothing came in time: a client that waits for the server to speak first goes to the default route. */
    private void firstBytesTimedOut() {
        if (firstBytes == null || clientGone) {
            return;
        }
        if (firstBytes.position() == 0) {
            chosen(null);
        } else {
            refuseFirstBytes("no complete ClientHello within " + route.sniTimeout().toMillis() + " ms");
        }
    }

    private void refuseFirstBytes(String why) {
        firstBytes = null;
        helloReader = null;
        firstBytesTimer.cancel();
        ended("refused: " + why);
        LOG.log(System.Logger.Level.DEBUG, () -> "proxy " + route.endpoint() + ": closing the connection from " + peer()
                + ": " + why);
        client.close();
    }

    @Override
    public void dataReceived(ByteBuffer data) {
        if (tlsLayer != null) {
            tlsLayer.dataReceived(data);
            return;
        }
        clientData(data);
    }

    /** The client's bytes: as received, or decrypted when the gateway terminates its TLS. */
    private void clientData(ByteBuffer data) {
        int n = data.remaining();
        route.counters.bytesToUpstream.add(n);
        moved += n;
        if (exchange != null) {
            exchange.fromClient(data); // reads, does not move the buffer
        }
        if (upstream == null) {
            // Reading is paused until connected; this is what came before the pause took (or,
            // routing by name, the first bytes, read and then passed on as they are).
            early.add(ByteBuffer.allocate(n).put(data.duplicate()).flip());
            if (firstBytes != null) {
                route(data);
            } else if (acquireWithFirstBytes) {
                acquireWithFirstBytes = false;
                client.pauseReading();
                candidates = route.candidates(); // which are up, and their open counts, as they are now
                connectNext(null);
            }
        } else if (upstreamWritable()) {
            upstream.writeCopy(data); // the buffer is the client loop's: the transport copies what it must
        }
        // else the upstream leg is gone or going (reset, say) and has not told us yet: its
        // connectionLost, on a later turn of the loop, ends the client; these bytes have nowhere to go.
    }

    @Override
    public boolean eofReceived() {
        if (tlsLayer != null) {
            return tlsLayer.eofReceived();
        }
        return clientEnded();
    }

    /** The client ended its input (a TLS client: with close_notify). */
    private boolean clientEnded() {
        clientEof = true;
        ended("client-eof");
        if (firstBytes != null) {
            refuseFirstBytes("it ended its input before its first bytes said where it goes");
            return false;
        }
        if (exchange != null) {
            exchange.clientEnded();
            return pooledEndOfInput();
        }
        if (upstream != null && upstreamWritable() && upstream.canWriteEof()) {
            upstream.writeEof();
        }
        // Keep sending the upstream's answer until it ends too.
        return upstream != null && !upstreamEof && !upstreamGone;
    }

    @Override
    public void pauseWriting() {
        if (tlsLayer != null) {
            tlsLayer.pauseWriting();
        } else {
            clientPaused();
        }
    }

    private void clientPaused() {
        clientWriteBlocked = true;
        if (upstream != null) {
            upstream.pauseReading();
        }
    }

    @Override
    public void resumeWriting() {
        if (tlsLayer != null) {
            tlsLayer.resumeWriting();
        } else {
            clientResumed();
        }
    }

    private void clientResumed() {
        clientWriteBlocked = false;
        if (upstream != null && !crossingPaused) {
            upstream.resumeReading();
        }
    }

    @Override
    public void connectionLost(Throwable cause) {
        boolean decryptedHears = false;
        try {
            if (tlsLayer != null) {
                // Tells the TLS connection's protocol, if the handshake made one: Decrypted hears of the
                // loss then, on a later turn of the loop, with the reason TLS knows best.
                tlsLayer.connectionLost(cause);
                decryptedHears = terminated;
                if (!terminated) {
                    // The handshake did not complete (an alert sent closes without a cause: say why all the same).
                    ended("client-error: TLS handshake failed" + (cause == null ? "" : ": " + describe(cause)));
                }
            }
        } finally {
            if (!decryptedHears) {
                clientLost(cause); // also when the TLS layer threw: the connection's end is counted
            }
        }
    }

    /**
     * The client connection is gone (a terminated one: its TLS connection, or its failed
     * handshake); once, and only for a connection that was made: a transport may report the
     * loss of a connection whose protocol it never started.
     */
    private void clientLost(Throwable cause) {
        if (!opened || clientGone) {
            return;
        }
        clientGone = true;
        route.counters.active.decrementAndGet();
        try {
            if (idleTimer != null) {
                idleTimer.cancel();
            }
            if (firstBytesTimer != null) {
                firstBytesTimer.cancel();
            }
            if (cause != null) {
                ended("client-error: " + describe(cause));
            }
            if (route.accessLog()) {
                accessLog();
            }
            if (pooled != null && !upstreamGone) {
                if (cause != null) {
                    upstream.reset();
                }
                finishPooled(cause == null && !upstreamEof && !dedicated && exchange.state() == Exchange.State.COMPLETE);
            } else if (upstream != null && !upstreamGone) {
                if (cause != null) {
                    upstream.reset();
                } else {
                    upstream.close();
                }
            }
        } finally {
            route.clientClosed(); // after its upstream connection went back: the last of a retired route closes its pools
        }
    }

    /**
     * Whether the upstream leg (made) takes writes: not gone, and not closing either, which it
     * may be before its connectionLost (a later turn of the loop) has told us.
     */
    private boolean upstreamWritable() {
        return !upstreamGone && !upstream.isClosing();
    }

    // ---- connecting ----

    private void connectNext(Throwable last) {
        if (clientGone) {
            return;
        }
        if (candidates.isEmpty() && !route.hasRoute(serverName, alpn)) {
            ended("no-route" + (serverName == null ? "" : " for " + serverName));
            LOG.log(System.Logger.Level.DEBUG, () -> "proxy " + route.endpoint() + ": no route for "
                    + (serverName == null ? "a connection without a server name" : serverName) + " from " + peer());
            client.close();
            return;
        }
        if (candidates.isEmpty()) {
            // Said once when each went down; a line per client now would be a flood.
            LOG.log(System.Logger.Level.DEBUG, () -> "proxy " + route.endpoint() + ": every upstream is marked down; "
                    + "closing the connection from " + peer());
            ended("no-upstream");
            client.abort(new TransportError("every upstream of proxy " + route.endpoint() + " is marked down", null));
            return;
        }
        if (attempt == candidates.size()) {
            if (last instanceof PoolExhaustedError) {
                route.counters.poolExhausted.increment(); // a client no pooled connection served
            }
            route.log.log(WARNING, RouteLog.Kind.NO_UPSTREAM, () -> "proxy " + route.endpoint()
                    + ": no upstream took the connection from " + peer() + " (tried " + candidates.stream()
                    .map(String::valueOf).collect(Collectors.joining(", ")) + "); closing it", last);
            ended(last instanceof PoolExhaustedError ? "pool-exhausted" : "no-upstream");
            client.abort(new TransportError("no upstream of proxy " + route.endpoint() + " is reachable", last));
            return;
        }
        Route.Upstream next = candidates.get(attempt++);
        tried = next;
        next.active.incrementAndGet();
        CompletionStage<Connected<Transport, UpstreamLeg>> stage;
        StreamTransportProvider provider = services.transport(route.transport());
        if (provider == null) {
            provider = transportWhenMade;
        }
        if (provider == null) {
            stage = CompletableFuture.failedFuture(new TransportError("no " + route.transport()
                    + " transport provider is available", null));
        } else {
            if (route.pooled()) {
                CompletionStage<PooledConnection<PooledLeg>> acquired;
                try {
                    acquired = route.acquire(services, next.address);
                } catch (RuntimeException e) {
                    acquired = CompletableFuture.failedFuture(e);
                }
                acquired.whenComplete((connection, error) -> onClientLoop(() -> {
                    if (error != null) {
                        connectFailed(next, error);
                    } else {
                        pooledAcquired(connection, next);
                    }
                }));
                return;
            }
            try {
                stage = provider.connect(next.address, route.connectOptions().withEventLoop(client.loop()),
                        () -> new UpstreamLeg(next));
            } catch (RuntimeException e) {
                stage = CompletableFuture.failedFuture(e);
            }
        }
        stage.whenComplete((connected, error) -> {
            if (error != null) {
                onClientLoop(() -> connectFailed(next, error));
            }
        });
    }

    /** A pooled upstream connection, new or reused, now held by this client connection. */
    private void pooledAcquired(PooledConnection<PooledLeg> connection, Route.Upstream to) {
        if (clientGone) {
            to.active.decrementAndGet();
            connection.release();
            return;
        }
        pooled = connection;
        connection.protocol().attach(this, to);
        connection.transport().resumeReading(); // its last holder may have left it paused
        upstreamMade(connection.transport(), to);
    }

    /**
     * The client ended its input on a pooled route. A pooled upstream connection must not see
     * that end, so it depends on the exchange: complete, the client connection closes (and
     * the upstream one goes back); answers owed, they still go to the client, which is closed
     * after the last; unsafe, the upstream connection is this client's alone and will be
     * closed, so the end goes to it as on an unpooled route. Called again as answers arrive.
     *
     * @return whether the client connection stays open for answers
     */
    private boolean pooledEndOfInput() {
        Exchange.State state = exchange.state();
        if (state == Exchange.State.COMPLETE) {
            return false;
        }
        if (state == Exchange.State.UNSAFE && upstream != null && !dedicated) {
            dedicated = true;
            if (upstreamWritable() && upstream.canWriteEof()) {
                upstream.writeEof();
            }
        }
        return upstream == null || !upstreamEof && !upstreamGone;
    }

    /** Gives the pooled connection back if its exchange is complete, or closes it. */
    private void finishPooled(boolean reusable) {
        PooledConnection<PooledLeg> connection = pooled;
        pooled = null;
        upstreamGone = true;
        target.active.decrementAndGet();
        connection.protocol().detach();
        try {
            // Copies still crossing from its loop mean bytes this client's exchange has not seen,
            // and a pause of theirs could land on the connection's next holder: not reused.
            if (reusable && crossing.get() == 0 && !connection.transport().isClosing()
                    && connection.transport().writeBufferSize() == 0) {
                // A client that fell behind paused it, and a client closed meanwhile never resumes
                // it: idle in the pool it must read, to see stale bytes or the upstream's end.
                connection.transport().resumeReading();
                connection.release();
                route.counters.poolReleased.increment();
            } else {
                connection.discard();
                route.counters.poolDiscarded.increment();
                LOG.log(System.Logger.Level.DEBUG, () -> "proxy " + route.endpoint() + ": upstream connection to "
                        + target + " closed, not reused after " + peer() + ": " + exchange.reason());
            }
        } catch (IllegalStateException alreadyGone) {
            // the pool dropped it meanwhile (it closed)
        }
        route.tidyPools(); // a retired pool it left unused closes now
    }

    private void connectFailed(Route.Upstream failed, Throwable error) {
        failed.active.decrementAndGet();
        Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                ? error.getCause() : error;
        if (!(cause instanceof PoolExhaustedError)) {
            // Every pooled connection to it in use is the gateway's shortage, not the upstream's
            // failure: it is not marked down for it (that would refuse every client). Nor for a
            // connect without a file descriptor (Route.connectFailed).
            route.counters.upstreamFailures.increment();
            route.connectFailed(failed, cause, client.loop(), HealthCheck.of(route, services));
        }
        if (!clientGone && attempt < candidates.size()) {
            route.log.log(WARNING, RouteLog.Kind.RETRYING, () -> "proxy " + route.endpoint() + ": upstream " + failed
                    + (cause instanceof PoolExhaustedError ? " was busy for " : " failed for ") + peer() + " ("
                    + cause.getMessage() + "); trying " + candidates.get(attempt), null);
        }
        connectNext(cause);
    }

    private void upstreamMade(Transport t, Route.Upstream to) {
        if (clientGone) {
            t.abort(); // the client left while we connected
            return;
        }
        upstream = t;
        target = to;
        route.connected(to);
        if (upstream.isClosing()) {
            return; // reset before this hand-over came round: its connectionLost ends the client
        }
        if (route.sendProxyProtocol() != ProxyHeaderWriter.Version.OFF) {
            upstream.write(ProxyHeaderWriter.header(route.sendProxyProtocol(), client)); // never pooled: one client
        }
        for (ByteBuffer b; (b = early.poll()) != null;) {
            upstream.write(b);
        }
        if (clientEof && exchange != null) {
            if (!pooledEndOfInput()) {
                client.close(); // it ended before asking anything
            }
        } else if (clientEof && upstream.canWriteEof()) {
            upstream.writeEof();
        }
        client.resumeReading();
    }

    // ---- the upstream leg, on the client's loop ----

    /** Upstream bytes on the client's loop: {@code owned} if a copy made for crossing loops. */
    private void upstreamData(ByteBuffer data, boolean owned) {
        route.counters.bytesToClient.add(data.remaining());
        moved += data.remaining();
        if (exchange != null) {
            exchange.fromUpstream(data); // reads, does not move the buffer
        }
        if (clientGone || client.isClosing()) {
            // A pooled route closed its client once every answer was out, or the client is going
            // (reset, say) and its connectionLost, on a later turn of the loop, ends the upstream leg:
            // what comes now is nobody's.
            return;
        }
        if (owned) {
            client.write(data);
        } else {
            client.writeCopy(data);
        }
        if (clientEof && exchange != null && !pooledEndOfInput()) {
            client.close(); // the client ended its input and now has every answer: the connection goes back
        }
    }

    private void upstreamEnded() {
        upstreamEof = true;
        ended("upstream-eof");
        if (clientGone) {
            return;
        }
        if (clientEof || !client.canWriteEof() || client.isClosing()) {
            client.close(); // both directions are done (or the client cannot half-close): flush, then close
            upstream.close();
        } else {
            client.writeEof();
        }
    }

    private void upstreamGone(Throwable cause, Route.Upstream from) {
        if (upstreamGone) {
            return;
        }
        upstreamGone = true;
        from.active.decrementAndGet();
        PooledConnection<PooledLeg> connection = pooled;
        if (connection != null) { // its slot goes back to the pool
            pooled = null;
            connection.protocol().detach();
            try {
                connection.discard();
                route.counters.poolDiscarded.increment();
            } catch (IllegalStateException alreadyGone) {
                // given back already
            }
            route.tidyPools();
        }
        if (clientGone) {
            return;
        }
        if (cause != null) {
            ended("upstream-error: " + describe(cause));
            route.log.log(INFO, RouteLog.Kind.UPSTREAM_FAILED, () -> "proxy " + route.endpoint() + ": upstream " + from
                    + " failed for " + peer() + ": " + cause.getMessage() + "; aborting the client connection", null);
            client.reset();
        } else {
            client.close();
        }
    }

    /** Nothing moved either way for the route's idle timeout: both legs close. */
    private void idle() {
        if (clientGone) {
            return;
        }
        ended("idle");
        route.log.log(INFO, RouteLog.Kind.IDLE, () -> "proxy " + route.endpoint() + ": " + peer() + " idle for "
                + route.idleTimeout().toMillis() + " ms; closing both legs", null);
        if (upstream != null && !upstreamGone && pooled == null) {
            upstream.close(); // a pooled one goes back to the pool when the client has closed
        }
        client.close();
    }

    private void onClientLoop(Runnable task) {
        if (client.loop().inEventLoop()) {
            task.run();
        } else {
            client.loop().execute(task);
        }
    }

    /** The loop the client's connection runs on, for tests. */
    org.wharf.transport.api.EventLoop clientLoop() {
        return client.loop();
    }

    /** The upstream connection once made (null before), read on the client's loop, for tests. */
    CompletableFuture<Transport> upstreamTransport() {
        CompletableFuture<Transport> result = new CompletableFuture<>();
        onClientLoop(() -> result.complete(upstream));
        return result;
    }

    /**
     * Bytes this connection holds in its two legs' write buffers, read on its loop (for
     * tests and introspection).
     */
    CompletableFuture<Long> buffered() {
        if (client == null) {
            return CompletableFuture.completedFuture(0L); // not connected yet
        }
        CompletableFuture<Long> result = new CompletableFuture<>();
        onClientLoop(() -> result.complete((clientGone ? 0 : client.writeBufferSize())
                + (upstream == null || upstreamGone ? 0 : upstream.writeBufferSize())));
        return result;
    }

    /** A failure in a few words for the access log: its message, or its kind when it has none. */
    private static String describe(Throwable cause) {
        Throwable t = cause.getMessage() == null && cause.getCause() != null ? cause.getCause() : cause;
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }

    private void ended(String why) {
        if (end == null) {
            end = why;
        }
    }

    /**
     * The connection's line in the access log ({@code org.wharf.access}, INFO), as README's
     * gateway section documents it: client, the balancer it came through, endpoint, upstream,
     * bytes from and to the client, duration, how it ended.
     */
    private void accessLog() {
        if (!ACCESS.isLoggable(System.Logger.Level.INFO)) {
            return;
        }
        long received = client.extraInfo(ExtraInfo.BYTES_RECEIVED).orElse(0L);
        long sent = client.extraInfo(ExtraInfo.BYTES_SENT).orElse(0L);
        long micros = (System.nanoTime() - started) / 1000;
        StringBuilder line = new StringBuilder(160).append("client=").append(address(ExtraInfo.PEER_ADDRESS));
        client.extraInfo(ExtraInfo.PROXIED_BY).ifPresent(by -> line.append(" via=").append(text(by)));
        line.append(" endpoint=").append(route.endpoint());
        if (serverName != null) {
            line.append(" sni=").append(serverName);
        }
        if (alpn != null) {
            line.append(" alpn=").append(alpn);
        }
        if (tlsLayer != null) {
            line.append(" tls=terminated");
        }
        line
                .append(" upstream=").append(target != null ? target : tried != null ? tried : "-")
                .append(" bytes_in=").append(received).append(" bytes_out=").append(sent)
                .append(" duration_ms=").append(micros / 1000).append('.').append(micros / 100 % 10)
                .append(" end=").append(end == null ? "closed" : end);
        ACCESS.log(System.Logger.Level.INFO, line.toString());
    }

    private String address(ExtraInfo<java.net.SocketAddress> key) {
        return client.extraInfo(key).map(ProxyConnection::text).orElse("-");
    }

    /** host:port without the leading slash InetSocketAddress.toString() puts before an unnamed host. */
    private static String text(java.net.SocketAddress a) {
        if (a instanceof java.net.InetSocketAddress i && i.getAddress() != null) {
            String host = i.getAddress().getHostAddress();
            return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + i.getPort();
        }
        return String.valueOf(a);
    }

    private String peer() {
        return client.extraInfo(ExtraInfo.PEER_ADDRESS).map(String::valueOf).orElse("a client");
    }

    // ---- events of the upstream connection, from its loop ----

    /**
     * Upstream bytes (the buffer is the upstream loop's): written to the client at once when
     * both legs share a loop. A pooled connection may run on another loop than its client (an
     * unpooled one too, if the provider could not give it the client's): the copies handed
     * across count, and past {@value #CROSSING_HIGH} bytes not yet written to the client the
     * upstream stops reading (on its own loop, at once) until the client's loop has caught up
     * to {@value #CROSSING_LOW}. The client's write buffer pauses it too,
     * but only once the client's loop runs the copies; a busy loop let megabytes queue first.
     *
     * @param from the upstream connection, for pausing it where it runs
     */
    void fromUpstream(ByteBuffer data, Transport from) {
        if (client.loop().inEventLoop()) {
            upstreamData(data, false);
            return;
        }
        int n = data.remaining();
        ByteBuffer copy = ByteBuffer.allocate(n).put(data).flip();
        if (crossing.addAndGet(n) > CROSSING_HIGH) {
            from.pauseReading(); // before the flag: the client's loop resumes only what was paused
            crossingPaused = true;
        }
        client.loop().execute(() -> {
            crossing.addAndGet(-n);
            upstreamData(copy, true);
            if (crossingPaused && crossing.get() <= CROSSING_LOW) {
                crossingPaused = false;
                if (!clientWriteBlocked && !clientGone) {
                    from.resumeReading();
                }
            }
        });
    }

    /** Upstream bytes copied for the client's loop and not yet written there, at most. */
    static final int CROSSING_HIGH = 64 * 1024;
    /** Where an upstream paused for {@link #CROSSING_HIGH} reads again. */
    static final int CROSSING_LOW = 16 * 1024;
    /** Bytes of an upstream on another loop, handed to the client's loop and not yet written. */
    private final java.util.concurrent.atomic.AtomicLong crossing = new java.util.concurrent.atomic.AtomicLong();
    /** The upstream stopped reading for {@link #crossing}; cleared on the client's loop. */
    private volatile boolean crossingPaused;
    /** The client's write buffer is over its mark: the upstream reads again only once it is not. On the client's loop. */
    private boolean clientWriteBlocked;

    void upstreamEof() {
        onClientLoop(this::upstreamEnded);
    }

    void upstreamPause() {
        onClientLoop(() -> {
            if (!clientGone) {
                client.pauseReading();
            }
        });
    }

    void upstreamResume() {
        onClientLoop(() -> {
            if (!clientGone) {
                client.resumeReading();
            }
        });
    }

    void upstreamLost(Throwable cause, Route.Upstream from) {
        onClientLoop(() -> upstreamGone(cause, from));
    }

    /**
     * The protocol of the TLS connection when the gateway terminates the client's TLS: made once
     * the handshake succeeded, it is the client leg from then on.
     */
    private final class Decrypted implements Protocol {

        @Override
        public void connectionMade(Transport t) {
            client = t; // writes, read control and closing now go through TLS
            terminated = true;
            client.pauseReading(); // until an upstream takes the connection
            connectNext(null);
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            clientData(data);
        }

        @Override
        public boolean eofReceived() {
            return clientEnded();
        }

        @Override
        public void pauseWriting() {
            clientPaused();
        }

        @Override
        public void resumeWriting() {
            clientResumed();
        }

        @Override
        public void connectionLost(Throwable cause) {
            clientLost(cause);
        }

        @Override
        public String toString() {
            return "proxy client leg, TLS terminated for " + serverName;
        }
    }

    /** The protocol of an upstream connection made for this client connection alone. */
    private final class UpstreamLeg implements Protocol {
        private final Route.Upstream to;

        /** Its connection, on its own loop: the client's, unless the provider could not give that one. */
        private Transport transport;

        UpstreamLeg(Route.Upstream to) {
            this.to = to;
        }

        @Override
        public void connectionMade(Transport t) {
            transport = t;
            onClientLoop(() -> upstreamMade(t, to));
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            fromUpstream(data, transport);
        }

        @Override
        public boolean eofReceived() {
            upstreamEof();
            return true; // the client may still be sending; closed once both sides are done
        }

        @Override
        public void pauseWriting() {
            upstreamPause();
        }

        @Override
        public void resumeWriting() {
            upstreamResume();
        }

        @Override
        public void connectionLost(Throwable cause) {
            upstreamLost(cause, to);
        }

        @Override
        public String toString() {
            return "proxy upstream leg " + to;
        }
    }

}
