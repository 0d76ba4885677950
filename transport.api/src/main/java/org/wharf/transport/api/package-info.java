/**
 * Transports and protocols in the model of PEP 3156 (Python's asyncio).
 *
 * <p>A <em>transport</em> owns a channel (a TCP connection, a UDP socket, a TLS session) and
 * drives exactly one <em>protocol</em>: it calls the protocol's callbacks when the channel
 * connects, receives data, reaches end of input or closes. The protocol answers by calling
 * the transport ({@link org.wharf.transport.api.Transport#write(java.nio.ByteBuffer) write},
 * {@link org.wharf.transport.api.BaseTransport#close() close}, ...).
 *
 * <p>Rules every transport keeps:
 * <ul>
 *   <li>All callbacks of one transport run on its {@link org.wharf.transport.api.EventLoop}
 *       thread, in order, never concurrently. Transport methods may be called from any
 *       thread; only the loop changes a connection's lifecycle (other threads' {@code close} and
 *       {@code abort} are requests the loop carries out).</li>
 *   <li>Per connection the callbacks come in exactly this order: {@code connectionMade},
 *       {@code dataReceived}*, {@code eofReceived}?, {@code connectionLost}; and
 *       {@code connectionLost} is called exactly once per {@code connectionMade}.</li>
 *   <li>A buffer passed to {@code dataReceived} is only valid during the call; a buffer
 *       passed to {@code write} belongs to the transport afterwards.</li>
 *   <li>Write flow control: {@code pauseWriting} once when the write buffer rises above the
 *       high-water mark, {@code resumeWriting} once when it drains to the low-water mark
 *       (see {@link org.wharf.transport.api.WriteBufferLimits}). Bytes written from any thread
 *       count when the write is submitted, so {@code writeBufferSize()} and
 *       {@code isWritable()} are right on any thread; the callbacks come on the loop.</li>
 *   <li>A protocol callback that throws aborts only its own connection:
 *       {@code connectionLost} receives the exception, the error is logged, every other
 *       connection runs on.</li>
 * </ul>
 *
 * <p>Implementations register {@link org.wharf.transport.api.StreamTransportProvider} and
 * {@link org.wharf.transport.api.DatagramTransportProvider} services with the property
 * {@value org.wharf.transport.api.TransportProvider#TRANSPORT_PROPERTY}.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.5.0")
package org.wharf.transport.api;
