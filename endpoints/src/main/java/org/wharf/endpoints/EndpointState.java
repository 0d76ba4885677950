package org.wharf.endpoints;

/** Where a configured endpoint stands. */
public enum EndpointState {
    /** Configured, waiting for what it needs (its protocol, its TLS settings). */
    WAITING,
    /** Serving. */
    LISTENING,
    /** Its protocol went away: no longer accepting, letting its connections finish. */
    DRAINING,
    /** Cannot serve as configured (bad property, port in use); the reason says why. */
    FAILED
}
