package org.wharf.endpoints;

/**
 * One open connection of an endpoint.
 *
 * @param endpoint the endpoint's name
 * @param peer the peer address
 * @param local the local address
 * @param bytesReceived bytes received so far
 * @param bytesSent bytes sent so far
 */
public record ConnectionInfo(String endpoint, String peer, String local, long bytesReceived, long bytesSent) {
}
