package io.jmagent.backend;

import io.netty.channel.EventLoop;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A set of memcached servers (the primaries, or the backups), the health of each, and, for each
 * event loop that has used them, that loop's {@link BackendPool}. Addresses are resolved once,
 * when the farm is built, so no event loop ever waits on a DNS lookup.
 *
 * <p>A reload builds a new farm from the previous one: a server in both (same host, as written,
 * and port) keeps its {@link ServerHealth} and every event loop's connections to it; the
 * connections to the servers that left are retired by {@link #takeOver()} once the new farm is in
 * use. Nothing of the previous farm changes before that, so a farm built for a reload that is then
 * abandoned costs nothing.
 */
public final class Farm {

    private final String role;
    private final List<ServerAddress> servers;
    private final List<ServerHealth> health;
    private final List<InetSocketAddress> resolved;
    private final NettyTransport transport;
    private final BackendSettings settings;
    private final ConcurrentHashMap<EventLoop, BackendPool> pools = new ConcurrentHashMap<>();
    /** The farm this one replaces, until {@link #finishTakeOver()}; null for a first farm. */
    private volatile Farm previous;
    /** The servers taken over from {@code previous}, by their index here. */
    private final boolean[] kept;

    public Farm(String role, List<ServerAddress> servers, NettyTransport transport, BackendSettings settings) {
        this(role, servers, transport, settings, null);
    }

    /**
     * A farm over {@code servers} that takes over from {@code previous} (null for none) the health
     * of, and the connections to, the servers both have.
     */
    public Farm(
            String role,
            List<ServerAddress> servers,
            NettyTransport transport,
            BackendSettings settings,
            Farm previous) {
        this.role = role;
        this.servers = List.copyOf(servers);
        this.transport = transport;
        this.settings = settings;
        this.previous = previous;
        this.kept = new boolean[servers.size()];
        int[] from = new int[servers.size()];
        boolean[] taken = new boolean[previous == null ? 0 : previous.size()];
        List<InetSocketAddress> addresses = new ArrayList<>();
        List<ServerHealth> healths = new ArrayList<>();
        for (int i = 0; i < this.servers.size(); i++) {
            ServerAddress s = this.servers.get(i);
            int old = previous == null ? -1 : previous.indexOf(s, taken);
            from[i] = old;
            if (old >= 0) {
                taken[old] = true;
                kept[i] = true;
                addresses.add(previous.resolved.get(old));
                healths.add(previous.health.get(old));
                continue;
            }
            InetSocketAddress a = new InetSocketAddress(s.host(), s.port());
            if (a.isUnresolved()) {
                throw new IllegalArgumentException("cannot resolve server host '" + s.host() + "'");
            }
            addresses.add(a);
            healths.add(new ServerHealth(s, role, settings.failureLimit(), settings.maxStaleKeys()));
        }
        this.resolved = List.copyOf(addresses);
        this.health = List.copyOf(healths);
        if (previous != null) {
            previous.pools.forEach((loop, pool) -> pools.put(loop, successorPool(loop, pool, from)));
        }
    }

    /** Loop {@code loop}'s pool: the previous pool's connections to kept servers, new ones to the others. */
    private BackendPool successorPool(EventLoop loop, BackendPool old, int[] from) {
        int perLoop = settings.connectionsPerLoop();
        BackendConnection[][] connections = new BackendConnection[servers.size()][perLoop];
        for (int s = 0; s < servers.size(); s++) {
            BackendConnection[] oldRow = from[s] >= 0 ? old.connectionsTo(from[s]) : new BackendConnection[0];
            for (int c = 0; c < perLoop; c++) {
                connections[s][c] = c < oldRow.length
                        ? oldRow[c]
                        : new BackendConnection(health.get(s), resolved.get(s), loop, transport, settings);
            }
        }
        return new BackendPool(connections);
    }

    private int indexOf(ServerAddress s, boolean[] taken) {
        for (int i = 0; i < servers.size(); i++) {
            ServerAddress o = servers.get(i);
            if (!taken[i] && o.host().equals(s.host()) && o.port() == s.port()) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Called once this farm is the one new requests use: the servers kept from the previous farm
     * get this farm's settings, and the previous farm's connections that this one did not take
     * over (to servers that left, or beyond a smaller connection count) are retired: they answer
     * what routes begun before the reload send them, then close.
     */
    public void takeOver() {
        for (int i = 0; i < servers.size(); i++) {
            if (kept[i]) {
                health.get(i).reconfigure(settings.failureLimit(), settings.maxStaleKeys());
            }
        }
        Set<BackendConnection> mine = connections();
        for (BackendConnection c : mine) {
            c.reconfigure(settings);
        }
        retirePrevious(mine);
    }

    /**
     * Retires, again, whatever the previous farm opened while the reload was under way (a loop
     * that made its first pool in it then), and forgets it. Call it a while after {@link #takeOver()}.
     */
    public void finishTakeOver() {
        retirePrevious(connections());
        previous = null;
    }

    private void retirePrevious(Set<BackendConnection> mine) {
        Farm old = previous;
        if (old == null) {
            return;
        }
        for (BackendConnection c : old.connections()) {
            if (!mine.contains(c)) {
                c.retire();
            }
        }
    }

    /** Retires every connection: the farm left the configuration (a reload removed every backup). */
    public void retire() {
        for (BackendConnection c : connections()) {
            c.retire();
        }
    }

    private Set<BackendConnection> connections() {
        Set<BackendConnection> all = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Map.Entry<EventLoop, BackendPool> e : pools.entrySet()) {
            BackendPool pool = e.getValue();
            for (int s = 0; s < pool.serverCount(); s++) {
                Collections.addAll(all, pool.connectionsTo(s));
            }
        }
        return all;
    }

    public String role() {
        return role;
    }

    public List<ServerAddress> servers() {
        return servers;
    }

    /**
     * The ring's fingerprint: the first 8 bytes, in hex, of the SHA-256 of the servers sorted by
     * host, port and weight ({@code host:port:weight} lines). Ketama places keys by the servers'
     * names and weights only, so two proxies whose farms have the same fingerprint place every key
     * alike, whatever the order their servers were listed or found in.
     */
    public String fingerprint() {
        return fingerprint(servers);
    }

    /** {@link #fingerprint()} of {@code servers}. */
    public static String fingerprint(List<ServerAddress> servers) {
        List<String> lines = new ArrayList<>();
        for (ServerAddress s : servers) {
            lines.add(s.host() + ":" + s.port() + ":" + s.weight() + "\n");
        }
        Collections.sort(lines);
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (String line : lines) {
                sha.update(line.getBytes(StandardCharsets.UTF_8));
            }
            return HexFormat.of().formatHex(sha.digest(), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no SHA-256", e); // every Java 17 runtime has it
        }
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
