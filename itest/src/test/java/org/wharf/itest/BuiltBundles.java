package org.wharf.itest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/** The bundles the build made, found through the paths the build hands to the tests. */
final class BuiltBundles {

    /** The bundles of the platform, in dependency order. */
    static final List<String> NAMES = List.of("transport.api", "transport.core", "transport.tck", "protocol.api");

    private BuiltBundles() {
    }

    /** The jar of a module, such as {@code transport.api}. */
    static Path jar(String module) {
        String value = System.getProperty("wharf.bundle." + module);
        if (value == null || value.isBlank() || value.startsWith("${")) {
            throw new IllegalStateException("system property wharf.bundle." + module
                    + " is not set: run the integration tests with 'mvn verify' from the top level");
        }
        Path path = Path.of(value);
        if (!Files.isRegularFile(path) || !path.toString().endsWith(".jar")) {
            throw new IllegalStateException("wharf.bundle." + module + " = " + value + " is not a jar");
        }
        return path;
    }

    static Manifest manifest(String module) throws IOException {
        try (JarFile jar = new JarFile(jar(module).toFile())) {
            return jar.getManifest();
        }
    }

    /**
     * Parses an OSGi header (Export-Package, Import-Package) into clause name to its
     * attributes and directives, as written.
     */
    static Map<String, Map<String, String>> clauses(String header) {
        Map<String, Map<String, String>> result = new LinkedHashMap<>();
        if (header == null) {
            return result;
        }
        for (String clause : split(header, ',')) {
            List<String> parts = split(clause, ';');
            Map<String, String> attrs = new LinkedHashMap<>();
            List<String> names = new ArrayList<>();
            for (String part : parts) {
                int eq = part.indexOf('=');
                if (eq < 0) {
                    names.add(part.trim());
                } else {
                    String key = part.substring(0, eq).trim();
                    String value = part.substring(eq + 1).trim();
                    if (value.startsWith("\"") && value.endsWith("\"")) {
                        value = value.substring(1, value.length() - 1);
                    }
                    attrs.put(key, value);
                }
            }
            names.forEach(n -> result.put(n, attrs));
        }
        return result;
    }

    private static List<String> split(String s, char separator) {
        List<String> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean quoted = false;
        for (char c : s.toCharArray()) {
            if (c == '"') {
                quoted = !quoted;
            }
            if (c == separator && !quoted) {
                out.add(current.toString());
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        if (!current.isEmpty()) {
            out.add(current.toString());
        }
        return out;
    }
}
