package io.jmagent.frontend;

import io.jmagent.backend.BackendSettings;
import io.jmagent.backend.Farm;
import io.jmagent.backend.HealthChecker;
import io.jmagent.backend.ServerHealth;
import io.jmagent.backend.NettyTransport;
import io.jmagent.config.ProxyConfig;
import io.jmagent.metrics.FarmHealth;
import io.jmagent.metrics.HttpEndpoint;
import io.jmagent.metrics.PrometheusMetrics;
import io.jmagent.metrics.ProxyStats;
import io.jmagent.routing.Router;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running proxy: event loops, the listening sockets (TCP and, with {@code -f}, a unix domain
 * socket; with {@code --http-port}, the HTTP endpoint), the farm and its router. {@link #start()}
 * binds; {@link #close()} shuts down gracefully: it stops accepting, lets every client's requests
 * be answered (within {@code --shutdown-timeout}), then closes clients and server connections and
 * stops the loops.
 */
public final class ProxyServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ProxyServer.class);

    private final ProxyConfig config;
    private final NettyTransport transport;
    private final ProxyStats stats = new ProxyStats();
    private final List<Channel> listeners = new ArrayList<>();
    private final ChannelGroup clients = new DefaultChannelGroup("jmagent-clients", GlobalEventExecutor.INSTANCE);
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile boolean shuttingDown;
    private Channel httpListener;
    private PrometheusMetrics metrics;
    private MultiThreadIoEventLoopGroup bossGroup;
    private MultiThreadIoEventLoopGroup workerGroup;
    private Farm primaries;
    private Farm backups;
    private HealthChecker healthChecker;

    public ProxyServer(ProxyConfig config) {
        this(config, NettyTransport.best());
    }

    public ProxyServer(ProxyConfig config, NettyTransport transport) {
        this.config = config;
        this.transport = transport;
    }

    public ProxyServer start() throws InterruptedException {
        ProxyConfig.Failover failover = config.failover();
        BackendSettings settings = new BackendSettings(config.effectiveConnectionsPerLoop(), config.timeout(),
                Duration.ofMillis(100), Duration.ofSeconds(5), config.maxItemSize(), failover.failureLimit(),
                failover.maxStaleKeys());
        primaries = new Farm("primary", config.servers(), transport, settings);
        backups = config.backups().isEmpty() ? null : new Farm("backup", config.backups(), transport, settings);
        Router router = new Router(primaries, backups, failover.autoEject(), failover.writeBackTtl(), stats);
        List<ServerHealth> all = new ArrayList<>(primaries.health());
        if (backups != null) {
            all.addAll(backups.health());
        }
        healthChecker = new HealthChecker(all, failover.probeInterval(), config.timeout());
        healthChecker.start();
        bossGroup = transport.newGroup(1);
        workerGroup = transport.newGroup(config.threads());
        ConnectionLimiter limiter = new ConnectionLimiter(stats, config.maxConnections(), bossGroup.next(),
                ConnectionLimiter.REPORT_EVERY);
        ByteCounter byteCounter = new ByteCounter(stats);
        Duration idleTimeout = config.operations().idleTimeout();
        ChannelInitializer<Channel> init = new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                clients.add(ch);
                if (shuttingDown) {
                    ch.close(); // accepted as the listeners closed: nothing was asked yet
                    return;
                }
                ch.pipeline().addLast("limiter", limiter);
                ch.pipeline().addLast("bytes", byteCounter);
                if (!idleTimeout.isZero()) {
                    ch.pipeline().addLast("idle", new IdleClientTimeout(idleTimeout, stats));
                }
                ch.pipeline().addLast("sniffer", new ProtocolSniffer(config.maxItemSize(), config.maxRetrievalLine(),
                        () -> new TextSession(config, stats, router), () -> new BinarySession(config, stats, router)));
            }
        };
        try {
            if (config.port() > 0) {
                ServerBootstrap b = new ServerBootstrap()
                        .group(bossGroup, workerGroup)
                        .channel(transport.serverChannel())
                        .option(ChannelOption.SO_BACKLOG, 1024)
                        .option(ChannelOption.SO_REUSEADDR, true)
                        .childOption(ChannelOption.TCP_NODELAY, true)
                        .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
                                new WriteBufferWaterMark(256 * 1024, 1024 * 1024))
                        .childHandler(init);
                Channel ch = b.bind(new InetSocketAddress(config.listenAddress(), config.port())).sync().channel();
                listeners.add(ch);
                log.info("listening on {} ({} transport, {} event loops) for {}", ch.localAddress(),
                        transport.name().toLowerCase(), config.threads(), config.servers());
            }
            if (config.unixSocket() != null) {
                if (transport != NettyTransport.EPOLL) {
                    throw new IllegalStateException("-f needs the native epoll transport, not available here");
                }
                Files.deleteIfExists(config.unixSocket());
                ServerBootstrap b = new ServerBootstrap()
                        .group(bossGroup, workerGroup)
                        .channel(EpollServerDomainSocketChannel.class)
                        .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
                                new WriteBufferWaterMark(256 * 1024, 1024 * 1024))
                        .childHandler(init);
                Channel ch = b.bind(new DomainSocketAddress(config.unixSocket().toFile())).sync().channel();
                listeners.add(ch);
                log.info("listening on unix socket {}", config.unixSocket());
            }
            if (config.operations().httpPort() > 0) {
                startHttp(router, failover.autoEject());
            }
        } catch (Exception e) {
            close();
            throw e instanceof RuntimeException re ? re : new IllegalStateException(e.getMessage(), e);
        }
        return this;
    }

    private void startHttp(Router router, boolean autoEject) throws InterruptedException {
        List<Farm> farms = backups == null ? List.of(primaries) : List.of(primaries, backups);
        metrics = new PrometheusMetrics(stats, farms, ByteBufAllocator.DEFAULT);
        FarmHealth health = new FarmHealth(primaries, router.backups(), autoEject);
        PrometheusMetrics m = metrics;
        ServerBootstrap b = new ServerBootstrap()
                .group(bossGroup, workerGroup)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(16 * 1024),
                                new HttpEndpoint(m, health));
                    }
                });
        httpListener = b.bind(new InetSocketAddress(config.listenAddress(), config.operations().httpPort()))
                .sync().channel();
        InetSocketAddress bound = (InetSocketAddress) httpListener.localAddress();
        log.info("serving /metrics and /health on http://{}:{}/", bound.getHostString(), bound.getPort());
    }

    /** The HTTP endpoint's port, or -1 without {@code --http-port}. */
    public int httpPort() {
        return httpListener != null && httpListener.localAddress() instanceof InetSocketAddress a ? a.getPort() : -1;
    }

    /** The TCP port actually bound (useful with an ephemeral port). */
    public int port() {
        for (Channel ch : listeners) {
            if (ch.localAddress() instanceof InetSocketAddress a) {
                return a.getPort();
            }
        }
        return -1;
    }

    public ProxyStats stats() {
        return stats;
    }

    /** The primary farm (its servers' health), for tests and stats. */
    public Farm primaries() {
        return primaries;
    }

    /** The backup farm, or null without -b. */
    public Farm backups() {
        return backups;
    }

    /** Blocks until the listeners close. */
    public void awaitClose() throws InterruptedException {
        for (Channel ch : listeners) {
            ch.closeFuture().sync();
        }
    }

    /**
     * Shuts down gracefully, once (later calls return at once): stops accepting; lets each client
     * go on until every request it sent is answered, then closes it; waits for that, and for the
     * noreply requests still at the servers, at most {@code --shutdown-timeout}; then closes what
     * is left, the server connections and the loops.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        shuttingDown = true;
        long deadline = System.nanoTime() + config.operations().shutdownTimeout().toNanos();
        for (Channel ch : listeners) {
            ch.close().awaitUninterruptibly();
        }
        if (httpListener != null) {
            httpListener.close().awaitUninterruptibly();
        }
        for (Channel ch : clients) {
            ch.eventLoop().execute(() -> finish(ch));
        }
        while ((!clients.isEmpty() || stats.requestsInFlight() > 0) && System.nanoTime() - deadline < 0
                && pause()) {
            // clients close themselves as they finish
        }
        if (!clients.isEmpty()) {
            log.info("shutdown: closing {} clients still waiting for answers after {} ms", clients.size(),
                    config.operations().shutdownTimeout().toMillis());
        }
        clients.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        if (healthChecker != null) {
            healthChecker.close();
        }
        if (primaries != null) {
            primaries.close();
        }
        if (backups != null) {
            backups.close();
        }
        if (metrics != null) {
            metrics.close();
        }
        if (bossGroup != null) {
            bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        }
        if (workerGroup != null) {
            workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        }
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

    /** Waits a moment; false if interrupted (then the shutdown stops waiting). */
    private static boolean pause() {
        try {
            Thread.sleep(5);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
