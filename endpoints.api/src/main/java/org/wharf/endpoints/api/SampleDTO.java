package org.wharf.endpoints.api;

import java.util.Map;

/**
 * One sample of a {@link MetricDTO}: its labels and its value, or for a histogram its
 * buckets, count and sum. A data transfer object.
 */
public class SampleDTO {

    /** The labels, by name. */
    public Map<String, String> labels;
    /** The value of a counter or gauge. */
    public double value;
    /** A histogram's bucket upper bounds, ascending, in the metric's unit (the +Inf bucket has none); else null. */
    public double[] upperBounds;
    /** A histogram's cumulative counts: one per bound, then the +Inf bucket (equal to {@link #count}); else null. */
    public long[] cumulativeCounts;
    /** A histogram's number of values. */
    public long count;
    /** A histogram's sum of values, in the metric's unit. */
    public double sum;

    @Override
    public String toString() {
        return labels + " " + (cumulativeCounts == null ? String.valueOf(value) : count + " values, sum " + sum);
    }
}
