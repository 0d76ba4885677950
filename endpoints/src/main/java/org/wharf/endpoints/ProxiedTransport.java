package org.wharf.endpoints;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import org.wharf.transport.api.EventLoop;
import org.wharf.transport.api.ExtraInfo;
import org.wharf.transport.api.Protocol;
import org.wharf.transport.api.Transport;
import org.wharf.transport.api.WriteBufferLimits;

/**
 * What a protocol sees of a connection that came with a PROXY protocol header: the connection
 * itself, except that its peer is the client the header named (unless it named none), the
 * header's other facts are extra info, and the bytes received do not count the header. Protocol switching replaces the protocol behind the header layer, which stays.
 */
final class ProxiedTransport implements Transport {

    private final Transport raw;
    private final Admission layer;
    private final ProxyHeader header;

    ProxiedTransport(Transport raw, Admission layer, ProxyHeader header) {
        this.raw = raw;
        this.layer = layer;
        this.header = header;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> Optional<T> extraInfo(ExtraInfo<T> key) {
        if (key.equals(ExtraInfo.PEER_ADDRESS)) {
            return header.source == null ? raw.extraInfo(key) : (Optional<T>) Optional.of(header.source);
        }
        if (key.equals(ExtraInfo.PROXIED_BY)) {
            return header.source == null ? Optional.empty() : (Optional<T>) raw.extraInfo(ExtraInfo.PEER_ADDRESS);
        }
        if (key.equals(ExtraInfo.BYTES_RECEIVED)) {
            // What the protocol was given: the header was the balancer's, not the client's.
            return (Optional<T>) raw.extraInfo(ExtraInfo.BYTES_RECEIVED).map(n -> Math.max(0, n - header.length));
        }
        if (key.equals(ExtraInfo.PROXY_DESTINATION)) {
            return (Optional<T>) Optional.ofNullable(header.destination);
        }
        if (key.equals(ExtraInfo.PROXY_TLVS)) {
            if (header.tlvs.isEmpty()) {
                return Optional.empty();
            }
            Map<Integer, byte[]> copy = new LinkedHashMap<>();
            header.tlvs.forEach((t, v) -> copy.put(t, v.clone()));
            return (Optional<T>) Optional.of(java.util.Collections.unmodifiableMap(copy));
        }
        if (key.equals(ExtraInfo.PROXY_ALPN)) {
            return (Optional<T>) Optional.ofNullable(header.text(ProxyHeader.TLV_ALPN));
        }
        if (key.equals(ExtraInfo.PROXY_AUTHORITY)) {
            return (Optional<T>) Optional.ofNullable(header.text(ProxyHeader.TLV_AUTHORITY));
        }
        if (key.equals(ExtraInfo.PROXY_SSL_VERSION)) {
            return (Optional<T>) Optional.ofNullable(header.sslVersion());
        }
        return raw.extraInfo(key);
    }

    @Override
    public Protocol protocol() {
        return layer.next();
    }

    @Override
    public void setProtocol(Protocol protocol) {
        layer.setNext(protocol);
    }

    @Override
    public EventLoop loop() {
        return raw.loop();
    }

    @Override
    public void write(ByteBuffer data) {
        raw.write(data);
    }

    @Override
    public void writeCopy(ByteBuffer data) {
        raw.writeCopy(data);
    }

    @Override
    public void write(ByteBuffer... data) {
        raw.write(data);
    }

    @Override
    public void writeEof() {
        raw.writeEof();
    }

    @Override
    public boolean canWriteEof() {
        return raw.canWriteEof();
    }

    @Override
    public void reset() {
        raw.reset();
    }

    @Override
    public void close() {
        raw.close();
    }

    @Override
    public void abort() {
        raw.abort();
    }

    @Override
    public void abort(Throwable cause) {
        raw.abort(cause);
    }

    @Override
    public boolean isClosing() {
        return raw.isClosing();
    }

    @Override
    public void pauseReading() {
        raw.pauseReading();
    }

    @Override
    public void resumeReading() {
        raw.resumeReading();
    }

    @Override
    public boolean isReading() {
        return raw.isReading();
    }

    @Override
    public long writeBufferSize() {
        return raw.writeBufferSize();
    }

    @Override
    public boolean isWritable() {
        return raw.isWritable();
    }

    @Override
    public WriteBufferLimits writeBufferLimits() {
        return raw.writeBufferLimits();
    }

    @Override
    public void setWriteBufferLimits(WriteBufferLimits limits) {
        raw.setWriteBufferLimits(limits);
    }

    @Override
    public String toString() {
        return header.source == null ? raw.toString() : raw + " for " + header.source;
    }
}
