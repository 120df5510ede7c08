package io.jmagent.config;

/**
 * A pool's shadow (config file {@code shadow:}): the share of its keys (by hash, the same keys every
 * time) whose requests also go to pool {@code pool}, answers compared and counted, never returned;
 * at most {@code maxInFlight} such requests on their way at once.
 */
public record ShadowSpec(String pool, double share, int maxInFlight) {

    public static final int DEFAULT_MAX_IN_FLIGHT = 1000;

    public ShadowSpec {
        if (!(share > 0 && share <= 1)) {
            throw new IllegalArgumentException("a shadow's share is more than 0 and at most 1, got " + share);
        }
        if (maxInFlight <= 0) {
            throw new IllegalArgumentException("a shadow's max-in-flight is positive, got " + maxInFlight);
        }
    }
}
