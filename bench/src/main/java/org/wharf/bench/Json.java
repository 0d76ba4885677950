package org.wharf.bench;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes the bench's results as JSON: maps (in their order), lists, strings, numbers,
 * booleans and null. Maps down to the fourth level and lists of maps are laid out one member a
 * line, deeper ones and lists of plain values on one line, so each implementation's figures in
 * a scenario read as one line.
 */
final class Json {

    private Json() {
    }

    /**
     * @param value a map, list, string, number, boolean or null
     * @return its JSON text, ending with a newline
     */
    static String write(Object value) {
        StringBuilder out = new StringBuilder();
        write(out, value, 0);
        return out.append('\n').toString();
    }

    private static void write(StringBuilder out, Object value, int depth) {
        boolean lines = value instanceof Map<?, ?> ? depth < 4
                : value instanceof List<?> list && list.stream().anyMatch(Map.class::isInstance);
        String indent = "  ".repeat(depth + 1);
        if (value instanceof Map<?, ?> map) {
            out.append('{');
            int i = 0;
            for (Map.Entry<?, ?> e : map.entrySet()) {
                out.append(i++ == 0 ? "" : ",").append(lines ? "\n" + indent : i == 1 ? "" : " ");
                string(out, String.valueOf(e.getKey()));
                out.append(": ");
                write(out, e.getValue(), depth + 1);
            }
            out.append(lines && !map.isEmpty() ? "\n" + "  ".repeat(depth) : "").append('}');
        } else if (value instanceof List<?> list) {
            out.append('[');
            for (int i = 0; i < list.size(); i++) {
                out.append(i == 0 ? "" : ",").append(lines ? "\n" + indent : i == 0 ? "" : " ");
                write(out, list.get(i), depth + 1);
            }
            out.append(lines && !list.isEmpty() ? "\n" + "  ".repeat(depth) : "").append(']');
        } else if (value instanceof String s) {
            string(out, s);
        } else if (value instanceof Double || value instanceof Float) {
            double d = ((Number) value).doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                out.append("null");
            } else if (d == Math.rint(d) && Math.abs(d) < 1e15) {
                out.append((long) d);
            } else {
                out.append(String.format(Locale.ROOT, Math.abs(d) >= 100 ? "%.1f" : "%.3f", d));
            }
        } else {
            out.append(value); // integers, booleans, null
        }
    }

    private static void string(StringBuilder out, String s) {
        out.append('"');
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
