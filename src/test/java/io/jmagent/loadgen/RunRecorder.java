package io.jmagent.loadgen;

import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Accounts for one run's requests. Only requests meant to start inside the measuring window
 * {@code [windowStart, windowEnd)} count towards the latencies, each measured from its intended
 * start to its reply; requests of the warm-up before it are answered but not recorded. A request
 * still unanswered when the run gives up counts with the time it had waited by then, so a target
 * that stops answering shows as slow, not as absent. The achieved rate counts the replies that
 * arrived inside the window, whatever their intended start. Owned by the run's event loop.
 */
final class RunRecorder {

    /** Latencies above this are recorded as this. */
    static final long MAX_NANOS = TimeUnit.SECONDS.toNanos(60);

    private final long windowStart;
    private final long windowEnd;
    private final Histogram latencies = new Histogram(MAX_NANOS, 3);
    private long completedInWindow;
    private long hits;
    private long misses;
    private long stores;
    private long errors;
    private long unanswered;

    RunRecorder(long windowStartNanos, long windowEndNanos) {
        this.windowStart = windowStartNanos;
        this.windowEnd = windowEndNanos;
    }

    /** The request meant to start at {@code intendedStart} was answered with {@code reply} at {@code now}. */
    void answered(long intendedStart, long now, Reply reply) {
        if (now >= windowStart && now < windowEnd) {
            completedInWindow++;
        }
        if (!measured(intendedStart)) {
            return;
        }
        record(now - intendedStart);
        switch (reply) {
            case HIT -> hits++;
            case MISS -> misses++;
            case STORED -> stores++;
            case NOT_STORED, ERROR -> errors++;
        }
    }

    /** The request meant to start at {@code intendedStart} had no reply when the run gave up at {@code now}. */
    void unanswered(long intendedStart, long now) {
        if (measured(intendedStart)) {
            record(now - intendedStart);
            unanswered++;
        }
    }

    RunResult result(String target, long offeredRate) {
        return new RunResult(
                target,
                offeredRate,
                latencies.copy(),
                completedInWindow,
                windowEnd - windowStart,
                hits,
                misses,
                stores,
                errors,
                unanswered);
    }

    private boolean measured(long intendedStart) {
        return intendedStart >= windowStart && intendedStart < windowEnd;
    }

    private void record(long nanos) {
        latencies.recordValue(Math.max(0, Math.min(nanos, MAX_NANOS)));
    }
}
