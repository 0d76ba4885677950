/**
 * Test support for transports and protocols: {@link org.wharf.transport.tck.MemoryTransport},
 * a stream transport in memory driven by a {@link org.wharf.transport.tck.ManualEventLoop},
 * and {@link org.wharf.transport.tck.RecordingProtocol}, which records the callbacks it
 * receives so tests can check their exact order.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.4.0")
package org.wharf.transport.tck;
