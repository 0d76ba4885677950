package org.wharf.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import io.netty.handler.ssl.OpenSsl;

/**
 * The echo servers the bench runs: Wharf, and Netty 4.2 in each configuration its users pick
 * for speed. Plain TCP and UDP run on Netty's NIO, epoll and io_uring transports; TLS on NIO
 * with the JDK's engine and on epoll with OpenSSL (BoringSSL, netty-tcnative).
 */
enum Peer {
    /** Wharf's NIO transport, and its TLS layer on the JDK's engine. */
    WHARF("wharf", Transport.NIO, false),
    /** Netty on NIO (and for TLS, the JDK's SSLEngine). */
    NETTY_NIO("netty-nio", Transport.NIO, false),
    /** Netty's native epoll transport. */
    NETTY_EPOLL("netty-epoll", Transport.EPOLL, false),
    /** Netty's native io_uring transport. */
    NETTY_IO_URING("netty-io_uring", Transport.IO_URING, false),
    /** Netty's epoll transport with {@code SslProvider.OPENSSL} (BoringSSL). */
    NETTY_EPOLL_OPENSSL("netty-epoll-openssl", Transport.EPOLL, true);

    /** The event-loop kind a Netty server runs on. */
    enum Transport {
        NIO, EPOLL, IO_URING
    }

    private final String id;
    private final Transport transport;
    private final boolean openSsl;

    Peer(String id, Transport transport, boolean openSsl) {
        this.id = id;
        this.transport = transport;
        this.openSsl = openSsl;
    }

    /** @return the name used on the command line, in the table and in the JSON */
    String id() {
        return id;
    }

    /** @return the Netty transport (NIO for Wharf) */
    Transport transport() {
        return transport;
    }

    /** @return whether TLS runs on OpenSSL rather than the JDK's engine */
    boolean openSsl() {
        return openSsl;
    }

    /**
     * Whether this server takes part in a scenario: plain TCP and UDP on every transport; TLS
     * with the JDK's engine on NIO and with OpenSSL on epoll.
     *
     * @param tls whether the scenario is over TLS
     * @return whether it runs
     */
    boolean serves(boolean tls) {
        return switch (this) {
            case WHARF, NETTY_NIO -> true;
            case NETTY_EPOLL, NETTY_IO_URING -> !tls;
            case NETTY_EPOLL_OPENSSL -> tls;
        };
    }

    /**
     * Why this server cannot run on this machine: its native library did not load.
     *
     * @return the reason, empty if it can run
     */
    Optional<String> unavailable() {
        List<String> causes = new ArrayList<>();
        if (transport == Transport.EPOLL && !Epoll.isAvailable()) {
            causes.add("epoll: " + Epoll.unavailabilityCause());
        }
        if (transport == Transport.IO_URING && !IoUring.isAvailable()) {
            causes.add("io_uring: " + IoUring.unavailabilityCause());
        }
        if (openSsl && !OpenSsl.isAvailable()) {
            causes.add("OpenSSL (netty-tcnative): " + OpenSsl.unavailabilityCause());
        }
        return causes.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", causes));
    }

    /**
     * The peer of a name; {@code netty} is the old name of {@code netty-nio}.
     *
     * @param id the name
     * @return the peer
     * @throws IllegalArgumentException naming the value and the names known
     */
    static Peer of(String id) {
        if (id.equals("netty")) {
            return NETTY_NIO;
        }
        for (Peer peer : values()) {
            if (peer.id.equals(id)) {
                return peer;
            }
        }
        List<String> known = new ArrayList<>();
        for (Peer peer : values()) {
            known.add(peer.id);
        }
        throw new IllegalArgumentException("implementation = " + id + ": one of " + known);
    }
}
