package io.jmagent.backend;

import java.time.Duration;

/**
 * How the proxy talks to its servers: connections per server on each event loop, the deadline
 * of one request, the reconnect backoff, and the largest value a reply may carry.
 */
public record BackendSettings(int connectionsPerLoop, Duration timeout, Duration minBackoff, Duration maxBackoff,
        int maxItemSize) {

    public BackendSettings {
        if (connectionsPerLoop < 1) {
            throw new IllegalArgumentException("connectionsPerLoop must be at least 1");
        }
    }
}
