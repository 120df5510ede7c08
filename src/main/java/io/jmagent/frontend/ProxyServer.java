package io.jmagent.frontend;

import io.jmagent.auth.AuthFile;
import io.jmagent.backend.BackendSettings;
import io.jmagent.backend.CopyRefill;
import io.jmagent.backend.Farm;
import io.jmagent.backend.HealthChecker;
import io.jmagent.backend.JoinProbe;
import io.jmagent.backend.NettyTransport;
import io.jmagent.backend.ServerAddress;
import io.jmagent.backend.ServerHealth;
import io.jmagent.backend.ServerLogin;
import io.jmagent.backend.ServerTlsContext;
import io.jmagent.config.ProxyConfig;
import io.jmagent.config.ProxyConfigBuilder;
import io.jmagent.config.ProxySetup;
import io.jmagent.discovery.PoolDiscovery;
import io.jmagent.metrics.ProxyStats;
import io.jmagent.replica.KeyVersions;
import io.jmagent.routing.EjectedCopyDrop;
import io.jmagent.routing.FormerRings;
import io.jmagent.routing.PrefixRoutes;
import io.jmagent.routing.Router;
import io.jmagent.routing.Shadow;
import io.jmagent.routing.StaleCopyRefill;
import io.jmagent.tenant.Tenant;
import io.jmagent.tenant.Tenants;
import io.jmagent.tls.ClientTlsContext;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running pool: its listening sockets (TCP and, with {@code -f}, a unix domain socket), its
 * farms and their router, on event loops of its own or shared with the other pools of the
 * process ({@link ProxyPools}). {@link #start()} binds; {@link #reload} moves it to a new
 * configuration while it serves; {@link #close()} shuts it down gracefully ({@link GracefulShutdown}):
 * it stops accepting, lets every client's requests be answered (within the shutdown timeout), then
 * closes clients and server connections and stops the loops it owns. Its {@link ProxyStats} are the
 * pool's for its whole life: a reload keeps them.
 *
 * <p>A reload builds new farms from the old ones (the servers that stayed keep their health and
 * their connections), swaps the router that every client session reads per request, retires the
 * connections to the servers that left, and rebinds a listener whose address changed (the new one
 * opens before the old one closes; clients of the old one stay). Reloads are serialized; they
 * run on the caller's thread, never an event loop (they may resolve names and bind sockets).
 */
public final class ProxyServer implements AutoCloseable {

    /** The keys' write epochs, kept across reloads: writes in flight under the old router still count. */
    private final KeyVersions keyVersions = new KeyVersions();
    /** The server lists the farms had before, whose servers may keep copies of keys that moved away. */
    private FormerRings formerPrimaries = FormerRings.NONE;

    private FormerRings formerBackups = FormerRings.NONE;

    private static final Logger log = LoggerFactory.getLogger(ProxyServer.class);

    private final String name;
    private final NettyTransport transport;
    private final ProxyStats stats = new ProxyStats();
    private final ByteCounter byteCounter = new ByteCounter(stats);
    private final boolean ownsLoops;
    /** The router in force: read by every client session for each request, swapped by a reload. */
    private final AtomicReference<Router> router = new AtomicReference<>();
    /** How every client session reads {@link #router}: one for all of them. */
    private final Supplier<Router> routers = router::get;
    /** What picks a new client's protocol under the settings and auth file in force (made again when they change). */
    private volatile ProtocolSniffer sniffer;

    private final CountDownLatch closed = new CountDownLatch(1);
    private volatile ProxyConfig config;
    private volatile ConnectionLimiter limiter;
    private EventLoopGroup bossGroup;
    private volatile EventLoopGroup workerGroup;
    private ChannelGroup clients;
    private Listeners listeners;
    private Channel tcpListener;
    private Channel unixListener;
    private Channel tlsListener;
    /** What the TLS listener's new clients are served with; null without TLS. */
    private volatile ClientTlsContext tlsContext;
    /** The auth file new text clients must authenticate with; null without. */
    private volatile AuthFile authFile;
    /** Who the clients may be, with their prefixes and quotas; null without tenants. */
    private volatile Tenants tenants;
    /** The route table of the config in force; null without routes. */
    private volatile PrefixRoutes prefixRoutes;
    /** The shadow of the config in force; null without. */
    private volatile Shadow shadow;
    /** The routers of the other pools, by name, for the route table (set by {@link ProxyPools}). */
    private Function<String, Router> poolRouters = name -> null;
    /** The login the servers want, read at start (a reload cannot change it); null without. */
    private ServerLogin serverLogin;
    /** TLS to the servers, made at start (a reload cannot change it); null without. */
    private ServerTlsContext serverTls;

    private final TlsHandshakeOutcome tlsOutcome = new TlsHandshakeOutcome(stats);
    private final PoolSecurity security;
    private HealthChecker healthChecker;
    /** Where more servers come from (config file {@code discovery:}); null without. */
    private PoolDiscovery discovery;
    /** The configuration as given, before discovery added its servers. */
    private ProxyConfig declared;

    private boolean closing;
    /** Set when a shutdown begins: a client accepted from then on is closed at once. */
    private volatile boolean shuttingDown;

    public ProxyServer(ProxyConfig config) {
        this(config, NettyTransport.best());
    }

    public ProxyServer(ProxyConfig config, NettyTransport transport) {
        this(ProxySetup.DEFAULT_POOL, config, transport, null, null);
    }

    /** A pool named {@code name} on shared event loops (null ones: loops of its own, closed with it). */
    public ProxyServer(
            String name,
            ProxyConfig config,
            NettyTransport transport,
            EventLoopGroup bossGroup,
            EventLoopGroup workerGroup) {
        this.name = name;
        this.security = new PoolSecurity(name);
        this.config = config;
        this.transport = transport;
        this.ownsLoops = workerGroup == null;
        this.bossGroup = bossGroup;
        this.workerGroup = workerGroup;
    }

    public synchronized ProxyServer start() throws InterruptedException {
        ProxyConfig c = config;
        serverTls = security.openServerTls(c);
        serverLogin = security.readServerLogin(c);
        declared = c;
        if (c.discovery() != null) {
            discovery = newDiscovery(c);
            c = discovery.overlay(c);
            config = c;
        }
        authFile = security.openAuthFile(c); // last of the files: nothing after it can fail and leave it open
        tenants = c.tenants().isEmpty() ? null : new Tenants(c.tenants());
        prefixRoutes = c.routes().isEmpty() ? null : new PrefixRoutes(name, c.routes(), poolRouters);
        shadow = c.shadow() == null ? null : new Shadow(c.shadow(), poolRouters);
        BackendSettings settings = settingsOf(c);
        Farm primaries = new Farm("primary", c.servers(), transport, settings);
        Farm backups = c.backups().isEmpty() ? null : new Farm("backup", c.backups(), transport, settings);
        router.set(newRouter(c, primaries, backups));
        healthChecker = newHealthChecker(c, router.get());
        healthChecker.start();
        if (discovery != null) {
            discovery.watch(this::rediscovered);
        }
        // the proxy sends meta commands only to servers that speak them: learn that first
        if (!healthChecker.awaitFirstRound(c.timeout().multipliedBy(2))) {
            log.info("pool {}: first probe of its servers still running; serving meanwhile", name);
        }
        if (ownsLoops) {
            bossGroup = transport.newGroup(1);
            workerGroup = transport.newGroup(c.threads());
        }
        limiter = newLimiter(c);
        clients = new DefaultChannelGroup(name, GlobalEventExecutor.INSTANCE);
        listeners = new Listeners(transport, bossGroup, workerGroup, clientInit, name);
        try {
            tcpListener = c.port() > 0 ? listeners.bindTcp(c) : null;
            unixListener = c.unixSocket() != null ? listeners.bindUnix(c.unixSocket()) : null;
            if (c.tls().enabled()) {
                tlsContext = security.openClientTls(c);
                tlsListener = listeners.bindTls(c, tlsClientInit);
            }
            if (!c.listens()) {
                log.info(
                        "pool {}: no listener: served through other pools' routes or shadow, to {}", name, c.servers());
            }
        } catch (Exception e) {
            close();
            throw e instanceof RuntimeException re ? re : new IllegalStateException(e.getMessage(), e);
        }
        return this;
    }

    /**
     * Moves this pool to {@code next} while it serves: on return the new servers, settings and
     * listeners are in force. If it cannot (a host that does not resolve, an address that cannot
     * be bound), it throws and the pool is as it was.
     */
    public synchronized void reload(ProxyConfig next) {
        Change change = prepare(next);
        if (change != null) {
            change.commit();
        }
    }

    /**
     * Everything a move to {@code next} needs that can fail, done without changing what serves:
     * the new farms are built (taking over nothing yet) and new listeners bound. Null when
     * {@code next} changes nothing. The caller commits or aborts the change.
     */
    synchronized Change prepare(ProxyConfig next) {
        ProxyConfig current = config;
        if (closing) {
            throw new IllegalStateException("pool " + name + " is closed");
        }
        if (next.threads() != current.threads()) {
            log.warn(
                    "pool {}: a reload cannot change the number of event loops (threads {} -> {}); "
                            + "ignored until a restart",
                    name,
                    current.threads(),
                    next.threads());
            next = new ProxyConfigBuilder(next).threads(current.threads()).build();
        }
        if (!next.serverTls().equals(current.serverTls())
                || !Objects.equals(next.serverAuthFile(), current.serverAuthFile())) {
            log.warn("pool {}: a reload cannot change TLS or the login to the servers; ignored until a restart", name);
            next = new ProxyConfigBuilder(next)
                    .serverTls(current.serverTls())
                    .serverAuthFile(current.serverAuthFile())
                    .build();
        }
        ProxyConfig asGiven = next;
        PoolDiscovery found = discovery;
        if (next.discovery() == null) {
            found = null;
        } else if (found == null || !found.follows(next.discovery())) {
            found = newDiscovery(next); // asks its sources now: a source that fails refuses the reload
        }
        PoolDiscovery started = found != discovery ? found : null;
        if (found != null) {
            next = found.overlay(next);
        }
        if (next.equals(current)) {
            return null;
        }
        Router old = router.get();
        BackendSettings settings = settingsOf(next);
        Farm primaries = new Farm("primary", next.servers(), transport, settings, old.primaries());
        Farm backups = next.backups().isEmpty()
                ? null
                : new Farm("backup", next.backups(), transport, settings, old.backups());
        Channel tcp = null;
        Channel unix = null;
        ClientTlsContext tls = null;
        Channel tlsChannel = null;
        AuthFile auth = null;
        try {
            if (next.authFile() != null && !next.authFile().equals(current.authFile())) {
                auth = security.openAuthFile(next);
            }
            if (next.port() > 0 && !sameTcp(current, next)) {
                tcp = listeners.bindTcp(next);
            }
            if (next.unixSocket() != null && !Objects.equals(current.unixSocket(), next.unixSocket())) {
                unix = listeners.bindUnix(next.unixSocket());
            }
            if (next.tls().enabled() && !next.tls().equals(current.tls())) {
                tls = security.openClientTls(next);
            }
            if (next.tls().enabled() && !sameTls(current, next)) {
                tlsChannel = listeners.bindTls(next, tlsClientInit);
            }
        } catch (Exception e) {
            Listeners.close(tcp);
            Listeners.close(unix);
            PoolSecurity.close(tls);
            PoolSecurity.close(auth);
            if (started != null) {
                started.close();
            }
            throw new IllegalStateException("pool " + name + ": " + e.getMessage(), e);
        }
        return new Change(next, asGiven, found, primaries, backups, tcp, unix, tls, tlsChannel, auth);
    }

    /** A prepared move to a new configuration: {@link #commit()} puts it in force, {@link #abort()} drops it. */
    final class Change {
        private final ProxyConfig next;
        /** {@code next} as given, before discovery added its servers. */
        private final ProxyConfig asGiven;
        /** The discovery in force after the change: the same one, a new one, or null. */
        private final PoolDiscovery found;

        private final Farm primaries;
        private final Farm backups;
        private final Channel tcp;
        private final Channel unix;
        /** The new TLS settings' context, null when they did not change. */
        private final ClientTlsContext tls;
        /** The TLS listener at its new address, null when it did not move. */
        private final Channel tlsChannel;
        /** The new auth file, null when it did not change. */
        private final AuthFile auth;

        private Change(
                ProxyConfig next,
                ProxyConfig asGiven,
                PoolDiscovery found,
                Farm primaries,
                Farm backups,
                Channel tcp,
                Channel unix,
                ClientTlsContext tls,
                Channel tlsChannel,
                AuthFile auth) {
            this.auth = auth;
            this.next = next;
            this.asGiven = asGiven;
            this.found = found;
            this.primaries = primaries;
            this.backups = backups;
            this.tcp = tcp;
            this.unix = unix;
            this.tls = tls;
            this.tlsChannel = tlsChannel;
        }

        void commit() {
            synchronized (ProxyServer.this) {
                ProxyConfig before = config;
                Router old = router.get();
                config = next;
                declared = asGiven;
                if (found != discovery) {
                    if (discovery != null) {
                        discovery.close();
                    }
                    discovery = found;
                    if (found != null) {
                        found.watch(ProxyServer.this::rediscovered);
                    }
                }
                if (next.maxConnections() != before.maxConnections()) {
                    limiter = newLimiter(next);
                }
                formerPrimaries = formerPrimaries.after(before.servers(), next.servers());
                formerBackups = formerBackups.after(before.backups(), next.backups());
                router.set(newRouter(next, primaries, backups));
                primaries.takeOver();
                if (backups != null) {
                    backups.takeOver();
                } else if (old.backups() != null) {
                    old.backups().retire();
                }
                // what a loop may have opened in the old farms while this ran is retired later
                long sweep =
                        2 * Math.max(before.timeout().toMillis(), next.timeout().toMillis()) + 1000;
                workerGroup.schedule(
                        () -> {
                            primaries.finishTakeOver();
                            if (backups != null) {
                                backups.finishTakeOver();
                            }
                        },
                        sweep,
                        TimeUnit.MILLISECONDS);
                HealthChecker oldChecker = healthChecker;
                healthChecker = newHealthChecker(next, router.get());
                healthChecker.start();
                oldChecker.close();
                if (tcp != null || next.port() == 0) {
                    Listeners.close(tcpListener);
                    tcpListener = tcp;
                }
                if (unix != null || next.unixSocket() == null) {
                    Listeners.close(unixListener);
                    unixListener = unix;
                }
                if (tls != null || !next.tls().enabled()) {
                    PoolSecurity.close(tlsContext);
                    tlsContext = tls; // the listener's next client is served with it
                }
                if (tlsChannel != null || !next.tls().enabled()) {
                    Listeners.close(tlsListener);
                    tlsListener = tlsChannel;
                }
                if (auth != null || next.authFile() == null) {
                    PoolSecurity.close(authFile); // clients already in keep what they were admitted with
                    authFile = auth;
                }
                if (!Objects.equals(next.shadow(), before.shadow())) {
                    shadow = next.shadow() == null ? null : new Shadow(next.shadow(), poolRouters);
                }
                if (!next.routes().equals(before.routes())) {
                    prefixRoutes = next.routes().isEmpty() ? null : new PrefixRoutes(name, next.routes(), poolRouters);
                }
                if (next.tenants().isEmpty()) {
                    tenants = null; // clients already in keep their tenant and its prefix
                } else if (tenants == null) {
                    tenants = new Tenants(next.tenants());
                } else {
                    tenants.update(next.tenants());
                }
                if (!before.servers().equals(next.servers())
                        || !before.backups().equals(next.backups())) {
                    stats.ringChanged();
                }
                logChange(before, next, old);
            }
        }

        void abort() {
            if (found != discovery && found != null) {
                found.close();
            }
            Listeners.close(tcp);
            Listeners.close(unix);
            Listeners.close(tlsChannel);
            PoolSecurity.close(tls);
            PoolSecurity.close(auth);
        }
    }

    private void logChange(ProxyConfig before, ProxyConfig next, Router old) {
        log.info(
                "pool {} reloaded: servers {}{}, backups {}{}",
                name,
                next.servers(),
                difference(old.primaries().servers(), next.servers()),
                next.backups(),
                difference(old.backups() == null ? List.of() : old.backups().servers(), next.backups()));
        if (!sameTcp(before, next) || !Objects.equals(before.unixSocket(), next.unixSocket())) {
            log.info(
                    "pool {} now listens on {}{}; clients of the old listener stay connected",
                    name,
                    next.port() > 0 ? ProxySetup.hostPort(next.listenAddress(), next.port()) : "no TCP port",
                    next.unixSocket() == null ? "" : " and unix socket " + next.unixSocket());
        }
    }

    private static String difference(List<ServerAddress> before, List<ServerAddress> after) {
        List<ServerAddress> added = new ArrayList<>(after);
        added.removeAll(before);
        List<ServerAddress> removed = new ArrayList<>(before);
        removed.removeAll(after);
        if (added.isEmpty() && removed.isEmpty()) {
            return "";
        }
        return " (added " + added + ", removed " + removed + ")";
    }

    private static boolean sameTcp(ProxyConfig a, ProxyConfig b) {
        return a.port() == b.port() && a.listenAddress().equals(b.listenAddress());
    }

    private static boolean sameTls(ProxyConfig a, ProxyConfig b) {
        return a.tls().port() == b.tls().port() && a.listenAddress().equals(b.listenAddress());
    }

    private BackendSettings settingsOf(ProxyConfig c) {
        ProxyConfig.Failover failover = c.failover();
        return new BackendSettings(
                c.effectiveConnectionsPerLoop(),
                c.timeout(),
                Duration.ofMillis(100),
                Duration.ofSeconds(5),
                c.maxItemSize(),
                failover.failureLimit(),
                failover.maxStaleKeys(),
                serverTls,
                serverLogin);
    }

    private ConnectionLimiter newLimiter(ProxyConfig c) {
        return new ConnectionLimiter(stats, c.maxConnections(), bossGroup.next(), ConnectionLimiter.REPORT_EVERY);
    }

    private Router newRouter(ProxyConfig c, Farm primaries, Farm backups) {
        return new Router(
                primaries,
                backups,
                c.failover().autoEject(),
                c.failover().writeBackTtl(),
                stats,
                keyVersions,
                c.failover().sharedFarm(),
                formerPrimaries,
                formerBackups);
    }

    /** A discovery for {@code c}'s sources, asked once already (throws if one fails). */
    private PoolDiscovery newDiscovery(ProxyConfig c) {
        return new PoolDiscovery(
                        name, c.discovery(), c.timeout(), new JoinProbe(c.timeout(), serverTls, serverLogin), stats)
                .start();
    }

    /** Discovery changed a list of servers: one ring change, as a reload of the configuration as given. */
    private void rediscovered() {
        ProxyConfig given;
        synchronized (this) {
            if (closing) {
                return;
            }
            given = declared;
        }
        reload(given);
    }

    /** This pool's discovery, or null without one. */
    public synchronized PoolDiscovery discovery() {
        return discovery;
    }

    /**
     * The checker of {@code r}'s farms. Stale copies are refilled over the connections of one loop
     * of the pool's group; until the group exists (the first probe round), and over a shared farm,
     * they are deleted.
     */
    private HealthChecker newHealthChecker(ProxyConfig c, Router r) {
        List<ServerHealth> all = new ArrayList<>(r.primaries().health());
        if (r.hasBackups()) {
            all.addAll(r.backups().health());
        }
        // over a shared farm another proxy's write of the key is invisible to the refill's checks: delete
        boolean shared = c.failover().sharedFarm();
        Supplier<EventLoop> loops = () -> {
            EventLoopGroup group = workerGroup;
            return group == null ? null : group.next();
        };
        CopyRefill refill = !r.hasBackups()
                ? (c.failover().autoEject() ? new EjectedCopyDrop(r, loops) : CopyRefill.NONE)
                : shared ? CopyRefill.NONE : StaleCopyRefill.onLoopOf(r, loops);
        return new HealthChecker(
                all,
                c.failover().probeInterval(),
                c.timeout(),
                serverTls,
                serverLogin,
                r.hasBackups(),
                r.hasBackups() && c.failover().sharedFarm(),
                refill);
    }

    /**
     * Each new client: counted and limited, its bytes counted, closed when idle too long, then its
     * protocol picked; it reads the settings in force.
     */
    private final ChannelInitializer<Channel> clientInit = new ChannelInitializer<>() {
        @Override
        protected void initChannel(Channel ch) {
            initClient(ch, null);
        }
    };

    /** Each client of the TLS listener: as every client, its bytes decrypted first. */
    private final ChannelInitializer<Channel> tlsClientInit = new ChannelInitializer<>() {
        @Override
        protected void initChannel(Channel ch) {
            ClientTlsContext tls = tlsContext;
            if (tls == null) {
                ch.close(); // accepted as TLS was turned off
                return;
            }
            initClient(ch, tls);
        }
    };

    /** {@code tls}: the context a client of the TLS listener is served with; null for the others. */
    private void initClient(Channel ch, ClientTlsContext tls) {
        ProxyConfig c = config;
        clients.add(ch);
        if (shuttingDown) {
            ch.close(); // accepted as the listeners closed: nothing was asked yet
            return;
        }
        ch.pipeline().addLast("limiter", limiter);
        if (tls != null) {
            ch.pipeline().addLast("tls", tls.newHandler(ch.alloc()));
            ch.pipeline().addLast("tls-outcome", tlsOutcome);
        }
        ch.pipeline().addLast("bytes", byteCounter);
        Duration idleTimeout = c.operations().idleTimeout();
        if (!idleTimeout.isZero()) {
            ch.pipeline().addLast("idle", new IdleClientTimeout(idleTimeout, stats));
        }
        AuthFile auth = authFile;
        Tenants t = tenants;
        ProtocolSniffer s = sniffer;
        if (s == null || !s.serves(c, auth, t)) {
            // two loops may both make one: either will do
            s = new ProtocolSniffer(new SessionSetup(c, stats, routers, auth, t, this::routes, this::shadow));
            sniffer = s;
        }
        ch.pipeline().addLast("sniffer", s);
    }

    public String name() {
        return name;
    }

    /** The configuration in force. */
    public ProxyConfig config() {
        return config;
    }

    /** The TLS port actually bound, or -1 without TLS. */
    public int tlsPort() {
        Channel ch = tlsListener;
        if (ch != null && ch.localAddress() instanceof InetSocketAddress a) {
            return a.getPort();
        }
        return -1;
    }

    /** The TCP port actually bound (useful with an ephemeral port), or -1 without TCP. */
    public int port() {
        Channel ch = tcpListener;
        if (ch != null && ch.localAddress() instanceof InetSocketAddress a) {
            return a.getPort();
        }
        return -1;
    }

    /** Where the route table finds the other pools' routers: called once, before {@link #start}. */
    void routeTo(Function<String, Router> routers) {
        poolRouters = routers;
    }

    /** The shadow in force, or null without. */
    public Shadow shadow() {
        return shadow;
    }

    /** The route table in force, or null without routes. */
    public PrefixRoutes routes() {
        return prefixRoutes;
    }

    /** The pool's tenants, every one seen since start; empty without tenants. */
    public List<Tenant> tenants() {
        Tenants t = tenants;
        return t == null ? List.of() : t.all();
    }

    public ProxyStats stats() {
        return stats;
    }

    /** The router in force. */
    public Router router() {
        return router.get();
    }

    /** The primary farm in force (its servers' health), for tests and stats. */
    public Farm primaries() {
        return router.get().primaries();
    }

    /** The backup farm in force, or null without -b. */
    public Farm backups() {
        return router.get().backups();
    }

    /** Blocks until the pool is closed. */
    public void awaitClose() throws InterruptedException {
        closed.await();
    }

    /**
     * Shuts the pool down gracefully, once (later calls return at once): see {@link GracefulShutdown}.
     * The wait is bounded by the pool's {@code shutdown-timeout}.
     */
    @Override
    public void close() {
        GracefulShutdown.close(List.of(this), config.operations().shutdownTimeout());
    }

    /**
     * The first step of a graceful shutdown: stops accepting and asks every client to finish what
     * it sent, then close. False if the pool was already closing (then this does nothing).
     */
    boolean stopAccepting() {
        synchronized (this) {
            if (closing) {
                return false;
            }
            closing = true;
        }
        shuttingDown = true;
        Listeners.close(tcpListener);
        Listeners.close(unixListener);
        Listeners.close(tlsListener);
        if (clients != null) {
            for (Channel ch : clients) {
                ch.eventLoop().execute(() -> finish(ch));
            }
        }
        return true;
    }

    /** Asks one client to finish (on its loop); one that never spoke has nothing to finish. */
    private static void finish(Channel ch) {
        ClientSession session = ch.pipeline().get(ClientSession.class);
        if (session == null) {
            ch.close();
        } else {
            session.finishAndClose();
        }
    }

    /** Clients still connected. */
    int clientCount() {
        return clients == null ? 0 : clients.size();
    }

    /** True once every client has closed and no request of theirs (noreply ones too) is still at a server. */
    boolean drained() {
        return clientCount() == 0 && stats.requestsInFlight() <= 0;
    }

    /** The last step: closes the clients still there, the server connections and the loops it owns. */
    void closeNow() {
        if (clients != null) {
            clients.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        if (discovery != null) {
            discovery.close();
        }
        if (healthChecker != null) {
            healthChecker.close();
        }
        PoolSecurity.close(tlsContext);
        PoolSecurity.close(authFile);
        Router r = router.get();
        if (r != null) {
            r.primaries().close();
            if (r.backups() != null) {
                r.backups().close();
            }
        }
        if (ownsLoops && bossGroup != null) {
            bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        }
        if (ownsLoops && workerGroup != null) {
            workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        }
        closed.countDown();
    }
}
