package org.wharf.protocol.http.internal;

import org.wharf.protocol.api.ProtocolContext;

/** Reaches the status factory from tests outside its package. */
public final class StatusFactoryAccess {

    private StatusFactoryAccess() {
    }

    /**
     * What the endpoint calls before it listens.
     *
     * @param context the endpoint's settings
     */
    public static void checkSettings(ProtocolContext context) {
        new StatusFactory().checkSettings(context);
    }
}
