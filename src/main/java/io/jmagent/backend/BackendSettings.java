package io.jmagent.backend;

import java.time.Duration;

/**
 * How the proxy talks to its servers: connections per server on each event loop, the deadline
 * of one request, the reconnect backoff, the largest value a reply may carry, how many
 * consecutive failures mark a server down, and how many stale keys are remembered per server.
 */
public record BackendSettings(int connectionsPerLoop, Duration timeout, Duration minBackoff, Duration maxBackoff,
        int maxItemSize, int failureLimit, int maxStaleKeys) {

    public BackendSettings {
        if (connectionsPerLoop < 1) {
            throw new IllegalArgumentException("connectionsPerLoop must be at least 1");
        }
    }
}
