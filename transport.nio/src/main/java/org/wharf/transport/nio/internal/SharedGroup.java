package org.wharf.transport.nio.internal;

/**
 * The loops that providers made by {@link java.util.ServiceLoader} share, outside a
 * framework: created on first use with the default settings, daemon threads, for the life of
 * the process.
 */
final class SharedGroup {

    private SharedGroup() {
    }

    private static final class Holder {
        static final NioEventLoopGroup GROUP = new NioEventLoopGroup("wharf-nio-shared", NioSettings.DEFAULT);
        static final Resolver RESOLVER = new Resolver();
    }

    static NioEventLoopGroup get() {
        return Holder.GROUP;
    }

    static Resolver resolver() {
        return Holder.RESOLVER;
    }
}
