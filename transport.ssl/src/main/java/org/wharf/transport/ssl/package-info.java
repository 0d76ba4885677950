/**
 * Building TLS contexts for the {@code ssl} transport (the {@code create_ssl_context} of
 * the seeds): {@link org.wharf.transport.ssl.TlsContextBuilder} reads PEM certificate chains
 * and keys, PKCS#12 and JKS key stores, PEM CA bundles and trust stores, and chooses among
 * several certificates by SNI host name; its
 * {@link org.wharf.transport.ssl.TlsContextBuilder#reloading reloading} supplier gives new
 * connections fresh material when the files change. {@link org.wharf.transport.ssl.TlsProperties}
 * turns configuration properties into {@link org.wharf.transport.api.TlsOptions}.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.2.0")
package org.wharf.transport.ssl;
