package org.wharf.endpoints.internal;

import java.lang.System.Logger.Level;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import javax.management.MBeanServer;
import javax.management.ObjectName;

import org.osgi.framework.ServiceReference;
import org.osgi.framework.Version;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.wharf.endpoints.Server;
import org.wharf.endpoints.api.ConnectionDTO;
import org.wharf.endpoints.api.EndpointDTO;
import org.wharf.endpoints.api.EndpointRuntime;
import org.wharf.endpoints.api.MetricDTO;
import org.wharf.endpoints.api.ProtocolDTO;
import org.wharf.endpoints.api.RuntimeDTO;
import org.wharf.protocol.api.BaseProtocolFactory;
import org.wharf.protocol.api.DatagramProtocolFactory;
import org.wharf.protocol.api.MemoryBudget;
import org.wharf.protocol.api.ProtocolFactory;
import org.wharf.transport.api.Addresses;
import org.wharf.transport.api.DatagramTransportProvider;
import org.wharf.transport.api.ExtraInfo;
import org.wharf.transport.api.Settings;
import org.wharf.transport.api.StreamTransportProvider;
import org.wharf.transport.api.TlsOptions;
import org.wharf.transport.api.TlsOptionsFactory;
import org.wharf.transport.api.TransportProvider;

/**
 * The protocol whiteboard: matches configured endpoints with the registered protocols,
 * transports and TLS settings, and keeps every endpoint's server in line with them as they
 * come and go. Every change is handled on one thread of its own, in order.
 */
@Component(service = Whiteboard.class, immediate = true)
// Registered by hand (for service.changecount), declared for resolvers as DS would.
@org.osgi.annotation.bundle.Capability(namespace = "osgi.service",
        attribute = "objectClass:List<String>=org.wharf.endpoints.api.EndpointRuntime", uses = EndpointRuntime.class)
public final class Whiteboard implements EndpointRuntime {

    private static final String TLS_NAME = "wharf.tls.name";

    private record Provided<T>(String key, T service) {
    }

    private final ScheduledThreadPoolExecutor thread = new ScheduledThreadPoolExecutor(1, r -> {
        Thread t = new Thread(r, "wharf-whiteboard");
        t.setDaemon(true);
        t.setContextClassLoader(null);
        return t;
    });
    private final Map<String, ProtocolEntry> protocols = new ConcurrentHashMap<>();
    private final ProtocolConfigurations configurations = new ProtocolConfigurations(this);
    private final Map<Long, Provided<StreamTransportProvider>> streams = new ConcurrentHashMap<>();
    private final Map<Long, Provided<DatagramTransportProvider>> datagrams = new ConcurrentHashMap<>();
    private final Map<Long, Provided<TlsOptions>> tlsSettings = new ConcurrentHashMap<>();
    private final Map<String, Endpoint> endpoints = new ConcurrentHashMap<>();
    /** Servers of changed or deleted configurations whose connections drain (Endpoint#stopForChange); added on the whiteboard's thread. */
    private final java.util.Set<org.wharf.endpoints.Server> changedAway = ConcurrentHashMap.newKeySet();
    /**
     * Endpoints whose configuration was deleted while their connections drain, by PID: still
     * published (DRAINING, with their counters) unless a new one of the same name is.
     * Whiteboard thread only.
     */
    private final Map<String, Endpoint> deletedDraining = new java.util.HashMap<>();
    /**
     * Ports that endpoints removed or changed away are letting go of (a listener closes on its
     * loop, after the call): an endpoint that would bind one waits for that first, whichever
     * configuration it comes from (its own changed one, a renamed {@code .cfg}, a ConfigMap
     * swap that hands the port to another). Whiteboard thread only.
     */
    private final Map<Integer, CompletionStage<Void>> portsReleasing = new java.util.HashMap<>();

    /** The descriptor warnings logged, each once (a handful: one per configuration that falls short). */
    private final java.util.Set<String> descriptorWarnings = new java.util.HashSet<>();
    /** Publications so far: a descriptor check runs only if none came after the one that scheduled it. On the whiteboard's thread. */
    private long descriptorGeneration;
    /** How long after a change of the endpoints their descriptors are checked. */
    static final Duration DESCRIPTOR_CHECK_DELAY = Duration.ofSeconds(2);
    private final Map<String, ConfiguredPool> pools = new ConcurrentHashMap<>();
    /** Makes inline tls.* settings; the TLS transport's, while it runs. On the whiteboard's thread. */
    private TlsOptionsFactory tlsOptionsFactory;
    private volatile org.osgi.framework.BundleContext context;
    private final AtomicLong changeCount = new AtomicLong();
    /** A publication is queued on the whiteboard's thread; changes until it runs are one change. */
    private final java.util.concurrent.atomic.AtomicBoolean publishPending =
            new java.util.concurrent.atomic.AtomicBoolean();
    /** What readers see: replaced as a whole by {@link #publish()}, never changed. */
    private volatile Snapshot published = new Snapshot(0, List.of(), List.of());
    /** The EndpointRuntime service, registered by hand so its change count can be updated. */
    private volatile org.osgi.framework.ServiceRegistration<EndpointRuntime> registration;

    /** One protocol as published. */
    private record ProtocolView(String name, String version, List<String> transports, String bundle, long serviceId,
            int ranking, List<String> endpoints) {
    }

    /** The runtime as published at one change count: immutable. */
    private record Snapshot(long changeCount, List<Endpoint.View> endpoints, List<ProtocolView> protocols) {
    }
    private final MBeanServer mbeans = ManagementFactory.getPlatformMBeanServer();

    private final System.Logger logger = System.getLogger("org.wharf.endpoints");

    /** Framework property: the most bytes all endpoints' connections hold for clients together. */
    static final String MEMORY_TOTAL = "wharf.memory.total";
    /** The platform's memory budget, whose shares the endpoints are; half the heap unless set. */
    private volatile MemoryBudget memory = platformBudget(Runtime.getRuntime().maxMemory() / 2);

    /** Framework property: how long (ms) a stopping node stays up, not ready, for balancers to notice. */
    static final String SHUTDOWN_GRACE = "wharf.shutdown.grace";
    /** Framework property: how long (ms) open connections of a stopping node may go on once it stops accepting. */
    static final String SHUTDOWN_DRAIN = "wharf.shutdown.drain";
    private volatile boolean shuttingDown;
    /**
     * Hears the framework begin to stop (the system bundle's STOPPING, delivered synchronously
     * on the stopping thread before any bundle stops), and holds it there for the graceful
     * shutdown: so the launcher, Karaf and a shell's {@code stop 0} all get it.
     */
    private final org.osgi.framework.SynchronousBundleListener frameworkStopping = event -> {
        if (event.getType() == org.osgi.framework.BundleEvent.STOPPING && event.getBundle().getBundleId() == 0) {
            shutDown();
        }
    };

    /** Made by Declarative Services. */
    public Whiteboard() {
        thread.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }

    @org.osgi.service.component.annotations.Activate
    void activate(org.osgi.service.component.ComponentContext component) {
        org.osgi.framework.BundleContext bundleContext = component.getBundleContext();
        this.context = bundleContext;
        // Gogo's wharf:* commands, except in Karaf: there the optional shell.karaf bundle gives
        // the same commands as Karaf commands (with completion), and two in one scope clash.
        if (bundleContext.getProperty("karaf.base") == null) {
            component.enableComponent(WharfCommands.class.getName());
        }
        String total = bundleContext.getProperty(MEMORY_TOTAL);
        try {
            long fallback = Runtime.getRuntime().maxMemory() / 2;
            memory = platformBudget(Settings.of(total == null ? Map.of() : Map.of(MEMORY_TOTAL, total))
                    .bytes(MEMORY_TOTAL, fallback, 1, Long.MAX_VALUE));
        } catch (IllegalArgumentException e) {
            logger.log(Level.WARNING, e.getMessage() + "; half the heap (" + memory.limit() + " bytes) it is");
        }
        bundleContext.addBundleListener(frameworkStopping);
        submit(() -> {
            configurations.start(bundleContext);
            reconcileAll();
            publish();
            registration = bundleContext.registerService(EndpointRuntime.class, this,
                    changeCountProperty(published.changeCount()));
        });
    }

    private static MemoryBudget platformBudget(long bytes) {
        return MemoryBudget.of("the platform (" + MEMORY_TOTAL + ")", bytes);
    }

    /** The platform's memory budget: endpoints take their shares of it. */
    MemoryBudget memoryBudget() {
        return memory;
    }

    @Deactivate
    void deactivate() throws InterruptedException {
        try {
            context.removeBundleListener(frameworkStopping);
        } catch (IllegalStateException stopping) {
            // the bundle's context is no longer valid: its listeners are gone with it
        }
        submit(() -> {
            org.osgi.framework.ServiceRegistration<EndpointRuntime> r = registration;
            registration = null;
            if (r != null) {
                try {
                    r.unregister();
                } catch (IllegalStateException alreadyGone) {
                    // the bundle is stopping: the framework unregistered it
                }
            }
            configurations.stop();
            pools.values().forEach(ConfiguredPool::close);
            pools.clear();
            endpoints.values().forEach(e -> {
                e.stopNow();
                unregister(e);
            });
            endpoints.clear();
            changedAway.forEach(s -> s.close(Duration.ZERO)); // their drain ends with the whiteboard
            changedAway.clear();
        });
        thread.shutdown();
        thread.awaitTermination(30, TimeUnit.SECONDS);
    }

    // ---- what comes and goes ----

    // Protocol factories are tracked by reference: the service object is got only when an
    // endpoint or pool uses one (see ProtocolEntry), so a protocol no endpoint uses stays inactive.

    @Reference(service = ProtocolFactory.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, unbind = "removeStreamProtocol")
    void addStreamProtocol(ServiceReference<ProtocolFactory> ref) {
        added(ref, ProtocolEntry.Kind.STREAM);
    }

    void removeStreamProtocol(ServiceReference<ProtocolFactory> ref) {
        removed(ref, ProtocolEntry.Kind.STREAM);
    }

    @Reference(service = DatagramProtocolFactory.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, unbind = "removeDatagramProtocol")
    void addDatagramProtocol(ServiceReference<DatagramProtocolFactory> ref) {
        added(ref, ProtocolEntry.Kind.DATAGRAM);
    }

    void removeDatagramProtocol(ServiceReference<DatagramProtocolFactory> ref) {
        removed(ref, ProtocolEntry.Kind.DATAGRAM);
    }

    private void added(ServiceReference<? extends BaseProtocolFactory> ref, ProtocolEntry.Kind kind) {
        long id = (Long) ref.getProperty("service.id");
        ProtocolEntry entry = new ProtocolEntry(id, kind, ref, properties(ref),
                String.valueOf(ref.getProperty(BaseProtocolFactory.NAME_PROPERTY)), version(ref),
                ProtocolEntry.transports(kind, ref.getProperty(BaseProtocolFactory.TRANSPORTS_PROPERTY)),
                ref.getBundle() == null ? "?" : ref.getBundle().getSymbolicName());
        protocols.put(id + "/" + kind, entry);
        Object pid = ref.getProperty(BaseProtocolFactory.CONFIGURATION_PID_PROPERTY);
        submit(() -> {
            if (pid != null && !pid.toString().isBlank()) {
                configurations.declare(pid.toString().trim(), entry.name());
            }
            changed();
            reconcileAll();
        });
    }

    /**
     * A factory is being unregistered. Before this returns no new connection reaches it (as the
     * Http Whiteboard switches servlets away under its lock); the endpoints that used it hold
     * their new connections for the replace window, then drain, on the whiteboard's thread.
     */
    private void removed(ServiceReference<? extends BaseProtocolFactory> ref, ProtocolEntry.Kind kind) {
        long id = (Long) ref.getProperty("service.id");
        ProtocolEntry entry = protocols.remove(id + "/" + kind);
        if (entry != null) {
            entry.depart();
        }
        submit(() -> {
            changed();
            reconcileAll();
        });
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC, unbind = "removeStream")
    void addStream(StreamTransportProvider provider, Map<String, Object> properties) {
        long id = (Long) properties.get("service.id");
        submit(() -> {
            streams.put(id, new Provided<>(String.valueOf(properties.get(TransportProvider.TRANSPORT_PROPERTY)), provider));
            reconcileAll();
        });
    }

    void removeStream(StreamTransportProvider provider, Map<String, Object> properties) {
        long id = (Long) properties.get("service.id");
        submit(() -> {
            streams.remove(id);
            reconcileAll();
        });
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC, unbind = "removeDatagram")
    void addDatagram(DatagramTransportProvider provider, Map<String, Object> properties) {
        long id = (Long) properties.get("service.id");
        submit(() -> {
            datagrams.put(id, new Provided<>(String.valueOf(properties.get(TransportProvider.TRANSPORT_PROPERTY)),
                    provider));
            reconcileAll();
        });
    }

    void removeDatagram(DatagramTransportProvider provider, Map<String, Object> properties) {
        long id = (Long) properties.get("service.id");
        submit(() -> {
            datagrams.remove(id);
            reconcileAll();
        });
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC, unbind = "removeTls",
            target = "(" + TLS_NAME + "=*)")
    void addTls(TlsOptions options, Map<String, Object> properties) {
        long id = (Long) properties.get("service.id");
        submit(() -> {
            tlsSettings.put(id, new Provided<>(String.valueOf(properties.get(TLS_NAME)), options));
            reconcileAll();
        });
    }

    void removeTls(TlsOptions options, Map<String, Object> properties) {
        long id = (Long) properties.get("service.id");
        submit(() -> {
            tlsSettings.remove(id);
            reconcileAll();
        });
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            unbind = "removeTlsOptionsFactory")
    void addTlsOptionsFactory(TlsOptionsFactory factory) {
        submit(() -> {
            tlsOptionsFactory = factory;
            reconcileAll();
        });
    }

    void removeTlsOptionsFactory(TlsOptionsFactory factory) {
        submit(() -> {
            if (tlsOptionsFactory == factory) {
                tlsOptionsFactory = null;
                reconcileAll();
            }
        });
    }

    /** A configuration appeared or changed (from {@link ServerConfigComponent}). */
    void configure(String pid, Map<String, Object> properties) {
        submit(() -> {
            Endpoint current = endpoints.get(pid);
            if (current != null && current.onlyProtocolSettingsDiffer(properties) && current.reconfigure(properties)) {
                // Listening stays, connections run on; new connections get the new settings.
                changed();
                logger.log(Level.INFO, "endpoint " + current.name + ": protocol settings changed; new connections "
                        + "use them, open ones keep theirs");
                return;
            }
            Endpoint old = endpoints.remove(pid);
            if (old != null) {
                releasing(old.port(), old.stopForChange(false)); // its open connections drain
                unregister(old);
            }
            Endpoint e = new Endpoint(this, pid, properties);
            if (old != null) {
                e.succeed(old);
            }
            endpoints.put(pid, e);
            register(e);
            changed();
            CompletionStage<Void> busy = portsReleasing.get(e.port());
            if (busy != null) {
                e.after(busy);
            } else {
                e.reconcile();
            }
        });
    }

    /**
     * An endpoint is letting go of its port: one that would bind it waits until then, and one
     * that failed to bind it is tried again then.
     */
    private void releasing(int port, CompletionStage<Void> released) {
        if (port <= 0) {
            return; // an ephemeral port is no one else's
        }
        CompletionStage<Void> before = portsReleasing.get(port);
        CompletionStage<Void> all = before == null ? released : before.thenCombine(released, (a, b) -> null);
        portsReleasing.put(port, all);
        all.whenComplete((v, e) -> submit(() -> {
            if (portsReleasing.remove(port, all)) {
                // One configured before the other let go (a rename seen create-first, two endpoints
                // swapping ports) failed "in use": it tries again now.
                endpoints.values().stream().filter(x -> x.port() == port).forEach(Endpoint::portReleased);
            }
        }));
    }

    /** A configuration was deleted. */
    void unconfigure(String pid) {
        submit(() -> {
            Endpoint e = endpoints.remove(pid);
            if (e != null) {
                releasing(e.port(), e.stopForChange(true)); // its open connections drain, as HAProxy's on a reload
                unregister(e);
                changed();
            }
        });
    }

    /** A pool configuration appeared or changed (from {@link PoolConfigComponent}). */
    void configurePool(String pid, Map<String, Object> properties) {
        submit(() -> {
            ConfiguredPool old = pools.remove(pid);
            if (old != null) {
                old.close();
            }
            ConfiguredPool p = new ConfiguredPool(this, pid, properties);
            pools.put(pid, p);
            if (context != null) {
                p.reconcile(context);
            }
        });
    }

    /** A pool configuration was deleted. */
    void unconfigurePool(String pid) {
        submit(() -> {
            ConfiguredPool p = pools.remove(pid);
            if (p != null) {
                p.close();
            }
        });
    }

    // ---- for endpoints, on the whiteboard's thread ----

    Collection<ProtocolEntry> registeredProtocols() {
        return protocols.values();
    }

    StreamTransportProvider streamTransport(String kind) {
        return streams.values().stream().filter(p -> p.key.equals(kind)).map(Provided::service).findFirst().orElse(null);
    }

    DatagramTransportProvider datagramTransport(String kind) {
        return datagrams.values().stream().filter(p -> p.key.equals(kind)).map(Provided::service).findFirst()
                .orElse(null);
    }

    TlsOptions tls(String name) {
        return tlsSettings.values().stream().filter(p -> p.key.equals(name)).map(Provided::service).findFirst()
                .orElse(null);
    }

    TlsOptionsFactory tlsOptionsFactory() {
        return tlsOptionsFactory;
    }

    org.osgi.framework.BundleContext context() {
        return context;
    }

    boolean isRemoved(Endpoint e) {
        return endpoints.get(e.pid) != e;
    }

    System.Logger logger() {
        return logger;
    }

    /**
     * Something readers see changed: a new snapshot is published after the action running now
     * (and any queued before it), with the next change count. Changes made before it runs are
     * published together, as the Http Whiteboard coalesces its change count.
     */
    void changed() {
        if (publishPending.compareAndSet(false, true)) {
            submit(this::publish);
        }
    }

    /**
     * Takes one look at every endpoint and protocol between two actions of the whiteboard's
     * thread, so no endpoint's state is ever seen apart from its failure, addresses or
     * protocol, publishes it, then updates the service's {@code service.changecount}.
     */
    private void publish() {
        publishPending.set(false);
        java.util.Set<String> names = endpoints.values().stream().map(e -> e.name).collect(
                java.util.stream.Collectors.toSet());
        List<Endpoint.View> views = java.util.stream.Stream.concat(endpoints.values().stream(), deletedDraining
                .values().stream().filter(e -> !names.contains(e.name))).map(Endpoint::view)
                .sorted(Comparator.comparing(Endpoint.View::name)).toList();
        // One protocol per service: an object registered as both factory kinds is one protocol.
        Map<Long, ProtocolView> byService = new java.util.TreeMap<>();
        for (ProtocolEntry p : protocols.values()) {
            List<String> serving = views.stream().filter(v -> v.protocol() == p).map(Endpoint.View::name).toList();
            byService.merge(p.id(), new ProtocolView(p.name(), p.version().toString(), List.copyOf(p.transports()),
                    p.bundle(), p.id(), p.ranking(), serving), (a, b) -> new ProtocolView(a.name(), a.version(),
                    java.util.stream.Stream.concat(a.transports().stream(), b.transports().stream()).distinct()
                            .sorted().toList(), a.bundle(), a.serviceId(), a.ranking(),
                    java.util.stream.Stream.concat(a.endpoints().stream(), b.endpoints().stream()).distinct()
                            .sorted().toList()));
        }
        List<ProtocolView> protocolViews = byService.values().stream().map(p -> new ProtocolView(p.name(),
                p.version(), p.transports().stream().sorted().toList(), p.bundle(), p.serviceId(), p.ranking(),
                p.endpoints().stream().sorted().toList())).sorted(Comparator.comparing(ProtocolView::name)
                .thenComparing(ProtocolView::version)).toList();
        // Once the endpoints have settled: at start they come up one by one, and a line for each
        // partial set would be noise. Each change puts the check off again.
        long generation = ++descriptorGeneration;
        schedule(() -> {
            if (generation == descriptorGeneration) {
                checkDescriptors();
            }
        }, DESCRIPTOR_CHECK_DELAY);
        long count = changeCount.incrementAndGet();
        published = new Snapshot(count, views, protocolViews);
        org.osgi.framework.ServiceRegistration<EndpointRuntime> r = registration;
        if (r != null) {
            try {
                r.setProperties(changeCountProperty(count));
            } catch (IllegalStateException unregistered) {
                // deactivating: nobody waits on this runtime any more
            }
        }
    }

    /**
     * Warns, once for each set of endpoints and limits, when the listening endpoints may hold
     * more connections than the process may open descriptors for ({@link DescriptorBudget}).
     * On the whiteboard's thread.
     */
    private void checkDescriptors() {
        Map<String, Integer> listening = new java.util.TreeMap<>();
        for (Endpoint e : endpoints.values()) {
            int max = e.listeningMaxConnections();
            if (max > 0) {
                listening.put(e.name, max);
            }
        }
        if (listening.isEmpty()) {
            return;
        }
        java.util.OptionalLong limit = DescriptorBudget.processLimit();
        if (limit.isEmpty()) {
            return;
        }
        DescriptorBudget.shortfall(limit.getAsLong(), listening).ifPresent(warning -> {
            if (descriptorWarnings.size() < 64 && descriptorWarnings.add(warning)) {
                logger.log(Level.WARNING, warning);
            }
        });
    }

    private static java.util.Dictionary<String, Object> changeCountProperty(long count) {
        java.util.Hashtable<String, Object> properties = new java.util.Hashtable<>();
        properties.put(CHANGE_COUNT, count);
        return properties;
    }

    /** A deleted endpoint's connections drain: it is published until they are gone. On the whiteboard's thread. */
    void deletedDrains(Endpoint endpoint, CompletionStage<Void> drained) {
        deletedDraining.put(endpoint.pid, endpoint);
        drained.whenComplete((v, e) -> submit(() -> {
            if (deletedDraining.remove(endpoint.pid, endpoint)) {
                changed();
            }
        }));
    }

    /** A server of a changed configuration drains: closed at once should the whiteboard stop first. */
    void drainsAway(org.wharf.endpoints.Server server, CompletionStage<Void> drained) {
        changedAway.add(server);
        drained.whenComplete((v, e) -> submit(() -> changedAway.remove(server)));
    }

    /** Runs an action on the whiteboard's thread, after those already queued. */
    void submit(Runnable action) {
        if (thread.isShutdown()) {
            return;
        }
        thread.execute(() -> {
            try {
                action.run();
            } catch (RuntimeException | Error e) {
                logger.log(Level.WARNING, "whiteboard action failed: " + e, e);
            }
        });
    }

    /** Runs an action on the whiteboard's thread after a delay. */
    void schedule(Runnable action, Duration delay) {
        if (!thread.isShutdown()) {
            thread.schedule(() -> submit(action), delay.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private void reconcileAll() {
        endpoints.values().forEach(Endpoint::reconcile);
        if (context != null) {
            pools.values().forEach(p -> p.reconcile(context));
        }
    }

    // ---- shutting down ----

    boolean isShuttingDown() {
        return shuttingDown;
    }

    /**
     * The node's graceful shutdown, on the thread that stops the framework (which waits): not
     * ready at once (readiness checks fail, so a balancer sends no new connections); serving
     * on for {@value #SHUTDOWN_GRACE} ms while it notices; then every endpoint stops accepting
     * and its open connections may finish for up to {@value #SHUTDOWN_DRAIN} ms (those whose
     * protocol is {@link org.wharf.protocol.api.Drainable} end at their next clean boundary);
     * those still open then are closed, and the framework goes on stopping.
     */
    void shutDown() {
        if (shuttingDown) {
            return;
        }
        shuttingDown = true;
        changed();
        Duration grace = shutdownSetting(SHUTDOWN_GRACE, Duration.ZERO);
        Duration drain = shutdownSetting(SHUTDOWN_DRAIN, Duration.ofSeconds(10));
        long open = openConnections();
        logger.log(Level.INFO, "shutting down: not ready from now on; serving for " + grace.toMillis() + " ms ("
                + SHUTDOWN_GRACE + "), then " + open + " open connection(s) may finish within " + drain.toMillis()
                + " ms (" + SHUTDOWN_DRAIN + ")");
        long start = System.nanoTime();
        try {
            if (!grace.isZero()) {
                // The grace period is what is waited for here: balancers poll readiness meanwhile.
                Thread.sleep(grace.toMillis());
            }
            CompletableFuture<List<CompletableFuture<Void>>> drains = new CompletableFuture<>();
            // Servers still draining after a change are waited for too, and closed when this drain
            // ends if theirs has not (a running drain is not shortened by another).
            submit(() -> drains.complete(java.util.stream.Stream.concat(endpoints.values().stream()
                    .map(e -> e.drainForShutdown(drain).toCompletableFuture()), changedAway.stream().map(s -> {
                        CompletableFuture.delayedExecutor(drain.toMillis(), TimeUnit.MILLISECONDS)
                                .execute(() -> s.close(Duration.ZERO)); // during a drain: closes, then aborts after its grace
                        return s.drain(drain).toCompletableFuture();
                    })).toList()));
            Duration atMost = drain.plus(Server.DRAIN_CLOSE_GRACE).plusSeconds(1);
            long deadline = System.nanoTime() + atMost.toNanos();
            List<CompletableFuture<Void>> all = drains.get(atMost.toMillis(), TimeUnit.MILLISECONDS);
            long left = openConnections();
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
                    .get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            logger.log(Level.INFO, "shut down gracefully in " + (System.nanoTime() - start) / 1_000_000 + " ms ("
                    + left + " connection(s) were open when accepting stopped)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            logger.log(Level.WARNING, "shutting down: " + openConnections() + " connection(s) still open "
                    + (System.nanoTime() - start) / 1_000_000 + " ms after it began; they close with the framework");
        }
    }

    private long openConnections() {
        return java.util.stream.Stream.concat(endpoints.values().stream().map(Endpoint::server)
                .filter(java.util.Objects::nonNull), changedAway.stream()).mapToLong(s -> s.connections().size()).sum();
    }

    /** A shutdown duration from the framework properties; a wrong value is said, and the default taken. */
    private Duration shutdownSetting(String name, Duration fallback) {
        String value = context == null ? null : context.getProperty(name);
        if (value == null) {
            return fallback;
        }
        try {
            return Settings.of(Map.of(name, value)).millis(name, fallback).orElse(Duration.ZERO);
        } catch (IllegalArgumentException e) {
            logger.log(Level.WARNING, e.getMessage() + "; " + fallback.toMillis() + " ms it is");
            return fallback;
        }
    }

    // ---- EndpointRuntime ----

    /**
     * The last published snapshot: endpoints and protocols as they were at its change count,
     * each endpoint with the live counters of the server it describes.
     */
    @Override
    public RuntimeDTO getRuntimeDTO() {
        Snapshot now = published;
        RuntimeDTO dto = new RuntimeDTO();
        dto.changeCount = now.changeCount();
        dto.endpoints = now.endpoints().stream().map(Endpoint::dto).toArray(EndpointDTO[]::new);
        dto.shuttingDown = shuttingDown;
        dto.notReadyReason = notReadyReason(dto.endpoints, now.endpoints());
        dto.ready = dto.notReadyReason.isEmpty();
        int dead = 0;
        for (Provided<StreamTransportProvider> p : streams.values()) {
            dead += p.service().deadLoops();
        }
        for (Provided<DatagramTransportProvider> p : datagrams.values()) {
            dead += p.service().deadLoops();
        }
        dto.live = dead == 0;
        dto.notLiveReason = dead == 0 ? "" : dead + " event loop(s) died of a fatal error";
        dto.protocols = now.protocols().stream().map(p -> {
            ProtocolDTO d = new ProtocolDTO();
            d.name = p.name();
            d.version = p.version();
            d.transports = p.transports().toArray(String[]::new);
            d.bundle = p.bundle();
            d.serviceId = p.serviceId();
            d.ranking = p.ranking();
            d.endpoints = p.endpoints().toArray(String[]::new);
            return d;
        }).toArray(ProtocolDTO[]::new);
        return dto;
    }

    /** Why the node is not ready, or "": a deleted endpoint still draining is no reason (it is no longer configured). */
    private String notReadyReason(EndpointDTO[] all, List<Endpoint.View> views) {
        if (shuttingDown) {
            return "shutting down";
        }
        org.osgi.framework.BundleContext c = context;
        if (c == null || c.getBundle(0).getState() != org.osgi.framework.Bundle.ACTIVE) {
            return "starting";
        }
        for (int i = 0; i < all.length; i++) {
            EndpointDTO e = all[i];
            if (e.state != org.wharf.endpoints.api.EndpointState.LISTENING && !views.get(i).deleted()) {
                return "endpoint " + e.name + " is " + e.state + (e.failureMessage.isEmpty() ? ""
                        : ": " + e.failureMessage);
            }
        }
        return "";
    }

    @Override
    public MetricDTO[] getMetricDTOs() {
        List<TransportProvider> transports = new ArrayList<>();
        streams.values().forEach(p -> transports.add(p.service()));
        datagrams.values().forEach(p -> transports.add(p.service()));
        return RuntimeMetrics.of(published.endpoints(), transports, memory);
    }

    @Override
    public ConnectionDTO[] getConnectionDTOs(String endpoint) {
        List<ConnectionDTO> result = new ArrayList<>();
        for (Endpoint e : endpoints.values()) {
            Server s = e.server();
            if (s == null || endpoint != null && !endpoint.equals(e.name)) {
                continue;
            }
            s.connections().forEach(t -> {
                ConnectionDTO c = new ConnectionDTO();
                c.endpoint = e.name;
                c.peer = t.extraInfo(ExtraInfo.PEER_ADDRESS).map(Whiteboard::hostAndPort).orElse("?");
                c.proxiedBy = t.extraInfo(ExtraInfo.PROXIED_BY).map(Whiteboard::hostAndPort).orElse(null);
                c.local = t.extraInfo(ExtraInfo.LOCAL_ADDRESS).map(Whiteboard::hostAndPort).orElse("?");
                c.bytesReceived = t.extraInfo(ExtraInfo.BYTES_RECEIVED).orElse(0L);
                c.bytesSent = t.extraInfo(ExtraInfo.BYTES_SENT).orElse(0L);
                result.add(c);
            });
        }
        return result.toArray(ConnectionDTO[]::new);
    }

    /** One way to print an address: {@code host:port}, the host as a literal IP. */
    static String hostAndPort(java.net.SocketAddress address) {
        return Addresses.text(address);
    }

    // ---- JMX ----

    private void register(Endpoint e) {
        try {
            ObjectName name = objectName(e);
            if (!mbeans.isRegistered(name)) {
                mbeans.registerMBean(e, name);
            }
        } catch (javax.management.JMException | RuntimeException ex) {
            logger.log(Level.WARNING, "cannot register endpoint " + e.name + " with JMX: " + ex, ex);
        }
    }

    private void unregister(Endpoint e) {
        try {
            ObjectName name = objectName(e);
            if (mbeans.isRegistered(name)) {
                mbeans.unregisterMBean(name);
            }
        } catch (javax.management.JMException | RuntimeException ex) {
            logger.log(Level.WARNING, "cannot unregister endpoint " + e.name + " from JMX: " + ex, ex);
        }
    }

    private static ObjectName objectName(Endpoint e) throws javax.management.MalformedObjectNameException {
        return new ObjectName("org.wharf:type=Endpoint,name=" + ObjectName.quote(e.name));
    }

    // ---- reading service properties ----

    private static Map<String, Object> properties(ServiceReference<?> ref) {
        Map<String, Object> map = new java.util.HashMap<>();
        for (String key : ref.getPropertyKeys()) {
            map.put(key, ref.getProperty(key));
        }
        return map;
    }

    private Version version(ServiceReference<?> ref) {
        Object v = ref.getProperty(BaseProtocolFactory.VERSION_PROPERTY);
        if (v != null && !v.toString().isBlank()) {
            try {
                return Version.parseVersion(v.toString().trim());
            } catch (IllegalArgumentException e) {
                logger.log(Level.WARNING, BaseProtocolFactory.VERSION_PROPERTY + " = '" + v + "' of protocol "
                        + ref.getProperty(BaseProtocolFactory.NAME_PROPERTY) + " is not a version; using the bundle's");
            }
        }
        return ref.getBundle() == null ? Version.emptyVersion : ref.getBundle().getVersion();
    }
}
