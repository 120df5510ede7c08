package io.jmagent.config;

import io.jmagent.backend.ServerAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A {@link ProxyConfig} being put together, setting by setting: from the defaults (a pool in the
 * config file) or from another config (the command line's flags over a pool of the file).
 * {@link #build()} checks it as the record does. Used by one thread while it builds.
 */
public final class ProxyConfigBuilder {

    String listenAddress = "0.0.0.0";
    int port = ProxyConfig.DEFAULT_PORT;
    Path unixSocket;
    List<ServerAddress> servers = List.of();
    List<ServerAddress> backups = List.of();
    int maxConnections = ProxyConfig.DEFAULT_MAX_CONNECTIONS;
    int maxKeepAlive = ProxyConfig.DEFAULT_MAX_KEEP_ALIVE;
    int threads = ProxyConfig.defaultThreads();
    int connectionsPerLoop = ProxyConfig.DEFAULT_CONNECTIONS_PER_LOOP;
    Duration timeout = ProxyConfig.DEFAULT_TIMEOUT;
    int maxItemSize = ProxyConfig.DEFAULT_MAX_ITEM_SIZE;
    int maxRetrievalLine = ProxyConfig.DEFAULT_MAX_RETRIEVAL_LINE;
    int maxPendingPerClient = ProxyConfig.DEFAULT_MAX_PENDING_PER_CLIENT;
    int verbosity;
    int failureLimit = ProxyConfig.Failover.DEFAULTS.failureLimit();
    Duration probeInterval = ProxyConfig.Failover.DEFAULTS.probeInterval();
    boolean autoEject = ProxyConfig.Failover.DEFAULTS.autoEject();
    int maxStaleKeys = ProxyConfig.Failover.DEFAULTS.maxStaleKeys();
    int writeBackTtl = ProxyConfig.Failover.DEFAULTS.writeBackTtl();
    boolean sharedFarm = ProxyConfig.Failover.DEFAULTS.sharedFarm();
    int httpPort = ProxyConfig.Operations.DEFAULTS.httpPort();
    Duration shutdownTimeout = ProxyConfig.Operations.DEFAULTS.shutdownTimeout();
    Duration idleTimeout = ProxyConfig.Operations.DEFAULTS.idleTimeout();
    String httpAddress;
    HttpTls httpTls = HttpTls.NONE;
    ClientTls tls = ClientTls.NONE;
    ServerTls serverTls = ServerTls.NONE;
    Path authFile;
    Path serverAuthFile;
    Discovery discovery;
    List<TenantSpec> tenants = List.of();
    List<RouteSpec> routes = List.of();
    ShadowSpec shadow;

    /** Starts from the defaults, as a command line with nothing but {@code -s} would. */
    public ProxyConfigBuilder() {}

    /** Starts from every setting of {@code c}. */
    public ProxyConfigBuilder(ProxyConfig c) {
        listenAddress = c.listenAddress();
        port = c.port();
        unixSocket = c.unixSocket();
        servers = c.servers();
        backups = c.backups();
        maxConnections = c.maxConnections();
        maxKeepAlive = c.maxKeepAlive();
        threads = c.threads();
        connectionsPerLoop = c.connectionsPerLoop();
        timeout = c.timeout();
        maxItemSize = c.maxItemSize();
        maxRetrievalLine = c.maxRetrievalLine();
        maxPendingPerClient = c.maxPendingPerClient();
        verbosity = c.verbosity();
        failover(c.failover());
        operations(c.operations());
        tls = c.tls();
        serverTls = c.serverTls();
        authFile = c.authFile();
        serverAuthFile = c.serverAuthFile();
        discovery = c.discovery();
        tenants = c.tenants();
        routes = c.routes();
        shadow = c.shadow();
    }

    public ProxyConfigBuilder listenAddress(String v) {
        listenAddress = v;
        return this;
    }

    public ProxyConfigBuilder port(int v) {
        port = v;
        return this;
    }

    public ProxyConfigBuilder unixSocket(Path v) {
        unixSocket = v;
        return this;
    }

    public ProxyConfigBuilder servers(List<ServerAddress> v) {
        servers = List.copyOf(v);
        return this;
    }

    public ProxyConfigBuilder backups(List<ServerAddress> v) {
        backups = List.copyOf(v);
        return this;
    }

    public ProxyConfigBuilder maxConnections(int v) {
        maxConnections = v;
        return this;
    }

    public ProxyConfigBuilder maxKeepAlive(int v) {
        maxKeepAlive = v;
        return this;
    }

    public ProxyConfigBuilder threads(int v) {
        threads = v;
        return this;
    }

    public ProxyConfigBuilder connectionsPerLoop(int v) {
        connectionsPerLoop = v;
        return this;
    }

    public ProxyConfigBuilder timeout(Duration v) {
        timeout = v;
        return this;
    }

    public ProxyConfigBuilder maxItemSize(int v) {
        maxItemSize = v;
        return this;
    }

    public ProxyConfigBuilder maxRetrievalLine(int v) {
        maxRetrievalLine = v;
        return this;
    }

    public ProxyConfigBuilder maxPendingPerClient(int v) {
        maxPendingPerClient = v;
        return this;
    }

    public ProxyConfigBuilder verbosity(int v) {
        verbosity = v;
        return this;
    }

    public ProxyConfigBuilder failureLimit(int v) {
        failureLimit = v;
        return this;
    }

    public ProxyConfigBuilder probeInterval(Duration v) {
        probeInterval = v;
        return this;
    }

    public ProxyConfigBuilder autoEject(boolean v) {
        autoEject = v;
        return this;
    }

    public ProxyConfigBuilder maxStaleKeys(int v) {
        maxStaleKeys = v;
        return this;
    }

    public ProxyConfigBuilder writeBackTtl(int v) {
        writeBackTtl = v;
        return this;
    }

    public ProxyConfigBuilder sharedFarm(boolean v) {
        sharedFarm = v;
        return this;
    }

    public ProxyConfigBuilder httpPort(int v) {
        httpPort = v;
        return this;
    }

    public ProxyConfigBuilder shutdownTimeout(Duration v) {
        shutdownTimeout = v;
        return this;
    }

    public ProxyConfigBuilder idleTimeout(Duration v) {
        idleTimeout = v;
        return this;
    }

    public ProxyConfigBuilder httpAddress(String v) {
        httpAddress = v;
        return this;
    }

    public ProxyConfigBuilder httpTls(HttpTls v) {
        httpTls = v;
        return this;
    }

    public ProxyConfigBuilder tls(ClientTls v) {
        tls = v;
        return this;
    }

    public ProxyConfigBuilder serverTls(ServerTls v) {
        serverTls = v;
        return this;
    }

    public ProxyConfigBuilder authFile(Path v) {
        authFile = v;
        return this;
    }

    public ProxyConfigBuilder serverAuthFile(Path v) {
        serverAuthFile = v;
        return this;
    }

    /** Every failover setting of {@code f}. */
    public ProxyConfigBuilder failover(ProxyConfig.Failover f) {
        failureLimit = f.failureLimit();
        probeInterval = f.probeInterval();
        autoEject = f.autoEject();
        maxStaleKeys = f.maxStaleKeys();
        writeBackTtl = f.writeBackTtl();
        sharedFarm = f.sharedFarm();
        return this;
    }

    /** Every operations setting of {@code o}. */
    public ProxyConfigBuilder operations(ProxyConfig.Operations o) {
        httpPort = o.httpPort();
        shutdownTimeout = o.shutdownTimeout();
        idleTimeout = o.idleTimeout();
        httpAddress = o.httpAddress();
        httpTls = o.httpTls();
        return this;
    }

    public ProxyConfigBuilder discovery(Discovery v) {
        discovery = v;
        return this;
    }

    public ProxyConfigBuilder tenants(List<TenantSpec> v) {
        tenants = v;
        return this;
    }

    public ProxyConfigBuilder routes(List<RouteSpec> v) {
        routes = v;
        return this;
    }

    public ProxyConfigBuilder shadow(ShadowSpec v) {
        shadow = v;
        return this;
    }

    /** The config; an inconsistent one (no server, nothing to listen on, ...) is an IllegalArgumentException. */
    public ProxyConfig build() {
        return new ProxyConfig(
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
                new ProxyConfig.Failover(
                        failureLimit, probeInterval, autoEject, maxStaleKeys, writeBackTtl, sharedFarm),
                new ProxyConfig.Operations(httpPort, shutdownTimeout, idleTimeout, httpAddress, httpTls),
                tls,
                serverTls,
                authFile,
                serverAuthFile,
                discovery,
                tenants,
                routes,
                shadow);
    }
}
