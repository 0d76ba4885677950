package org.wharf.transport.api;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Configuration properties (as ConfigAdmin or a {@code .cfg} file gives them) read as typed
 * values: the one path from a configuration to settings, for endpoints, pools, TLS and
 * protocols alike. Every value that cannot be used fails with an
 * {@link IllegalArgumentException} whose message names the property and the value, as
 * {@code port = 'abc': not a whole number}. Immutable.
 */
public final class Settings {

    private final Map<String, ?> properties;

    private Settings(Map<String, ?> properties) {
        this.properties = properties;
    }

    /**
     * A view of configuration properties.
     *
     * @param properties the properties; {@code null} values count as absent
     * @return the settings
     */
    public static Settings of(Map<String, ?> properties) {
        return new Settings(Objects.requireNonNull(properties, "properties"));
    }

    /**
     * The properties as given.
     *
     * @return the map
     */
    public Map<String, ?> asMap() {
        return properties;
    }

    /**
     * Tells whether a property has a value (not blank).
     *
     * @param key the property
     * @return {@code true} if it is set
     */
    public boolean has(String key) {
        Object v = properties.get(key);
        return v != null && !v.toString().isBlank();
    }

    /**
     * A text value, trimmed.
     *
     * @param key the property
     * @return the value, or empty when absent or blank
     */
    public Optional<String> text(String key) {
        Object v = properties.get(key);
        return v == null || v.toString().isBlank() ? Optional.empty() : Optional.of(v.toString().trim());
    }

    /**
     * A text value, trimmed.
     *
     * @param key the property
     * @param fallback the value when absent or blank
     * @return the value
     */
    public String text(String key, String fallback) {
        return text(key).orElse(fallback);
    }

    /**
     * A text value that must be there.
     *
     * @param key the property
     * @param what what it is, for the message
     * @return the value
     * @throws IllegalArgumentException if absent or blank
     */
    public String required(String key, String what) {
        return text(key).orElseThrow(() -> new IllegalArgumentException(key + " is missing (" + what + ")"));
    }

    /**
     * A whole number within bounds.
     *
     * @param key the property
     * @param fallback the value when absent
     * @param min the least allowed
     * @param max the most allowed
     * @return the value
     * @throws IllegalArgumentException if not a whole number or out of bounds
     */
    public long number(String key, long fallback, long min, long max) {
        Object v = properties.get(key);
        if (v == null || v.toString().isBlank()) {
            return fallback;
        }
        long n;
        if (v instanceof Number x && !(v instanceof Double) && !(v instanceof Float)) {
            n = x.longValue();
        } else {
            try {
                n = Long.parseLong(v.toString().trim());
            } catch (NumberFormatException e) {
                throw wrong(key, v, "not a whole number");
            }
        }
        if (n < min) {
            throw wrong(key, v, "at least " + min);
        }
        if (n > max) {
            throw wrong(key, v, "at most " + max);
        }
        return n;
    }

    /**
     * A size in bytes within bounds: digits, optionally followed by {@code k}, {@code m} or
     * {@code g} (binary multiples, either case), such as {@code 65536} or {@code 64m}.
     *
     * @param key the property
     * @param fallback the value when absent
     * @param min the least allowed
     * @param max the most allowed
     * @return the value in bytes
     * @throws IllegalArgumentException if not a size or out of bounds
     */
    public long bytes(String key, long fallback, long min, long max) {
        Object v = properties.get(key);
        if (v == null || v.toString().isBlank()) {
            return fallback;
        }
        if (v instanceof Number) {
            return number(key, fallback, min, max);
        }
        String text = v.toString().trim().toLowerCase(Locale.ROOT);
        int shift = switch (text.charAt(text.length() - 1)) {
            case 'k' -> 10;
            case 'm' -> 20;
            case 'g' -> 30;
            default -> 0;
        };
        String digits = shift == 0 ? text : text.substring(0, text.length() - 1);
        long n;
        try {
            n = Long.parseLong(digits);
        } catch (NumberFormatException e) {
            throw wrong(key, v, "not a size in bytes (such as 65536, 512k, 64m or 1g)");
        }
        if (n < 0 || n > (Long.MAX_VALUE >> shift)) {
            throw wrong(key, v, "not a size in bytes (such as 65536, 512k, 64m or 1g)");
        }
        n <<= shift;
        if (n < min) {
            throw wrong(key, v, "at least " + min + " bytes");
        }
        if (n > max) {
            throw wrong(key, v, "at most " + max + " bytes");
        }
        return n;
    }

    /**
     * A whole number within the bounds of an {@code int}.
     *
     * @param key the property
     * @param fallback the value when absent
     * @param min the least allowed
     * @param max the most allowed
     * @return the value
     * @throws IllegalArgumentException if not a whole number or out of bounds
     */
    public int integer(String key, int fallback, int min, int max) {
        return (int) number(key, fallback, min, max);
    }

    /**
     * A port number (0 to 65535).
     *
     * @param key the property
     * @param fallback the value when absent, or -1 to require one
     * @return the port
     * @throws IllegalArgumentException if absent (when required), not a number or out of range
     */
    public int port(String key, int fallback) {
        if (fallback < 0 && !has(key)) {
            throw new IllegalArgumentException(key + " is missing (a port number, 0..65535)");
        }
        return integer(key, fallback, 0, 65535);
    }

    /**
     * A duration given in milliseconds; 0 means none.
     *
     * @param key the property
     * @param fallback the value when absent (may be {@code null})
     * @return the duration, or empty for 0 or when absent without a fallback
     * @throws IllegalArgumentException if not a whole number of milliseconds or negative
     */
    public Optional<Duration> millis(String key, Duration fallback) {
        if (!has(key)) {
            return Optional.ofNullable(fallback);
        }
        long ms = number(key, 0, 0, Long.MAX_VALUE);
        return ms == 0 ? Optional.empty() : Optional.of(Duration.ofMillis(ms));
    }

    /**
     * A positive duration given in milliseconds.
     *
     * @param key the property
     * @param fallback the value when absent
     * @return the duration
     * @throws IllegalArgumentException if not a whole number of milliseconds, or not positive
     */
    public Duration positiveMillis(String key, Duration fallback) {
        if (!has(key)) {
            return fallback;
        }
        return Duration.ofMillis(number(key, 0, 1, Long.MAX_VALUE));
    }

    /**
     * {@code true} or {@code false}.
     *
     * @param key the property
     * @param fallback the value when absent
     * @return the value
     * @throws IllegalArgumentException if neither
     */
    public boolean flag(String key, boolean fallback) {
        Object v = properties.get(key);
        if (v == null || v.toString().isBlank()) {
            return fallback;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        String s = v.toString().trim().toLowerCase(Locale.ROOT);
        if (s.equals("true") || s.equals("false")) {
            return Boolean.parseBoolean(s);
        }
        throw wrong(key, v, "true or false");
    }

    /**
     * A list: an array, a collection, or text, each item split at commas; blank items are
     * dropped.
     *
     * @param key the property
     * @return the items, trimmed; empty when absent
     */
    public List<String> list(String key) {
        Object v = properties.get(key);
        Collection<?> items = v == null ? List.of() : v instanceof Object[] array ? Arrays.asList(array)
                : v instanceof Collection<?> c ? c : List.of(v);
        List<String> out = new ArrayList<>();
        for (Object item : items) {
            for (String part : String.valueOf(item).split(",")) {
                if (!part.isBlank()) {
                    out.add(part.trim());
                }
            }
        }
        return out;
    }

    /**
     * One of an enum's constants, written in any case and with {@code -} for {@code _}
     * ({@code least-connections} for {@code LEAST_CONNECTIONS}).
     *
     * @param <E> the enum
     * @param key the property
     * @param fallback the value when absent
     * @return the constant
     * @throws IllegalArgumentException naming the choices if it is none of them
     */
    public <E extends Enum<E>> E choice(String key, E fallback) {
        Optional<String> v = text(key);
        if (v.isEmpty()) {
            return fallback;
        }
        String name = v.get().toUpperCase(Locale.ROOT).replace('-', '_');
        for (E e : fallback.getDeclaringClass().getEnumConstants()) {
            if (e.name().equals(name)) {
                return e;
            }
        }
        List<String> names = Arrays.stream(fallback.getDeclaringClass().getEnumConstants())
                .map(e -> e.name().toLowerCase(Locale.ROOT).replace('_', '-')).toList();
        throw wrong(key, v.get(), "one of " + String.join(", ", names));
    }

    /**
     * The properties whose keys start with a prefix, with the prefix taken off
     * ({@code proxy.upstream.tls.ca} as {@code tls.ca} under {@code proxy.upstream.}).
     *
     * @param prefix the prefix
     * @return the settings under it
     */
    public Settings under(String prefix) {
        Map<String, Object> out = new HashMap<>();
        properties.forEach((key, value) -> {
            if (key.startsWith(prefix) && value != null) {
                out.put(key.substring(prefix.length()), value);
            }
        });
        return new Settings(out);
    }

    /**
     * A {@code host:port} pair ({@code [::1]:80} for IPv6), not resolved.
     *
     * @param key the property the value came from, for the message
     * @param value the text
     * @return the address, unresolved
     * @throws IllegalArgumentException if it is not {@code host:port} with a port of 1 to 65535
     */
    public static InetSocketAddress hostAndPort(String key, String value) {
        String v = value.trim();
        int colon = v.lastIndexOf(':');
        if (colon <= 0 || colon == v.length() - 1) {
            throw wrong(key, value, "not host:port");
        }
        String host = v.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.indexOf(':') >= 0) {
            throw wrong(key, value, "not host:port (an IPv6 address goes in brackets: [::1]:80)");
        }
        int port;
        try {
            port = Integer.parseInt(v.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw wrong(key, value, "not host:port");
        }
        if (port < 1 || port > 65535) {
            throw wrong(key, value, "the port is not 1..65535");
        }
        return InetSocketAddress.createUnresolved(host, port);
    }

    /**
     * The error for a value that cannot be used: {@code key = 'value': why}.
     *
     * @param key the property
     * @param value its value
     * @param why what is wrong
     * @return the exception, to throw
     */
    public static IllegalArgumentException wrong(String key, Object value, String why) {
        return new IllegalArgumentException(key + " = " + describe(value) + ": " + why);
    }

    /**
     * A value as it reads in a message: text quoted, arrays as lists.
     *
     * @param value the value
     * @return the text
     */
    public static String describe(Object value) {
        if (value instanceof Object[] array) {
            return Arrays.toString(array);
        }
        return value instanceof String s ? "'" + s + "'" : String.valueOf(value);
    }

    @Override
    public String toString() {
        return "settings " + properties.keySet();
    }
}
