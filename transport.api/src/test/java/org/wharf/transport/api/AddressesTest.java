package org.wharf.transport.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.net.InetSocketAddress;

import org.junit.jupiter.api.Test;

/** One address format for logs, errors and the shell. */
class AddressesTest {

    @Test
    void ipv4IsHostColonPort() throws Exception {
        assertEquals("127.0.0.1:7007", Addresses.text(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 7007)));
        assertEquals("0.0.0.0:7007", Addresses.text(new InetSocketAddress(7007)));
    }

    @Test
    void ipv6IsBracketedAndShort() throws Exception {
        assertEquals("[::1]:7007", Addresses.text(new InetSocketAddress(InetAddress.getByName("::1"), 7007)));
        assertEquals("[::]:7007", Addresses.text(new InetSocketAddress(InetAddress.getByName("::"), 7007)));
        assertEquals("[2001:db8::1:0:0:1]:80",
                Addresses.text(new InetSocketAddress(InetAddress.getByName("2001:db8:0:0:1:0:0:1"), 80)));
        assertEquals("[fe80::1%lo]:1", Addresses.hostAndPort("fe80:0:0:0:0:0:0:1%lo", 1));
        assertEquals("[1:2:3:4:5:6:7:8]:9", Addresses.hostAndPort("1:2:3:4:5:6:7:8", 9));
        assertEquals("[::]:7007", Addresses.hostAndPort("::", 7007));
        assertEquals("[1::]:2", Addresses.hostAndPort("1:0:0:0:0:0:0:0", 2));
    }

    @Test
    void unresolvedKeepsTheNameAndAConfiguredHostIsAsWritten() {
        assertEquals("example.org:7", Addresses.text(InetSocketAddress.createUnresolved("example.org", 7)));
        assertEquals("localhost:7007", Addresses.hostAndPort("localhost", 7007));
        assertEquals("?", Addresses.text(null));
    }
}
