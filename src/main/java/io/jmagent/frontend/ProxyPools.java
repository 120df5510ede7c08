package io.jmagent.frontend;

import io.jmagent.backend.NettyTransport;
import io.jmagent.config.ProxyConfig;
import io.jmagent.config.ProxyConfigBuilder;
import io.jmagent.config.ProxySetup;
import io.jmagent.metrics.HttpEndpoint;
import io.jmagent.metrics.PoolView;
import io.jmagent.metrics.PrometheusMetrics;
import io.jmagent.routing.Router;
import io.jmagent.tls.ClientTlsContext;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pools of one jmagent process ({@link ProxySetup}), one {@link ProxyServer} each, on event
 * loops they share, and the process's HTTP endpoint ({@code http-port}: {@code /metrics} and
 * {@code /health} over every pool, over HTTPS with {@code http-tls}). {@link #apply} moves the process to a new setup, all or
 * nothing: every pool's change is prepared first (farms built, new listeners bound); if any fails,
 * none is made. Then pools are reloaded, added and removed by name; a pool kept keeps its
 * counters. The event loop count and the HTTP endpoint are fixed at start. {@link #close()} shuts
 * every pool down gracefully, together ({@link GracefulShutdown}).
 */
public final class ProxyPools implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ProxyPools.class);

    private final NettyTransport transport;
    private final Map<String, ProxyServer> pools = new LinkedHashMap<>();
    private final CountDownLatch closed = new CountDownLatch(1);
    private ProxySetup setup;
    private MultiThreadIoEventLoopGroup bossGroup;
    private MultiThreadIoEventLoopGroup workerGroup;
    private boolean closing;
    /** The running pools, for the HTTP endpoint, which reads them on an event loop without the lock. */
    private volatile List<ProxyServer> running = List.of();

    private Channel httpListener;
    /** What the HTTP endpoint serves HTTPS with; null for plain HTTP. */
    private ClientTlsContext httpTls;

    private PrometheusMetrics metrics;

    public ProxyPools(ProxySetup setup) {
        this(setup, NettyTransport.best());
    }

    public ProxyPools(ProxySetup setup, NettyTransport transport) {
        this.setup = setup;
        this.transport = transport;
    }

    public synchronized ProxyPools start() throws InterruptedException {
        bossGroup = transport.newGroup(1);
        workerGroup = transport.newGroup(setup.threads());
        try {
            for (ProxySetup.Pool p : setup.pools()) {
                pools.put(p.name(), newPool(p).start());
            }
            running = List.copyOf(pools.values());
            if (setup.httpPort() > 0) {
                startHttp();
            }
        } catch (RuntimeException | InterruptedException e) {
            close();
            throw e;
        }
        return this;
    }

    private void startHttp() throws InterruptedException {
        String where = ProxySetup.hostPort(setup.httpAddress(), setup.httpPort());
        ClientTlsContext tls = null;
        if (setup.httpTls().enabled()) {
            try {
                tls = ClientTlsContext.open(setup.httpTls().listener(setup.httpPort()), "HTTP endpoint " + where);
            } catch (IllegalArgumentException e) {
                throw new ListenFailure(null, ListenFailure.Listener.HTTP, where, e.getMessage(), e);
            }
            httpTls = tls;
        }
        ClientTlsContext https = tls;
        metrics = new PrometheusMetrics(this::views, ByteBufAllocator.DEFAULT);
        PrometheusMetrics m = metrics;
        ServerBootstrap b = new ServerBootstrap()
                .group(bossGroup, workerGroup)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (https != null) {
                            // a failed handshake (plain HTTP, an unknown client) reaches the endpoint as an
                            // exception, which closes that connection
                            ch.pipeline().addLast(https.newHandler(ch.alloc()));
                        }
                        ch.pipeline()
                                .addLast(
                                        new HttpServerCodec(),
                                        new HttpObjectAggregator(16 * 1024),
                                        new HttpEndpoint(m, ProxyPools.this::views));
                    }
                });
        try {
            httpListener = b.bind(new InetSocketAddress(setup.httpAddress(), setup.httpPort()))
                    .sync()
                    .channel();
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) { // a bind failure is an IOException that Netty's sync() rethrows unchecked
            throw new ListenFailure(null, ListenFailure.Listener.HTTP, where, e);
        }
        InetSocketAddress bound = (InetSocketAddress) httpListener.localAddress();
        if (https == null) {
            log.info("serving /metrics and /health on http://{}:{}/", bound.getHostString(), bound.getPort());
        } else {
            log.info(
                    "serving /metrics and /health on https://{}:{}/ ({}; {})",
                    bound.getHostString(),
                    bound.getPort(),
                    ClientTlsContext.engine(),
                    setup.httpTls().clientCa() == null
                            ? "no client certificate asked for"
                            : "client certificates checked against "
                                    + setup.httpTls().clientCa());
        }
    }

    /** What the HTTP endpoint reads of each running pool now. */
    private List<PoolView> views() {
        List<PoolView> views = new ArrayList<>();
        for (ProxyServer p : running) {
            Router r = p.router();
            views.add(new PoolView(
                    p.name(),
                    p.stats(),
                    r.primaries(),
                    r.backups(),
                    p.config().failover().autoEject(),
                    p.tenants(),
                    p.routes() == null ? List.of() : p.routes().counters(),
                    p.shadow() == null ? null : p.shadow().counters()));
        }
        return views;
    }

    /** The HTTP endpoint's port, or -1 without one. */
    public synchronized int httpPort() {
        return httpListener != null && httpListener.localAddress() instanceof InetSocketAddress a ? a.getPort() : -1;
    }

    private ProxyServer newPool(ProxySetup.Pool p) {
        ProxyServer server = new ProxyServer(p.name(), p.config(), transport, bossGroup, workerGroup);
        server.routeTo(this::routerOf);
        return server;
    }

    /** The router in force of the running pool {@code name}, for route tables; null if none runs. */
    private Router routerOf(String name) {
        for (ProxyServer p : running) {
            if (p.name().equals(name)) {
                return p.router();
            }
        }
        return null;
    }

    /**
     * Moves the running pools to {@code next}: a pool of the same name is reloaded in place
     * ({@link ProxyServer#reload}), a new name starts a pool, a name that is gone closes its pool
     * gracefully (as {@link #close()} does, within the shutdown timeout). A change of {@code threads}
     * or {@code http-port} is logged and ignored. Throws, changing nothing, if a pool cannot be moved
     * (a listen address that cannot be bound, ...).
     */
    public void apply(ProxySetup next) {
        List<ProxyServer> removed = move(next);
        if (!removed.isEmpty()) {
            GracefulShutdown.close(removed, next.shutdownTimeout());
        }
    }

    /** {@link #apply} but the closing of the pools removed, which are returned (closed outside the lock: it waits). */
    private synchronized List<ProxyServer> move(ProxySetup next) {
        if (closing) {
            throw new IllegalStateException("jmagent is shutting down");
        }
        next = keepProcessSettings(next);
        List<ProxyServer.Change> changes = new ArrayList<>();
        Map<String, ProxyServer> started = new LinkedHashMap<>();
        try {
            for (ProxySetup.Pool p : next.pools()) {
                ProxyServer running = pools.get(p.name());
                if (running == null) {
                    started.put(p.name(), newPool(p).start());
                } else {
                    ProxyServer.Change change = running.prepare(p.config());
                    if (change != null) {
                        changes.add(change);
                    }
                }
            }
        } catch (RuntimeException | InterruptedException e) {
            changes.forEach(ProxyServer.Change::abort);
            started.values().forEach(ProxyServer::close);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw e instanceof RuntimeException re ? re : new IllegalStateException(e);
        }
        changes.forEach(ProxyServer.Change::commit);
        List<ProxyServer> removed = new ArrayList<>();
        for (String name : new ArrayList<>(pools.keySet())) {
            if (next.pool(name) == null) {
                log.info("pool {} is no longer configured: closing it and its clients once they are answered", name);
                removed.add(pools.remove(name));
            }
        }
        pools.putAll(started);
        running = List.copyOf(pools.values());
        setup = next;
        return removed;
    }

    /** {@code next} with the running event loop count and HTTP port: a reload cannot change them. */
    private ProxySetup keepProcessSettings(ProxySetup next) {
        String httpListen = setup.pools().get(0).config().operations().httpAddress();
        boolean sameHttp = next.httpPort() == setup.httpPort()
                && Objects.equals(next.pools().get(0).config().operations().httpAddress(), httpListen)
                && next.httpTls().equals(setup.httpTls());
        if (next.threads() == setup.threads() && sameHttp) {
            return next;
        }
        if (next.threads() != setup.threads()) {
            log.warn(
                    "a reload cannot change the number of event loops (threads {} -> {}); ignored until a restart",
                    setup.threads(),
                    next.threads());
        }
        if (!sameHttp) {
            log.warn(
                    "a reload cannot change the HTTP endpoint (http-port {} -> {}, http-listen {} -> {}, "
                            + "http-tls {} -> {}); ignored until a restart",
                    setup.httpPort(),
                    next.httpPort(),
                    httpListen,
                    next.pools().get(0).config().operations().httpAddress(),
                    setup.httpTls(),
                    next.httpTls());
        }
        List<ProxySetup.Pool> kept = new ArrayList<>();
        for (ProxySetup.Pool p : next.pools()) {
            ProxyConfig c = new ProxyConfigBuilder(p.config())
                    .threads(setup.threads())
                    .httpPort(setup.httpPort())
                    .httpAddress(httpListen)
                    .httpTls(setup.httpTls())
                    .build();
            kept.add(new ProxySetup.Pool(p.name(), c));
        }
        return new ProxySetup(kept);
    }

    /** The setup in force. */
    public synchronized ProxySetup setup() {
        return setup;
    }

    /** The running pool named {@code name}, or null. */
    public synchronized ProxyServer pool(String name) {
        return pools.get(name);
    }

    /** The running pools, in the setup's order of first appearance. */
    public synchronized List<ProxyServer> pools() {
        return List.copyOf(pools.values());
    }

    /** Blocks until {@link #close()} has closed everything. */
    public void awaitClose() throws InterruptedException {
        closed.await();
    }

    /**
     * Shuts the process's proxy down gracefully, once (later calls return at once): the HTTP
     * endpoint and every listener stop accepting; each client goes on until every request it sent
     * is answered, then is closed; after {@code shutdown-timeout} what is left is closed; then the
     * server connections and the event loops.
     */
    @Override
    public void close() {
        List<ProxyServer> open;
        Duration timeout;
        synchronized (this) {
            if (closing) {
                return;
            }
            closing = true;
            open = List.copyOf(pools.values());
            timeout = setup.shutdownTimeout();
            if (httpListener != null) {
                httpListener.close().awaitUninterruptibly();
            }
        }
        GracefulShutdown.close(open, timeout);
        PoolSecurity.close(httpTls);
        if (metrics != null) {
            metrics.close();
        }
        if (bossGroup != null) {
            bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        }
        if (workerGroup != null) {
            workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        }
        closed.countDown();
    }
}
