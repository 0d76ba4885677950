package org.wharf.endpoints;

import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import org.wharf.protocol.api.ConnectionHooks;
import org.wharf.protocol.api.Drainable;
import org.wharf.protocol.api.IdleTimer;
import org.wharf.protocol.api.MemoryBudget;
import org.wharf.protocol.api.RequestCounters;
import org.wharf.transport.api.Addresses;
import org.wharf.transport.api.ExtraInfo;
import org.wharf.transport.api.Histogram;
import org.wharf.transport.api.ListenOptions;
import org.wharf.transport.api.Listener;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.StreamTransportProvider;
import org.wharf.transport.api.Transport;
import org.wharf.transport.api.TransportError;
import org.wharf.transport.api.TransportObserver;

/**
 * A server: listens on one or more addresses over a stream transport (tcp, ssl) and serves
 * each connection with a protocol from its factory.
 *
 * <ul>
 *   <li>{@code maxConnections}: a connection over the limit is accepted and closed at once,
 *       so the client reads end of input.</li>
 *   <li>Memory budget: each connection gets a share of the server's
 *       ({@link Builder#memoryBudget}), handed to its protocol and given back when it is lost.</li>
 *   <li>Idle timeout: a connection on which no byte moved for that long is closed, with a
 *       log line.</li>
 *   <li>Hooks when connections are made and lost; request hooks and counters for protocols
 *       built on {@link org.wharf.protocol.api.Connection} (see {@link Builder#protocol(Function)}).</li>
 *   <li>{@link #close(Duration)}: stop accepting, close every connection letting queued
 *       writes finish, abort what is left at the deadline.</li>
 * </ul>
 *
 * <pre>
 * Server server = Server.builder(tcp).name("echo").address(new InetSocketAddress(7007))
 *         .protocol(Echo::new).maxConnections(10_000).idleTimeout(Duration.ofMinutes(5))
 *         .start().toCompletableFuture().join();
 * </pre>
 */
public final class Server {

    private static final System.Logger LOG = System.getLogger("org.wharf.endpoints");
    /** What protocols refuse is any client's to cause: per endpoint, one line a window and a count. */
    private static final org.wharf.transport.core.LogLimiter REFUSED = new org.wharf.transport.core.LogLimiter(LOG,
            java.time.Duration.ofSeconds(10));

    private final Builder config;
    private final List<Listener> listeners = new ArrayList<>();
    private final Set<Tracked> open = ConcurrentHashMap.newKeySet();
    /** Connections whose PROXY protocol header has not come yet: no protocol exists for them. */
    private final Set<Admission> waiting = ConcurrentHashMap.newKeySet();
    /** This server's connections holding a slot (accepted, not yet lost): it is closed once none is. */
    private final AtomicInteger slots = new AtomicInteger();
    /** What this server counts and limits in, shared with its predecessor's ({@link Builder#accounts(Accounts)}). */
    private final Accounts accounts;
    // The accounts', each read once a connection or request: one load less than through them.
    private final LongAdder sessions;
    private final Map<String, LongAdder> refused;
    private final Map<String, LongAdder> closedBy;
    private final Histogram connectionDurations;
    private final Histogram handshakeDurations;
    private final Histogram requestDurations;
    private final Map<String, LongAdder> handshakeFailures;
    private final AtomicLong closedBytesReceived;
    private final AtomicLong closedBytesSent;
    private final RequestCounters requests;
    private final ConnectionHooks hooks;
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    /** Completes once every listener is closed, after a close or drain began. */
    private final CompletableFuture<Void> listenersClosed = new CompletableFuture<>();
    private volatile boolean closing;
    /**
     * Closing by a drain: a connection accepted before the listeners closed, whose protocol is
     * made only now (its PROXY header came late), is served and asked to drain like the others.
     */
    private volatile boolean draining;
    /** The drain's time is up, or the server closes: every connection is closed, late ones too. */
    private volatile boolean closedAll;
    /** A close came during a drain: its connections are closed now, not at the drain's end. */
    private volatile boolean closeAtOnce;
    /** Closes every connection; set once the listeners are closed. */
    private volatile Runnable closeAllNow;
    /** The protocol factory of new connections and its generation, swapped as one. */
    private record Current(BiFunction<ConnectionHooks, MemoryBudget, ? extends Protocol> factory, int generation) {
    }

    private volatile Current current;

    private Server(Builder config, Accounts accounts) {
        this.config = config;
        this.accounts = accounts;
        this.sessions = accounts.sessions;
        this.refused = accounts.refused;
        this.closedBy = accounts.closedBy;
        this.connectionDurations = accounts.connectionDurations;
        this.handshakeDurations = accounts.handshakeDurations;
        this.requestDurations = accounts.requestDurations;
        this.handshakeFailures = accounts.handshakeFailures;
        this.closedBytesReceived = accounts.closedBytesReceived;
        this.closedBytesSent = accounts.closedBytesSent;
        this.requests = accounts.requests;
        accounts.joined(this);
        this.current = new Current(config.factory, 0);
        this.hooks = config.requestHooks == ConnectionHooks.NONE ? new Counting()
                : ConnectionHooks.all(new Counting(), config.requestHooks);
    }

    /**
     * What a line of servers counts, and the slots their connections hold: opaque, handed from
     * a server ({@link #accounts()}) to its successor ({@link Builder#accounts(Accounts)}). Then
     * the successor's counters go on from the predecessor's, and its {@code maxConnections} and
     * per-client limits count the predecessor's connections for as long as they last (a drain
     * after a configuration change). It holds the servers not yet closed, never a closed one
     * (nor, through it, a protocol's classes).
     */
    public static final class Accounts {
        /** Connections holding a slot in any server of these accounts: what {@code maxConnections} bounds. */
        final AtomicInteger occupied = new AtomicInteger();
        final LongAdder sessions = new LongAdder();
        /** Refusals by reason: the known ones from the start, so an exposition shows them at zero. */
        final Map<String, LongAdder> refused = new ConcurrentHashMap<>(Map.of(ServerCounters.REFUSED_LIMIT,
                new LongAdder(), ServerCounters.REFUSED_TLS, new LongAdder()));
        final Map<String, LongAdder> closedBy = new ConcurrentHashMap<>(Map.of(
                ServerCounters.CLOSED_NORMAL, new LongAdder(), ServerCounters.CLOSED_IDLE, new LongAdder(),
                ServerCounters.CLOSED_SHUTDOWN, new LongAdder(), ServerCounters.CLOSED_ERROR, new LongAdder(),
                ServerCounters.CLOSED_PROTOCOL, new LongAdder()));
        final Histogram connectionDurations = Histogram.ofDurations();
        final Histogram handshakeDurations = Histogram.ofDurations();
        final Histogram requestDurations = Histogram.ofDurations();
        final Map<String, LongAdder> handshakeFailures = new ConcurrentHashMap<>();
        final AtomicLong closedBytesReceived = new AtomicLong();
        final AtomicLong closedBytesSent = new AtomicLong();
        final RequestCounters requests = new RequestCounters();
        /** Per-client counts, shared by the servers' {@link ClientLimits}. */
        final ConcurrentHashMap<InetAddress, ClientLimits.Entry> clients = new ConcurrentHashMap<>();
        /** The servers of these accounts not yet closed: their open connections are counted. */
        final Set<Server> members = ConcurrentHashMap.newKeySet();
        /** The latest server's memory budget, whose figures the counters show. */
        private volatile MemoryBudget budget = MemoryBudget.UNLIMITED;
        /**
         * The latest server's per-client limits, or null: every server of these accounts gives
         * its clients back through them, so the table is kept by one set of parameters.
         */
        private volatile ClientLimits clientLimits;

        private Accounts() {
        }

        /** A new server of these accounts: the latest, whose settings apply from now on. */
        private void joined(Server server) {
            members.add(server);
            budget = server.config.budget;
            clientLimits = server.config.clientLimits;
        }

        /** A connection counted in per-client limits is gone: given back by the latest limits if any, else by its own. */
        void release(InetAddress client, ClientLimits own) {
            ClientLimits latest = clientLimits;
            (latest != null ? latest : own).release(client);
        }

        /**
         * The counters of these accounts now: every server's, open connections included,
         * for as long as they last; memory figures from the latest server's budget. The same as
         * {@link Server#counters()} of any of its servers, and there while none listens (its
         * successor waits for the port, or failed to bind).
         *
         * @return a snapshot
         */
        public ServerCounters counters() {
            long in = closedBytesReceived.get();
            long out = closedBytesSent.get();
            int connections = 0;
            for (Server s : members) { // the latest, and any predecessor draining
                for (Tracked t : s.open) {
                    in += t.bytes(ExtraInfo.BYTES_RECEIVED);
                    out += t.bytes(ExtraInfo.BYTES_SENT);
                    connections++;
                }
            }
            Map<String, Long> refusedBy = sums(refused);
            MemoryBudget b = budget;
            if (b != MemoryBudget.UNLIMITED) {
                refusedBy.put(ServerCounters.REFUSED_BUDGET, b.refusals());
            }
            return new ServerCounters(sessions.sum(), connections, requests.requests(), in, out, refusedBy,
                    sums(closedBy), connectionDurations.snapshot(), handshakeDurations.snapshot(),
                    sums(handshakeFailures), b.used(), b.limit(), requestDurations.snapshot());
        }
    }

    /**
     * The server's own hooks, one object on every event of a request-cycle connection (one
     * call less per event than combining two): the counters, and each request's latency from
     * its first byte to its end.
     */
    private final class Counting implements ConnectionHooks {
        @Override
        public void connectionMade(org.wharf.protocol.api.Connection connection) {
            requests.connectionMade(connection);
        }

        @Override
        public void connectionLost(org.wharf.protocol.api.Connection connection, Throwable cause) {
            requests.connectionLost(connection, cause);
        }

        @Override
        public void postRequest(org.wharf.protocol.api.Connection connection,
                org.wharf.protocol.api.ProtocolConsumer consumer) {
            requests.postRequest(connection, consumer);
            requestDurations.record(System.nanoTime() - connection.requestStarted());
        }

        @Override
        public void preRequest(org.wharf.protocol.api.Connection connection,
                org.wharf.protocol.api.ProtocolConsumer consumer) {
            requests.preRequest(connection, consumer);
        }

        @Override
        public void dataReceived(org.wharf.protocol.api.Connection connection, int bytes) {
            requests.dataReceived(connection, bytes);
        }

        @Override
        public void dataProcessed(org.wharf.protocol.api.Connection connection, int bytes) {
            requests.dataProcessed(connection, bytes);
        }

        @Override
        public void requestRefused(org.wharf.protocol.api.Connection connection, String why) {
            REFUSED.log(Level.INFO, "refused/" + config.name, () -> "server " + config.name + ": closing "
                    + java.util.Optional.ofNullable(connection.transport()).flatMap(t -> t.extraInfo(
                            ExtraInfo.PEER_ADDRESS)).map(Addresses::text).orElse("a connection") + ", its request refused: "
                    + why, null);
        }
    }

    /**
     * Starts describing a server over a stream transport provider.
     *
     * @param provider the transport, such as the {@code tcp} or {@code ssl} provider
     * @return a builder
     */
    public static Builder builder(StreamTransportProvider provider) {
        return new Builder(Objects.requireNonNull(provider, "provider"));
    }

    /**
     * The name given to the server, for logs and introspection.
     *
     * @return the name
     */
    public String name() {
        return config.name;
    }

    /**
     * The addresses the server listens on, with the real ports.
     *
     * @return the bound addresses
     */
    public List<InetSocketAddress> addresses() {
        synchronized (listeners) {
            return listeners.stream().map(Listener::localAddress).toList();
        }
    }

    /**
     * Tells whether the server accepts connections.
     *
     * @return {@code true} until {@link #close(Duration)}
     */
    public boolean isListening() {
        return !closing;
    }

    /**
     * The transports of the open connections.
     *
     * @return a snapshot
     */
    public Collection<Transport> connections() {
        return open.stream().map(t -> t.transport).collect(Collectors.toList());
    }

    /**
     * Replaces the protocol of new connections (hot upgrade); open connections keep the
     * protocol they have.
     *
     * @param value makes one protocol per new connection
     * @return the generation of the new factory: connections made before have a lower one
     */
    public int replaceProtocol(Function<ConnectionHooks, ? extends Protocol> value) {
        Objects.requireNonNull(value, "protocol");
        return replaceProtocol((hooks, budget) -> value.apply(hooks));
    }

    /**
     * Replaces the protocol of new connections (hot upgrade), given each connection's share of
     * the memory budget; open connections keep the protocol they have.
     *
     * @param value makes one protocol per new connection
     * @return the generation of the new factory: connections made before have a lower one
     */
    public synchronized int replaceProtocol(BiFunction<ConnectionHooks, MemoryBudget, ? extends Protocol> value) {
        Current next = new Current(Objects.requireNonNull(value, "protocol"), current.generation + 1);
        current = next;
        return next.generation;
    }

    /**
     * The transports of open connections made by factories older than a generation, for
     * draining them after an upgrade.
     *
     * @param generation as returned by {@link #replaceProtocol(Function)}
     * @return a snapshot
     */
    public Collection<Transport> connectionsBefore(int generation) {
        return connectionsBefore(generation, p -> true);
    }

    /**
     * The transports of open connections made by factories older than a generation whose
     * protocol (as the factory made it) passes a test: for draining after an upgrade all but
     * those the old factory only held for a replacement.
     *
     * @param generation as returned by {@link #replaceProtocol(Function)}
     * @param which the connections' protocols to include
     * @return a snapshot
     */
    public Collection<Transport> connectionsBefore(int generation, java.util.function.Predicate<Protocol> which) {
        return open.stream().filter(t -> t.generation < generation && t.transport != null && which.test(t.protocol))
                .map(t -> t.transport).collect(Collectors.toList());
    }

    /**
     * Asks the open connections made by factories older than a generation to end at a clean
     * boundary of their protocol (see {@link Drainable}), so that after an upgrade they move to
     * the new version without losing a request; the others go on as they are.
     *
     * @param generation as returned by {@link #replaceProtocol(Function)}
     */
    public void drainBefore(int generation) {
        drainBefore(generation, p -> true);
    }

    /**
     * {@link #drainBefore(int)} for the connections whose protocol (as the factory made it)
     * passes a test.
     *
     * @param generation as returned by {@link #replaceProtocol(Function)}
     * @param which the connections' protocols to ask
     */
    public void drainBefore(int generation, java.util.function.Predicate<Protocol> which) {
        open.stream().filter(t -> t.generation < generation && which.test(t.protocol)).forEach(Tracked::askToDrain);
    }

    /**
     * The counters now: of this server and of those whose accounts it took over
     * ({@link Builder#accounts(Accounts)}).
     *
     * @return a snapshot
     */
    public ServerCounters counters() {
        return accounts.counters();
    }

    /**
     * This server's accounts, for a successor to take over ({@link Builder#accounts(Accounts)}).
     *
     * @return the accounts
     */
    public Accounts accounts() {
        return accounts;
    }

    private static Map<String, Long> sums(Map<String, LongAdder> counters) {
        Map<String, Long> result = new java.util.TreeMap<>();
        counters.forEach((k, v) -> result.put(k, v.sum()));
        return result;
    }

    /**
     * Counts a refused connection. Reasons are a small fixed set (the {@code REFUSED_*}
     * constants of {@link ServerCounters}): they become a metric's label.
     */
    private void refuse(String reason) {
        refused.computeIfAbsent(reason, r -> new LongAdder()).increment();
    }

    /**
     * Counts a connection that a layer of the server's protocol closed before any protocol of
     * the application served it (first-bytes detection: {@link ServerCounters#REFUSED_NO_MATCH},
     * {@link ServerCounters#REFUSED_DETECT_TIMEOUT}, {@link ServerCounters#REFUSED_DETECT_SIZE}).
     * The connection was accepted, so it counts as a session too.
     *
     * @param reason one of the {@code REFUSED_*} constants of {@link ServerCounters}
     */
    public void countRefused(String reason) {
        refuse(Objects.requireNonNull(reason, "reason"));
    }

    /**
     * The hooks this server's protocols hand to their {@link org.wharf.protocol.api.Connection}s,
     * so requests are counted and the builder's request hooks called.
     *
     * @return the hooks
     */
    public ConnectionHooks hooks() {
        return hooks;
    }

    /**
     * Closes gracefully: stops accepting, asks every connection to close (queued writes still
     * go out), and aborts those still open when the grace period ends. During a
     * {@link #drain(Duration) drain} it ends the drain now.
     *
     * @param grace how long connections may take to close
     * @return completes when every connection is gone
     */
    public CompletionStage<Void> close(Duration grace) {
        return stop(Duration.ZERO, grace);
    }

    /**
     * Drains: stops accepting at once and lets every open connection go on with its protocol
     * until it ends by itself or {@code timeout} has passed; those still open then are closed
     * as by {@link #close(Duration)} with {@link #DRAIN_CLOSE_GRACE} to write what they have
     * queued. A connection accepted before but still waiting for its PROXY protocol header is
     * served too once the header comes, and asked to drain. What an endpoint does when its
     * protocol goes away for good.
     *
     * @param timeout how long open connections may go on
     * @return completes when every connection is gone
     */
    public CompletionStage<Void> drain(Duration timeout) {
        return stop(timeout, DRAIN_CLOSE_GRACE);
    }

    /**
     * The server's ports are free to bind again: once {@link #close(Duration)} or
     * {@link #drain(Duration)} began, this completes when its listeners are closed, though
     * connections it accepted may still be open (a successor on the same port binds then,
     * while they drain).
     *
     * @return completes once no listener of this server is open; never before a close or drain
     */
    public CompletionStage<Void> listenersClosed() {
        return listenersClosed.copy();
    }

    /** After a drain's timeout, how long the connections still open have to write their output. */
    public static final Duration DRAIN_CLOSE_GRACE = Duration.ofSeconds(1);

    private CompletionStage<Void> stop(Duration before, Duration grace) {
        if (closing && before.isZero() && draining && !closedAll) {
            // Closed during a drain (the endpoint removed, the bundle stopping): no waiting for its end.
            closeAtOnce = true;
            Runnable now = closeAllNow;
            if (now != null) {
                now.run();
            }
            return closed;
        }
        if (!closing) {
            draining = !before.isZero();
            closing = true;
            List<CompletableFuture<Void>> stops = new ArrayList<>();
            synchronized (listeners) {
                listeners.forEach(l -> stops.add(l.close().toCompletableFuture()));
            }
            CompletableFuture.allOf(stops.toArray(CompletableFuture[]::new)).whenComplete((v, e) -> {
                listenersClosed.complete(null);
                if (!before.isZero()) {
                    // Those still waiting for their PROXY header were accepted too: served once it comes
                    // (the header timeout bounds the wait) and asked to drain then.
                    open.forEach(Tracked::askToDrain);
                }
                Runnable closeAll = () -> {
                    if (closed.isDone()) {
                        // Every connection ended first: the drain's timer finds nothing, and loads no
                        // class (its bundle may be gone by then, updated or stopped).
                        return;
                    }
                    closedAll = true;
                    waiting.forEach(Server.this::closeWaiting);
                    open.forEach(t -> t.transport.close());
                    CompletableFuture.delayedExecutor(grace.toMillis(), TimeUnit.MILLISECONDS)
                            .execute(() -> open.forEach(t -> t.transport.abort()));
                };
                closeAllNow = closeAll;
                if (before.isZero() || closeAtOnce) {
                    closeAll.run();
                } else {
                    // Always: a connection may take its slot after a look here (its factory call began
                    // before the close); once all is closed the task finds nothing to do.
                    CompletableFuture.delayedExecutor(before.toMillis(), TimeUnit.MILLISECONDS).execute(closeAll);
                }
                checkClosed();
            });
        }
        return closed;
    }

    private CompletionStage<Server> start() {
        List<CompletableFuture<Listener>> binds = new ArrayList<>();
        for (InetSocketAddress address : config.addresses) {
            binds.add(config.provider.listen(address, config.options.withObserver(observer(config.options.observer())),
                    this::newProtocol).toCompletableFuture());
        }
        return CompletableFuture.allOf(binds.toArray(CompletableFuture[]::new)).handle((v, error) -> {
            synchronized (listeners) {
                for (CompletableFuture<Listener> b : binds) {
                    if (!b.isCompletedExceptionally()) {
                        listeners.add(b.join());
                    }
                }
            }
            if (error != null) {
                // All or nothing: a server that cannot bind every address binds none.
                close(Duration.ZERO);
                throw error instanceof java.util.concurrent.CompletionException c ? c : new java.util.concurrent
                        .CompletionException(error);
            }
            return this;
        });
    }

    /** Hears the TLS handshakes of accepted connections (a failed one made no protocol: a refusal), then the caller's observer. */
    private TransportObserver observer(TransportObserver next) {
        return new TransportObserver() {
            @Override
            public void handshakeCompleted(long nanos) {
                handshakeDurations.record(nanos);
                next.handshakeCompleted(nanos);
            }

            @Override
            public void handshakeFailed(long nanos, String cause) {
                handshakeFailures.computeIfAbsent(cause, c -> new LongAdder()).increment();
                refuse(ServerCounters.REFUSED_TLS);
                next.handshakeFailed(nanos, cause);
            }
        };
    }

    private Protocol newProtocol() {
        if (closing) {
            refuse(ServerCounters.REFUSED_SHUTDOWN);
            return Rejected.INSTANCE; // accepted as the listener closed: not served, as one a moment later is refused
        }
        if (accounts.occupied.incrementAndGet() > config.maxConnections) {
            accounts.occupied.decrementAndGet();
            refuse(ServerCounters.REFUSED_LIMIT);
            return Rejected.INSTANCE;
        }
        slots.incrementAndGet();
        if (config.proxyProtocol != null || config.clientLimits != null) {
            // The protocol is made once the client is known and admitted (its slot is held meanwhile).
            return new Admission(config.name, config.proxyProtocol, gate, config.tlsAfterHeader);
        }
        MemoryBudget budget = config.budget.connection(config.connectionBudget);
        try {
            Current c = current;
            return new Tracked(c.factory.apply(hooks, budget), c.generation, budget);
        } catch (RuntimeException | Error e) {
            budget.close();
            freeSlot();
            checkClosed(); // a close may have begun meanwhile
            throw e;
        }
    }

    /** Admits the connections an {@link Admission} layer vetted; their slots were taken in newProtocol. */
    private final Admission.Gate gate = new Admission.Gate() {
        @Override
        public void waiting(Admission layer) {
            waiting.add(layer);
            if (closing && !servedWhileClosing()) {
                closeWaiting(layer);
            }
        }

        @Override
        public Protocol admit(Admission layer, InetSocketAddress client) {
            waiting.remove(layer);
            if (!layer.settle()) {
                // Closed as the server closed, while its header was read (counted then) or its TLS
                // handshake ran (counted now: that handshake succeeded, so no TLS refusal counts it).
                if (layer.handshaking()) {
                    refuse(ServerCounters.REFUSED_SHUTDOWN);
                }
                return null;
            }
            ClientLimits limits = config.clientLimits;
            InetAddress address = client == null ? null : client.getAddress();
            if (limits != null && address != null) {
                ClientLimits.Refusal refusal = limits.acquire(address);
                if (refusal != null) {
                    refuse(ServerCounters.REFUSED_CLIENT_LIMIT);
                    Admission.REFUSALS.log(Level.WARNING, config.name + "/" + refusal, () -> "server " + config.name
                            + ": refusing a connection from " + Addresses.text(client) + ": " + (refusal == ClientLimits.Refusal.CONNECTIONS
                            ? limits.maxConnections() + " connections from " + address.getHostAddress()
                                    + " are open (maxConnectionsPerClient)"
                            : "more than " + config.connectionRatePerClient + " new connections a second (burst "
                                    + (int) limits.burst() + ") from " + address.getHostAddress()
                                    + " (connectionRatePerClient)"), null);
                    return null;
                }
            }
            Current c = current;
            MemoryBudget budget = config.budget.connection(config.connectionBudget);
            Protocol p;
            try {
                // A factory that throws aborts the connection; its slot is freed in abandoned().
                p = c.factory.apply(hooks, budget);
            } catch (RuntimeException | Error e) {
                budget.close();
                if (limits != null && address != null) {
                    accounts.release(address, limits);
                }
                throw e;
            }
            Tracked t = new Tracked(p, c.generation, budget);
            t.client = limits == null ? null : address;
            return t;
        }

        @Override
        public void refused(Admission layer) {
            waiting.remove(layer);
            if (layer.settle()) { // not counted already as closed by the server
                refuse(ServerCounters.REFUSED_PROXY_PROTOCOL);
            }
        }

        @Override
        public void abandoned(Admission layer) {
            waiting.remove(layer);
            freeSlot();
            checkClosed();
        }
    };

    /**
     * Closes a connection still waiting for its PROXY header as the server closes, counting it
     * refused, unless it was admitted or refused meanwhile: each connection is settled once.
     */
    private void closeWaiting(Admission layer) {
        waiting.remove(layer);
        if (layer.settle()) {
            if (!layer.handshaking()) { // one whose TLS handshake the close fails counts as that (tls)
                refuse(ServerCounters.REFUSED_SHUTDOWN);
            }
            layer.close();
        }
    }

    /**
     * Whether a connection that had its slot before the server began closing, but whose
     * protocol starts only now (its PROXY header came late), is served and drained: during a
     * drain's time.
     */
    private boolean servedWhileClosing() {
        return draining && !closedAll;
    }

    /** @return how many slots the connections of these accounts hold (a refused one's until it is gone), for tests */
    int occupied() {
        return accounts.occupied.get();
    }

    /** @return how many connections wait for their PROXY header, for tests */
    int waitingForHeader() {
        return waiting.size();
    }

    private void freeSlot() {
        slots.decrementAndGet();
        accounts.occupied.decrementAndGet();
    }

    private void checkClosed() {
        if (closing && open.isEmpty() && slots.get() == 0) {
            closedAll = true;
            accounts.members.remove(this);
            closed.complete(null);
        }
    }

    /** Closes a connection over the limit at once: the client reads end of input. */
    private static final class Rejected implements Protocol {
        static final Rejected INSTANCE = new Rejected();

        @Override
        public void connectionMade(Transport transport) {
            transport.close();
        }

        @Override
        public void dataReceived(ByteBuffer data) {
        }

        @Override
        public void connectionLost(Throwable cause) {
        }
    }

    /** Forwards every callback to the protocol, keeping count and the idle watch. */
    private final class Tracked extends ForwardingProtocol {
        private final int generation;
        /** The address whose per-client limits this connection counts in, or null. */
        private InetAddress client;
        private final MemoryBudget budget;
        private volatile Transport transport;
        private IdleTimer idleTimer;
        private long madeAt;
        private boolean closedIdle;
        private volatile boolean drainAsked;

        Tracked(Protocol protocol, int generation, MemoryBudget budget) {
            super(protocol);
            this.generation = generation;
            this.budget = budget;
        }

        /**
         * Asks a {@link Drainable} protocol, once, on the connection's loop, to end at its next
         * clean boundary; from any thread.
         */
        synchronized void askToDrain() {
            Transport t = transport;
            if (t == null || !(protocol instanceof Drainable d) || drainAsked) {
                return;
            }
            drainAsked = true;
            t.loop().execute(() -> {
                if (!t.isClosing()) {
                    d.drain();
                }
            });
        }

        long bytes(ExtraInfo<Long> key) {
            Transport t = transport;
            return t == null ? 0 : t.extraInfo(key).orElse(0L);
        }

        @Override
        public void connectionMade(Transport t) {
            transport = t;
            madeAt = System.nanoTime();
            open.add(this);
            sessions.increment();
            boolean late = closing;
            if (late && !servedWhileClosing()) {
                t.close();
                late = false;
            }
            config.onConnectionMade.accept(t);
            protocol.connectionMade(t);
            if (config.idleTimeout != null) {
                idleTimer = IdleTimer.start(t.loop(), config.idleTimeout, this::activity, this::idle);
            }
            if (late) {
                askToDrain(); // made during a drain (its PROXY header came late): ends at its next boundary
            }
        }

        @Override
        public void connectionLost(Throwable cause) {
            if (idleTimer != null) {
                idleTimer.cancel();
            }
            closedBytesReceived.addAndGet(bytes(ExtraInfo.BYTES_RECEIVED));
            closedBytesSent.addAndGet(bytes(ExtraInfo.BYTES_SENT));
            open.remove(this);
            freeSlot();
            if (client != null) {
                accounts.release(client, config.clientLimits);
            }
            connectionDurations.record(System.nanoTime() - madeAt);
            closedBy.get(closeReason(cause)).increment();
            try {
                config.onConnectionLost.accept(transport, cause);
                protocol.connectionLost(cause);
            } finally {
                budget.close(); // what the protocol still held goes back to the endpoint
                checkClosed();
            }
        }

        private String closeReason(Throwable cause) {
            if (closedIdle) {
                return ServerCounters.CLOSED_IDLE;
            }
            if (closing && (closedAll || !draining || drainAsked)) {
                return ServerCounters.CLOSED_SHUTDOWN; // closed by the server, or asked to end by its drain
            }
            if (cause == null) { // during a drain too: its client ended it
                return ServerCounters.CLOSED_NORMAL;
            }
            return cause instanceof TransportError ? ServerCounters.CLOSED_ERROR : ServerCounters.CLOSED_PROTOCOL;
        }

        private long activity() {
            return bytes(ExtraInfo.BYTES_RECEIVED) + bytes(ExtraInfo.BYTES_SENT);
        }

        @Override
        public String toString() {
            return super.toString() + " (server " + config.name + ")";
        }

        /** Nothing moved for the idle timeout: closed, with a line in the log. On the loop. */
        private void idle() {
            if (transport.isClosing()) {
                return;
            }
            LOG.log(Level.INFO, () -> "server " + config.name + ": closing "
                    + transport.extraInfo(ExtraInfo.PEER_ADDRESS).map(Addresses::text).orElse("a connection")
                    + ", idle for " + config.idleTimeout.toMillis() + " ms");
            closedIdle = true;
            transport.close();
        }
    }

    /** Describes a server; {@link #start()} makes it listen. */
    public static final class Builder {
        private final StreamTransportProvider provider;
        private final List<InetSocketAddress> addresses = new ArrayList<>();
        private String name = "server";
        private ListenOptions options = ListenOptions.DEFAULT;
        private BiFunction<ConnectionHooks, MemoryBudget, ? extends Protocol> factory;
        private int maxConnections = Integer.MAX_VALUE;
        private MemoryBudget budget = MemoryBudget.UNLIMITED;
        private long connectionBudget = Long.MAX_VALUE;
        private Duration idleTimeout;
        private ConnectionHooks requestHooks = ConnectionHooks.NONE;
        private Consumer<Transport> onConnectionMade = t -> { };
        private BiConsumer<Transport, Throwable> onConnectionLost = (t, e) -> { };
        private ProxyProtocolAcceptance proxyProtocol;
        /** TLS starts once the PROXY header is read (the listener was told not to start it on connect). */
        private boolean tlsAfterHeader;
        private ClientLimits clientLimits;
        private int maxConnectionsPerClient;
        private int connectionRatePerClient;
        private int connectionBurstPerClient;
        /** The accounts of the server this one succeeds, or null for its own. */
        private Accounts accounts;

        private Builder(StreamTransportProvider provider) {
            this.provider = provider;
        }

        /**
         * Names the server, for logs and introspection.
         *
         * @param value the name
         * @return this builder
         */
        public Builder name(String value) {
            this.name = Objects.requireNonNull(value, "name");
            return this;
        }

        /**
         * Adds an address to listen on; port 0 for an ephemeral port.
         *
         * @param value the address
         * @return this builder
         */
        public Builder address(InetSocketAddress value) {
            addresses.add(Objects.requireNonNull(value, "address"));
            return this;
        }

        /**
         * Sets how to listen: backlog, socket options, write limits, TLS.
         *
         * @param value the options
         * @return this builder
         */
        public Builder options(ListenOptions value) {
            this.options = Objects.requireNonNull(value, "options");
            return this;
        }

        /**
         * Sets the protocol made for each connection.
         *
         * @param value makes one protocol per connection
         * @return this builder
         */
        public Builder protocol(Supplier<? extends Protocol> value) {
            Objects.requireNonNull(value, "protocol");
            this.factory = (hooks, budget) -> value.get();
            return this;
        }

        /**
         * Sets the protocol made for each connection, given the server's request hooks (to pass
         * to a {@link org.wharf.protocol.api.Connection}, so requests are counted).
         *
         * @param value makes one protocol per connection
         * @return this builder
         */
        public Builder protocol(Function<ConnectionHooks, ? extends Protocol> value) {
            Objects.requireNonNull(value, "protocol");
            this.factory = (hooks, budget) -> value.apply(hooks);
            return this;
        }

        /**
         * Sets the protocol made for each connection, given the server's request hooks and the
         * connection's share of the {@linkplain #memoryBudget memory budget}.
         *
         * @param value makes one protocol per connection
         * @return this builder
         */
        public Builder protocol(BiFunction<ConnectionHooks, MemoryBudget, ? extends Protocol> value) {
            this.factory = Objects.requireNonNull(value, "protocol");
            return this;
        }

        /**
         * Bounds what the protocols hold for clients: each connection gets a share of
         * {@code value} of at most {@code perConnection} bytes, closed when it is lost.
         *
         * @param value the server's budget (a share of the platform's, say)
         * @param perConnection the most one connection holds, positive
         * @return this builder
         */
        public Builder memoryBudget(MemoryBudget value, long perConnection) {
            if (perConnection <= 0) {
                throw new IllegalArgumentException("a connection's memory budget must be positive, got " + perConnection);
            }
            this.budget = Objects.requireNonNull(value, "budget");
            this.connectionBudget = perConnection;
            return this;
        }

        /**
         * Limits the connections open at once; more are accepted and closed at once.
         *
         * @param value the limit, positive
         * @return this builder
         */
        public Builder maxConnections(int value) {
            if (value <= 0) {
                throw new IllegalArgumentException("maxConnections must be positive, got " + value);
            }
            this.maxConnections = value;
            return this;
        }

        /**
         * Closes connections on which no byte moved for this long.
         *
         * @param value the idle timeout, positive; {@code null} for none
         * @return this builder
         */
        public Builder idleTimeout(Duration value) {
            if (value != null && (value.isNegative() || value.isZero())) {
                throw new IllegalArgumentException("idleTimeout must be positive, got " + value);
            }
            this.idleTimeout = value;
            return this;
        }

        /**
         * Adds hooks on the request events of protocols built on
         * {@link org.wharf.protocol.api.Connection}.
         *
         * @param value the hooks
         * @return this builder
         */
        public Builder requestHooks(ConnectionHooks value) {
            this.requestHooks = Objects.requireNonNull(value, "hooks");
            return this;
        }

        /**
         * Calls a hook when a connection is made, before its protocol hears of it.
         *
         * @param value the hook; runs on the connection's loop
         * @return this builder
         */
        public Builder onConnectionMade(Consumer<Transport> value) {
            this.onConnectionMade = Objects.requireNonNull(value, "hook");
            return this;
        }

        /**
         * Calls a hook when a connection is lost, before its protocol hears of it.
         *
         * @param value the hook; runs on the connection's loop
         * @return this builder
         */
        public Builder onConnectionLost(BiConsumer<Transport, Throwable> value) {
            this.onConnectionLost = Objects.requireNonNull(value, "hook");
            return this;
        }

        /**
         * Accepts the PROXY protocol: every connection must begin with a header from a trusted
         * source within the deadline, and its protocol sees the client the header names as its
         * peer. Over TLS ({@code ssl} with TLS options that handshake on connect) the header is
         * read first and the handshake starts after it.
         *
         * @param value how headers are accepted; {@code null} for none (the default)
         * @return this builder
         */
        public Builder proxyProtocol(ProxyProtocolAcceptance value) {
            this.proxyProtocol = value;
            return this;
        }

        /**
         * Limits each client address (the PROXY protocol's client when the server accepts it):
         * connections open at once, and new connections as a token bucket. A connection over a
         * limit is closed before its protocol is made and counted as refused
         * ({@link ServerCounters#REFUSED_CLIENT_LIMIT}).
         *
         * @param maxConnections most connections open at once per address; 0 for no limit
         * @param ratePerSecond new connections a second per address; 0 for no limit
         * @param burst new connections an address may make at once (at least 1 when there is a rate)
         * @return this builder
         */
        public Builder clientLimits(int maxConnections, int ratePerSecond, int burst) {
            if (maxConnections < 0 || ratePerSecond < 0 || burst < 0) {
                throw new IllegalArgumentException("client limits cannot be negative: maxConnections " + maxConnections
                        + ", rate " + ratePerSecond + ", burst " + burst);
            }
            this.maxConnectionsPerClient = maxConnections;
            this.connectionRatePerClient = ratePerSecond;
            this.connectionBurstPerClient = burst;
            return this;
        }

        /**
         * Makes the server take over the accounts of the one it replaces (a configuration
         * change while that one drains): its counters go on from the predecessor's and include
         * the predecessor's open connections, and its {@code maxConnections} and per-client
         * limits count those connections too, for as long as they last. So a limit holds across
         * a change, and a scrape sees no counter start again from zero.
         *
         * @param value the predecessor's {@link Server#accounts()}, whether it is open, draining or closed
         * @return this builder
         */
        public Builder accounts(Accounts value) {
            this.accounts = Objects.requireNonNull(value, "accounts");
            return this;
        }

        /**
         * Starts listening on every address.
         *
         * @return completes with the server once it listens everywhere, or fails with the
         *         first address that could not be bound (then none is)
         * @throws IllegalStateException if no address or protocol was given
         */
        public CompletionStage<Server> start() {
            if (addresses.isEmpty()) {
                throw new IllegalStateException("server " + name + " has no address to listen on");
            }
            if (factory == null) {
                throw new IllegalStateException("server " + name + " has no protocol");
            }
            if (proxyProtocol != null && options.tls().isPresent() && options.tls().get().handshakeOnConnect()) {
                // The header comes before the ClientHello: the layer reads it, then starts TLS.
                options = options.withTls(options.tls().get().withHandshakeOnConnect(false));
                tlsAfterHeader = true;
            }
            Accounts kept = accounts != null ? accounts : new Accounts();
            clientLimits = maxConnectionsPerClient == 0 && connectionRatePerClient == 0 ? null
                    : new ClientLimits(maxConnectionsPerClient, connectionRatePerClient, connectionBurstPerClient,
                            System::nanoTime, kept.clients);
            return new Server(this, kept).start();
        }
    }
}
