package org.wharf.protocol.http.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class NoPathsTest {

    @Test
    void absolutePathsKeepOnlyTheirFileName() {
        assertEquals("endpoint tls: tls.certificate = '…/cert.pem': no such file",
                NoPaths.of("endpoint tls: tls.certificate = '/opt/wharf/etc/tls/cert.pem': no such file"));
        assertEquals("cannot read …/a.key and …/b.pem", NoPaths.of("cannot read /x/a.key and /y/z/b.pem"));
        assertEquals("folder …/tls", NoPaths.of("folder /etc/wharf/tls/"));
    }

    @Test
    void whatIsNoPathStays() {
        for (String s : new String[] {"port = 'abc': not a whole number", "host 10.0.0.1/24 is wrong",
            "see http://example.com/a/b", "ratio 1/2", "a / b", ""}) {
            assertEquals(s, NoPaths.of(s));
        }
    }
}
