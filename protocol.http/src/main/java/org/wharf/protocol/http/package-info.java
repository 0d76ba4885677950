/**
 * A small HTTP/1.1 server protocol for Wharf endpoints: requests parsed incrementally
 * (any split of the input), keep-alive and pipelining, Content-Length and chunked bodies,
 * limits answered with 414, 431, 413 and 400. Applications answer requests with an
 * {@link org.wharf.protocol.http.HttpHandler}; {@link org.wharf.protocol.http.HttpProtocol}
 * makes the protocol for a connection.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.1.0")
package org.wharf.protocol.http;
