package org.wharf.endpoints.internal;

import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;

/**
 * Ends what the bundle's exported classes start for themselves when the bundle stops: the
 * pools' timers ({@link PoolTimers}), which are made on first use rather than here, so that a
 * class path without a framework works the same. Its stop runs after Declarative Services has
 * deactivated the bundle's components (on the bundle's STOPPING event), so the whiteboard's
 * pools are closed by then. Pools other bundles made through the
 * {@link org.wharf.endpoints.api.ConnectionPools} service may still be used: from the stop to
 * the next start an acquire of theirs that would wait fails at once, and no timers are made.
 */
@org.osgi.annotation.bundle.Header(name = org.osgi.framework.Constants.BUNDLE_ACTIVATOR, value = "${@class}")
public final class EndpointsActivator implements BundleActivator {

    /** Made by the framework. */
    public EndpointsActivator() {
    }

    @Override
    public void start(BundleContext context) {
        PoolTimers.bundleStarted(); // they are made when a pool first needs them
    }

    @Override
    public void stop(BundleContext context) {
        PoolTimers.bundleStopped();
    }
}
