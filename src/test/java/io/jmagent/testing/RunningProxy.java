package io.jmagent.testing;

import io.jmagent.backend.NettyTransport;
import io.jmagent.backend.ServerAddress;
import io.jmagent.config.ProxyConfig;
import io.jmagent.config.ProxySetup;
import io.jmagent.frontend.ProxyPools;
import io.jmagent.frontend.ProxyServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * jmagent started in-process on a free loopback port in front of the given memcached processes:
 * one pool, run as {@code Main} runs it (its HTTP endpoint, its graceful close).
 */
public final class RunningProxy implements AutoCloseable {

    private final ProxyPools pools;
    private final ProxyServer server;
    private final ProxyConfig config;

    private RunningProxy(ProxyConfig config, NettyTransport transport) {
        this.config = config;
        this.pools = new ProxyPools(ProxySetup.single(config), transport);
        try {
            pools.start();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        this.server = pools.pool(ProxySetup.DEFAULT_POOL);
    }

    public static RunningProxy over(List<MemcachedProcess> servers) {
        return over(servers, List.of(), c -> c);
    }

    /** {@code tweak} may replace the default config (for limits, timeouts, backups...). */
    public static RunningProxy over(
            List<MemcachedProcess> servers, List<MemcachedProcess> backups, UnaryOperator<ProxyConfig> tweak) {
        return over(servers, backups, tweak, TestTransport.chosen());
    }

    /** As {@link #over(List, List, UnaryOperator)}, on {@code transport}. */
    public static RunningProxy over(
            List<MemcachedProcess> servers,
            List<MemcachedProcess> backups,
            UnaryOperator<ProxyConfig> tweak,
            NettyTransport transport) {
        return overAddresses(addresses(servers), addresses(backups), tweak, transport);
    }

    /** In front of servers that may be stand-ins for memcached, given by their addresses. */
    public static RunningProxy overAddresses(
            List<ServerAddress> servers,
            List<ServerAddress> backups,
            UnaryOperator<ProxyConfig> tweak,
            NettyTransport transport) {
        ProxyConfig config = new ProxyConfig(
                "127.0.0.1",
                MemcachedProcess.freePort(),
                null,
                servers,
                backups,
                ProxyConfig.DEFAULT_MAX_CONNECTIONS,
                ProxyConfig.DEFAULT_MAX_KEEP_ALIVE,
                2,
                ProxyConfig.DEFAULT_CONNECTIONS_PER_LOOP,
                Duration.ofSeconds(1),
                ProxyConfig.DEFAULT_MAX_ITEM_SIZE,
                ProxyConfig.DEFAULT_MAX_RETRIEVAL_LINE,
                ProxyConfig.DEFAULT_MAX_PENDING_PER_CLIENT,
                0);
        return new RunningProxy(tweak.apply(config), transport);
    }

    public static List<ServerAddress> addresses(List<MemcachedProcess> servers) {
        List<ServerAddress> list = new ArrayList<>();
        for (MemcachedProcess m : servers) {
            list.add(new ServerAddress("127.0.0.1", m.port(), 1));
        }
        return list;
    }

    public int port() {
        return server.port();
    }

    public ProxyConfig config() {
        return config;
    }

    /** The one pool. */
    public ProxyServer server() {
        return server;
    }

    /** The port of the HTTP endpoint ({@code --http-port}), or -1 without one. */
    public int httpPort() {
        return pools.httpPort();
    }

    @Override
    public void close() {
        pools.close();
    }
}
