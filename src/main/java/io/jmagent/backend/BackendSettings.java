package io.jmagent.backend;

import java.time.Duration;

/**
 * How the proxy talks to its servers: connections per server on each event loop, the deadline
 * of one request, the reconnect backoff, the largest value a reply may carry, how many
 * consecutive failures mark a server down, how many stale keys are remembered per server, TLS
 * (null: none) and the login servers want (null: none).
 */
public record BackendSettings(
        int connectionsPerLoop,
        Duration timeout,
        Duration minBackoff,
        Duration maxBackoff,
        int maxItemSize,
        int failureLimit,
        int maxStaleKeys,
        ServerTlsContext tls,
        ServerLogin login) {

    public BackendSettings {
        if (connectionsPerLoop < 1) {
            throw new IllegalArgumentException("connectionsPerLoop must be at least 1");
        }
    }

    /** Settings without TLS or login. */
    public BackendSettings(
            int connectionsPerLoop,
            Duration timeout,
            Duration minBackoff,
            Duration maxBackoff,
            int maxItemSize,
            int failureLimit,
            int maxStaleKeys) {
        this(connectionsPerLoop, timeout, minBackoff, maxBackoff, maxItemSize, failureLimit, maxStaleKeys, null, null);
    }
}
