package io.jmagent.loadgen;

/**
 * When each request of an open-loop run is meant to start: request {@code n} at
 * {@code start + n / rate} seconds, whatever happened to the requests before it. The generator
 * measures a request's latency from this intended start, not from the moment it went out, so a
 * stall (in the target, or in the generator itself) counts against every request it delayed
 * instead of against one (Gil Tene's "coordinated omission"). Integer nanoseconds throughout, so
 * {@link #intendedStart} and {@link #dueBy} agree exactly.
 */
final class OpenLoopSchedule {

    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private final long startNanos;
    private final long ratePerSecond;

    OpenLoopSchedule(long startNanos, long ratePerSecond) {
        if (ratePerSecond <= 0) {
            throw new IllegalArgumentException("rate must be positive: " + ratePerSecond);
        }
        this.startNanos = startNanos;
        this.ratePerSecond = ratePerSecond;
    }

    /** The System.nanoTime() at which request {@code n} (from 0) is meant to start. */
    long intendedStart(long n) {
        return startNanos + Math.multiplyExact(n, NANOS_PER_SECOND) / ratePerSecond;
    }

    /** How many requests are meant to have started by {@code nowNanos}: those numbered below the result. */
    long dueBy(long nowNanos) {
        if (nowNanos < startNanos) {
            return 0;
        }
        // request n is due once start + floor(n * 1e9 / rate) <= now, i.e. n * 1e9 < (now - start + 1) * rate
        return (Math.multiplyExact(nowNanos - startNanos + 1, ratePerSecond) + NANOS_PER_SECOND - 1) / NANOS_PER_SECOND;
    }

    long ratePerSecond() {
        return ratePerSecond;
    }
}
