package io.jmagent.it;

import io.jmagent.config.ProxyConfig;
import io.jmagent.config.ProxyConfigBuilder;
import java.time.Duration;
import java.util.function.UnaryOperator;

/** Copies of a proxy configuration with one limit changed, for {@code RunningProxy.over(..., tweak)}. */
final class ConfigCopy {

    private ConfigCopy() {}

    static UnaryOperator<ProxyConfig> timeout(Duration timeout) {
        return c -> new ProxyConfigBuilder(c).timeout(timeout).build();
    }

    static UnaryOperator<ProxyConfig> maxConnections(int maxConnections) {
        return c -> new ProxyConfigBuilder(c).maxConnections(maxConnections).build();
    }

    static UnaryOperator<ProxyConfig> maxRetrievalLine(int maxRetrievalLine) {
        return c -> new ProxyConfigBuilder(c).maxRetrievalLine(maxRetrievalLine).build();
    }

    /** One event loop with one connection per server: every client shares everything. */
    static UnaryOperator<ProxyConfig> oneLoopOneConnection(int maxPendingPerClient) {
        return c -> new ProxyConfigBuilder(c)
                .threads(1)
                .connectionsPerLoop(1)
                .maxPendingPerClient(maxPendingPerClient)
                .build();
    }
}
