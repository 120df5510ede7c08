package io.jmagent.tenant;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A request rate shared by every event loop: at most {@code perSecond} requests a second, with a
 * burst of up to one second's worth after a quiet spell. Lock-free (GCRA, the token bucket as one
 * timestamp): each admitted request moves the theoretical arrival time one interval on, and a
 * request is refused while that time is more than a second ahead of now.
 */
final class RequestRate {

    private static final long SECOND = 1_000_000_000L;

    private final long interval;
    private final long tolerance;
    private final AtomicLong arrival = new AtomicLong(Long.MIN_VALUE);

    RequestRate(int perSecond) {
        if (perSecond <= 0) {
            throw new IllegalArgumentException("a rate is positive");
        }
        this.interval = SECOND / perSecond;
        this.tolerance = SECOND - interval;
    }

    /** True when a request at {@code now} (nanoTime) is within the rate; it is then counted. */
    boolean admit(long now) {
        while (true) {
            long before = arrival.get();
            long at = before == Long.MIN_VALUE || before - now < 0 ? now : before;
            if (at - now > tolerance) {
                return false;
            }
            if (arrival.compareAndSet(before, at + interval)) {
                return true;
            }
        }
    }
}
