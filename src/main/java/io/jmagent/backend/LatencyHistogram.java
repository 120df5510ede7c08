package io.jmagent.backend;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Reply latencies of one server, in microseconds, for percentiles: fixed logarithmic buckets as
 * HdrHistogram lays them out (exact below 32 µs, then 16 buckets per power of two, so a reported
 * value is at most 1/16 above the true one), up to {@value #MAX_MICROS} µs. Recording is one
 * lock-free increment. Percentiles cover the last one to two minutes: two windows of
 * {@value #WINDOW_SECONDS} s, the current and the one before, the older dropped as a new one opens.
 * Shared by every event loop.
 */
public final class LatencyHistogram {

    static final long MAX_MICROS = (1L << 27) - 1;
    static final int WINDOW_SECONDS = 60;
    private static final int EXACT = 32;
    private static final int SUB_BITS = 4;
    private static final int BUCKETS = bucketOf(MAX_MICROS) + 1;
    private static final long WINDOW_NANOS = WINDOW_SECONDS * 1_000_000_000L;

    private final AtomicReference<Windows> windows;

    public LatencyHistogram() {
        this(System.nanoTime());
    }

    LatencyHistogram(long nowNanos) {
        windows = new AtomicReference<>(
                new Windows(new AtomicLongArray(BUCKETS), new AtomicLongArray(BUCKETS), nowNanos + WINDOW_NANOS));
    }

    /** Records one latency measured at {@code nowNanos} (System.nanoTime()). */
    public void record(long micros, long nowNanos) {
        current(nowNanos).current.incrementAndGet(bucketOf(Math.max(0, Math.min(micros, MAX_MICROS))));
    }

    /**
     * The smallest recorded latency (the top of its bucket) that {@code quantile} (0..1] of the
     * recent ones do not exceed; 0 when nothing was recorded.
     */
    public long percentile(double quantile, long nowNanos) {
        Windows w = current(nowNanos);
        long[] counts = new long[BUCKETS];
        long total = 0;
        for (int i = 0; i < BUCKETS; i++) {
            counts[i] = w.current.get(i) + w.previous.get(i);
            total += counts[i];
        }
        if (total == 0) {
            return 0;
        }
        long rank = Math.max(1, (long) Math.ceil(quantile * total));
        long seen = 0;
        for (int i = 0; i < BUCKETS; i++) {
            seen += counts[i];
            if (seen >= rank) {
                return highestIn(i);
            }
        }
        return highestIn(BUCKETS - 1);
    }

    public long percentile(double quantile) {
        return percentile(quantile, System.nanoTime());
    }

    /** The window to record into; opens a new one when the current has ended. */
    private Windows current(long nowNanos) {
        Windows w = windows.get();
        while (nowNanos - w.endNanos >= 0) {
            // a window missed entirely leaves nothing recent behind it
            boolean gap = nowNanos - w.endNanos >= WINDOW_NANOS;
            Windows next = new Windows(
                    new AtomicLongArray(BUCKETS),
                    gap ? new AtomicLongArray(BUCKETS) : w.current,
                    gap ? nowNanos + WINDOW_NANOS : w.endNanos + WINDOW_NANOS);
            if (windows.compareAndSet(w, next)) {
                return next;
            }
            w = windows.get();
        }
        return w;
    }

    static int bucketOf(long micros) {
        if (micros < EXACT) {
            return (int) micros;
        }
        int exponent = 63 - Long.numberOfLeadingZeros(micros);
        int sub = (int) (micros >>> (exponent - SUB_BITS)) & ((1 << SUB_BITS) - 1);
        return EXACT + (exponent - 5) * (1 << SUB_BITS) + sub;
    }

    /** The largest value that falls in {@code bucket}. */
    static long highestIn(int bucket) {
        if (bucket < EXACT) {
            return bucket;
        }
        int exponent = (bucket - EXACT) / (1 << SUB_BITS) + 5;
        int sub = (bucket - EXACT) % (1 << SUB_BITS);
        long width = 1L << (exponent - SUB_BITS);
        return ((1L << exponent) + sub * width) + width - 1;
    }

    private record Windows(AtomicLongArray current, AtomicLongArray previous, long endNanos) {}
}
