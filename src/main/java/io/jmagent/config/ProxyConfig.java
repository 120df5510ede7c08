package io.jmagent.config;

import io.jmagent.backend.ServerAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Everything one running proxy is told, built once (from the command line) and handed down.
 *
 * @param listenAddress        address to bind ({@code -l}); {@code 0.0.0.0} for every interface
 * @param port                 TCP port ({@code -p}); 0 disables TCP
 * @param unixSocket           unix domain socket path ({@code -f}), or null
 * @param servers              the primary farm ({@code -s}), ketama over them
 * @param backups              the backup farm ({@code -b})
 * @param maxConnections       client connections accepted at once ({@code -n})
 * @param maxKeepAlive         connections kept to each server across all event loops ({@code -i})
 * @param threads              event loops ({@code -t})
 * @param connectionsPerLoop   connections from each event loop to each server
 * @param timeout              deadline of one server request ({@code --timeout})
 * @param maxItemSize          largest value accepted ({@code -I}); larger ones are refused unread
 * @param maxRetrievalLine     longest get/gets/gat/gats line
 * @param maxPendingPerClient  requests one client may have unanswered before the proxy stops reading it
 * @param verbosity            0 = info, 1 = debug ({@code -v}), 2 = trace ({@code -vv})
 * @param failover             server health and backup policy
 * @param operations           what the operator sees and controls: metrics endpoint, shutdown, idle clients
 * @param tls                  TLS for clients: a listener of its own beside the plain one
 * @param serverTls            TLS to the servers and backups
 * @param authFile             memcached's auth file ({@code -Y}): text clients must authenticate
 *                             with a user and password from it; null = anyone may come in
 * @param serverAuthFile       a file whose {@code user:password} the proxy logs in to the servers
 *                             with (memcached {@code -Y} on the servers); null = no login
 * @param discovery            where more servers and backups are found (config file {@code discovery:});
 *                             null = the literal lists only
 * @param tenants              who the clients are and what each may do (config file {@code tenants:}):
 *                             key prefix, quotas; empty = every client sees the whole key space
 * @param routes               keys by prefix to other pools' servers (config file {@code routes:});
 *                             empty = every key to this pool's own
 * @param shadow               a share of the keys also sent to another pool, compared (config file
 *                             {@code shadow:}); null = none
 */
public record ProxyConfig(
        String listenAddress,
        int port,
        Path unixSocket,
        List<ServerAddress> servers,
        List<ServerAddress> backups,
        int maxConnections,
        int maxKeepAlive,
        int threads,
        int connectionsPerLoop,
        Duration timeout,
        int maxItemSize,
        int maxRetrievalLine,
        int maxPendingPerClient,
        int verbosity,
        Failover failover,
        Operations operations,
        ClientTls tls,
        ServerTls serverTls,
        Path authFile,
        Path serverAuthFile,
        Discovery discovery,
        List<TenantSpec> tenants,
        List<RouteSpec> routes,
        ShadowSpec shadow) {

    /**
     * How the proxy is run and watched.
     *
     * @param httpPort         port of the HTTP endpoint ({@code /metrics}, {@code /health}); 0 = none
     * @param shutdownTimeout  on SIGTERM, how long in-flight requests may take to be answered
     *                         before the remaining clients are closed
     * @param idleTimeout      a client that sends nothing for this long is closed; zero = never
     * @param httpAddress      where the HTTP endpoint listens ({@code --http-listen}); null = the
     *                         (first pool's) listen address
     * @param httpTls          HTTPS for the HTTP endpoint ({@code --http-tls-cert}, ...); off = plain HTTP
     */
    public record Operations(
            int httpPort, Duration shutdownTimeout, Duration idleTimeout, String httpAddress, HttpTls httpTls) {

        public static final Operations DEFAULTS = new Operations(0, Duration.ofSeconds(5), Duration.ZERO);

        /** Settings whose HTTP endpoint listens on the listen address. */
        public Operations(int httpPort, Duration shutdownTimeout, Duration idleTimeout) {
            this(httpPort, shutdownTimeout, idleTimeout, null);
        }

        /** Settings whose HTTP endpoint, if any, serves plain HTTP. */
        public Operations(int httpPort, Duration shutdownTimeout, Duration idleTimeout, String httpAddress) {
            this(httpPort, shutdownTimeout, idleTimeout, httpAddress, HttpTls.NONE);
        }

        public Operations {
            if (httpPort < 0 || httpPort > 65535) {
                throw new IllegalArgumentException("HTTP port out of range: " + httpPort);
            }
            if (httpTls == null) {
                httpTls = HttpTls.NONE;
            }
            if (httpTls.enabled() && httpPort == 0) {
                throw new IllegalArgumentException(
                        "HTTPS (--http-tls-cert) needs the HTTP endpoint's port " + "(--http-port)");
            }
            if (shutdownTimeout.isNegative()) {
                throw new IllegalArgumentException("shutdown timeout must not be negative");
            }
            if (idleTimeout.isNegative()) {
                throw new IllegalArgumentException("idle timeout must not be negative");
            }
        }

        public Operations withHttpPort(int port) {
            return new Operations(port, shutdownTimeout, idleTimeout, httpAddress, httpTls);
        }

        public Operations withShutdownTimeout(Duration d) {
            return new Operations(httpPort, d, idleTimeout, httpAddress, httpTls);
        }

        public Operations withIdleTimeout(Duration d) {
            return new Operations(httpPort, shutdownTimeout, d, httpAddress, httpTls);
        }

        public Operations withHttpAddress(String address) {
            return new Operations(httpPort, shutdownTimeout, idleTimeout, address, httpTls);
        }

        public Operations withHttpTls(HttpTls tls) {
            return new Operations(httpPort, shutdownTimeout, idleTimeout, httpAddress, tls);
        }
    }

    /** A configuration without TLS. */
    public ProxyConfig(
            String listenAddress,
            int port,
            Path unixSocket,
            List<ServerAddress> servers,
            List<ServerAddress> backups,
            int maxConnections,
            int maxKeepAlive,
            int threads,
            int connectionsPerLoop,
            Duration timeout,
            int maxItemSize,
            int maxRetrievalLine,
            int maxPendingPerClient,
            int verbosity,
            Failover failover,
            Operations operations) {
        this(
                listenAddress,
                port,
                unixSocket,
                servers,
                backups,
                maxConnections,
                maxKeepAlive,
                threads,
                connectionsPerLoop,
                timeout,
                maxItemSize,
                maxRetrievalLine,
                maxPendingPerClient,
                verbosity,
                failover,
                operations,
                ClientTls.NONE,
                ServerTls.NONE,
                null,
                null,
                null,
                List.of(),
                List.of(),
                null);
    }

    /** A configuration with the default operations settings. */
    public ProxyConfig(
            String listenAddress,
            int port,
            Path unixSocket,
            List<ServerAddress> servers,
            List<ServerAddress> backups,
            int maxConnections,
            int maxKeepAlive,
            int threads,
            int connectionsPerLoop,
            Duration timeout,
            int maxItemSize,
            int maxRetrievalLine,
            int maxPendingPerClient,
            int verbosity,
            Failover failover) {
        this(
                listenAddress,
                port,
                unixSocket,
                servers,
                backups,
                maxConnections,
                maxKeepAlive,
                threads,
                connectionsPerLoop,
                timeout,
                maxItemSize,
                maxRetrievalLine,
                maxPendingPerClient,
                verbosity,
                failover,
                Operations.DEFAULTS);
    }

    /**
     * How servers are judged and replaced.
     *
     * @param failureLimit   consecutive failures (refused, timed out, broken) that mark a server down
     * @param probeInterval  how often every server is probed in the background
     * @param autoEject      without a backup farm: rehash a down server's keys over the live ones
     * @param maxStaleKeys   keys remembered per server whose write did not reach it; past this
     *                       bound no key is read from it until it is flushed (on return from DOWN,
     *                       it is flushed instead of cleaned)
     * @param writeBackTtl   TTL for a backup hit written back to its primary when the backup
     *                       cannot tell the remaining TTL (no meta commands: memcached before 1.6)
     * @param sharedFarm     other proxies write to the same farms: a server that returns without
     *                       having restarted (frozen, cut off) is flushed before it is used again,
     *                       since this proxy cannot know which of its keys the others wrote elsewhere;
     *                       alone (the default), it is cleaned of this proxy's stale keys and keeps
     *                       the rest
     */
    public record Failover(
            int failureLimit,
            Duration probeInterval,
            boolean autoEject,
            int maxStaleKeys,
            int writeBackTtl,
            boolean sharedFarm) {

        public static final Failover DEFAULTS = new Failover(2, Duration.ofSeconds(1), false, 100_000, 3600, false);

        /** Settings for a proxy alone over its farms. */
        public Failover(
                int failureLimit, Duration probeInterval, boolean autoEject, int maxStaleKeys, int writeBackTtl) {
            this(failureLimit, probeInterval, autoEject, maxStaleKeys, writeBackTtl, false);
        }

        /** The same settings, with {@code sharedFarm}. */
        public Failover withSharedFarm(boolean shared) {
            return new Failover(failureLimit, probeInterval, autoEject, maxStaleKeys, writeBackTtl, shared);
        }

        public Failover {
            positive("failure limit", failureLimit);
            positive("max stale keys", maxStaleKeys);
            if (probeInterval.isZero() || probeInterval.isNegative()) {
                throw new IllegalArgumentException("probe interval must be positive");
            }
            if (writeBackTtl < 0) {
                throw new IllegalArgumentException("write-back TTL must not be negative");
            }
        }
    }

    /** A configuration with the default failover settings. */
    public ProxyConfig(
            String listenAddress,
            int port,
            Path unixSocket,
            List<ServerAddress> servers,
            List<ServerAddress> backups,
            int maxConnections,
            int maxKeepAlive,
            int threads,
            int connectionsPerLoop,
            Duration timeout,
            int maxItemSize,
            int maxRetrievalLine,
            int maxPendingPerClient,
            int verbosity) {
        this(
                listenAddress,
                port,
                unixSocket,
                servers,
                backups,
                maxConnections,
                maxKeepAlive,
                threads,
                connectionsPerLoop,
                timeout,
                maxItemSize,
                maxRetrievalLine,
                maxPendingPerClient,
                verbosity,
                Failover.DEFAULTS);
    }

    /**
     * Whether clients can reach this pool directly: a TCP port, a unix socket or a TLS port. A pool of
     * the config file may have none when other pools' routes or shadow lead to it.
     */
    public boolean listens() {
        return port > 0 || unixSocket != null || tls.enabled();
    }

    public ProxyConfig withFailover(Failover f) {
        return new ProxyConfigBuilder(this).failover(f).build();
    }

    public ProxyConfig withTimeout(Duration t) {
        return new ProxyConfigBuilder(this).timeout(t).build();
    }

    public ProxyConfig withOperations(Operations o) {
        return new ProxyConfigBuilder(this).operations(o).build();
    }

    public static final int DEFAULT_PORT = 11211;
    public static final int DEFAULT_MAX_CONNECTIONS = 4096;
    public static final int DEFAULT_MAX_KEEP_ALIVE = 20;

    /**
     * The event loops when none are asked for: one for every two cores, at least one. A loop
     * wakes for every batch it serves and keeps its own connection to each server, so a loop per
     * core spends the cores the kernel's network work, the clients and the servers beside the
     * proxy need: on 2 cores one loop served get/set at 9.9 µs of CPU per operation against 13.3
     * for two (bench/results, docs/performance.md).
     */
    public static int defaultThreads() {
        return Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
    }

    public static final int DEFAULT_CONNECTIONS_PER_LOOP = 1;
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(1);
    public static final int DEFAULT_MAX_ITEM_SIZE = 1024 * 1024;
    public static final int DEFAULT_MAX_RETRIEVAL_LINE = 1024 * 1024;
    public static final int DEFAULT_MAX_PENDING_PER_CLIENT = 4096;

    public ProxyConfig {
        servers = List.copyOf(servers);
        backups = List.copyOf(backups);
        tenants = tenants == null ? List.of() : List.copyOf(tenants);
        routes = routes == null ? List.of() : List.copyOf(routes);
        if (servers.isEmpty() && (discovery == null || discovery.servers() == null)) {
            throw new IllegalArgumentException("at least one server (-s host:port) is required");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        if (tls == null) {
            tls = ClientTls.NONE;
        }
        if (serverTls == null) {
            serverTls = ServerTls.NONE;
        }
        if (tls.enabled() && tls.port() == port) {
            throw new IllegalArgumentException("the TLS port must differ from the plain one (-p)");
        }
        positive("max connections (-n)", maxConnections);
        positive("max keep-alive connections (-i)", maxKeepAlive);
        positive("threads (-t)", threads);
        positive("connections per loop", connectionsPerLoop);
        positive("max item size (-I)", maxItemSize);
        positive("max retrieval line", maxRetrievalLine);
        positive("max pending requests per client", maxPendingPerClient);
        if (timeout.isZero() || timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must be positive");
        }
        if (failover == null) {
            failover = Failover.DEFAULTS;
        }
        if (operations == null) {
            operations = Operations.DEFAULTS;
        }
        if (operations.httpPort() != 0
                && operations.httpPort() == port
                && (operations.httpAddress() == null || operations.httpAddress().equals(listenAddress))) {
            throw new IllegalArgumentException("the HTTP port must differ from the memcached port (-p)");
        }
        if (operations.httpPort() != 0 && operations.httpPort() == tls.port()) {
            throw new IllegalArgumentException("the HTTP port must differ from the TLS port (--tls-port)");
        }
    }

    /** Connections each event loop opens to each server: a few, within the keep-alive budget. */
    public int effectiveConnectionsPerLoop() {
        return Math.max(1, Math.min(connectionsPerLoop, maxKeepAlive / threads));
    }

    private static void positive(String what, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException(what + " must be positive, got " + value);
        }
    }
}
