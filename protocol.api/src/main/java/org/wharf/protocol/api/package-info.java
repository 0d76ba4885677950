/**
 * What a protocol plug-in needs.
 *
 * <ul>
 *   <li>The whiteboard contract: a protocol bundle registers a {@link
 *       org.wharf.protocol.api.ProtocolFactory} (stream) or {@link
 *       org.wharf.protocol.api.DatagramProtocolFactory} (datagram) service, or one object as
 *       both, declared in one line with {@link org.wharf.protocol.api.ProtocolProperties};
 *       endpoints bind it to configured listeners.</li>
 *   <li>Framing: {@link org.wharf.protocol.api.FrameDecoder}s that turn a byte stream into
 *       messages whatever the split of the input (delimiters, lines, length fields, fixed
 *       size), bounded in memory.</li>
 *   <li>{@link org.wharf.protocol.api.MessageProtocol}: decode, queue with read flow
 *       control, handle in order.</li>
 *   <li>The request cycle: a {@link org.wharf.protocol.api.Connection} hands its bytes to
 *       one {@link org.wharf.protocol.api.ProtocolConsumer} per request, with hooks and
 *       counters.</li>
 *   <li>{@link org.wharf.protocol.api.ProtocolError} for malformed input.</li>
 *   <li>{@link org.wharf.protocol.api.HealthProbe}: a protocol's own health check of a
 *       gateway's upstream servers, chosen by name.</li>
 * </ul>
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.5.0")
package org.wharf.protocol.api;
