package io.jmagent.discovery;

import io.jmagent.backend.JoinProbe;
import io.jmagent.backend.ServerAddress;
import io.jmagent.config.Discovery;
import io.jmagent.config.ProxyConfig;
import io.jmagent.config.ProxyConfigBuilder;
import io.jmagent.metrics.ProxyStats;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One pool's discovery: its sources (servers, backups) asked on a thread of its own, each answer
 * damped by a {@link Membership}, and every change handed to the pool as one ring change
 * ({@code onChange}, which reloads the pool with {@link #overlay}). A source that fails keeps the
 * last good list. {@link #start} asks every source once, synchronously: a pool does not start
 * without servers.
 */
public final class PoolDiscovery implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PoolDiscovery.class);
    /** The shortest wait a DNS TTL can ask for (dnsmasq's local answers carry a TTL of 0). */
    private static final Duration MIN_TTL_WAIT = Duration.ofSeconds(1);

    private final String pool;
    private final Discovery spec;
    private final Duration timeout;
    private final JoinProbe probe;
    private final ScheduledExecutorService thread;
    private MultiThreadIoEventLoopGroup dnsLoop;
    private final List<Tracked> tracked = new ArrayList<>();
    private final ProxyStats stats;
    private volatile Runnable onChange = () -> {};
    private volatile boolean closed;

    /** One source and the membership its answers make. */
    private final class Tracked {
        final String role;
        final ServerSource source;
        final Membership membership = new Membership(spec.leaveAfter());
        volatile List<ServerAddress> members = List.of();
        String failing;
        /** The wait before the first question after the one at start. */
        Duration firstWait = spec.interval();

        Tracked(String role, ServerSource source) {
            this.role = role;
            this.source = source;
        }
    }

    /** {@code timeout}: for each question and probe; {@code probe}: whether a new server may join. */
    public PoolDiscovery(String pool, Discovery spec, Duration timeout, JoinProbe probe, ProxyStats stats) {
        this.stats = stats;
        this.pool = pool;
        this.spec = spec;
        this.timeout = timeout;
        this.probe = probe;
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "jmagent-discovery-" + pool);
            t.setDaemon(true);
            return t;
        });
        if (spec.servers() != null) {
            tracked.add(new Tracked("server", sourceOf(spec.servers())));
        }
        if (spec.backups() != null) {
            tracked.add(new Tracked("backup", sourceOf(spec.backups())));
        }
    }

    private ServerSource sourceOf(Discovery.Source s) {
        if (s instanceof Discovery.ConfigEndpoint e) {
            return new ConfigEndpointSource(e, timeout);
        }
        if (dnsLoop == null) {
            dnsLoop = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        }
        return new DnsSource(s, dnsLoop.next(), spec.nameServers(), timeout);
    }

    /** Asks every source once (throwing if one fails or names no server); ask again later with {@link #watch}. */
    public PoolDiscovery start() {
        for (Tracked t : tracked) {
            ServerSource.Answer a;
            try {
                a = t.source.lookup();
            } catch (IOException e) {
                close();
                throw new IllegalStateException(
                        "pool " + pool + ": discovery of " + t.role + "s from " + t.source + " failed: "
                                + e.getMessage(),
                        e);
            }
            stats.discoveryLookup();
            if (a.servers().isEmpty()) {
                close();
                throw new IllegalStateException("pool " + pool + ": " + t.source + " names no " + t.role);
            }
            t.membership.offer(a.servers(), s -> null);
            t.members = t.membership.members();
            t.firstWait = nextWait(a);
            log.info("pool {}: {}s from {}: {}", pool, t.role, t.source, t.members);
        }
        return this;
    }

    /** From now on asks each source every interval (sooner on a short TTL); {@code onChange} applies a change. */
    public void watch(Runnable onChange) {
        this.onChange = onChange;
        for (Tracked t : tracked) {
            thread.schedule(() -> ask(t), t.firstWait.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** How long to wait after answer {@code a}: the interval, or its TTL if shorter (at least {@code MIN_TTL_WAIT}). */
    private Duration nextWait(ServerSource.Answer a) {
        Duration next = spec.interval();
        if (a.ttl() != null) {
            Duration ttl = a.ttl().compareTo(MIN_TTL_WAIT) < 0 ? MIN_TTL_WAIT : a.ttl();
            next = ttl.compareTo(next) < 0 ? ttl : next;
        }
        return next;
    }

    private void ask(Tracked t) {
        if (closed) {
            return;
        }
        Duration next = spec.interval();
        try {
            ServerSource.Answer a = t.source.lookup();
            stats.discoveryLookup();
            if (t.failing != null) {
                log.info("pool {}: {} answers again", pool, t.source);
                t.failing = null;
            }
            next = nextWait(a);
            Membership.Change c = t.membership.offer(a.servers(), s -> probe.check(s, spec.flushOnJoin()));
            for (String refused : c.refused()) {
                log.warn("pool {}: {} named by {} does not join yet: {}", pool, t.role, t.source, refused);
            }
            if (c.any()) {
                t.members = t.membership.members();
                log.info(
                        "pool {}: {}s from {} changed (joined {}, left {}): {}",
                        pool,
                        t.role,
                        t.source,
                        c.joined(),
                        c.left(),
                        t.members);
                try {
                    onChange.run();
                } catch (RuntimeException e) {
                    log.warn("pool {}: the ring change could not be applied: {}", pool, e.getMessage());
                }
            }
        } catch (IOException | RuntimeException e) {
            stats.discoveryFailure();
            if (!String.valueOf(e.getMessage()).equals(t.failing)) {
                log.warn(
                        "pool {}: {} failed, keeping its last {}s {}: {}",
                        pool,
                        t.source,
                        t.role,
                        t.members,
                        e.getMessage());
            }
            t.failing = String.valueOf(e.getMessage());
        } finally {
            if (!closed) {
                thread.schedule(() -> ask(t), next.toMillis(), TimeUnit.MILLISECONDS);
            }
        }
    }

    /** {@code declared} with the servers and backups found added to its literal ones. */
    public ProxyConfig overlay(ProxyConfig declared) {
        ProxyConfigBuilder b = new ProxyConfigBuilder(declared);
        for (Tracked t : tracked) {
            List<ServerAddress> literal = t.role.equals("server") ? declared.servers() : declared.backups();
            Set<ServerAddress> all = new LinkedHashSet<>(literal);
            all.addAll(t.members);
            if (t.role.equals("server")) {
                b.servers(new ArrayList<>(all));
            } else {
                b.backups(new ArrayList<>(all));
            }
        }
        return b.build();
    }

    /** Whether this discovery follows {@code other}'s sources and settings. */
    public boolean follows(Discovery other) {
        return spec.equals(other);
    }

    @Override
    public void close() {
        closed = true;
        thread.shutdownNow();
        for (Tracked t : tracked) {
            t.source.close();
        }
        if (dnsLoop != null) {
            dnsLoop.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
        }
    }
}
