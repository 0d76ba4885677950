package org.wharf.transport.nio.internal;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * A protocol factory as a connect hands it to the transport core, keeping what it threw so
 * the connect's stage fails with it.
 *
 * @param <P> the protocol type
 */
final class FactoryCall<P> implements Supplier<P> {

    private final Supplier<P> factory;
    private Throwable error;

    FactoryCall(Supplier<P> factory) {
        this.factory = factory;
    }

    @Override
    public P get() {
        try {
            return Objects.requireNonNull(factory.get(), "protocol factory returned null");
        } catch (RuntimeException | Error e) {
            error = e;
            throw e;
        }
    }

    /** Why no protocol was made: the factory's exception, or else {@code otherwise}. */
    Throwable failure(Throwable otherwise) {
        return error != null ? error : otherwise;
    }
}
