package org.wharf.endpoints.api;

/**
 * One metric of the platform with all its samples, at one moment, in the terms of the
 * Prometheus / OpenMetrics data model: a name, a type, a unit, help text, and one sample per
 * combination of its labels. A data transfer object.
 *
 * <p>Labels are bounded: endpoint, protocol, transport, loop, reason, cause, state, route,
 * upstream, a protocol figure's name. Nothing per client address.
 */
public class MetricDTO {

    /** A count that only grows (its name ends in {@code _total}). */
    public static final String COUNTER = "counter";
    /** A value that goes up and down. */
    public static final String GAUGE = "gauge";
    /** A distribution in fixed buckets. */
    public static final String HISTOGRAM = "histogram";

    /** The name, in Prometheus' form ({@code wharf_connections_accepted_total}). */
    public String name;
    /** One of {@link #COUNTER}, {@link #GAUGE}, {@link #HISTOGRAM}. */
    public String type;
    /** The unit of the values ({@code seconds}, {@code bytes}), or empty for a count. */
    public String unit;
    /** What it measures, in one sentence. */
    public String help;
    /** One per combination of labels. */
    public SampleDTO[] samples;

    @Override
    public String toString() {
        return name + " (" + type + ", " + samples.length + " samples)";
    }
}
