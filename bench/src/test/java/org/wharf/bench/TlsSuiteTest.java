package org.wharf.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every TLS row compares one cipher suite. The bench pins it on both sides: the driver offers
 * only that suite, which decides for every server; and the servers on the JDK's engine are
 * pinned to it as well, so they choose it even when a client prefers another. (BoringSSL has
 * no TLS 1.3 suite setting: Netty's OpenSSL server and Wharf's on Conscrypt follow the client's
 * offer, so for them the driver's pin is the one that counts.)
 */
class TlsSuiteTest {

    private static final List<String> EVERY_SUITE = List.of("TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_256_GCM_SHA384",
            "TLS_AES_128_GCM_SHA256");

    private static Bench.Pki pki;

    @BeforeAll
    static void certificate() throws Exception {
        pki = Bench.Pki.create();
    }

    @ParameterizedTest
    @ValueSource(strings = {"wharf", "wharf-conscrypt", "netty-nio", "netty-epoll-openssl"})
    void withTheBenchsDriverEveryServerNegotiatesTheBenchsSuite(String implementation) throws Exception {
        assertNegotiated(implementation, EchoServer.TLS_SUITE, List.of(EchoServer.TLS_SUITE));
    }

    @ParameterizedTest
    @ValueSource(strings = {"wharf", "wharf-conscrypt", "netty-nio", "netty-epoll-openssl"})
    void anotherSuiteGivenToTheBenchIsTheOneNegotiated(String implementation) throws Exception {
        // AES-128 is what BoringSSL and Netty's JDK defaults prefer: AES-256 shows the setting decides.
        assertNegotiated(implementation, "TLS_AES_256_GCM_SHA384", List.of("TLS_AES_256_GCM_SHA384"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"wharf", "netty-nio"})
    void serversOnTheJdksEngineChooseTheirPinnedSuiteOverTheClientsPreference(String implementation)
            throws Exception {
        for (String suite : List.of(EchoServer.TLS_SUITE, "TLS_AES_256_GCM_SHA384")) {
            List<String> offered = new java.util.ArrayList<>(EVERY_SUITE);
            offered.remove(suite);
            offered.add(suite); // the client likes it least
            assertNegotiated(implementation, suite, offered);
        }
    }

    private static void assertNegotiated(String implementation, String pinned, List<String> offered) throws Exception {
        EchoLoadTest.assumeRuns(implementation);
        try (EchoServer server = EchoServer.startTls(implementation, 1, pki.chain(), pki.key(), List.of(pinned));
                TlsLink link = TlsLink.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port()),
                        new TlsClient(pki.trust(), offered))) {
            assertEquals("TLSv1.3 " + pinned, link.negotiated(), implementation + ", client offering " + offered);
        }
    }
}
