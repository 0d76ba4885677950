package org.wharf.endpoints.internal;

import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;

/**
 * Ends what the bundle's exported classes start for themselves when the bundle stops: the
 * pools' timers ({@link PoolTimers}), which are made on first use rather than here, so that a
 * class path without a framework works the same. Its stop runs after Declarative Services has
 * deactivated the bundle's components (on the bundle's STOPPING event), so the whiteboard's
 * pools are closed by then and nothing of the bundle makes new timers afterwards.
 */
@org.osgi.annotation.bundle.Header(name = org.osgi.framework.Constants.BUNDLE_ACTIVATOR, value = "${@class}")
public final class EndpointsActivator implements BundleActivator {

    /** Made by the framework. */
    public EndpointsActivator() {
    }

    @Override
    public void start(BundleContext context) {
        // nothing: the timers are made when a pool first needs them
    }

    @Override
    public void stop(BundleContext context) {
        PoolTimers.stop();
    }
}
