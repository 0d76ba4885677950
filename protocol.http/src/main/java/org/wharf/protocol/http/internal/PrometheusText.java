package org.wharf.protocol.http.internal;

import java.math.BigDecimal;
import java.util.Map;

import org.wharf.endpoints.api.MetricDTO;
import org.wharf.endpoints.api.SampleDTO;

/**
 * The runtime's metrics in the Prometheus text exposition format, version 0.0.4: a
 * {@code # HELP} and {@code # TYPE} line per metric, then its samples; a histogram as its
 * cumulative {@code _bucket} series (with {@code le}, ending in {@code +Inf}), {@code _sum}
 * and {@code _count}.
 */
final class PrometheusText {

    /** The media type Prometheus asks for and accepts. */
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private PrometheusText() {
    }

    static String format(MetricDTO[] metrics) {
        StringBuilder out = new StringBuilder(16 * 1024);
        for (MetricDTO m : metrics) {
            out.append("# HELP ").append(m.name).append(' ').append(escapeHelp(m.help)).append('\n');
            out.append("# TYPE ").append(m.name).append(' ').append(m.type).append('\n');
            for (SampleDTO s : m.samples) {
                if (MetricDTO.HISTOGRAM.equals(m.type)) {
                    histogram(out, m.name, s);
                } else {
                    line(out, m.name, s.labels, null, number(s.value));
                }
            }
        }
        return out.toString();
    }

    private static void histogram(StringBuilder out, String name, SampleDTO s) {
        for (int i = 0; i < s.cumulativeCounts.length; i++) {
            String le = i < s.upperBounds.length ? number(s.upperBounds[i]) : "+Inf";
            line(out, name + "_bucket", s.labels, le, Long.toString(s.cumulativeCounts[i]));
        }
        line(out, name + "_sum", s.labels, null, number(s.sum));
        line(out, name + "_count", s.labels, null, Long.toString(s.count));
    }

    private static void line(StringBuilder out, String name, Map<String, String> labels, String le, String value) {
        out.append(name);
        if (!labels.isEmpty() || le != null) {
            out.append('{');
            boolean first = true;
            for (Map.Entry<String, String> l : labels.entrySet()) {
                if (!first) {
                    out.append(',');
                }
                first = false;
                out.append(l.getKey()).append("=\"").append(escapeLabel(l.getValue())).append('"');
            }
            if (le != null) {
                out.append(first ? "" : ",").append("le=\"").append(le).append('"');
            }
            out.append('}');
        }
        out.append(' ').append(value).append('\n');
    }

    /**
     * A number as Prometheus reads it, the same text for the same value on every scrape (a
     * bucket's {@code le} is part of its series' identity): integers without a fraction,
     * others in plain decimal.
     */
    static String number(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "+Inf" : "-Inf";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }

    private static String escapeLabel(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    private static String escapeHelp(String s) {
        return s.replace("\\", "\\\\").replace("\n", "\\n");
    }
}
