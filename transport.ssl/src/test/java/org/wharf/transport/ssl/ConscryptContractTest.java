package org.wharf.transport.ssl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The stream transport contract again, with both sides' TLS engines from Conscrypt (BoringSSL). */
class ConscryptContractTest extends SslContractTest {

    @BeforeAll
    static void start() throws Exception {
        start("Conscrypt");
    }

    @Test
    void theEnginesAreConscrypts() {
        assertEquals("Conscrypt", listenOptions().tls().orElseThrow().context().get().getProvider().getName());
        assertEquals("Conscrypt", connectOptions().tls().orElseThrow().context().get().getProvider().getName());
    }
}
