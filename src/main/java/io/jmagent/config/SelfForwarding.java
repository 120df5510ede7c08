package io.jmagent.config;

import io.jmagent.backend.ServerAddress;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Finds a server (or backup) that is one of the process's own listen addresses: the proxy would
 * send every request to itself, each one coming back as a new request, until they time out. A
 * listener on a wildcard address ({@code 0.0.0.0}, {@code ::}) is reached through every address of
 * this machine: loopback and its interfaces'. Resolves names and lists interfaces: called where a
 * configuration is checked (start, reload), never on an event loop.
 */
public final class SelfForwarding {

    /** {@code server}, the {@code index}-th of pool {@code pool}'s {@code farm}, is where {@code listenPool} listens. */
    public record Loop(String pool, String farm, int index, ServerAddress server, String listenPool, String listener) {

        /** The config file's key of the server: {@code pools.web.servers[1]}. */
        public String key() {
            return "pools." + pool + "." + farm + "[" + index + "]";
        }

        public String problem() {
            return server + " is where pool '" + listenPool + "' listens (" + listener + "): " + CONSEQUENCE;
        }
    }

    private static final String CONSEQUENCE = "jmagent would send every request to itself";

    private SelfForwarding() {}

    /** The first server of {@code setup} that is one of its own TCP listeners, or null. */
    public static Loop find(ProxySetup setup) {
        for (ProxySetup.Pool p : setup.pools()) {
            Loop loop = find(p.name(), "servers", p.config().servers(), setup);
            if (loop == null) {
                loop = find(p.name(), "backups", p.config().backups(), setup);
            }
            if (loop != null) {
                return loop;
            }
        }
        return null;
    }

    private static Loop find(String pool, String farm, List<ServerAddress> servers, ProxySetup setup) {
        for (int i = 0; i < servers.size(); i++) {
            for (ProxySetup.Pool listening : setup.pools()) {
                ProxyConfig c = listening.config();
                if (c.port() > 0 && reaches(servers.get(i), c.listenAddress(), c.port())) {
                    return new Loop(
                            pool,
                            farm,
                            i,
                            servers.get(i),
                            listening.name(),
                            ProxySetup.hostPort(c.listenAddress(), c.port()));
                }
            }
        }
        return null;
    }

    /** Whether a connection to {@code server} would reach a listener on {@code listenHost:listenPort}. */
    static boolean reaches(ServerAddress server, String listenHost, int listenPort) {
        if (server.port() != listenPort) {
            return false;
        }
        InetAddress[] targets;
        try {
            targets = InetAddress.getAllByName(server.host());
        } catch (UnknownHostException e) {
            return false; // refused elsewhere, as a host that does not resolve
        }
        boolean wildcard = ProxySetup.isWildcard(listenHost);
        Set<InetAddress> listened = new HashSet<>();
        if (!wildcard) {
            try {
                Collections.addAll(listened, InetAddress.getAllByName(listenHost));
            } catch (UnknownHostException e) {
                return false;
            }
        }
        for (InetAddress target : targets) {
            boolean reached = wildcard
                    ? isLocal(target)
                    : (listened.contains(target)
                            || (target.isAnyLocalAddress() && listened.stream().anyMatch(SelfForwarding::isLocal)));
            if (reached) {
                return true;
            }
        }
        return false;
    }

    /** An address of this machine: loopback, the wildcard (a connection to it goes to this host), an interface's. */
    private static boolean isLocal(InetAddress a) {
        if (a.isLoopbackAddress() || a.isAnyLocalAddress()) {
            return true;
        }
        try {
            return NetworkInterface.getByInetAddress(a) != null;
        } catch (SocketException e) {
            return false;
        }
    }
}
