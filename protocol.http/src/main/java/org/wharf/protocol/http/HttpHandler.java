package org.wharf.protocol.http;

import org.osgi.annotation.versioning.ConsumerType;

/** Answers HTTP requests; runs on the connection's event loop and must not block. */
@ConsumerType
@FunctionalInterface
public interface HttpHandler {

    /**
     * Answers a request.
     *
     * @param request the request, body complete
     * @return the response (for {@code HEAD} its body is not sent)
     * @throws Exception to answer 500
     */
    HttpResponse handle(HttpRequest request) throws Exception;
}
