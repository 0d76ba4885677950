package org.wharf.endpoints.api;

/** Where a configured endpoint stands. */
public enum EndpointState {
    /** Configured, waiting for what it needs (its protocol, its transport, its TLS settings). */
    WAITING,
    /** Serving. */
    LISTENING,
    /** Its protocol went away: no longer accepting, letting its connections finish. */
    DRAINING,
    /** Cannot serve as configured (a bad property, a port in use); the failure says why. */
    FAILED
}
