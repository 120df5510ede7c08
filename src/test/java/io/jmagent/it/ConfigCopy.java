package io.jmagent.it;

import io.jmagent.config.ProxyConfig;
import java.time.Duration;
import java.util.function.UnaryOperator;

/** Copies of a proxy configuration with one limit changed, for {@code RunningProxy.over(..., tweak)}. */
final class ConfigCopy {

    private ConfigCopy() {}

    static UnaryOperator<ProxyConfig> timeout(Duration timeout) {
        return c -> new ProxyConfig(
                c.listenAddress(),
                c.port(),
                c.unixSocket(),
                c.servers(),
                c.backups(),
                c.maxConnections(),
                c.maxKeepAlive(),
                c.threads(),
                c.connectionsPerLoop(),
                timeout,
                c.maxItemSize(),
                c.maxRetrievalLine(),
                c.maxPendingPerClient(),
                c.verbosity());
    }

    static UnaryOperator<ProxyConfig> maxConnections(int maxConnections) {
        return c -> new ProxyConfig(
                c.listenAddress(),
                c.port(),
                c.unixSocket(),
                c.servers(),
                c.backups(),
                maxConnections,
                c.maxKeepAlive(),
                c.threads(),
                c.connectionsPerLoop(),
                c.timeout(),
                c.maxItemSize(),
                c.maxRetrievalLine(),
                c.maxPendingPerClient(),
                c.verbosity());
    }

    static UnaryOperator<ProxyConfig> maxRetrievalLine(int maxRetrievalLine) {
        return c -> new ProxyConfig(
                c.listenAddress(),
                c.port(),
                c.unixSocket(),
                c.servers(),
                c.backups(),
                c.maxConnections(),
                c.maxKeepAlive(),
                c.threads(),
                c.connectionsPerLoop(),
                c.timeout(),
                c.maxItemSize(),
                maxRetrievalLine,
                c.maxPendingPerClient(),
                c.verbosity());
    }

    /** One event loop with one connection per server: every client shares everything. */
    static UnaryOperator<ProxyConfig> oneLoopOneConnection(int maxPendingPerClient) {
        return c -> new ProxyConfig(
                c.listenAddress(),
                c.port(),
                c.unixSocket(),
                c.servers(),
                c.backups(),
                c.maxConnections(),
                c.maxKeepAlive(),
                1,
                1,
                c.timeout(),
                c.maxItemSize(),
                c.maxRetrievalLine(),
                maxPendingPerClient,
                c.verbosity());
    }
}
