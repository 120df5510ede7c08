package io.jmagent.replica;

import io.jmagent.backend.BackendSettings;
import io.jmagent.backend.Farm;
import io.jmagent.backend.ModelProbes;
import io.jmagent.backend.ServerAddress;
import io.jmagent.backend.ServerConnections;
import io.jmagent.backend.ServerHealth;
import io.jmagent.metrics.ProxyStats;
import io.jmagent.routing.Router;
import io.jmagent.routing.StaleCopyRefill;
import io.netty.buffer.ByteBufAllocator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The proxy's real {@link Router} and {@link ServerHealth}s over {@link FakeServer}s: a primary
 * farm and a backup farm, {@code connections} fake connections per server (a session uses
 * {@code sessionId % connections}, as a loop's pool does), and {@link ModelProbes} running the real
 * health checker against the fakes. Servers are numbered primaries first, then backups. Lives on
 * the test thread, which plays the event loop and the health thread.
 */
final class ModelFarm implements AutoCloseable {

    /** The session id whose connections the health checker's refills use. */
    static final long REFILL_SESSION = 0;

    final List<FakeServer> servers = new ArrayList<>();
    final List<ServerHealth> healths = new ArrayList<>();
    /** Every connection, by server then by index: {@code connections.get(server * perServer + i)}. */
    final List<FakeConnection> connections = new ArrayList<>();

    final int primaryCount;
    final int perServer;
    final Router router;
    private final ModelProbes probes;
    private final List<ServerAddress> addresses = new ArrayList<>();

    ModelFarm(int primaryCount, int backupCount, int perServer, int failureLimit) {
        this.primaryCount = primaryCount;
        this.perServer = perServer;
        BackendSettings settings = new BackendSettings(
                perServer,
                Duration.ofSeconds(1),
                Duration.ofMillis(10),
                Duration.ofMillis(100),
                1024 * 1024,
                failureLimit,
                1000);
        List<ServerAddress> p = new ArrayList<>();
        List<ServerAddress> b = new ArrayList<>();
        for (int i = 0; i < primaryCount; i++) {
            p.add(new ServerAddress("127.0.0.1", 21001 + i, 1));
        }
        for (int i = 0; i < backupCount; i++) {
            b.add(new ServerAddress("127.0.0.1", 22001 + i, 1));
        }
        Farm primaries = new Farm("primary", p, null, settings);
        Farm backups = new Farm("backup", b, null, settings);
        addresses.addAll(p);
        addresses.addAll(b);
        healths.addAll(primaries.health());
        healths.addAll(backups.health());
        for (int s = 0; s < addresses.size(); s++) {
            FakeServer server = new FakeServer(serverName(s), 100 + s);
            servers.add(server);
            for (int c = 0; c < perServer; c++) {
                connections.add(new FakeConnection(serverName(s) + "/" + c, server, healths.get(s)));
            }
        }
        this.router = new Router(primaries, backups, false, 0, new ProxyStats());
        this.probes = new ModelProbes(
                healths,
                a -> {
                    FakeServer server = servers.get(addresses.indexOf(a));
                    return new ModelProbes.Server() {
                        @Override
                        public boolean reachable() {
                            return server.available();
                        }

                        @Override
                        public String execute(String request) {
                            return server.execute(request);
                        }
                    };
                },
                this::runAllOrphans,
                new StaleCopyRefill(router, () -> Runnable::run, loop -> context(REFILL_SESSION)));
    }

    String serverName(int s) {
        return s < primaryCount ? "P" + s : "B" + (s - primaryCount);
    }

    Router.RouteContext context(long sessionId) {
        return new Router.RouteContext(pool(0), pool(primaryCount), sessionId, ByteBufAllocator.DEFAULT);
    }

    private ServerConnections pool(int firstServer) {
        return (server, sessionId) ->
                connections.get((firstServer + server) * perServer + (int) Math.floorMod(sessionId, perServer));
    }

    List<FakeConnection> connectionsTo(int server) {
        return connections.subList(server * perServer, (server + 1) * perServer);
    }

    /** The process dies with its data; what was sent to it fails; the proxy marks it down. */
    void kill(int s) {
        servers.get(s).kill();
        for (FakeConnection c : connectionsTo(s)) {
            c.lost();
        }
        ModelProbes.markDown(healths.get(s), "killed by the model");
    }

    void restart(int s) {
        servers.get(s).restart();
    }

    void freeze(int s) {
        servers.get(s).freeze();
    }

    void thaw(int s) {
        servers.get(s).thaw();
    }

    /** One probe of server {@code s} by the real health checker. */
    void probe(int s) {
        probes.probe(healths.get(s));
    }

    /** The server runs the oldest request an abandoned connection left in its buffer; its answer is lost. */
    void runOrphan(int s) {
        FakeServer server = servers.get(s);
        server.execute(server.orphans.poll());
    }

    /**
     * The checker's grace period: a server back from a freeze runs what abandoned sockets left in
     * its buffers within milliseconds, before the checker flushes or cleans it.
     */
    private void runAllOrphans() {
        for (int s = 0; s < servers.size(); s++) {
            while (servers.get(s).available() && !servers.get(s).orphans.isEmpty()) {
                runOrphan(s);
            }
        }
    }

    @Override
    public void close() {
        for (FakeConnection c : connections) {
            c.close();
        }
        probes.close();
    }
}
