package io.jmagent.backend;

import io.netty.channel.EventLoop;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * The connections one event loop holds to every server of a farm: {@code connectionsPerLoop} per
 * server. A client session always uses the same connection to a given server, so its requests
 * to that server stay in order. Owned by its event loop; a reload builds a new pool for the loop
 * that takes over the connections to the servers it kept ({@link Farm}).
 */
public final class BackendPool implements ServerConnections {

    private final BackendConnection[][] connections;

    public BackendPool(
            List<ServerHealth> servers,
            List<InetSocketAddress> resolved,
            EventLoop loop,
            NettyTransport transport,
            BackendSettings settings) {
        connections = new BackendConnection[servers.size()][settings.connectionsPerLoop()];
        for (int s = 0; s < servers.size(); s++) {
            for (int c = 0; c < settings.connectionsPerLoop(); c++) {
                connections[s][c] = new BackendConnection(servers.get(s), resolved.get(s), loop, transport, settings);
            }
        }
    }

    /** A pool over connections already made: {@code connections[server]} are that server's. */
    BackendPool(BackendConnection[][] connections) {
        this.connections = connections;
    }

    public int serverCount() {
        return connections.length;
    }

    @Override
    public BackendConnection connection(int server, long sessionId) {
        BackendConnection[] perServer = connections[server];
        return perServer[(int) Math.floorMod(sessionId, perServer.length)];
    }

    /** Every connection of this loop to server {@code server}. */
    BackendConnection[] connectionsTo(int server) {
        return connections[server];
    }

    public void close() {
        for (BackendConnection[] perServer : connections) {
            for (BackendConnection c : perServer) {
                c.close();
            }
        }
    }
}
