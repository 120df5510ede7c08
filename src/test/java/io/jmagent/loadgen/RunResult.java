package io.jmagent.loadgen;

import org.HdrHistogram.Histogram;

/**
 * What one run against one target measured, or several runs' worth added up ({@link #plus}):
 * latencies in nanoseconds from each request's intended start, and counts.
 */
record RunResult(
        String target,
        long offeredRate,
        Histogram latencies,
        long completedInWindow,
        long windowNanos,
        long hits,
        long misses,
        long stores,
        long errors,
        long unanswered) {

    /** Replies per second that arrived inside the measuring windows. */
    double achievedRate() {
        return windowNanos == 0 ? 0 : completedInWindow * 1e9 / windowNanos;
    }

    /** The latency at {@code percentile} (0 to 100), in microseconds. */
    double micros(double percentile) {
        return latencies.getValueAtPercentile(percentile) / 1000.0;
    }

    double maxMicros() {
        return latencies.getMaxValue() / 1000.0;
    }

    /** This run and {@code other} (same target, same rate) as one. */
    RunResult plus(RunResult other) {
        Histogram both = latencies.copy();
        both.add(other.latencies);
        return new RunResult(
                target,
                offeredRate,
                both,
                completedInWindow + other.completedInWindow,
                windowNanos + other.windowNanos,
                hits + other.hits,
                misses + other.misses,
                stores + other.stores,
                errors + other.errors,
                unanswered + other.unanswered);
    }
}
