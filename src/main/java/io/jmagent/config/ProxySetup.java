package io.jmagent.config;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Everything one jmagent process runs: one or more pools, each with its own listeners and farm
 * (a {@link ProxyConfig}), all served by the process's event loops. Built from the command line
 * (one pool, named {@value #DEFAULT_POOL}) or from a config file; a reload builds a new one and the
 * running proxy moves to it. The process-wide settings, {@code threads}, {@code verbosity}, the HTTP
 * endpoint (port, address, TLS) and the shutdown timeout, are the same in every pool.
 */
public record ProxySetup(List<Pool> pools) {

    /** The name of the one pool a command line without {@code -c} describes. */
    public static final String DEFAULT_POOL = "default";

    /** One pool: a name, unique in the setup, and its configuration. */
    public record Pool(String name, ProxyConfig config) {}

    public ProxySetup {
        pools = List.copyOf(pools);
        if (pools.isEmpty()) {
            throw new IllegalArgumentException("at least one pool is required");
        }
        Set<String> names = new HashSet<>();
        for (int i = 0; i < pools.size(); i++) {
            Pool p = pools.get(i);
            if (!names.add(p.name())) {
                throw new IllegalArgumentException("two pools are named '" + p.name() + "'");
            }
            ProxyConfig first = pools.get(0).config();
            if (p.config().threads() != first.threads()
                    || p.config().verbosity() != first.verbosity()
                    || p.config().operations().httpPort() != first.operations().httpPort()
                    || !Objects.equals(
                            p.config().operations().httpAddress(),
                            first.operations().httpAddress())
                    || !p.config()
                            .operations()
                            .httpTls()
                            .equals(first.operations().httpTls())
                    || !p.config()
                            .operations()
                            .shutdownTimeout()
                            .equals(first.operations().shutdownTimeout())) {
                throw new IllegalArgumentException(
                        "threads, verbosity, http-port, http-listen, http-tls and shutdown-timeout are the process's, "
                                + "the same in every pool");
            }
            for (int j = 0; j < i; j++) {
                String clash = listenerClash(pools.get(j).config(), p.config());
                if (clash != null) {
                    throw new IllegalArgumentException(
                            "pools '" + pools.get(j).name() + "' and '" + p.name() + "' both listen on " + clash);
                }
            }
        }
    }

    /** The setup of a command line without a config file: one pool. */
    public static ProxySetup single(ProxyConfig config) {
        return new ProxySetup(List.of(new Pool(DEFAULT_POOL, config)));
    }

    /** Event loops of the process. */
    public int threads() {
        return pools.get(0).config().threads();
    }

    /** Log level of the process: 0 info, 1 debug, 2 trace. */
    public int verbosity() {
        return pools.get(0).config().verbosity();
    }

    /** Port of the process's HTTP endpoint ({@code /metrics}, {@code /health}); 0 = none. */
    public int httpPort() {
        return pools.get(0).config().operations().httpPort();
    }

    /** Where the HTTP endpoint listens: {@code http-listen}, else the first pool's listen address. */
    public String httpAddress() {
        String own = pools.get(0).config().operations().httpAddress();
        return own != null ? own : pools.get(0).config().listenAddress();
    }

    /** HTTPS for the HTTP endpoint; {@link HttpTls#NONE}: plain HTTP. */
    public HttpTls httpTls() {
        return pools.get(0).config().operations().httpTls();
    }

    /** How long a graceful shutdown waits for the requests in flight. */
    public Duration shutdownTimeout() {
        return pools.get(0).config().operations().shutdownTimeout();
    }

    /** The pool named {@code name}, or null. */
    public Pool pool(String name) {
        for (Pool p : pools) {
            if (p.name().equals(name)) {
                return p;
            }
        }
        return null;
    }

    /**
     * The address both {@code a} and {@code b} would listen on, or null if they can both bind: the
     * same unix socket, or the same TCP port on the same address or on a wildcard address.
     */
    public static String listenerClash(ProxyConfig a, ProxyConfig b) {
        if (a.unixSocket() != null
                && b.unixSocket() != null
                && a.unixSocket()
                        .toAbsolutePath()
                        .normalize()
                        .equals(b.unixSocket().toAbsolutePath().normalize())) {
            return "unix socket " + b.unixSocket();
        }
        if (a.port() == 0 || a.port() != b.port()) {
            return null;
        }
        if (a.listenAddress().equals(b.listenAddress())
                || isWildcard(a.listenAddress())
                || isWildcard(b.listenAddress())) {
            return hostPort(b.listenAddress(), b.port());
        }
        return null;
    }

    /** {@code host:port}, with an IPv6 host in brackets. */
    public static String hostPort(String host, int port) {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    /** {@code 0.0.0.0}, {@code ::} or empty: every address of the machine. */
    public static boolean isWildcard(String host) {
        return host.isEmpty() || host.equals("0.0.0.0") || host.equals("::") || host.equals("0:0:0:0:0:0:0:0");
    }
}
