/**
 * A small HTTP/1.1 server protocol for Wharf endpoints: requests parsed incrementally
 * (any split of the input) and strictly (RFC 9112: what it lets a server reject is rejected),
 * keep-alive and pipelining with back-pressure, Content-Length and chunked bodies, limits and
 * deadlines answered with 400, 408, 413, 414, 431, 501 and 505. Applications answer requests
 * with an {@link org.wharf.protocol.http.HttpHandler};
 * {@link org.wharf.protocol.http.HttpProtocol} makes the protocol for a connection. An
 * endpoint's {@code http.*} properties set the {@link org.wharf.protocol.http.HttpLimits}.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.4.0")
package org.wharf.protocol.http;
