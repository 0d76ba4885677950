/**
 * What protocols and tools may use of the endpoints runtime, as services, without depending
 * on its implementation: {@link org.wharf.endpoints.api.EndpointRuntime}, the runtime's view of
 * itself as DTOs (public fields, failure codes, one consistent snapshot, as the Http
 * Whiteboard's {@code HttpServiceRuntime}) and its metrics ({@link org.wharf.endpoints.api.MetricDTO}), and {@link org.wharf.endpoints.api.ConnectionPools},
 * pooled upstream connections for protocols such as a gateway.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.4.0")
package org.wharf.endpoints.api;
