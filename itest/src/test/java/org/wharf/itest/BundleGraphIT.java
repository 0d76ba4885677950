package org.wharf.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.jar.Attributes;

import org.junit.jupiter.api.Test;

/**
 * The bundles' imports are the graph DESIGN.md draws, and nothing else: a protocol bundle
 * depends on protocol.api, transport.api and API packages only; implementations depend on the
 * APIs (and the transport core, for transports); no bundle reaches past its layer, not even
 * dynamically.
 */
class BundleGraphIT {

    private static final Set<String> PROTOCOL = Set.of("transport.api", "protocol.api", "endpoints.api");

    /** Every bundle of the platform and the project bundles it may import from. */
    private static final Map<String, Set<String>> ALLOWED = Map.ofEntries(
            Map.entry("transport.api", Set.of()),
            Map.entry("transport.core", Set.of("transport.api")),
            Map.entry("protocol.api", Set.of("transport.api")),
            Map.entry("endpoints.api", Set.of("transport.api")),
            Map.entry("transport.tck", Set.of("transport.api", "transport.core")),
            Map.entry("transport.nio", Set.of("transport.api", "transport.core")),
            Map.entry("transport.ssl", Set.of("transport.api", "transport.core")),
            // The core for its LogLimiter: refusals anyone can cause (PROXY headers) are rate-limited there too.
            Map.entry("endpoints", Set.of("transport.api", "transport.core", "protocol.api", "endpoints.api")),
            Map.entry("endpoints.bootstrap", Set.of("transport.api", "protocol.api", "endpoints")),
            Map.entry("protocol.echo", PROTOCOL),
            Map.entry("protocol.http", PROTOCOL),
            Map.entry("protocol.proxy", PROTOCOL),
            Map.entry("itest.protocol", PROTOCOL));

    /** The API bundles: they export their one API package and hold nothing else. */
    private static final Set<String> API = Set.of("transport.api", "protocol.api", "endpoints.api", "transport.core");

    @Test
    void everyImportOfAProjectPackageIsAnEdgeOfTheDesign() throws Exception {
        Map<String, String> exporter = new HashMap<>();
        for (String module : ALLOWED.keySet()) {
            for (String pkg : BuiltBundles.clauses(manifest(module).getValue("Export-Package")).keySet()) {
                exporter.put(pkg, module);
            }
        }
        Map<String, Set<String>> wrong = new TreeMap<>();
        for (String module : ALLOWED.keySet()) {
            Attributes main = manifest(module);
            for (String pkg : BuiltBundles.clauses(main.getValue("Import-Package")).keySet()) {
                if (!pkg.startsWith("org.wharf.")) {
                    continue;
                }
                String from = exporter.getOrDefault(pkg, "(no bundle exports " + pkg + ")");
                // A bundle imports what it exports (substitutable exports): no edge.
                if (!from.equals(module) && !ALLOWED.get(module).contains(from)) {
                    wrong.computeIfAbsent(module, m -> new TreeSet<>()).add(pkg + " from " + from);
                }
            }
            String dynamic = main.getValue("DynamicImport-Package");
            if (dynamic != null && dynamic.contains("org.wharf")) {
                wrong.computeIfAbsent(module, m -> new TreeSet<>()).add("DynamicImport-Package: " + dynamic);
            }
            if (main.getValue("Require-Bundle") != null) {
                wrong.computeIfAbsent(module, m -> new TreeSet<>()).add("Require-Bundle: " + main.getValue("Require-Bundle"));
            }
        }
        assertEquals(Map.of(), wrong, "edges DESIGN.md does not draw");
    }

    @Test
    void apiBundlesExportOneApiPackageAndImplementationsOnlyTheirLibraries() throws Exception {
        Map<String, Set<String>> exports = new TreeMap<>();
        for (String module : ALLOWED.keySet()) {
            exports.put(module, new TreeSet<>(BuiltBundles.clauses(manifest(module).getValue("Export-Package")).keySet()));
        }
        for (String api : API) {
            assertEquals(Set.of("org.wharf." + api), exports.get(api), api + " exports exactly its package");
        }
        // Implementations export nothing but a library of their own (servers and clients, TLS
        // contexts, the HTTP handler API); the test kit exports itself.
        Map<String, Set<String>> libraries = Map.of(
                "transport.nio", Set.of(),
                "transport.ssl", Set.of("org.wharf.transport.ssl"),
                "endpoints", Set.of("org.wharf.endpoints"),
                "endpoints.bootstrap", Set.of(),
                "protocol.echo", Set.of(),
                "protocol.http", Set.of("org.wharf.protocol.http"),
                "protocol.proxy", Set.of(),
                "itest.protocol", Set.of(),
                "transport.tck", Set.of("org.wharf.transport.tck"));
        libraries.forEach((module, expected) -> assertEquals(expected, exports.get(module), module + " exports"));
        assertTrue(List.copyOf(ALLOWED.keySet()).containsAll(libraries.keySet()));
    }

    private static Attributes manifest(String module) throws Exception {
        return BuiltBundles.manifest(module).getMainAttributes();
    }
}
