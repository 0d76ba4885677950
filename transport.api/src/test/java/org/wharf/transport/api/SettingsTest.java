package org.wharf.transport.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

class SettingsTest {

    private enum Mode { ROUND_ROBIN, LEAST_CONNECTIONS }

    @Test
    void valuesComeAsTextNumbersArraysOrCollections() {
        Settings s = Settings.of(Map.of("port", " 7007 ", "max", 5L, "list", new String[] {"a, b", "c"}, "coll",
                List.of("x", " y "), "flag", "TRUE", "ms", "1500", "mode", "least-connections", "blank", " "));
        assertEquals(7007, s.port("port", -1));
        assertEquals(5, s.integer("max", 0, 0, 10));
        assertEquals(List.of("a", "b", "c"), s.list("list"));
        assertEquals(List.of("x", "y"), s.list("coll"));
        assertEquals(true, s.flag("flag", false));
        assertEquals(Optional.of(Duration.ofMillis(1500)), s.millis("ms", null));
        assertEquals(Mode.LEAST_CONNECTIONS, s.choice("mode", Mode.ROUND_ROBIN));
        assertEquals("fallback", s.text("blank", "fallback"));
        assertEquals(Optional.empty(), s.millis("absent", null));
        assertEquals(Optional.empty(), Settings.of(Map.of("ms", 0)).millis("ms", Duration.ofSeconds(1)), "0 is none");
    }

    @Test
    void everyWrongValueNamesItsPropertyAndValue() {
        assertEquals("port = 'abc': not a whole number", message(() -> Settings.of(Map.of("port", "abc")).port("port", 0)));
        assertEquals("port = 70000: at most 65535", message(() -> Settings.of(Map.of("port", 70000)).port("port", 0)));
        assertEquals("port = -1: at least 0", message(() -> Settings.of(Map.of("port", -1)).port("port", 0)));
        assertEquals("port is missing (a port number, 0..65535)", message(() -> Settings.of(Map.of()).port("port", -1)));
        assertEquals("maxConnections = '-5': at least 0", message(() -> Settings.of(Map.of("maxConnections", "-5"))
                .integer("maxConnections", 0, 0, Integer.MAX_VALUE)));
        assertEquals("verify = 'yes': true or false", message(() -> Settings.of(Map.of("verify", "yes")).flag("verify", true)));
        assertEquals("mode = 'random': one of round-robin, least-connections",
                message(() -> Settings.of(Map.of("mode", "random")).choice("mode", Mode.ROUND_ROBIN)));
        assertEquals("upstreams = 'nowhere': not host:port", message(() -> Settings.hostAndPort("upstreams", "nowhere")));
        assertEquals("upstreams = 'a:0': the port is not 1..65535", message(() -> Settings.hostAndPort("upstreams", "a:0")));
        assertEquals("upstreams = '::1:80': not host:port (an IPv6 address goes in brackets: [::1]:80)",
                message(() -> Settings.hostAndPort("upstreams", "::1:80")));
        assertEquals("::1", Settings.hostAndPort("upstreams", "[::1]:80").getHostString());
        assertEquals("timeout = 1.5: not a whole number",
                message(() -> Settings.of(Map.of("timeout", 1.5)).positiveMillis("timeout", null)));
    }

    @Test
    void underTakesThePrefixOff() {
        Settings s = Settings.of(Map.of("proxy.upstream.tls.ca", "/ca.pem", "proxy.upstreams", "a:1"));
        assertEquals(Map.of("tls.ca", "/ca.pem"), s.under("proxy.upstream.").asMap());
    }

    private static String message(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    @Test
    void sizesTakeBinarySuffixesAndRefuseWhatIsNoSize() {
        Settings s = Settings.of(Map.of("a", "65536", "b", "512k", "c", " 64M ", "d", "1g", "e", 42L));
        assertEquals(65536, s.bytes("a", 0, 0, Long.MAX_VALUE));
        assertEquals(512 << 10, s.bytes("b", 0, 0, Long.MAX_VALUE));
        assertEquals(64L << 20, s.bytes("c", 0, 0, Long.MAX_VALUE));
        assertEquals(1L << 30, s.bytes("d", 0, 0, Long.MAX_VALUE));
        assertEquals(42, s.bytes("e", 0, 0, Long.MAX_VALUE));
        assertEquals(7, s.bytes("absent", 7, 0, Long.MAX_VALUE));
        assertEquals("memory.endpoint = '12x': not a size in bytes (such as 65536, 512k, 64m or 1g)",
                message(() -> Settings.of(Map.of("memory.endpoint", "12x")).bytes("memory.endpoint", 0, 1, Long.MAX_VALUE)));
        assertEquals("m = '99999999999g': not a size in bytes (such as 65536, 512k, 64m or 1g)",
                message(() -> Settings.of(Map.of("m", "99999999999g")).bytes("m", 0, 1, Long.MAX_VALUE)));
        assertEquals("m = '0': at least 1 bytes", message(() -> Settings.of(Map.of("m", "0")).bytes("m", 0, 1, 10)));
    }
}
