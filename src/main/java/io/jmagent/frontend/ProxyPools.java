package io.jmagent.frontend;

import io.jmagent.backend.NettyTransport;
import io.jmagent.config.ProxyConfig;
import io.jmagent.config.ProxyConfigBuilder;
import io.jmagent.config.ProxySetup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pools of one jmagent process ({@link ProxySetup}), one {@link ProxyServer} each, on event
 * loops they share. {@link #apply} moves the process to a new setup, all or nothing: every pool's
 * change is prepared first (farms built, new listeners bound); if any fails, none is made.
 * Then pools are reloaded, added and removed by name. The event loop count is fixed at start.
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
        } catch (RuntimeException | InterruptedException e) {
            close();
            throw e;
        }
        return this;
    }

    private ProxyServer newPool(ProxySetup.Pool p) {
        return new ProxyServer(p.name(), p.config(), transport, bossGroup, workerGroup);
    }

    /**
     * Moves the running pools to {@code next}: a pool of the same name is reloaded in place
     * ({@link ProxyServer#reload}), a new name starts a pool, a name that is gone closes its pool
     * and its clients. A change of {@code threads} is logged and ignored. Throws, changing
     * nothing, if a pool cannot be moved (a listen address that cannot be bound, ...).
     */
    public synchronized void apply(ProxySetup next) {
        if (closing) {
            throw new IllegalStateException("jmagent is shutting down");
        }
        next = keepThreads(next);
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
        for (String name : new ArrayList<>(pools.keySet())) {
            if (next.pool(name) == null) {
                log.info("pool {} is no longer configured: closing it and its clients", name);
                pools.remove(name).close();
            }
        }
        pools.putAll(started);
        setup = next;
    }

    /** {@code next} with the running event loop count: a reload cannot change it. */
    private ProxySetup keepThreads(ProxySetup next) {
        if (next.threads() == setup.threads()) {
            return next;
        }
        log.warn("a reload cannot change the number of event loops (threads {} -> {}); ignored until a restart",
                setup.threads(), next.threads());
        List<ProxySetup.Pool> kept = new ArrayList<>();
        for (ProxySetup.Pool p : next.pools()) {
            ProxyConfig c = new ProxyConfigBuilder(p.config()).threads(setup.threads()).build();
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

    /** Blocks until {@link #close()}. */
    public void awaitClose() throws InterruptedException {
        closed.await();
    }

    @Override
    public void close() {
        List<ProxyServer> running;
        synchronized (this) {
            if (closing) {
                return;
            }
            closing = true;
            running = List.copyOf(pools.values());
        }
        running.forEach(ProxyServer::close);
        if (bossGroup != null) {
            bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        }
        if (workerGroup != null) {
            workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        }
        closed.countDown();
    }
}
