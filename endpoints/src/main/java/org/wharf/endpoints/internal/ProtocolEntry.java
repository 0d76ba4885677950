package org.wharf.endpoints.internal;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.Version;
import org.wharf.protocol.api.BaseProtocolFactory;
import org.wharf.protocol.api.DatagramProtocolFactory;
import org.wharf.protocol.api.FirstBytes;
import org.wharf.protocol.api.ProtocolContext;
import org.wharf.protocol.api.ProtocolFactory;
import org.wharf.transport.api.DatagramProtocol;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.TransportProvider;

/**
 * A registered protocol factory as the whiteboard tracks it: by its service reference and
 * properties, with the service object got only while an endpoint or pool uses it (a protocol
 * no endpoint uses is never activated), and a gate that stops new connections from reaching a
 * departing factory before its unregistration returns.
 */
final class ProtocolEntry {

    /** Which interface the entry stands for. */
    enum Kind { STREAM, DATAGRAM }

    final long id;
    final Kind kind;
    private final ServiceReference<? extends BaseProtocolFactory> reference;
    private final Map<String, Object> properties;
    private final String name;
    private final Version version;
    private final List<String> transports;
    private final String bundle;
    private final ReentrantReadWriteLock gate = new ReentrantReadWriteLock();
    /** Guarded by the gate's write lock; read under its read lock. */
    private boolean departed;
    /** The service object and its users; guarded by this. */
    private BaseProtocolFactory factory;
    private int users;

    ProtocolEntry(long id, Kind kind, ServiceReference<? extends BaseProtocolFactory> reference,
            Map<String, Object> properties, String name, Version version, List<String> transports, String bundle) {
        this.id = id;
        this.kind = kind;
        this.reference = reference;
        this.properties = properties;
        this.name = name;
        this.version = version;
        this.transports = transports;
        this.bundle = bundle;
    }

    /** The transport kinds an entry of this kind serves unless its property narrows them. */
    static List<String> transports(Kind kind, Object property) {
        List<String> all = kind == Kind.STREAM ? List.of(TransportProvider.TCP, TransportProvider.SSL)
                : List.of(TransportProvider.UDP);
        List<String> given = property instanceof String[] a ? List.of(a)
                : property instanceof Collection<?> c ? c.stream().map(String::valueOf).toList()
                : property == null || property.toString().isBlank() ? List.of()
                : List.of(property.toString().split("\\s*,\\s*"));
        return given.isEmpty() ? all : given.stream().filter(all::contains).toList();
    }

    long id() {
        return id;
    }

    Map<String, Object> properties() {
        return properties;
    }

    String name() {
        return name;
    }

    Version version() {
        return version;
    }

    List<String> transports() {
        return transports;
    }

    String bundle() {
        return bundle;
    }

    boolean serves(String transport) {
        return transports.contains(transport);
    }

    /** Its {@code service.ranking}, 0 when not set. */
    int ranking() {
        return properties.get("service.ranking") instanceof Integer r ? r : 0;
    }

    /**
     * Gets the service object for one more user (an endpoint, a pool, a check).
     *
     * @return false if the service is gone
     */
    synchronized boolean acquire(BundleContext context) {
        if (factory == null) {
            factory = context.getService(reference);
            if (factory == null) {
                return false;
            }
        }
        users++;
        return true;
    }

    /** One user less; the last gives the service object back (its component may deactivate). */
    synchronized void release(BundleContext context) {
        if (users > 0 && --users == 0) {
            factory = null;
            try {
                context.ungetService(reference);
            } catch (IllegalStateException stopping) {
                // the whiteboard's bundle is stopping: the framework gives it back
            }
        }
    }

    private synchronized BaseProtocolFactory factory() {
        if (factory == null) {
            throw new IllegalStateException("protocol " + name + " " + version + " is not acquired");
        }
        return factory;
    }

    /**
     * Makes a stream protocol, or {@code otherwise} once the factory departed: a factory's
     * unregistration waits for calls in flight and no call starts after it.
     */
    Protocol newProtocol(ProtocolContext context, Supplier<Protocol> otherwise) {
        gate.readLock().lock();
        try {
            return departed ? otherwise.get() : ((ProtocolFactory) factory()).newProtocol(context);
        } finally {
            gate.readLock().unlock();
        }
    }

    /**
     * The factory's detector on a connection's first bytes ({@link FirstBytes}); {@code NO} once
     * the factory departed, as for {@link #newProtocol}, and for a factory that has none.
     */
    FirstBytes.Match firstBytes(ProtocolContext context, java.nio.ByteBuffer first) {
        gate.readLock().lock();
        try {
            return !departed && factory() instanceof FirstBytes detector ? detector.match(context, first)
                    : FirstBytes.Match.NO;
        } finally {
            gate.readLock().unlock();
        }
    }

    /** Whether the factory's unregistration began. */
    boolean departed() {
        gate.readLock().lock();
        try {
            return departed;
        } finally {
            gate.readLock().unlock();
        }
    }

    /** Whether the factory claims connections by their first bytes (acquired by the caller). */
    boolean detects() {
        return factory() instanceof FirstBytes;
    }

    /** Makes a datagram protocol. */
    DatagramProtocol newDatagramProtocol(ProtocolContext context) {
        return ((DatagramProtocolFactory) factory()).newDatagramProtocol(context);
    }

    /** The factory's check of an endpoint's settings (acquired by the caller). */
    void checkSettings(ProtocolContext context) {
        factory().checkSettings(context);
    }

    /** The factory's figures for an endpoint (acquired by the caller). */
    Map<String, Long> metrics(String endpoint) {
        return factory().metrics(endpoint);
    }

    /** The factory is being unregistered: from now on no new connection reaches it. */
    void depart() {
        gate.writeLock().lock();
        try {
            departed = true;
        } finally {
            gate.writeLock().unlock();
        }
    }

    @Override
    public String toString() {
        return name + " " + version + " (" + kind.name().toLowerCase() + ", service " + id + ")";
    }
}
