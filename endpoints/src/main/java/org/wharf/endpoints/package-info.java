/**
 * Servers, clients and connection pools over any transport provider (the seeds' Endpoint,
 * Client, Server and Pool): {@link org.wharf.endpoints.Server} listens on one or more
 * addresses with connection limits, idle timeout, counters and a graceful close;
 * {@link org.wharf.endpoints.Client} makes one connection; {@link org.wharf.endpoints.Pool}
 * keeps connections per address for reuse; {@link org.wharf.endpoints.DatagramServer} and
 * {@link org.wharf.endpoints.DatagramClient} do the same for datagrams. Usable on a plain
 * class or module path as well as inside a framework.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.4.0")
package org.wharf.endpoints;
