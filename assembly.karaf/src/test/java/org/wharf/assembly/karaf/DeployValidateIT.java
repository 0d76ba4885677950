package org.wharf.assembly.karaf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.wharf.transport.tck.Peers;

/**
 * What the repository ships for containers passes {@code deploy/validate}, run as a user would:
 * both Dockerfiles (dockerfile-utils' validator, every rule an error, and what the images
 * promise, the archives they unpack included: both are built by now), every Kubernetes manifest
 * against the API's schemas and types (kubernetes-models, TypeScript), the example's own
 * consistency, and the assembly's {@code bin/setenv} (shellcheck). The script checks each rule
 * against a broken copy too, so none passes by construction. node, npm and shellcheck come from
 * Debian ({@code cnf/peers}); the npm packages are pinned and installed once.
 */
class DeployValidateIT {

    @Test
    void theImagesAndTheKubernetesExampleValidate() throws Exception {
        Peers.require("node");
        Peers.require("npm");
        Peers.require("shellcheck");
        Path root = Path.of(System.getProperty("wharf.root")).toAbsolutePath().normalize();
        Process validate = new ProcessBuilder(root.resolve("deploy").resolve("validate").toString(), "--archives")
                .directory(root.toFile()).redirectErrorStream(true).start();
        String report = new String(validate.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(validate.waitFor(5, TimeUnit.MINUTES), "deploy/validate ends:\n" + report);
        assertEquals(0, validate.exitValue(), report);
        assertTrue(report.contains("every check rejected its broken copy"), report);
    }
}
