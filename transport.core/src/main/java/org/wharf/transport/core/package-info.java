/**
 * The connection core every Wharf transport is built on, for transport implementers: one
 * lifecycle ({@link org.wharf.transport.core.AbstractTransport}) and one outbound buffer
 * ({@link org.wharf.transport.core.OutboundBuffer}), as asyncio's transports share
 * {@code _FlowControlMixin} and Netty's channels share {@code AbstractChannel} and
 * {@code ChannelOutboundBuffer}.
 *
 * <p>The thread rules it enforces:
 * <ul>
 *   <li>Only the event loop changes a connection's lifecycle. Other threads request a close
 *       or an abort (one compare-and-set), the loop runs the close path once, and every
 *       protocol that was created gets {@code connectionLost} exactly once.</li>
 *   <li>Bytes written from any thread are counted when the write is submitted, so
 *       {@code writeBufferSize()} and {@code isWritable()} are right on any thread; a crossing
 *       of a mark is decided where the count changes and delivered once, in order, on the
 *       loop.</li>
 *   <li>A protocol callback that throws ends its own connection, never the loop; only a
 *       fatal error of the virtual machine ({@link org.wharf.transport.core.AbstractTransport#isFatal})
 *       escapes.</li>
 * </ul>
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.3.0")
package org.wharf.transport.core;
