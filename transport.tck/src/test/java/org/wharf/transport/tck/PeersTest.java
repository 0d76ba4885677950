package org.wharf.transport.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The peer list in {@code cnf/peers}, the {@code ./test} script that installs from it, and the helper. */
class PeersTest {

    /** The repository root: surefire runs in the module's folder. */
    private static final Path ROOT = Path.of("").toAbsolutePath().getParent();

    @Test
    void theHelperKnowsExactlyThePeersTheTestScriptInstalls() throws IOException {
        Map<String, String> listed = new LinkedHashMap<>();
        for (String line : Files.readAllLines(ROOT.resolve("cnf/peers"))) {
            String[] words = line.trim().split("\\s+");
            if (!line.isBlank() && !line.startsWith("#")) {
                listed.put(words[0], words[1]);
            }
        }
        assertEquals(List.copyOf(listed.entrySet()), List.copyOf(Peers.packages().entrySet()));
    }

    @Test
    void aMissingPeerFailsNamingItsDebianPackage(@TempDir Path empty) {
        AssertionError e = assertThrows(AssertionError.class, () -> Peers.require("redis-cli", empty.toString()));
        // (redis-cli is never in /usr/sbin or /sbin, which are searched after the PATH.)
        assertEquals("redis-cli is not installed: it is in the Debian package redis-tools (apt-get install "
                + "redis-tools, or run ./test, which installs every peer the tests need)", e.getMessage());
        AssertionError unknown = assertThrows(AssertionError.class, () -> Peers.process("wharf-no-such-program", "-x"));
        assertTrue(unknown.getMessage().startsWith("wharf-no-such-program is not installed (not on PATH "),
                unknown.getMessage());
    }

    @Test
    void aDaemonInUsrSbinIsFoundThoughNotOnAUsersPath() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/sbin/nginx")),
                "no /usr/sbin/nginx on this machine");
        assertEquals(Path.of("/usr/sbin/nginx"), Peers.require("nginx", "/usr/bin:/bin"));
        assertEquals("/usr/sbin/nginx", Peers.process(List.of("nginx", "-v")).command().get(0));
    }

    @Test
    void anInstalledPeerIsFoundOnThePath(@TempDir Path bin) throws IOException {
        Path nc = Files.createFile(bin.resolve("nc"));
        assertTrue(nc.toFile().setExecutable(true));
        assertEquals(nc, Peers.require("nc", "/nonexistent:" + bin));
    }

    @Test
    void theTestScriptInstallsThePackagesOfTheMissingPeersOnly(@TempDir Path bin) throws Exception {
        // A PATH with the build tools and two of the peers: the script must name every other
        // peer's package, once each (redis-cli and redis-benchmark share redis-tools).
        for (String program : List.of("javac", "keytool", "mvn", "openssl", "redis-cli", "id")) {
            Files.writeString(bin.resolve(program), "#!/bin/sh\n");
            assertTrue(bin.resolve(program).toFile().setExecutable(true));
        }
        ProcessBuilder pb = new ProcessBuilder("/bin/bash", ROOT.resolve("test").toString(), "--missing");
        pb.environment().put("PATH", bin.toString());
        Process p = pb.redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "./test --missing did not finish");
        assertEquals(0, p.exitValue(), out);
        List<String> expected = Peers.packages().entrySet().stream()
                .filter(e -> !e.getKey().equals("openssl") && !e.getKey().equals("redis-cli"))
                .filter(e -> Peers.SYSTEM_DIRS.stream().noneMatch(d -> Files.isExecutable(Path.of(d, e.getKey()))))
                .map(Map.Entry::getValue).distinct().toList();
        assertEquals(expected, out.lines().toList());
    }
}
