package org.wharf.protocol.echo.internal;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import org.wharf.transport.api.DatagramProtocol;
import org.wharf.transport.api.DatagramTransport;
import org.wharf.transport.api.ExtraInfo;

/**
 * Datagram echo (RFC 862) that cannot be turned against anyone: each datagram goes back to
 * its sender unless it came from the endpoint's own address and port (a forged datagram
 * like that would make the endpoint answer itself forever), from no address one can answer
 * (port 0, the wildcard, multicast, broadcast), or past the answer rates of
 * {@link UdpEchoSettings} (a forged source would aim the answers at someone else); and not
 * while the socket's send queue is over its high-water mark. What is dropped is counted by
 * reason, and each kind is logged at most once every {@link #DROP_LINES_WINDOW} with how many
 * of it were dropped since its last line ({@link DropLog}): an operator hears of every attack,
 * not only of the first, and not of each datagram.
 *
 * <p>Rates follow the generic cell rate algorithm: one time per source, when its next answer
 * is due, so the table costs a few words per source; the least recently seen source is
 * forgotten beyond {@link UdpEchoSettings#sources()}. A source is an IPv4 address, or an IPv6
 * address's /64: one host is commonly given a whole /64, and an address each would make it
 * as many sources as it likes, each with its own burst. An address of NAT64's well-known
 * prefix ({@code 64:ff9b::/96}) is the IPv4 host it stands for, so the clients of one
 * translator do not share one rate. All of it runs on the socket's event loop; an IPv4
 * source, or an IPv6 source like the datagram before, costs no allocation.
 */
final class DatagramEcho implements DatagramProtocol {

    private static final System.Logger LOG = System.getLogger("org.wharf.protocol.echo");
    /** How long the interface addresses of a wildcard-bound socket are taken as known. */
    private static final long LOCAL_ADDRESSES_FRESH = TimeUnit.SECONDS.toNanos(30);
    private static final InetAddress LIMITED_BROADCAST = limitedBroadcast();
    /** How long one line stands for its kind of drop. */
    static final long DROP_LINES_WINDOW = TimeUnit.SECONDS.toNanos(10);

    /** An IPv6 source's key in the rate table: its /64 prefix. */
    private static final class Prefix64 {
        /** Changed only in {@link DatagramEcho#probe}, which never goes into the table. */
        long bits;

        Prefix64(long bits) {
            this.bits = bits;
        }

        @Override
        public int hashCode() {
            return Long.hashCode(bits);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Prefix64 p && p.bits == bits;
        }
    }

    /** When a rate's next answer is due in full (the GCRA's theoretical arrival time). */
    private static final class Due {
        long at;

        Due(long at) {
            this.at = at;
        }
    }

    private final String endpoint;
    private final UdpEchoSettings settings;
    private final UdpEchoCounters counters;
    private final LongSupplier clock;
    private final long sourceInterval;
    private final long sourceTolerance;
    private final long totalInterval;
    private final long totalTolerance;
    private final Due total;
    /** Whether a rate is limited: else the clock is not read per datagram. */
    private final boolean limited;
    /** By source: an IPv4 address ({@link Inet4Address}), an IPv6 /64 ({@link Prefix64}). */
    private final LinkedHashMap<Object, Due> sources;
    /** Looks an IPv6 source up without a key per datagram. */
    private final Prefix64 probe = new Prefix64(0);
    /** The last IPv6 source and its /64: the prefix is not read again for the same address. */
    private Inet6Address lastV6;
    private long lastV6Prefix;
    /** The IPv4 address the last IPv6 source stands for if it is a NAT64 one, or null. */
    private InetAddress lastV6Nat64;
    /** Which drops get a log line now. */
    private final DropLog drops;
    private DatagramTransport transport;
    private InetSocketAddress local;
    private boolean wildcard;
    private Set<InetAddress> localAddresses = Set.of();
    private long localAddressesRead;
    private boolean localAddressesKnown;

    /**
     * An echo for one bound socket.
     *
     * @param endpoint the endpoint's name, for log lines
     * @param settings the answer rates
     * @param counters the endpoint's counters
     * @param clock nanoseconds, as {@link System#nanoTime()}
     */
    DatagramEcho(String endpoint, UdpEchoSettings settings, UdpEchoCounters counters, LongSupplier clock) {
        this.endpoint = endpoint;
        this.settings = settings;
        this.counters = counters;
        this.clock = clock;
        this.sourceInterval = interval(settings.rate());
        this.sourceTolerance = (settings.burst() - 1) * sourceInterval;
        this.totalInterval = interval(settings.totalRate());
        // All sources together may take one second's worth at once.
        this.totalTolerance = (Math.max(1, settings.totalRate()) - 1) * totalInterval;
        this.total = new Due(clock.getAsLong());
        this.limited = settings.rate() > 0 || settings.totalRate() > 0;
        this.drops = new DropLog(clock, DROP_LINES_WINDOW);
        int max = settings.sources();
        this.sources = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Object, Due> eldest) {
                if (size() > max) {
                    counters.sources.decrement();
                    return true;
                }
                return false;
            }
        };
    }

    @Override
    public void connectionMade(DatagramTransport t) {
        transport = t;
        local = t.extraInfo(ExtraInfo.LOCAL_ADDRESS).filter(InetSocketAddress.class::isInstance)
                .map(InetSocketAddress.class::cast).orElse(null);
        wildcard = local != null && local.getAddress() != null && local.getAddress().isAnyLocalAddress();
    }

    @Override
    public void datagramReceived(ByteBuffer data, SocketAddress sender) {
        int size = data.remaining();
        counters.datagramsIn.increment();
        counters.bytesIn.add(size);
        if (!(sender instanceof InetSocketAddress from) || !answerable(from)) {
            counters.droppedInvalidSource.increment();
            return;
        }
        if (own(from)) {
            counters.droppedOwnAddress.increment();
            long n = drops.drop(DropLog.Kind.OWN_ADDRESS);
            if (n > 0) {
                LOG.log(System.Logger.Level.WARNING, "echo endpoint " + endpoint + " (" + local + "): dropped "
                        + DropLog.datagrams(n) + " whose source is the endpoint itself "
                        + drops.since(DropLog.Kind.OWN_ADDRESS) + ", the latest from " + from + "; answering would start an endless loop. They are only counted "
                        + "(echo.udp.dropped.ownAddress)");
            }
            return;
        }
        if (local != null && from.getPort() == local.getPort() || settings.reflectorPorts().get(from.getPort())) {
            // Another echo (this endpoint's port on another host, or a service that answers
            // anything): a datagram forged to come from it would have the two answer each
            // other for ever, within any rate.
            counters.droppedReflectorPort.increment();
            long n = drops.drop(DropLog.Kind.REFLECTOR_PORT);
            if (n > 0) {
                LOG.log(System.Logger.Level.WARNING, "echo endpoint " + endpoint + ": dropped " + DropLog.datagrams(n)
                        + " from ports that answer datagrams themselves (this endpoint's, or "
                        + UdpEchoSettings.REFLECTOR_PORTS + ") " + drops.since(DropLog.Kind.REFLECTOR_PORT)
                        + ", the latest from " + from + "; answering could start an endless exchange. They are only "
                        + "counted (echo.udp.dropped.reflectorPort)");
            }
            return;
        }
        if (!transport.isWritable()) {
            counters.droppedBusy.increment(); // answers already wait for the socket: no more queue
            return;
        }
        long now = limited ? clock.getAsLong() : 0;
        if (settings.rate() > 0 && !allowSource(from.getAddress(), now)) {
            counters.droppedSourceRate.increment();
            long n = drops.drop(DropLog.Kind.SOURCE_RATE);
            if (n > 0) {
                LOG.log(System.Logger.Level.INFO, "echo endpoint " + endpoint + ": dropped " + DropLog.datagrams(n)
                        + " over " + UdpEchoSettings.RATE + " = " + settings.rate() + " datagrams/s (burst "
                        + settings.burst() + ") per source (an IPv4 address, an IPv6 /64) "
                        + drops.since(DropLog.Kind.SOURCE_RATE)
                        + ", the latest from " + from.getAddress().getHostAddress() + "; the excess is dropped, from "
                        + "every source, and only counted (echo.udp.dropped.sourceRate)");
            }
            return;
        }
        if (settings.totalRate() > 0 && !allow(total, now, totalInterval, totalTolerance)) {
            counters.droppedTotalRate.increment();
            long n = drops.drop(DropLog.Kind.TOTAL_RATE);
            if (n > 0) {
                LOG.log(System.Logger.Level.WARNING, "echo endpoint " + endpoint + ": dropped " + DropLog.datagrams(n)
                        + " over " + UdpEchoSettings.TOTAL_RATE + " = " + settings.totalRate() + " answers/s "
                        + drops.since(DropLog.Kind.TOTAL_RATE) + "; the excess is dropped and only counted "
                        + "(echo.udp.dropped.totalRate)");
            }
            return;
        }
        // Counted first: whoever sees the answer sees it counted. The buffer is only ours
        // during the call: sendCopyTo sends straight from it, or copies what must wait.
        counters.datagramsOut.increment();
        counters.bytesOut.add(size);
        transport.sendCopyTo(data, from);
    }

    @Override
    public void errorReceived(Exception error) {
        counters.errors.increment();
    }

    @Override
    public void connectionLost(Throwable cause) {
        counters.sources.add(-sources.size());
        sources.clear();
        // What was dropped after each kind's last line would otherwise never be told of.
        for (DropLog.Kind kind : DropLog.Kind.values()) {
            long n = drops.unlogged(kind);
            if (n > 0) {
                LOG.log(System.Logger.Level.INFO, "echo endpoint " + endpoint + ": the socket closed; "
                        + DropLog.datagrams(n) + " " + kind.what + " were dropped since the last line like it ("
                        + kind.counter + ")");
            }
        }
    }

    /** Whether an answer to this address could reach one host: not port 0, the wildcard, multicast or broadcast. */
    private static boolean answerable(InetSocketAddress from) {
        InetAddress a = from.getAddress();
        return a != null && from.getPort() != 0 && !a.isAnyLocalAddress() && !a.isMulticastAddress()
                && !a.equals(LIMITED_BROADCAST);
    }

    /** Whether the datagram comes from this very socket: its port and one of its addresses. */
    private boolean own(InetSocketAddress from) {
        if (local == null || from.getPort() != local.getPort()) {
            return false;
        }
        InetAddress a = from.getAddress();
        if (!wildcard) {
            return a.equals(local.getAddress());
        }
        return a.isLoopbackAddress() || localAddresses().contains(a);
    }

    /** Every address of every interface, read again when older than {@link #LOCAL_ADDRESSES_FRESH}. */
    private Set<InetAddress> localAddresses() {
        long now = clock.getAsLong();
        if (!localAddressesKnown || now - localAddressesRead > LOCAL_ADDRESSES_FRESH) {
            try {
                Set<InetAddress> found = new HashSet<>();
                NetworkInterface.networkInterfaces().forEach(i -> i.inetAddresses().forEach(found::add));
                localAddresses = found;
            } catch (SocketException e) {
                LOG.log(System.Logger.Level.WARNING, "echo endpoint " + endpoint + ": cannot list the interface "
                        + "addresses (" + e.getMessage() + "); datagrams from them are checked against the last list");
            }
            localAddressesRead = now;
            localAddressesKnown = true;
        }
        return localAddresses;
    }

    private boolean allowSource(InetAddress address, long now) {
        Object key = address;
        if (address instanceof Inet6Address v6) {
            if (!v6.equals(lastV6)) { // compares the bytes; reading them copies them
                byte[] bytes = v6.getAddress();
                lastV6Prefix = prefix64(bytes);
                lastV6Nat64 = nat64(bytes);
                lastV6 = v6;
            }
            if (lastV6Nat64 != null) {
                key = lastV6Nat64; // an IPv4 host behind NAT64: a source of its own, not the translator's /64
            } else {
                probe.bits = lastV6Prefix;
                key = probe;
            }
        }
        Due due = sources.get(key);
        if (due == null) {
            due = new Due(now);
            sources.put(key == probe ? new Prefix64(probe.bits) : key, due);
            counters.sources.increment();
        }
        return allow(due, now, sourceInterval, sourceTolerance);
    }

    /**
     * The IPv4 address an IPv6 address of NAT64's well-known prefix ({@code 64:ff9b::/96}, RFC
     * 6052) stands for, or null: every IPv4 host reached through a translator shares its /64, so
     * keyed by the /64 they would all share one rate.
     */
    private static InetAddress nat64(byte[] address) {
        for (int i = 0; i < 12; i++) {
            if (address[i] != NAT64_PREFIX[i]) {
                return null;
            }
        }
        try {
            return InetAddress.getByAddress(java.util.Arrays.copyOfRange(address, 12, 16));
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e); // four bytes are always an IPv4 address
        }
    }

    private static final byte[] NAT64_PREFIX = {0, 0x64, (byte) 0xff, (byte) 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};

    /** The first 64 bits of an IPv6 address, its network prefix. */
    private static long prefix64(byte[] address) {
        long bits = 0;
        for (int i = 0; i < 8; i++) {
            bits = bits << 8 | (address[i] & 0xff);
        }
        return bits;
    }

    /** GCRA: the answer is allowed unless it would be due further ahead than the tolerance. */
    private static boolean allow(Due due, long now, long interval, long tolerance) {
        long at = Math.max(due.at, now);
        if (at - now > tolerance) {
            return false;
        }
        due.at = at + interval;
        return true;
    }

    private static long interval(long perSecond) {
        return perSecond <= 0 ? 0 : Math.max(1, TimeUnit.SECONDS.toNanos(1) / perSecond);
    }

    private static InetAddress limitedBroadcast() {
        try {
            return Inet4Address.getByAddress(new byte[] {(byte) 255, (byte) 255, (byte) 255, (byte) 255});
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
