/**
 * For protocol authors' tests: {@link org.wharf.protocol.testkit.ProtocolTestServer} runs a
 * {@link org.wharf.protocol.api.ProtocolFactory} over the real TCP transport, in the test's
 * process, on a loopback port, and talks to it with a plain {@link java.net.Socket}, as a
 * client of a deployed bundle would.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.1.0")
package org.wharf.protocol.testkit;
