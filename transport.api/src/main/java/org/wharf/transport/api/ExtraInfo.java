package org.wharf.transport.api;

import java.net.SocketAddress;
import java.net.SocketOption;
import java.nio.channels.NetworkChannel;
import java.security.cert.Certificate;
import java.util.List;
import java.util.Objects;

import javax.net.ssl.SSLSession;

/**
 * A typed key for {@link BaseTransport#extraInfo(ExtraInfo)}: optional facts about a
 * transport (addresses, socket options, TLS session), the {@code get_extra_info} names of
 * PEP 3156.
 *
 * <p>Keys are equal when their names are equal.
 *
 * @param <T> the type of the value
 */
public final class ExtraInfo<T> {

    /**
     * The remote address of a connected transport: the client's. On an endpoint that accepts
     * the PROXY protocol, the source address the header gave (the connection's own peer, a
     * balancer, is then {@link #PROXIED_BY}).
     */
    public static final ExtraInfo<SocketAddress> PEER_ADDRESS = new ExtraInfo<>("peername", SocketAddress.class);
    /** The local address the transport is bound to. */
    public static final ExtraInfo<SocketAddress> LOCAL_ADDRESS = new ExtraInfo<>("sockname", SocketAddress.class);
    /**
     * The underlying channel, to read socket details. Reading from, writing to or closing it
     * directly breaks the transport.
     */
    public static final ExtraInfo<NetworkChannel> CHANNEL = new ExtraInfo<>("socket", NetworkChannel.class);
    /** The TLS session of a TLS transport, once the handshake has completed. */
    public static final ExtraInfo<SSLSession> SSL_SESSION = new ExtraInfo<>("ssl_object", SSLSession.class);
    /** The peer's certificate chain (peer first) of a TLS transport; absent when the peer sent none. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public static final ExtraInfo<List<Certificate>> PEER_CERTIFICATES = new ExtraInfo<>("peercert", (Class) List.class);
    /** The negotiated TLS protocol, such as {@code TLSv1.3}. */
    public static final ExtraInfo<String> TLS_PROTOCOL = new ExtraInfo<>("tls_protocol", String.class);
    /** The negotiated cipher suite. */
    public static final ExtraInfo<String> CIPHER_SUITE = new ExtraInfo<>("cipher", String.class);
    /** The application protocol negotiated with ALPN, such as {@code h2}; absent when none was. */
    public static final ExtraInfo<String> APPLICATION_PROTOCOL = new ExtraInfo<>("alpn_protocol", String.class);
    /** On a TLS server, the host name the client asked for with SNI; absent when it sent none. */
    public static final ExtraInfo<String> SNI_HOST_NAME = new ExtraInfo<>("server_hostname", String.class);

    /**
     * On a connection that came with a PROXY protocol header: the address of the balancer that
     * sent it (the connection's own peer). Absent otherwise, and when the header was a
     * {@code LOCAL} (v2) or {@code UNKNOWN} (v1) one, which names no client.
     */
    public static final ExtraInfo<SocketAddress> PROXIED_BY = new ExtraInfo<>("proxied_by", SocketAddress.class);
    /**
     * The destination address a PROXY protocol header gave: where the client connected to on
     * the balancer.
     */
    public static final ExtraInfo<SocketAddress> PROXY_DESTINATION =
            new ExtraInfo<>("proxy_destination", SocketAddress.class);
    /**
     * The type-length-values of a PROXY protocol v2 header, by type (such as {@code 0x01} ALPN,
     * {@code 0x02} authority, {@code 0x20} SSL), each value a copy of its bytes, in the order
     * of the header; absent when it had none.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public static final ExtraInfo<java.util.Map<Integer, byte[]>> PROXY_TLVS =
            new ExtraInfo<>("proxy_tlvs", (Class) java.util.Map.class);
    /** The ALPN protocol a PROXY protocol v2 header gave (TLV {@code PP2_TYPE_ALPN}), such as {@code h2}. */
    public static final ExtraInfo<String> PROXY_ALPN = new ExtraInfo<>("proxy_alpn", String.class);
    /** The host name a PROXY protocol v2 header gave (TLV {@code PP2_TYPE_AUTHORITY}: the client's SNI). */
    public static final ExtraInfo<String> PROXY_AUTHORITY = new ExtraInfo<>("proxy_authority", String.class);
    /**
     * The TLS version a PROXY protocol v2 header gave for the client's connection to the
     * balancer (sub-TLV {@code PP2_SUBTYPE_SSL_VERSION} of {@code PP2_TYPE_SSL}), such as
     * {@code TLSv1.3}.
     */
    public static final ExtraInfo<String> PROXY_SSL_VERSION = new ExtraInfo<>("proxy_ssl_version", String.class);

    /** Bytes received on this transport so far, as delivered to the protocol. */
    public static final ExtraInfo<Long> BYTES_RECEIVED = new ExtraInfo<>("bytes_received", Long.class);
    /** Bytes written by the protocol and handed to the network so far. */
    public static final ExtraInfo<Long> BYTES_SENT = new ExtraInfo<>("bytes_sent", Long.class);

    private final String name;
    private final Class<T> type;

    private ExtraInfo(String name, Class<T> type) {
        this.name = name;
        this.type = type;
    }

    /**
     * Creates a key with a name of the caller's own, for facts a particular transport offers.
     *
     * @param <T> the type of the value
     * @param name the key's name, not blank
     * @param type the type of the value
     * @return the key
     */
    public static <T> ExtraInfo<T> of(String name, Class<T> type) {
        if (Objects.requireNonNull(name, "name").isBlank()) {
            throw new IllegalArgumentException("extra info name is blank");
        }
        return new ExtraInfo<>(name, Objects.requireNonNull(type, "type"));
    }

    /**
     * The key for the current value of a socket option, such as
     * {@link java.net.StandardSocketOptions#TCP_NODELAY}.
     *
     * @param <T> the type of the option's value
     * @param option the socket option
     * @return the key, named {@code socket:} followed by the option's name
     */
    public static <T> ExtraInfo<T> socketOption(SocketOption<T> option) {
        return new ExtraInfo<>("socket:" + option.name(), option.type());
    }

    /**
     * The key's name.
     *
     * @return the name, as in PEP 3156 where it has one
     */
    public String name() {
        return name;
    }

    /**
     * The type of the key's value.
     *
     * @return the value type
     */
    public Class<T> type() {
        return type;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ExtraInfo<?> other && other.name.equals(name);
    }

    @Override
    public int hashCode() {
        return name.hashCode();
    }

    @Override
    public String toString() {
        return name;
    }
}
