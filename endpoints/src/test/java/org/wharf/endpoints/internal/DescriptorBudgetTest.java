package org.wharf.endpoints.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

import org.junit.jupiter.api.Test;

/** The check of the endpoints' maxConnections against the process's limit of open files. */
class DescriptorBudgetTest {

    private static final String LIMITS = """
            Limit                     Soft Limit           Hard Limit           Units
            Max cpu time              unlimited            unlimited            seconds
            Max processes             96362                96362                processes
            Max open files            4096                 20000                files
            Max locked memory         8388608              8388608              bytes
            """;

    @Test
    void theSoftLimitOfOpenFilesIsReadFromProcLimits() {
        assertEquals(OptionalLong.of(4096), DescriptorBudget.openFiles(LIMITS));
        assertEquals(OptionalLong.empty(), DescriptorBudget.openFiles(LIMITS.replace("4096 ", "unlimited ")));
        assertEquals(OptionalLong.empty(), DescriptorBudget.openFiles("Limit Soft Hard\nMax processes 1 1 processes\n"));
    }

    @Test
    void thisProcessHasALimitOnLinux() {
        if (java.nio.file.Files.isReadable(java.nio.file.Path.of("/proc/self/limits"))) {
            OptionalLong limit = DescriptorBudget.processLimit();
            assertTrue(limit.isEmpty() || limit.getAsLong() > 0, String.valueOf(limit));
        }
    }

    @Test
    void endpointsThatFitWithTheReserveSayNothing() {
        long limit = 20_000;
        assertEquals(Optional.empty(), DescriptorBudget.shortfall(limit, Map.of()));
        assertEquals(Optional.empty(), DescriptorBudget.shortfall(limit,
                Map.of("a", 10_000, "b", (int) (limit - 10_000 - DescriptorBudget.RESERVE))));
    }

    @Test
    void endpointsOverTheLimitAreNamedWithTheirMaxConnectionsAndTheLimit() {
        String warning = DescriptorBudget.shortfall(20_000, Map.of("http", 10_000, "echo", 10_000)).orElseThrow();
        assertTrue(warning.startsWith("the endpoints may hold 20,000 connections (echo maxConnections=10000, "
                + "http maxConnections=10000), and this process may open 20,000 files (ulimit -n)"), warning);
        assertTrue(warning.contains("raise the limit") && warning.contains("lower maxConnections"), warning);
    }

    @Test
    void anEndpointWithoutALimitIsOverAnyLimit() {
        String warning = DescriptorBudget.shortfall(1_000_000, Map.of("open", Integer.MAX_VALUE)).orElseThrow();
        assertTrue(warning.startsWith("the endpoints may hold any number of connections (open maxConnections=0 (no limit))"),
                warning);
    }
}
