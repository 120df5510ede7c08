package io.jmagent.backend;

import java.util.concurrent.atomic.LongAdder;

/**
 * What the proxy's traffic to one server looks like: requests in flight, requests answered,
 * requests failed (connection refused or lost, deadline passed), deadlines passed, and the
 * latency of the answers. Health probes are not counted. Shared by every event loop; lock-free.
 */
public final class ServerStats {

    private final LongAdder inflight = new LongAdder();
    private final LongAdder requests = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final LongAdder timeouts = new LongAdder();
    private final LongAdder latencyNanos = new LongAdder();
    private final LatencyHistogram latency = new LatencyHistogram();

    void sent() {
        inflight.increment();
    }

    /** A reply arrived {@code nanos} after its request was sent; {@code nowNanos} is System.nanoTime(). */
    void answered(long nanos, long nowNanos) {
        inflight.decrement();
        requests.increment();
        latencyNanos.add(nanos);
        latency.record(nanos / 1000, nowNanos);
    }

    /** A request that was sent (or queued) will get no reply. */
    void failed() {
        inflight.decrement();
        errors.increment();
    }

    /** A request failed before it could be sent (the server failed moments ago). */
    void refused() {
        errors.increment();
    }

    void timedOut() {
        timeouts.increment();
    }

    public long inflight() {
        return inflight.sum();
    }

    public long requests() {
        return requests.sum();
    }

    public long errors() {
        return errors.sum();
    }

    public long timeouts() {
        return timeouts.sum();
    }

    /** Total time the answered requests took, in nanoseconds. */
    public long latencyNanos() {
        return latencyNanos.sum();
    }

    public LatencyHistogram latency() {
        return latency;
    }
}
