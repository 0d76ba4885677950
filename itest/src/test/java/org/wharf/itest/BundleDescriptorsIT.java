package org.wharf.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.Attributes;
import java.util.jar.Manifest;
import java.util.stream.Collectors;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Each jar is an OSGi bundle and a named JPMS module, and both descriptors say the same:
 * the API bundles export exactly their API package and import nothing of the project but
 * transport.api.
 */
class BundleDescriptorsIT {

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "transport.api, org.wharf.transport.api, '', 0.5.0",
        "protocol.api, org.wharf.protocol.api, org.wharf.transport.api, 0.5.0",
        "transport.core, org.wharf.transport.core, org.wharf.transport.api, 0.3.0",
        "transport.tck, org.wharf.transport.tck, org.wharf.transport.api org.wharf.transport.core, 0.4.0",
    })
    void manifestExportsExactlyTheApiAndImportsOnlyTransportApi(String module, String exported, String projectImports,
            String packageVersion) throws Exception {
        // transport.tck imports JUnit optionally: there wherever its tests run.
        Manifest manifest = BuiltBundles.manifest(module);
        Attributes main = manifest.getMainAttributes();
        assertEquals("org.wharf." + module, main.getValue("Bundle-SymbolicName"));
        assertEquals("2", main.getValue("Bundle-ManifestVersion"));
        assertTrue(main.getValue("Bundle-Version").startsWith("0.1.0"), main.getValue("Bundle-Version"));

        Map<String, Map<String, String>> exports = BuiltBundles.clauses(main.getValue("Export-Package"));
        assertEquals(Set.of(exported), exports.keySet());
        assertEquals(packageVersion, exports.get(exported).get("version"), "package version from package-info @Version");

        Map<String, Map<String, String>> imports = BuiltBundles.clauses(main.getValue("Import-Package"));
        Set<String> fromProject = imports.keySet().stream().filter(p -> p.startsWith("org.wharf."))
                .collect(Collectors.toCollection(TreeSet::new));
        Set<String> expected = projectImports.isEmpty() ? Set.of() : Set.of(projectImports.split(" "));
        assertEquals(expected, fromProject);
        assertFalse(imports.keySet().stream().anyMatch(p -> p.startsWith("org.osgi.")
                || p.startsWith("org.junit") && !"optional".equals(imports.get(p).get("resolution:"))),
                "API bundles need no OSGi package at run time (annotations are build-time only): " + imports.keySet());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        // A protocol implements consumer types: any 0.x from 0.5 (the one it is built against) on will do.
        "protocol.api, '[0.5,1)'",
        // The core and the test kit implement transports, provider types: only 0.5.x.
        "transport.core, '[0.5,0.6)'",
        "transport.tck, '[0.5,0.6)'",
    })
    void importRangesFollowProviderAndConsumerRoles(String module, String range) throws Exception {
        Map<String, Map<String, String>> imports = BuiltBundles.clauses(
                BuiltBundles.manifest(module).getMainAttributes().getValue("Import-Package"));
        assertEquals(range, imports.get("org.wharf.transport.api").get("version"));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "transport.api, ''",
        "protocol.api, org.wharf.transport.api",
        "transport.core, org.wharf.transport.api",
        "transport.tck, org.wharf.transport.api org.wharf.transport.core",
    })
    void moduleDescriptorMatchesTheManifest(String module, String requiredProjectModules) throws Exception {
        // (transport.tck also requires JUnit, there wherever its tests run.)
        Set<ModuleReference> found = ModuleFinder.of(BuiltBundles.jar(module)).findAll();
        assertEquals(1, found.size());
        ModuleDescriptor descriptor = found.iterator().next().descriptor();

        Attributes main = BuiltBundles.manifest(module).getMainAttributes();
        assertEquals(main.getValue("Bundle-SymbolicName"), descriptor.name(), "module name is the bundle name");
        assertFalse(descriptor.isAutomatic(), "a real module-info.class, not an automatic module");
        assertFalse(descriptor.isOpen(), "the module is not open");
        assertEquals("0.1.0", descriptor.version().map(Object::toString).orElse(""));

        Set<String> exports = descriptor.exports().stream().map(ModuleDescriptor.Exports::source)
                .collect(Collectors.toSet());
        assertEquals(BuiltBundles.clauses(main.getValue("Export-Package")).keySet(), exports,
                "the module exports what the bundle exports");
        assertTrue(descriptor.exports().stream().noneMatch(ModuleDescriptor.Exports::isQualified));
        assertEquals(exports, descriptor.packages(), "an API bundle holds nothing but its API package");
        assertTrue(descriptor.requires().stream().filter(r -> r.name().startsWith("org.osgi") || r.name().equals("osgi.core"))
                .allMatch(r -> r.modifiers().contains(ModuleDescriptor.Requires.Modifier.STATIC)),
                "OSGi APIs are optional on the module path");

        Set<String> requires = descriptor.requires().stream().map(ModuleDescriptor.Requires::name)
                .filter(n -> n.startsWith("org.wharf.")).collect(Collectors.toSet());
        Set<String> expected = requiredProjectModules.isEmpty() ? Set.of() : Set.of(requiredProjectModules.split(" "));
        assertEquals(expected, requires);
    }

    @org.junit.jupiter.api.Test
    void nioBundleExportsNothingAndProvidesBothTransportsToServiceLoader() throws Exception {
        Attributes main = BuiltBundles.manifest("transport.nio").getMainAttributes();
        assertEquals("org.wharf.transport.nio", main.getValue("Bundle-SymbolicName"));
        assertEquals(null, main.getValue("Export-Package"), "an implementation bundle exports nothing");
        assertEquals("OSGI-INF/org.wharf.transport.nio.internal.NioTransportComponent.xml", main.getValue("Service-Component"));
        Map<String, Map<String, String>> imports = BuiltBundles.clauses(main.getValue("Import-Package"));
        assertEquals("[0.5,0.6)", imports.get("org.wharf.transport.api").get("version"),
                "an implementation of provider types takes a provider range");
        assertTrue(main.getValue("Require-Capability").contains("osgi.serviceloader.registrar")
                && main.getValue("Require-Capability").contains("resolution:=optional"),
                "no ServiceLoader mediator is needed inside a framework");

        ModuleDescriptor descriptor = ModuleFinder.of(BuiltBundles.jar("transport.nio")).findAll().iterator().next()
                .descriptor();
        assertEquals("org.wharf.transport.nio", descriptor.name());
        assertTrue(descriptor.exports().isEmpty());
        Map<String, java.util.List<String>> provides = descriptor.provides().stream()
                .collect(Collectors.toMap(ModuleDescriptor.Provides::service, ModuleDescriptor.Provides::providers));
        assertEquals(Map.of(
                "org.wharf.transport.api.StreamTransportProvider", java.util.List.of("org.wharf.transport.nio.internal.NioTcpProvider"),
                "org.wharf.transport.api.DatagramTransportProvider", java.util.List.of("org.wharf.transport.nio.internal.NioUdpProvider")),
                provides);
        assertTrue(descriptor.requires().stream().filter(r -> r.name().equals("osgi.core") || r.name().startsWith("org.osgi"))
                .allMatch(r -> r.modifiers().contains(ModuleDescriptor.Requires.Modifier.STATIC)),
                "OSGi APIs are optional on the module path: " + descriptor.requires());
    }

    @org.junit.jupiter.api.Test
    void sslBundleExportsOnlyItsContextBuilderAndProvidesAndUsesStreamTransports() throws Exception {
        Attributes main = BuiltBundles.manifest("transport.ssl").getMainAttributes();
        assertEquals(Set.of("org.wharf.transport.ssl"), BuiltBundles.clauses(main.getValue("Export-Package")).keySet());
        assertEquals("0.2.0", BuiltBundles.clauses(main.getValue("Export-Package")).get("org.wharf.transport.ssl")
                .get("version"));
        ModuleDescriptor descriptor = ModuleFinder.of(BuiltBundles.jar("transport.ssl")).findAll().iterator().next()
                .descriptor();
        assertEquals(Set.of("org.wharf.transport.ssl"), descriptor.exports().stream()
                .map(ModuleDescriptor.Exports::source).collect(Collectors.toSet()));
        assertEquals(Set.of("org.wharf.transport.api.StreamTransportProvider"), descriptor.uses());
        Map<String, java.util.List<String>> provides = descriptor.provides().stream()
                .collect(Collectors.toMap(ModuleDescriptor.Provides::service, ModuleDescriptor.Provides::providers));
        assertEquals(Map.of(
                "org.wharf.transport.api.StreamTransportProvider",
                java.util.List.of("org.wharf.transport.ssl.internal.SslTransportProvider"),
                "org.wharf.transport.api.TlsOptionsFactory",
                java.util.List.of("org.wharf.transport.ssl.internal.TlsPropertiesFactory")), provides);
    }

    @org.junit.jupiter.api.Test
    void endpointsBundleHasTheActivatorThatEndsThePoolsTimersWhenItStops() throws Exception {
        Attributes main = BuiltBundles.manifest("endpoints").getMainAttributes();
        assertEquals("org.wharf.endpoints", main.getValue("Bundle-SymbolicName"));
        assertEquals("org.wharf.endpoints.internal.EndpointsActivator", main.getValue("Bundle-Activator"),
                "without it the pools' timer threads outlive the bundle");
        assertTrue(BuiltBundles.clauses(main.getValue("Import-Package")).containsKey("org.osgi.framework"),
                "the activator's package is imported: " + main.getValue("Import-Package"));
    }
}
