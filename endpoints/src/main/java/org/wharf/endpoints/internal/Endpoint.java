package org.wharf.endpoints.internal;

import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import org.wharf.endpoints.DatagramServer;
import org.wharf.endpoints.Server;
import org.wharf.endpoints.ServerCounters;
import org.wharf.endpoints.api.EndpointDTO;
import org.wharf.endpoints.api.EndpointState;
import org.wharf.protocol.api.ConnectionHooks;
import org.wharf.protocol.api.MemoryBudget;
import org.wharf.protocol.api.ProtocolContext;
import org.wharf.transport.api.Addresses;
import org.wharf.transport.api.DatagramOptions;
import org.wharf.transport.api.DatagramTransportProvider;
import org.wharf.transport.api.ListenOptions;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.StreamTransportProvider;
import org.wharf.transport.api.TlsOptions;
import org.wharf.transport.api.Settings;
import org.wharf.transport.api.TlsOptionsFactory;
import org.wharf.transport.api.Transport;
import org.wharf.transport.api.TransportProvider;

/**
 * One configured endpoint and the server it runs. Used on the whiteboard's thread only:
 * {@link #reconcile()} brings the server in line with what is registered now.
 */
final class Endpoint implements EndpointMXBean {

    final String pid;
    final String name;
    private final Whiteboard whiteboard;
    /** The configuration; replaced in place when only protocol settings change. */
    private volatile Map<String, Object> properties;
    private String transport;
    private InetSocketAddress address;
    private ProtocolSelector selector;
    /** When {@code protocol} lists several: which of them a connection gets, by its first bytes; else null. */
    private Detection detection;
    private int maxConnections;
    /**
     * Connections one endpoint holds at once unless maxConnections says otherwise: one client
     * holding more would otherwise take every file descriptor from every other endpoint.
     */
    static final int DEFAULT_MAX_CONNECTIONS = 10_000;
    /** The most bytes this endpoint's connections hold for clients, all and each (memory.*). */
    private long endpointBudget;
    private long connectionBudget;
    private Duration idleTimeout;
    private Duration drainTimeout;
    private Duration replaceWindow;
    /** Holds not yet decided, each for one absence of a protocol: closed when the endpoint stops. */
    private final java.util.Set<HeldProtocol.Hold> holds = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** The hold for the departure of the protocol whose factory was installed last (its fallback's). */
    private HeldProtocol.Hold departureHold;
    /** While holding: the hold whose connections the next protocol takes. */
    private HeldProtocol.Hold holdingFor;
    private boolean holding;
    private int holdGeneration;
    private String tls;
    private TlsOptions inlineTls;
    private TlsOptionsFactory inlineTlsFactory;
    /** The factory that found the inline TLS settings wrong, and why: tried again only with another one. */
    private TlsOptionsFactory inlineTlsFailedWith;
    private String inlineTlsError;
    private boolean hasInlineTls;
    private org.wharf.endpoints.ProxyProtocolAcceptance proxyProtocol;
    private int maxConnectionsPerClient;
    private int connectionRatePerClient;
    private int connectionBurstPerClient;
    private String configError;
    private int configErrorCode = EndpointDTO.FAILURE_REASON_INVALID_PROPERTY;
    /** What the last failed start was made of: not retried until one of them changes. */
    private List<Object> failedWith;

    /** Where the endpoint stands, and why: replaced as a whole, so never read half-updated. */
    private record Status(EndpointState state, int failure, String message) {
    }

    private boolean waitingForPredecessor;
    private volatile Status status = new Status(EndpointState.WAITING, EndpointDTO.FAILURE_REASON_NONE, "");
    private volatile Server server;
    private volatile DatagramServer datagramServer;
    private Object serverProvider;
    private volatile ProtocolEntry bound;
    /** The protocols whose service objects this endpoint holds, one entry per use; whiteboard thread. */
    private final List<ProtocolEntry> using = new java.util.ArrayList<>();
    private boolean starting;
    /** Another endpoint let go of this one's port while it was binding: a failed bind is tried again. */
    private boolean releasedWhileStarting;
    /** While starting: completes once what the bind holds is let go, should the endpoint go meanwhile. */
    private CompletableFuture<Void> startReleased;
    /** While waiting for its predecessor: what the predecessor's stop returned. */
    private CompletionStage<Void> predecessorReleased;
    /**
     * The accounts the next stream server takes over (counters, connection limits), and the
     * endpoint's memory share: this endpoint's last, or its predecessor's, so a limit
     * holds while a changed-away server drains and a scrape sees no counter start from zero.
     */
    private Server.Accounts accounts;
    private MemoryBudget share;
    /** What the closed datagram servers of this endpoint and its predecessors counted: the next one counts on from it. */
    private volatile ServerCounters datagramsBefore = ServerCounters.NONE;

    Endpoint(Whiteboard whiteboard, String pid, Map<String, Object> properties) {
        this.whiteboard = whiteboard;
        this.pid = pid;
        this.properties = Map.copyOf(properties);
        Object n = properties.get("name");
        this.name = n == null || n.toString().isBlank() ? pid : n.toString();
        parse();
    }

    /** Reads the configuration; a bad value becomes the reason the endpoint failed. */
    private void parse() {
        Settings settings = Settings.of(properties);
        try {
            transport = settings.text("transport", TransportProvider.TCP);
            String host = settings.text("host", "0.0.0.0");
            int port = settings.port("port", -1);
            address = new InetSocketAddress(host, port);
            if (address.isUnresolved()) {
                throw Settings.wrong("host", host, "cannot be resolved");
            }
            selector = ProtocolSelector.of(settings);
            detection = Detection.of(name, settings);
            int max = settings.integer("maxConnections", DEFAULT_MAX_CONNECTIONS, 0, Integer.MAX_VALUE);
            maxConnections = max == 0 ? Integer.MAX_VALUE : max;
            long total = whiteboard.memoryBudget().limit();
            endpointBudget = settings.bytes("memory.endpoint", total / 2, 1, Long.MAX_VALUE);
            connectionBudget = settings.bytes("memory.connection",
                    Math.min(endpointBudget, Math.max(2L << 20, endpointBudget / 64)), 1, Long.MAX_VALUE);
            idleTimeout = settings.millis("idleTimeout", null).orElse(null);
            drainTimeout = settings.millis("drainTimeout", Duration.ofSeconds(30)).orElse(Duration.ZERO);
            replaceWindow = settings.millis("replaceWindow", Duration.ofSeconds(2)).orElse(Duration.ZERO);
            proxyProtocol = proxyProtocol(settings);
            maxConnectionsPerClient = settings.integer("maxConnectionsPerClient", 0, 0, Integer.MAX_VALUE);
            connectionRatePerClient = settings.integer("connectionRatePerClient", 0, 0, Integer.MAX_VALUE);
            connectionBurstPerClient = settings.integer("connectionBurstPerClient", Math.max(1, connectionRatePerClient),
                    1, Integer.MAX_VALUE);
            tls = settings.text("tls").orElse(null);
            hasInlineTls = properties.keySet().stream().anyMatch(k -> k.startsWith(TlsOptionsFactory.PREFIX));
            if (TransportProvider.SSL.equals(transport) && tls == null && !hasInlineTls) {
                throw new IllegalArgumentException("transport = 'ssl' needs tls (the name of an org.wharf.tls "
                        + "configuration) or tls.* properties");
            }
            if (!TransportProvider.SSL.equals(transport) && (tls != null || hasInlineTls)) {
                // The transport would refuse to listen, with a message naming no endpoint.
                throw new IllegalArgumentException((tls != null ? "tls = '" + tls + "'" : "tls.* properties")
                        + " need transport = 'ssl', got transport = '" + transport + "'");
            }
            if (detection != null && TransportProvider.UDP.equals(transport)) {
                throw new IllegalArgumentException("protocol = " + detection + " (detection by the first bytes) "
                        + "needs a stream transport (tcp or ssl), got transport = 'udp'");
            }
            if (proxyProtocol != null && TransportProvider.UDP.equals(transport)) {
                throw new IllegalArgumentException("proxyProtocol = " + settings.text("proxyProtocol", "")
                        + " needs a stream transport (tcp or ssl), got transport = 'udp'");
            }
        } catch (IllegalArgumentException e) {
            configError = "endpoint " + name + ": " + e.getMessage();
        }
    }

    /** proxyProtocol (off, v1, v2, either), proxyProtocol.trusted, proxyProtocol.headerTimeout; null for off. */
    private static org.wharf.endpoints.ProxyProtocolAcceptance proxyProtocol(Settings settings) {
        String mode = settings.text("proxyProtocol", "off").trim();
        if (mode.equalsIgnoreCase("off")) {
            return null;
        }
        org.wharf.endpoints.ProxyProtocolAcceptance.Versions versions;
        try {
            versions = org.wharf.endpoints.ProxyProtocolAcceptance.Versions.of(mode);
        } catch (IllegalArgumentException e) {
            throw Settings.wrong("proxyProtocol", mode, "is not one of off, v1, v2, either");
        }
        List<String> trusted = settings.list("proxyProtocol.trusted");
        if (trusted.isEmpty()) {
            throw Settings.wrong("proxyProtocol.trusted", "", "must name the balancers allowed to send a PROXY header "
                    + "(addresses or networks such as 10.0.0.0/8) when proxyProtocol = " + mode);
        }
        Duration timeout = settings.positiveMillis("proxyProtocol.headerTimeout",
                org.wharf.endpoints.ProxyProtocolAcceptance.DEFAULT_HEADER_TIMEOUT);
        try {
            return org.wharf.endpoints.ProxyProtocolAcceptance.of(versions, trusted, timeout);
        } catch (IllegalArgumentException e) {
            throw Settings.wrong("proxyProtocol.trusted", String.join(", ", trusted), e.getMessage());
        }
    }

    /**
     * TLS settings given inline (tls.certificate, tls.key, ...), made by the TLS transport's
     * {@link TlsOptionsFactory} service: a missing file fails the endpoint; while no factory is
     * registered it waits. A failure is not retried with the same factory, but is with the next
     * one: after the TLS bundle was refreshed, for instance when a provider named by
     * {@code tls.provider} (Conscrypt) was installed and wired to it.
     *
     * @return false if the endpoint cannot go on now (its state says why)
     */
    private boolean resolveInlineTls() {
        if (!hasInlineTls) {
            return true;
        }
        TlsOptionsFactory factory = whiteboard.tlsOptionsFactory();
        if (factory == null) {
            inlineTls = null;
            inlineTlsFactory = null;
            set(EndpointState.WAITING, EndpointDTO.FAILURE_REASON_NO_TLS, "endpoint " + name
                    + ": tls.* properties need the TLS transport (no TlsOptionsFactory service is registered)");
            return false;
        }
        if (inlineTls != null && inlineTlsFactory == factory) {
            return true;
        }
        if (inlineTlsFailedWith == factory) {
            set(EndpointState.FAILED, EndpointDTO.FAILURE_REASON_INVALID_TLS, inlineTlsError);
            return false;
        }
        try {
            inlineTls = factory.fromProperties(properties);
            inlineTlsFactory = factory;
            inlineTlsFailedWith = null;
            inlineTlsError = null;
            return true;
        } catch (IllegalArgumentException e) {
            inlineTls = null;
            inlineTlsFactory = null;
            inlineTlsFailedWith = factory;
            inlineTlsError = "endpoint " + name + ": " + e.getMessage();
            set(EndpointState.FAILED, EndpointDTO.FAILURE_REASON_INVALID_TLS, inlineTlsError);
        }
        return false;
    }

    /** The keys this class reads: a change to any of them needs a new listener. */
    private static final java.util.Set<String> LISTENER_KEYS = java.util.Set.of("name", "transport", "host", "port",
            "protocol", "maxConnections", "idleTimeout", "drainTimeout", "replaceWindow", "tls", "memory.endpoint",
            "memory.connection", "proxyProtocol", "proxyProtocol.trusted", "proxyProtocol.headerTimeout",
            "maxConnectionsPerClient", "connectionRatePerClient", "connectionBurstPerClient", "detect.maxBytes",
            "detect.timeout");

    /**
     * Whether a new configuration differs from this one only in what the endpoint hands to
     * its protocol (keys it does not read itself, such as {@code proxy.*}): then the endpoint
     * keeps listening and its open connections keep running.
     *
     * @param next the new configuration
     * @return true if {@link #reconfigure(Map)} can take it
     */
    boolean onlyProtocolSettingsDiffer(Map<String, Object> next) {
        if (configError != null || status.state() == EndpointState.FAILED) {
            return false;
        }
        if (datagramServer != null) {
            return false; // a datagram protocol is made once per bind: new settings need a new bind
        }
        java.util.Set<String> keys = new java.util.HashSet<>(properties.keySet());
        keys.addAll(next.keySet());
        for (String key : keys) {
            if ((LISTENER_KEYS.contains(key) || key.startsWith("tls."))
                    && !java.util.Objects.equals(properties.get(key), next.get(key))) {
                return false;
            }
        }
        return true;
    }

    /**
     * Takes a configuration that {@link #onlyProtocolSettingsDiffer(Map) differs only in
     * protocol settings}, if the protocol accepts it: connections accepted from now on see it.
     *
     * @param next the new configuration
     * @return false if the protocol finds the settings wrong (nothing changed then)
     */
    boolean reconfigure(Map<String, Object> next) {
        ProtocolEntry b = bound;
        if (b != null && checkSettings(b, next) != null) {
            return false; // taken the long way: the endpoint fails with the reason
        }
        properties = Map.copyOf(next);
        return true;
    }

    /** What the protocol finds wrong with these settings, or null. */
    private String checkSettings(ProtocolEntry protocol, Map<String, Object> settings) {
        if (!use(protocol)) {
            return null; // gone meanwhile: the next reconcile finds out
        }
        try {
            protocol.checkSettings(context(settings, ConnectionHooks.NONE, MemoryBudget.UNLIMITED));
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        } catch (RuntimeException | LinkageError e) {
            return "protocol " + protocol.name() + " could not check the settings: " + e;
        } finally {
            unuse(protocol);
        }
    }

    /** Gets the protocol's service object while this endpoint uses it; false if it is gone. */
    private boolean use(ProtocolEntry protocol) {
        if (!protocol.acquire(whiteboard.context())) {
            return false;
        }
        using.add(protocol);
        return true;
    }

    /** This endpoint no longer uses the protocol (its last connections are gone). */
    private void unuse(ProtocolEntry protocol) {
        if (protocol != null && using.remove(protocol)) {
            protocol.release(whiteboard.context());
        }
    }

    // ---- reconciling ----

    /**
     * The node shuts down: stops accepting at once and lets open connections go on for up to
     * {@code timeout} ({@link org.wharf.protocol.api.Drainable} ones end at their next clean
     * boundary), then closes those still open. On the whiteboard's thread.
     *
     * @param timeout how long open connections may go on
     * @return completes when every connection is gone
     */
    CompletionStage<Void> drainForShutdown(Duration timeout) {
        holds.forEach(HeldProtocol.Hold::close);
        DatagramServer d = datagramServer;
        if (d != null) {
            d.close(); // datagrams have no connection to finish
        }
        Server s = server;
        if (s == null) {
            return CompletableFuture.completedFuture(null);
        }
        set(EndpointState.DRAINING, EndpointDTO.FAILURE_REASON_NONE, "");
        return s.drain(timeout);
    }

    /** Brings the server in line with the registered protocols, transports and TLS settings. */
    void reconcile() {
        if (whiteboard.isShuttingDown()) {
            return; // nothing starts again on a node that is going away
        }
        if (waitingForPredecessor) {
            return; // reconciles once the endpoint it replaces has let go of its ports
        }
        if (configError != null) {
            set(EndpointState.FAILED, configErrorCode, configError);
            return;
        }
        if (starting) {
            return; // finishes in started()
        }
        if (!resolveInlineTls()) {
            return;
        }
        boolean datagram = TransportProvider.UDP.equals(transport);
        Object provider = datagram ? whiteboard.datagramTransport(transport) : whiteboard.streamTransport(transport);
        if (serverProvider != null && serverProvider != provider) {
            // The transport went away (or was replaced): its listeners and connections died with it.
            stopNow();
        }
        if (provider == null) {
            // Waits, as for a protocol: at start the transport bundles may come after this one. A
            // name no bundle registers (a typo) is said once it has waited WAITING_QUIETLY.
            set(EndpointState.WAITING, EndpointDTO.FAILURE_REASON_NO_TRANSPORT, "endpoint " + name + ": "
                    + Settings.wrong("transport", transport, "no such transport is registered").getMessage());
            return;
        }
        Optional<ProtocolEntry> best = detection != null ? detection.lead(whiteboard.registeredProtocols(), transport)
                : selector.best(whiteboard.registeredProtocols(), transport);
        if (server == null && datagramServer == null) {
            if (best.isEmpty()) {
                set(EndpointState.WAITING, EndpointDTO.FAILURE_REASON_NO_PROTOCOL, "endpoint " + name
                        + ": no protocol matching protocol = " + selector
                        + " for " + transport + " is registered");
                return;
            }
            TlsOptions tlsOptions = inlineTls;
            if (tlsOptions == null && tls != null) {
                tlsOptions = whiteboard.tls(tls);
                if (tlsOptions == null) {
                    set(EndpointState.WAITING, EndpointDTO.FAILURE_REASON_NO_TLS, "endpoint " + name + ": tls = '" + tls
                            + "': no org.wharf.tls configuration "
                            + "of that name is active");
                    return;
                }
            }
            List<Object> inputs = java.util.Arrays.asList(provider, best.get().id(), tlsOptions);
            if (inputs.equals(failedWith)) {
                return; // failed with exactly these (a port in use): wait for a change
            }
            failedWith = null;
            String wrong = checkSettings(best.get(), properties);
            if (detection != null) {
                for (ProtocolEntry e : detection.wanted(whiteboard.registeredProtocols(), transport)) {
                    wrong = wrong != null ? wrong : checkSettings(e, properties);
                }
            }
            if (wrong != null) {
                failedWith = inputs; // until the configuration or the protocol changes
                set(EndpointState.FAILED, EndpointDTO.FAILURE_REASON_PROTOCOL_REFUSED_SETTINGS, "endpoint " + name + ": " + wrong);
                return;
            }
            start(provider, best.get(), tlsOptions);
            return;
        }
        if (status.state() == EndpointState.DRAINING) {
            return;
        }
        ProtocolEntry now = bound;
        if (detection != null && best.isPresent()) {
            updateDetection();
        }
        if (best.isEmpty()) {
            if (!holding) {
                hold(now);
            }
        } else if (holding) {
            resume(best.get());
        } else if (best.get().id() != now.id()) {
            if (detection != null) {
                lead(now, best.get());
            } else {
                upgrade(now, best.get());
            }
        }
    }

    /**
     * The protocol went away with no replacement: for the replace window new connections
     * are held (a bundle update brings the next version within moments); after it, drain.
     */
    private void hold(ProtocolEntry gone) {
        if (datagramServer != null || replaceWindow.isZero()) {
            if (departureHold != null) {
                // No replacement is waited for: what the departing factory held meanwhile closes now
                // rather than sitting paused until the drain timeout.
                departureHold.close();
            }
            drain(gone);
            return;
        }
        holding = true;
        // The connections the departed factory's fallback held already belong to this hold too.
        HeldProtocol.Hold hold = departureHold != null ? departureHold : newHold();
        holdingFor = hold;
        int generation = server.replaceProtocol((hooks, budget) -> new HeldProtocol(hold, budget));
        holdGeneration = generation;
        drainOldConnections(server, generation, hold);
        whiteboard.logger().log(Level.INFO, "endpoint " + name + ": protocol " + gone.name() + " " + gone.version()
                + " went away; new connections wait up to " + replaceWindow.toMillis() + " ms (replaceWindow) for a "
                + "replacement, open ones keep " + gone.version() + " until they end or " + drainTimeout.toMillis()
                + " ms (drainTimeout) have passed");
        whiteboard.schedule(() -> {
            if (holding && holdGeneration == generation) {
                holding = false;
                hold.close();
                drain(gone);
            }
        }, replaceWindow);
    }

    /** A protocol came back within the replace window: it takes new and held connections. */
    private void resume(ProtocolEntry to) {
        if (!use(to)) {
            return; // gone again before it could take over: the next reconcile decides
        }
        holding = false;
        ProtocolEntry gone = bound;
        bound = to;
        server.replaceProtocol(factoryOf(to));
        // After the new factory is in place: a connection made from the holding one meanwhile
        // joins the hold after this decision and gets it (HeldProtocol.Hold), none waits on.
        holdingFor.release(takenBy(to));
        releaseAfterDrain(gone);
        whiteboard.logger().log(Level.INFO, "endpoint " + name + ": " + to.name() + " " + to.version()
                + " takes over; held connections released");
        whiteboard.changed();
    }

    /**
     * @param released the hold whose connections the protocol that comes now, or soon, takes:
     *     they are spared however late they join it (made from the departing factory, a
     *     connection's {@code connectionMade} may come after this look); null for none
     */
    private void drainOldConnections(Server s, int generation, HeldProtocol.Hold released) {
        // Those that can end at a clean boundary (an HTTP response) do so now and come back on
        // the new version; the rest keep the old one until they end or drainTimeout closes them.
        // Not those that have no protocol of the old version (yet): held by the departing factory
        // for a replacement (the hold's replaceWindow bounds them), or, on a detecting endpoint,
        // still reading their first bytes (detect.timeout bounds them). They get the version
        // there is once they have one, and a later upgrade drains them with its old connections.
        java.util.function.Predicate<Protocol> ofHold = p -> p instanceof HeldProtocol h && h.heldBy(released);
        java.util.function.Predicate<Protocol> waiting = p -> p instanceof HeldProtocol h && h.waiting()
                || p instanceof Detecting d && d.undecided();
        java.util.Set<Transport> spared = java.util.Set.copyOf(s.connectionsBefore(generation, waiting));
        s.drainBefore(generation, waiting.or(ofHold).negate());
        whiteboard.schedule(() -> s.connectionsBefore(generation, ofHold.negate()).stream()
                .filter(t -> !spared.contains(t)).forEach(Transport::close), drainTimeout);
    }

    /** The old protocol's service object goes back once its connections had their time to finish. */
    private void releaseAfterDrain(ProtocolEntry old) {
        if (old != null) {
            whiteboard.schedule(() -> unuse(old), drainTimeout);
        }
    }

    private TlsOptions startedTls;

    private void start(Object provider, ProtocolEntry protocol, TlsOptions tlsOptions) {
        if (!use(protocol)) {
            return; // gone meanwhile: the next reconcile finds out
        }
        starting = true;
        startReleased = new CompletableFuture<>();
        startedTls = tlsOptions;
        if (detection != null) {
            updateDetection();
            // TLS or plain text on one port: the layer starts TLS when a ClientHello comes. Behind
            // the PROXY protocol the header comes first and TLS follows it, as on any TLS endpoint.
            detectsTls = tlsOptions != null && proxyProtocol == null;
            if (detectsTls) {
                tlsOptions = tlsOptions.withHandshakeOnConnect(false);
            }
        }
        serverProvider = provider;
        bound = protocol;
        if (provider instanceof DatagramTransportProvider udp) {
            DatagramServer.bind(udp, List.of(address), DatagramOptions.DEFAULT,
                    () -> protocol.newDatagramProtocol(context(ConnectionHooks.NONE)))
                    .whenComplete((s, e) -> whiteboard.submit(() -> started(null, s, e)));
            return;
        }
        ListenOptions options = tlsOptions == null ? ListenOptions.DEFAULT : ListenOptions.DEFAULT.withTls(tlsOptions);
        if (share == null || share.limit() != endpointBudget) {
            share = whiteboard.memoryBudget().share("endpoint " + name + " (memory.endpoint)", endpointBudget);
        }
        Server.Builder builder = Server.builder((StreamTransportProvider) provider).name(name).address(address)
                .options(options).maxConnections(maxConnections).idleTimeout(idleTimeout).proxyProtocol(proxyProtocol)
                .clientLimits(maxConnectionsPerClient, connectionRatePerClient, connectionBurstPerClient)
                .memoryBudget(share, connectionBudget).protocol(factoryOf(protocol));
        if (accounts != null) {
            builder.accounts(accounts);
        }
        builder.start()
                .whenComplete((s, e) -> {
                    if (detection != null) {
                        detection.server(s); // before the whiteboard's turn: connections may come at once
                    }
                    whiteboard.submit(() -> started(s, null, e));
                });
    }

    private void started(Server s, DatagramServer d, Throwable error) {
        starting = false;
        boolean retry = releasedWhileStarting;
        releasedWhileStarting = false;
        CompletableFuture<Void> release = startReleased;
        startReleased = null;
        if (error != null) {
            release.complete(null); // bound nothing
            Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                    ? error.getCause() : error;
            failedWith = java.util.Arrays.asList(serverProvider, bound.id(), startedTls);
            serverProvider = null;
            if (detection != null) {
                detection.clear(this::unuse);
            }
            unuse(bound);
            bound = null;
            // The transport's error names the address already ("cannot listen on H:P: why").
            String where = Addresses.hostAndPort(address.getHostString(), address.getPort());
            String why = String.valueOf(cause.getMessage());
            set(EndpointState.FAILED, EndpointDTO.FAILURE_REASON_CANNOT_BIND, "endpoint " + name + ": "
                    + (why.contains(where) ? why : "cannot listen on " + where + ": " + why));
            if (retry && !whiteboard.isRemoved(this)) {
                portReleased(); // the port was let go of as this bind failed on it
            }
            return;
        }
        if (whiteboard.isRemoved(this)) {
            // Replaced or removed while binding: its successor binds once this lets go.
            CompletableFuture<Void> free = CompletableFuture.completedFuture(null);
            if (s != null) {
                s.close(Duration.ZERO);
                free = s.listenersClosed().toCompletableFuture();
            }
            if (d != null) {
                d.close();
                free = d.closed().toCompletableFuture();
            }
            free.whenComplete((v, e) -> release.complete(null));
            return;
        }
        release.complete(null); // listening: a later stop says when its ports are free
        server = s;
        if (s != null) {
            accounts = s.accounts();
        }
        datagramServer = d;
        set(EndpointState.LISTENING, EndpointDTO.FAILURE_REASON_NONE, "");
        for (InetSocketAddress a : addresses()) {
            // The configured host: a wildcard bound dual-stack reads back as [::].
            whiteboard.logger().log(Level.INFO, "listening " + transport + " " + Addresses.hostAndPort(
                    address.getHostString(), a.getPort()) + " " + bound.name() + " " + bound.version() + " (endpoint " + name + ")");
        }
        reconcile(); // things may have changed while starting
    }

    private void upgrade(ProtocolEntry from, ProtocolEntry to) {
        if (datagramServer != null) {
            // One socket, no connections to keep: rebind with the new protocol, once the old is closed.
            after(stopNow());
            return;
        }
        if (!use(to)) {
            return; // gone meanwhile: the next reconcile finds out
        }
        Server s = server;
        HeldProtocol.Hold fromDeparture = departureHold;
        int generation = s.replaceProtocol(factoryOf(to));
        // The departing factory's held connections are spared by their hold, whenever they join
        // it: 'to' takes them below, so they run the new version, not the old one.
        drainOldConnections(s, generation, fromDeparture);
        if (fromDeparture != null) {
            fromDeparture.release(takenBy(to)); // held by the fallback of a departing 'from': 'to' takes them
        }
        bound = to;
        releaseAfterDrain(from);
        whiteboard.logger().log(Level.INFO, "endpoint " + name + ": new connections get " + to.name() + " " + to.version()
                + " (was " + from.version() + "); open ones keep " + from.version() + " until they end or "
                + drainTimeout.toMillis() + " ms (drainTimeout) have passed");
        whiteboard.changed();
    }

    /** The protocols a detecting endpoint's connections are offered are those listed and registered now. */
    private void updateDetection() {
        detection.update(detection.wanted(whiteboard.registeredProtocols(), transport), this::use, this::unuse,
                whiteboard::schedule, drainTimeout, replaceWindow);
        List<String> undetectable = detection.undetectable();
        if (!undetectable.isEmpty() && !undetectable.equals(saidUndetectable)) {
            whiteboard.logger().log(Level.WARNING, "endpoint " + name + ": protocol = " + detection + ": "
                    + String.join(", ", undetectable) + " cannot be recognised by its first bytes (its factory does "
                    + "not implement FirstBytes): no connection gets it");
        }
        saidUndetectable = undetectable;
    }

    private List<String> saidUndetectable = List.of();
    /** Whether a detecting endpoint's connections start TLS on a ClientHello. */
    private boolean detectsTls;

    /**
     * The first registered protocol of a detecting endpoint's list changed: it is what the
     * endpoint shows; the connections are not touched (each keeps the protocol it was handed).
     */
    private void lead(ProtocolEntry from, ProtocolEntry to) {
        if (!use(to)) {
            return; // gone meanwhile: the next reconcile finds out
        }
        bound = to;
        releaseAfterDrain(from);
        whiteboard.changed();
    }

    private void drain(ProtocolEntry gone) {
        if (datagramServer != null) {
            set(EndpointState.DRAINING, EndpointDTO.FAILURE_REASON_PROTOCOL_GONE, "endpoint " + name + ": protocol "
                    + gone.name() + " " + gone.version() + " went away; " + where() + " closed");
            whiteboard.logger().log(Level.INFO, status.message());
            datagramServer.close();
            whiteboard.submit(this::drained);
            return;
        }
        // Open connections keep their protocol as on an upgrade: they were opened before the
        // protocol went away and end by themselves or at the drain timeout, not at once.
        set(EndpointState.DRAINING, EndpointDTO.FAILURE_REASON_PROTOCOL_GONE, "endpoint " + name + ": protocol "
                + gone.name() + " " + gone.version() + " went away" + (replaceWindow.isZero() ? "" : " and no "
                        + "replacement came within " + replaceWindow.toMillis() + " ms (replaceWindow)") + "; "
                + where() + " closed, " + server.connections().size() + " open connection(s) end by "
                + "themselves or are closed " + drainTimeout.toMillis() + " ms (drainTimeout) after it went");
        whiteboard.logger().log(Level.INFO, status.message());
        server.drain(replaceWindow.isZero() ? drainTimeout : drainTimeout.minus(replaceWindow).isNegative()
                ? Duration.ZERO : drainTimeout.minus(replaceWindow))
                .whenComplete((v, e) -> whiteboard.submit(this::drained));
    }

    private void drained() {
        server = null;
        DatagramServer d = datagramServer;
        if (d != null) {
            datagramsBefore = d.countersFrom(datagramsBefore);
        }
        datagramServer = null;
        serverProvider = null;
        if (detection != null) {
            detection.clear(this::unuse);
        }
        unuse(bound);
        bound = null;
        if (status.state() == EndpointState.DRAINING) {
            set(EndpointState.WAITING, EndpointDTO.FAILURE_REASON_NONE, "");
        }
        if (!whiteboard.isRemoved(this)) {
            reconcile();
        }
    }

    /**
     * Stops for a changed or deleted configuration: accepts nothing more at once, and the
     * connections it serves (those still detecting their protocol too) go on with their
     * protocol and the settings they began with until they end or
     * {@code drainTimeout} has passed ({@link org.wharf.protocol.api.Drainable} ones end at
     * their next clean boundary), as when its protocol is updated. The protocols it used are
     * released once that time is up. A datagram endpoint, or one with {@code drainTimeout = 0},
     * stops at once.
     *
     * @param removed whether the configuration was deleted (for the log), not changed
     * @return completes once its ports are free (its listeners closed), for its successor to bind
     */
    CompletionStage<Void> stopForChange(boolean removed) {
        if (removed) {
            boundEarlierDrains(); // no successor will: a deletion's drainTimeout bounds them
        }
        Server s = server;
        CompletionStage<Void> free = s == null || drainTimeout.isZero() ? stopNow() : drainForChange(s, removed);
        if (removed) {
            List<Draining> left = drainingAway.stream().filter(d -> !d.drained().toCompletableFuture().isDone())
                    .toList();
            long open = left.stream().mapToLong(d -> d.server().connections().size()).sum();
            if (open > 0) {
                // Still shown, DRAINING with its counters, until its connections are gone.
                set(EndpointState.DRAINING, EndpointDTO.FAILURE_REASON_NONE, "endpoint " + name
                        + ": configuration deleted; " + open + " open connection(s) go on until they end or their "
                        + "drainTimeout has passed");
                whiteboard.deletedDrains(this, CompletableFuture.allOf(left.stream().map(d -> d.drained()
                        .toCompletableFuture()).toArray(CompletableFuture[]::new)));
            }
        }
        return free;
    }

    /**
     * The servers of this endpoint's line still draining after a change (its predecessors',
     * and its own once it is changed away), with the stage their drain ends with.
     */
    private record Draining(Server server, CompletionStage<Void> drained) {
    }

    private final List<Draining> drainingAway = new java.util.ArrayList<>();

    /**
     * Keeps a draining server in this endpoint's line until its drain ends, no longer: a server
     * holds its factory, which holds its endpoint, whose line holds the server before, and so on.
     */
    private void keepUntilDrained(Draining d) {
        if (d.drained().toCompletableFuture().isDone()) {
            return;
        }
        drainingAway.add(d);
        d.drained().whenComplete((v, e) -> whiteboard.submit(() -> drainingAway.remove(d)));
    }

    /**
     * The drains of earlier servers of this endpoint's line end no later than its own
     * {@code drainTimeout} from now: a lowered one (0: at once) takes effect on them too, so an
     * operator can cut what an earlier change left draining. On the whiteboard's thread.
     */
    void boundEarlierDrains() {
        if (configError != null) {
            return; // a configuration that could not be read sets no bound: their own time stands
        }
        for (Draining d : drainingAway) {
            if (drainTimeout.isZero()) {
                d.server().close(Duration.ZERO); // during its drain: closes its connections now
            } else {
                whiteboard.schedule(() -> d.server().close(Duration.ZERO), drainTimeout); // if its own end has not come
            }
        }
    }

    private CompletionStage<Void> drainForChange(Server s, boolean removed) {
        server = null; // not closed at once below: it drains
        List<ProtocolEntry> used = List.copyOf(using);
        using.clear();
        // Its connections still detecting choose among its protocols when their bytes come: the
        // detection stays theirs until the drain ends.
        Detection keptForDrain = detection;
        detection = null;
        CompletionStage<Void> portsFree = s.listenersClosed();
        long open = s.connections().size();
        CompletionStage<Void> drained = s.drain(drainTimeout);
        whiteboard.drainsAway(s, drained);
        keepUntilDrained(new Draining(s, drained));
        drained.whenComplete((v, e) -> whiteboard.submit(() -> {
            if (keptForDrain != null) {
                keptForDrain.clear(p -> { }); // released with the rest
            }
            used.forEach(p -> p.release(whiteboard.context()));
        }));
        String draining = "endpoint " + name + ": configuration " + (removed ? "deleted" : "changed") + "; " + open
                + " open connection(s) go on with the " + (removed ? "" : "old ") + "settings until they end or "
                + drainTimeout.toMillis() + " ms (drainTimeout) have passed";
        if (open > 0) {
            whiteboard.logger().log(Level.INFO, draining);
        }
        return portsFree.thenCombine(stopNow(), (a, b) -> null);
    }

    /**
     * Stops at once (the transport gone; at a change or deletion, a datagram endpoint or one with
     * {@code drainTimeout = 0}).
     *
     * @return completes once its ports are free (its listeners and sockets are closed)
     */
    CompletionStage<Void> stopNow() {
        holding = false;
        holds.forEach(HeldProtocol.Hold::close);
        CompletionStage<Void> released = CompletableFuture.completedFuture(null);
        // Replaced again before it listened: its successor waits for what this one waits for, or binds.
        if (waitingForPredecessor && predecessorReleased != null) {
            released = predecessorReleased;
        }
        if (starting && startReleased != null) {
            released = released.thenCombine(startReleased, (a, b) -> null);
        }
        Server s = server;
        if (s != null) {
            released = s.close(Duration.ZERO);
        }
        DatagramServer d = datagramServer;
        if (d != null) {
            datagramsBefore = d.countersFrom(datagramsBefore);
            d.close();
            released = released.thenCombine(d.closed(), (a, b) -> null);
        }
        server = null;
        datagramServer = null;
        serverProvider = null;
        bound = null;
        if (detection != null) {
            detection.clear(e -> { }); // released with the rest below
        }
        while (!using.isEmpty()) {
            unuse(using.get(0));
        }
        if (status.state() != EndpointState.FAILED) {
            set(EndpointState.WAITING, EndpointDTO.FAILURE_REASON_NONE, "");
        }
        return released;
    }

    /**
     * Another endpoint let go of this one's port: a bind that failed (the port in use, by that
     * one perhaps) is tried again, where a failed bind otherwise waits for a change. On the
     * whiteboard's thread.
     */
    void portReleased() {
        if (starting) {
            releasedWhileStarting = true; // its bind may fail on the port just let go: started() retries
            return;
        }
        Status now = status;
        if (now.state() == EndpointState.FAILED && now.failure() == EndpointDTO.FAILURE_REASON_CANNOT_BIND) {
            failedWith = null;
            reconcile();
        }
    }

    /** @return the configured port (0: any), or -1 if the configuration has none that is valid */
    int port() {
        return address == null ? -1 : address.getPort();
    }

    /**
     * This endpoint replaces one whose configuration changed: its server takes over the other's
     * accounts (counters, connection limits, memory share). On the whiteboard's thread.
     *
     * @param predecessor the endpoint replaced
     */
    void succeed(Endpoint predecessor) {
        accounts = predecessor.accounts;
        share = predecessor.share;
        datagramsBefore = predecessor.datagramsBefore;
        predecessor.drainingAway.forEach(this::keepUntilDrained);
        boundEarlierDrains();
    }

    /**
     * This endpoint's port is being let go of by another (its own predecessor, or one removed):
     * it binds only once that is done (closing a listener completes on its event loop, after the
     * call), or it would fail with the port "in use". On the whiteboard's thread.
     *
     * @param predecessorStopped completes once the port is free (what the others' stops returned)
     */
    void after(CompletionStage<Void> predecessorStopped) {
        waitingForPredecessor = true;
        predecessorReleased = predecessorStopped;
        // A copy times out: the stage itself is shared (the whiteboard's ports being let go of).
        predecessorStopped.toCompletableFuture().copy().orTimeout(10, java.util.concurrent.TimeUnit.SECONDS)
                .whenComplete((v, e) -> whiteboard.submit(() -> {
                    waitingForPredecessor = false;
                    predecessorReleased = null;
                    if (!whiteboard.isRemoved(this)) {
                        reconcile();
                    }
                }));
    }

    /**
     * New connections' protocols from this entry; once it departs (its unregistration began),
     * they are held for the replace window instead, from that very moment.
     */
    private java.util.function.BiFunction<ConnectionHooks, MemoryBudget, Protocol> factoryOf(ProtocolEntry protocol) {
        HeldProtocol.Hold departure = newHold();
        departureHold = departure;
        Detection d = detection; // the server's own: stopForChange clears the field while it drains
        if (d != null) {
            return (hooks, budget) -> d.layer(context(properties, hooks, budget), detectsTls);
        }
        return (hooks, budget) -> protocol.newProtocol(context(properties, hooks, budget),
                () -> new HeldProtocol(departure, budget));
    }

    /** A hold for one absence of a protocol; decided ones are forgotten. On the whiteboard's thread. */
    private HeldProtocol.Hold newHold() {
        holds.removeIf(HeldProtocol.Hold::decided);
        HeldProtocol.Hold hold = new HeldProtocol.Hold();
        holds.add(hold);
        return hold;
    }

    /** What a held connection gets from a protocol that came (on its loop): null if it went again. */
    private java.util.function.Function<MemoryBudget, Protocol> takenBy(ProtocolEntry to) {
        ConnectionHooks hooks = server.hooks();
        Map<String, Object> settings = properties;
        boolean tlsDetected = detectsTls;
        if (detection != null) {
            Detection d = detection;
            return budget -> d.layer(context(settings, hooks, budget), tlsDetected);
        }
        return budget -> to.newProtocol(context(settings, hooks, budget), () -> null);
    }

    private ProtocolContext context(ConnectionHooks hooks) {
        return context(properties, hooks, MemoryBudget.UNLIMITED);
    }

    /** What a protocol sees of these settings: every property with a value. */
    private ProtocolContext context(Map<String, Object> settings, ConnectionHooks hooks, MemoryBudget budget) {
        Map<String, Object> visible = new HashMap<>(settings);
        visible.values().removeIf(v -> v == null);
        return new ProtocolContext(name, transport, visible, hooks, budget);
    }

    /**
     * How long an endpoint may wait for its protocol, transport or TLS settings before the log
     * says so: at start, configurations usually arrive a moment before what they need.
     */
    private static final Duration WAITING_QUIETLY = Duration.ofSeconds(5);

    /**
     * The one place an endpoint's state changes. A change to FAILED is logged at once, a
     * WAITING that lasts {@link #WAITING_QUIETLY}, once; the same state again (every reconcile
     * finds it) logs nothing.
     */
    private void set(EndpointState newState, int failure, String message) {
        Status now = status;
        if (newState != now.state() || failure != now.failure() || !message.equals(now.message())) {
            Status next = new Status(newState, failure, message);
            status = next;
            whiteboard.changed();
            if (message.isEmpty()) {
                return;
            }
            // A missing transport is said only if it lasts, as a wait is: at start and stop the
            // transports come after and go before the endpoints, and that is no news.
            if (newState == EndpointState.FAILED && failure != EndpointDTO.FAILURE_REASON_NO_TRANSPORT) {
                whiteboard.logger().log(Level.WARNING, message);
            } else if (newState == EndpointState.WAITING || newState == EndpointState.FAILED) {
                whiteboard.schedule(() -> {
                    if (status == next && !whiteboard.isRemoved(this)) {
                        whiteboard.logger().log(Level.WARNING, message + " (waiting since "
                                + WAITING_QUIETLY.toSeconds() + " s)");
                    }
                }, WAITING_QUIETLY);
            }
        }
    }

    // ---- introspection ----

    /** @return {@code maxConnections} while a stream server listens ({@link Integer#MAX_VALUE} for none), else 0 */
    int listeningMaxConnections() {
        return server != null ? maxConnections : 0;
    }

    List<InetSocketAddress> addresses() {
        Server s = server;
        if (s != null) {
            return s.addresses();
        }
        DatagramServer d = datagramServer;
        return d != null ? d.addresses() : List.of();
    }

    Server server() {
        return server;
    }

    /**
     * What the runtime publishes of an endpoint: one immutable value (state, failure, message,
     * addresses, bound protocol), made on the whiteboard's thread between two of its actions,
     * so no reader sees a state apart from its addresses or its protocol. The counters are
     * read live, from the server this value describes or the accounts it would take over.
     *
     * @param name the endpoint's name
     * @param transport the transport kind
     * @param state where it stands
     * @param failure one of the {@code FAILURE_REASON_*} codes
     * @param message the failure in words, naming the property and its value
     * @param addresses the bound addresses as {@code host:port}; empty unless listening or draining
     * @param protocol the bound protocol, or null
     * @param server the stream server, or null
     * @param datagramServer the datagram server, or null
     * @param accounts the stream servers' accounts, or null: the counters while no server
     *        listens (waiting for its predecessor's port or a protocol, failed), its
     *        predecessors' draining connections among them
     * @param datagramsBefore what the closed datagram servers of the endpoint counted
     * @param deleted whether its configuration was deleted (shown while its connections drain)
     */
    record View(String name, String transport, EndpointState state, int failure, String message,
            List<String> addresses, ProtocolEntry protocol, Server server, DatagramServer datagramServer,
            Server.Accounts accounts, ServerCounters datagramsBefore, boolean deleted) {

        ServerCounters counters() {
            if (server != null) {
                return server.counters();
            }
            if (datagramServer != null) {
                return datagramServer.countersFrom(datagramsBefore);
            }
            if (accounts != null && !TransportProvider.UDP.equals(transport)) {
                return accounts.counters();
            }
            return datagramsBefore;
        }
    }

    /** The last value the whiteboard published of this endpoint (for JMX). */
    private volatile View published;

    /** This endpoint now, as one value. On the whiteboard's thread, between two of its actions. */
    View view() {
        Status now = status;
        Server s = server;
        DatagramServer d = datagramServer;
        boolean serving = (s != null || d != null)
                && (now.state() == EndpointState.LISTENING || now.state() == EndpointState.DRAINING);
        List<String> listening = serving
                ? addresses().stream().map(a -> Addresses.hostAndPort(configuredHost(), a.getPort())).toList() : List.of();
        View v = new View(name, String.valueOf(transport), now.state(), now.failure(), now.message(), listening,
                serving ? this.bound : null, serving ? s : null, serving ? d : null, accounts, datagramsBefore,
                whiteboard.isRemoved(this));
        published = v;
        return v;
    }

    /** What the whiteboard last published, made now if it has published nothing of this endpoint yet. */
    private View published() {
        View v = published;
        return v != null ? v : new View(name, String.valueOf(transport), EndpointState.WAITING,
                EndpointDTO.FAILURE_REASON_NONE, "", List.of(), null, null, null, null, ServerCounters.NONE, false);
    }

    /** The DTO of a published value, with its live counters and protocol figures. */
    static EndpointDTO dto(View v) {
        ProtocolEntry b = v.protocol();
        ServerCounters c = v.counters();
        EndpointDTO dto = new EndpointDTO();
        dto.name = v.name();
        dto.transport = v.transport();
        dto.addresses = v.addresses().toArray(String[]::new);
        dto.state = v.state();
        dto.failureReason = v.failure();
        dto.failureMessage = v.message();
        dto.protocol = b == null ? "" : b.name();
        dto.protocolVersion = b == null ? "" : b.version().toString();
        dto.sessions = c.sessions();
        dto.open = c.open();
        dto.rejected = c.rejected();
        dto.requests = c.requests();
        dto.bytesReceived = c.bytesReceived();
        dto.bytesSent = c.bytesSent();
        dto.protocolMetrics = protocolMetrics(b, v.name());
        return dto;
    }

    /** The bound addresses, for the log. */
    private String where() {
        return String.join(", ", addresses().stream().map(a -> Addresses.hostAndPort(configuredHost(), a.getPort()))
                .toList());
    }

    /** The configured host, as written: a wildcard bound dual-stack would read back as [::]. */
    private String configuredHost() {
        return address == null ? "?" : address.getHostString();
    }

    /** The bound protocol's figures for an endpoint; none if it has none or fails to say. */
    private static Map<String, Long> protocolMetrics(ProtocolEntry b, String endpoint) {
        if (b == null) {
            return Map.of();
        }
        try {
            Map<String, Long> m = b.metrics(endpoint);
            return m == null ? Map.of() : new java.util.TreeMap<>(m);
        } catch (RuntimeException | LinkageError e) {
            return Map.of(); // a protocol's introspection never breaks the runtime's
        }
    }

    // ---- JMX: the published value, as Gogo and /status read it ----

    @Override
    public Map<String, Long> getProtocolMetrics() {
        View v = published();
        return protocolMetrics(v.protocol(), name);
    }

    ProtocolEntry bound() {
        return bound;
    }

    @Override
    public String getState() {
        return published().state().name();
    }

    @Override
    public String getReason() {
        return published().message();
    }

    @Override
    public String getTransport() {
        return String.valueOf(transport);
    }

    @Override
    public String getProtocol() {
        ProtocolEntry b = published().protocol();
        return b == null ? "" : b.name() + " " + b.version();
    }

    @Override
    public String getAddresses() {
        return String.join(", ", published().addresses());
    }

    @Override
    public long getSessions() {
        return published().counters().sessions();
    }

    @Override
    public long getOpenConnections() {
        return published().counters().open();
    }

    @Override
    public long getRejected() {
        return published().counters().rejected();
    }

    @Override
    public long getRequests() {
        return published().counters().requests();
    }

    @Override
    public long getBytesReceived() {
        return published().counters().bytesReceived();
    }

    @Override
    public long getBytesSent() {
        return published().counters().bytesSent();
    }
}
