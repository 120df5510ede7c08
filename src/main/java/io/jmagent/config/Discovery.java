package io.jmagent.config;

import io.jmagent.backend.ServerAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

/**
 * Where a pool finds its servers besides its literal list ({@code discovery:} in the config file):
 * a source for the servers and one for the backups, asked every {@code interval} (sooner when a
 * DNS answer's TTL says so). A server leaves only once {@code leaveAfter} answers in a row lack it
 * and joins once it answers a probe; with {@code flushOnJoin}, a server joining a running ring is
 * flushed first, so that what it held from an earlier membership is never read (docs/discovery.md).
 *
 * @param servers     where the servers come from; null = the literal list only
 * @param backups     where the backups come from; null = the literal list only
 * @param interval    how often each source is asked
 * @param leaveAfter  consecutive answers without a server before it leaves the ring
 * @param nameServers DNS servers to ask; empty = the system's ({@code /etc/resolv.conf})
 * @param flushOnJoin flush a server that joins a running ring before it is used
 */
public record Discovery(
        Source servers,
        Source backups,
        Duration interval,
        int leaveAfter,
        List<InetSocketAddress> nameServers,
        boolean flushOnJoin) {

    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(30);
    public static final int DEFAULT_LEAVE_AFTER = 3;
    /** The shortest wait between two questions to one source, whatever a TTL says. */
    public static final Duration MIN_INTERVAL = Duration.ofMillis(100);

    public Discovery {
        nameServers = List.copyOf(nameServers);
        if (servers == null && backups == null) {
            throw new IllegalArgumentException("discovery needs a source for the servers or the backups");
        }
        if (interval.compareTo(MIN_INTERVAL) < 0) {
            throw new IllegalArgumentException("discovery interval must be at least " + MIN_INTERVAL.toMillis() + "ms");
        }
        if (leaveAfter < 1) {
            throw new IllegalArgumentException("leave-after must be positive, got " + leaveAfter);
        }
    }

    /** Where one list of servers comes from. */
    public sealed interface Source permits Dns, Srv, ConfigEndpoint {

        /**
         * Parses {@code dns:NAME:PORT[:WEIGHT]} (every A and AAAA record of NAME),
         * {@code srv:NAME} (its SRV records: target, port, weight) or {@code config:HOST:PORT} (an
         * ElastiCache-style configuration endpoint, {@code config get cluster}).
         */
        static Source parse(String spec) {
            String s = spec.trim();
            int colon = s.indexOf(':');
            String kind = colon < 0 ? "" : s.substring(0, colon);
            String rest = colon < 0 ? "" : s.substring(colon + 1);
            switch (kind) {
                case "dns" -> {
                    ServerAddress a = ServerAddress.parse(rest);
                    if (rest.indexOf(':') < 0) {
                        throw new IllegalArgumentException("dns:NAME:PORT needs the port");
                    }
                    return new Dns(a.host(), a.port(), a.weight());
                }
                case "srv" -> {
                    if (rest.isBlank() || rest.indexOf(':') >= 0) {
                        throw new IllegalArgumentException(
                                "srv:NAME takes a record name, like srv:_memcache._tcp.example.com");
                    }
                    return new Srv(rest);
                }
                case "config" -> {
                    ServerAddress a = ServerAddress.parse(rest);
                    return new ConfigEndpoint(a.host(), a.port());
                }
                default ->
                    throw new IllegalArgumentException(
                            "bad source '" + spec + "': expected dns:NAME:PORT[:WEIGHT], srv:NAME or config:HOST:PORT");
            }
        }
    }

    /** Every address NAME resolves to (A and AAAA), each a server at PORT with WEIGHT. */
    public record Dns(String name, int port, int weight) implements Source {
        @Override
        public String toString() {
            return "dns:" + name + ":" + port + (weight == 1 ? "" : ":" + weight);
        }
    }

    /** The SRV records of NAME: each target at its port, weighted by its weight (0 counts as 1). */
    public record Srv(String name) implements Source {
        @Override
        public String toString() {
            return "srv:" + name;
        }
    }

    /** An ElastiCache-style configuration endpoint: {@code config get cluster} lists the nodes. */
    public record ConfigEndpoint(String host, int port) implements Source {
        @Override
        public String toString() {
            return "config:" + new ServerAddress(host, port, 1);
        }
    }
}
