package org.wharf.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.InetAddress;
import java.net.ServerSocket;

import org.junit.jupiter.api.Test;

/** Reading /proc: CPU ticks from a stat line, and listening ports from /proc/net/tcp. */
class ProcTest {

    /** An nginx worker's line from proc(5)'s layout: utime 1234 and stime 567 are fields 14 and 15. */
    private static final String NGINX_WORKER = "4242 (nginx) S 4241 4241 4241 0 -1 4194624 310 0 0 0 1234 567 0 0 20 0 1 0 "
            + "123456 11022336 1234 18446744073709551615 1 1 0 0 0 0 0 1073745920 402745863 0 0 0 17 1 0 0 0 0 0";

    @Test
    void userAndSystemTicksAreFieldsFourteenAndFifteen() {
        assertEquals(1234 + 567, Proc.cpuTicks(NGINX_WORKER));
    }

    @Test
    void aCommandNameWithSpacesAndParenthesesDoesNotShiftTheFields() {
        String odd = NGINX_WORKER.replace("(nginx)", "(a) b (c d)");
        assertEquals(1234 + 567, Proc.cpuTicks(odd));
    }

    @Test
    void aLineThatIsNotAStatLineIsRefusedQuotingIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Proc.cpuTicks("4242 nginx S"));
        assertTrue(e.getMessage().contains("4242 nginx S"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Proc.cpuTicks("4242 (nginx) S 1 2 3"));
    }

    @Test
    void thisProcessHasCpuTimeThatGrowsWithWork() throws Exception {
        assumeTrue(Proc.available(), "no /proc here");
        long pid = ProcessHandle.current().pid();
        long before = Proc.cpuTicksOfTree(pid);
        long ticksPerSecond = Proc.ticksPerSecond();
        assertTrue(ticksPerSecond > 0);
        // Spin (not sleep) until the counter moves: it must, or the figures would be zero.
        long x = 0;
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (Proc.cpuTicksOfTree(pid) == before && System.nanoTime() < deadline) {
            for (int i = 0; i < 1_000_000; i++) {
                x += i ^ x;
            }
        }
        assertTrue(Proc.cpuTicksOfTree(pid) > before, "no CPU counted after 30 s of spinning (" + x + ")");
    }

    @Test
    void aListeningPortIsFoundInTheTcpTable() {
        String table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
                + "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1\n"
                + "   1: 0100007F:1F91 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 2 1\n";
        assertTrue(Proc.listening(table, 8080)); // 0x1F90, state 0A
        assertFalse(Proc.listening(table, 8081), "an established connection is not a listener");
        assertFalse(Proc.listening(table, 144), "0x0090 must not match the end of 0x1F90");
    }

    @Test
    void aServerSocketOfThisProcessIsSeenListening() throws Exception {
        assumeTrue(Proc.available(), "no /proc here");
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
            assertTrue(Proc.listening(port));
        }
        assertFalse(Proc.listening(port));
    }
}
