package org.wharf.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import io.netty.handler.ssl.OpenSsl;

/**
 * The echo servers the bench runs: Wharf (its TLS on the JDK's engine, and on Conscrypt), and
 * Netty 4.2 in each configuration its users pick for speed. Plain TCP and UDP run on Netty's
 * NIO, epoll and io_uring transports; TLS on NIO with the JDK's engine and on epoll with
 * OpenSSL (BoringSSL, netty-tcnative). The Wharf rows are the ones compared with the best of
 * the others.
 */
enum Peer {
    /** Wharf's NIO transport, and its TLS layer on the JDK's engine. */
    WHARF("wharf", Transport.NIO, false, null),
    /**
     * Wharf's NIO transport and its own TLS layer on Conscrypt ({@code tls.provider =
     * Conscrypt}): BoringSSL, the engine Netty's OpenSSL row runs on. TLS scenarios only.
     */
    WHARF_CONSCRYPT("wharf-conscrypt", Transport.NIO, false, "Conscrypt"),
    /**
     * Wharf's NIO transport with its batch datagram path (the transport.nio.ffm fragment:
     * recvmmsg and sendmmsg through the FFM API), on a JDK 22+ ({@code WHARF_BENCH_FFM_JDK},
     * by default the Temurin 25 under /usr/lib/jvm). UDP only: TCP does not change with it.
     */
    WHARF_FFM("wharf-ffm", Transport.NIO, false, null),
    /** Netty on NIO (and for TLS, the JDK's SSLEngine). */
    NETTY_NIO("netty-nio", Transport.NIO, false, null),
    /** Netty's native epoll transport. */
    NETTY_EPOLL("netty-epoll", Transport.EPOLL, false, null),
    /** Netty's native io_uring transport. */
    NETTY_IO_URING("netty-io_uring", Transport.IO_URING, false, null),
    /** Netty's epoll transport with {@code SslProvider.OPENSSL} (BoringSSL). */
    NETTY_EPOLL_OPENSSL("netty-epoll-openssl", Transport.EPOLL, true, null);

    /** The event-loop kind a Netty server runs on. */
    enum Transport {
        NIO, EPOLL, IO_URING
    }

    private final String id;
    private final Transport transport;
    private final boolean openSsl;
    private final String tlsProvider;

    Peer(String id, Transport transport, boolean openSsl, String tlsProvider) {
        this.id = id;
        this.transport = transport;
        this.openSsl = openSsl;
        this.tlsProvider = tlsProvider;
    }

    /** @return whether this is one of Wharf's servers (a row compared with the best peer) rather than a peer */
    boolean wharf() {
        return this == WHARF || this == WHARF_CONSCRYPT || this == WHARF_FFM;
    }

    /** The JDK the batch path runs on: {@code WHARF_BENCH_FFM_JDK}, else Temurin 25 where these machines keep it. */
    static final java.nio.file.Path FFM_JDK = java.nio.file.Path.of(System.getenv().getOrDefault("WHARF_BENCH_FFM_JDK",
            "/usr/lib/jvm/temurin-25-jdk-amd64"));

    /** @return the fragment's jar as the build leaves it, if built */
    static Optional<java.nio.file.Path> ffmJar() {
        java.nio.file.Path target = java.nio.file.Path.of("transport.nio.ffm", "target");
        try (var jars = java.nio.file.Files.list(target)) {
            return jars.filter(p -> p.getFileName().toString().matches("transport\\.nio\\.ffm-[^-]+(-SNAPSHOT)?\\.jar"))
                    .findFirst().map(java.nio.file.Path::toAbsolutePath);
        } catch (java.io.IOException e) {
            return Optional.empty();
        }
    }

    /**
     * The java command this server runs with: the bench's own, but the batch path's JDK for
     * {@code wharf-ffm}.
     *
     * @param own the bench's java
     * @return the command
     */
    String java(String own) {
        return this == WHARF_FFM ? FFM_JDK.resolve("bin").resolve("java").toString() : own;
    }

    /**
     * What this server adds to the JVM's options and class path: for {@code wharf-ffm}, the
     * fragment's jar and what the FFM path needs from the JVM.
     *
     * @param classPath the bench's class path
     * @return the options, class path last
     */
    List<String> classPathAndOptions(String classPath) {
        if (this != WHARF_FFM) {
            return List.of("-cp", classPath);
        }
        return List.of("--add-exports", "java.base/sun.nio.ch=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED",
                "-cp", classPath + java.io.File.pathSeparator + ffmJar().orElseThrow());
    }

    /**
     * Whether this server takes part in a scenario of a kind: {@link #serves(boolean)}, and
     * {@code wharf-ffm} in UDP alone.
     *
     * @param udp whether the scenario is the UDP echo
     * @param tls whether it is over TLS
     * @return whether it runs
     */
    boolean serves(boolean udp, boolean tls) {
        return this == WHARF_FFM ? udp : serves(tls);
    }

    /** @return the JCA provider Wharf's TLS is built from ({@code tls.provider}), or null for the JVM's default */
    String tlsProvider() {
        return tlsProvider;
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
     * with the JDK's engine on NIO, with OpenSSL on epoll, and Wharf's on Conscrypt.
     *
     * @param tls whether the scenario is over TLS
     * @return whether it runs
     */
    boolean serves(boolean tls) {
        return switch (this) {
            case WHARF, NETTY_NIO, WHARF_FFM -> true;
            case NETTY_EPOLL, NETTY_IO_URING -> !tls;
            case NETTY_EPOLL_OPENSSL, WHARF_CONSCRYPT -> tls;
        };
    }

    /**
     * Why this server cannot run on this machine: its native library (Netty's, or Conscrypt's)
     * did not load.
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
        if (this == WHARF_FFM) {
            if (!java.nio.file.Files.isExecutable(FFM_JDK.resolve("bin").resolve("java"))) {
                causes.add("no JDK 22+ at " + FFM_JDK + " (WHARF_BENCH_FFM_JDK)");
            } else if (ffmJar().isEmpty()) {
                causes.add("transport.nio.ffm is not built (it builds where that JDK is)");
            }
        }
        if ("Conscrypt".equals(tlsProvider) && !org.conscrypt.Conscrypt.isAvailable()) {
            causes.add("Conscrypt: " + conscryptUnavailabilityCause());
        }
        return causes.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", causes));
    }

    private static String conscryptUnavailabilityCause() {
        try {
            org.conscrypt.Conscrypt.checkAvailability();
            return "not available";
        } catch (Throwable e) {
            return e.toString();
        }
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
