package io.jmagent.backend;

import io.netty.channel.EventLoop;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A set of memcached servers (the primaries, or the backups), the health of each, and, for each
 * event loop that has used them, that loop's {@link BackendPool}. Addresses are resolved once,
 * when the farm is built, so no event loop ever waits on a DNS lookup.
 */
public final class Farm {

    private final String role;
    private final List<ServerAddress> servers;
    private final List<ServerHealth> health;
    private final List<InetSocketAddress> resolved;
    private final NettyTransport transport;
    private final BackendSettings settings;
    private final ConcurrentHashMap<EventLoop, BackendPool> pools = new ConcurrentHashMap<>();

    public Farm(String role, List<ServerAddress> servers, NettyTransport transport, BackendSettings settings) {
        this.role = role;
        this.servers = List.copyOf(servers);
        this.transport = transport;
        this.settings = settings;
        List<InetSocketAddress> addresses = new ArrayList<>();
        List<ServerHealth> healths = new ArrayList<>();
        for (ServerAddress s : servers) {
            InetSocketAddress a = new InetSocketAddress(s.host(), s.port());
            if (a.isUnresolved()) {
                throw new IllegalArgumentException("cannot resolve server host '" + s.host() + "'");
            }
            addresses.add(a);
            healths.add(new ServerHealth(s, role, settings.failureLimit(), settings.maxStaleKeys()));
        }
        this.resolved = List.copyOf(addresses);
        this.health = List.copyOf(healths);
    }

    public String role() {
        return role;
    }

    public List<ServerAddress> servers() {
        return servers;
    }

    public int size() {
        return servers.size();
    }

    public ServerHealth health(int server) {
        return health.get(server);
    }

    public List<ServerHealth> health() {
        return health;
    }

    /** The pool owned by {@code loop}; call it from that loop. */
    public BackendPool poolFor(EventLoop loop) {
        return pools.computeIfAbsent(loop, l -> new BackendPool(health, resolved, l, transport, settings));
    }

    public void close() {
        pools.values().forEach(BackendPool::close);
    }
}
