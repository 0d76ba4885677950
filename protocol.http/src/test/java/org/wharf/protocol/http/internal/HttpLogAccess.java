package org.wharf.protocol.http.internal;

/** What the HTTP protocol's rate-limited log holds back, for tests in other packages. */
public final class HttpLogAccess {

    private HttpLogAccess() {
    }

    /**
     * @param kind a kind of line, such as {@code rejected 400}
     * @return how many of that kind are counted and not yet said
     */
    public static long suppressed(String kind) {
        return HttpExchange.failures().suppressed(kind);
    }
}
