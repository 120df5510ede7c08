package io.jmagent.cli;

import io.jmagent.backend.NettyTransport;
import io.jmagent.backend.ServerAddress;
import io.jmagent.config.ByteSize;
import io.jmagent.config.ClientTls;
import io.jmagent.config.ConfigException;
import io.jmagent.config.HttpTls;
import io.jmagent.config.ProxyConfig;
import io.jmagent.config.ProxySetup;
import io.jmagent.config.SelfForwarding;
import io.jmagent.config.ServerTls;
import io.jmagent.metrics.StatsReport;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * The command line, flag for flag magent's ({@code magent -h}), plus jmagent's own long options.
 * {@link #toConfig()} turns it into the one immutable {@link ProxyConfig}.
 */
@Command(
        name = "jmagent",
        sortOptions = false,
        usageHelpAutoWidth = true,
        description = "A memcached proxy: ketama consistent hashing over a farm of memcached servers.",
        footer = {"", "Example: jmagent -l 127.0.0.1 -p 10000 -s 127.0.0.1:11211 -s 127.0.0.1:11212 -b 127.0.0.1:11213"
        })
public final class Flags {

    @Option(
            names = {"-h", "--help"},
            usageHelp = true,
            description = "Show this help and exit.")
    boolean help;

    @Option(
            names = {"-V", "--version"},
            versionHelp = true,
            description = "Show the version and exit.")
    boolean version;

    @Option(
            names = {"-c", "--config"},
            paramLabel = "FILE",
            description = "Read the configuration from this YAML file (several pools possible); flags given as well "
                    + "override it: -t, -v, --http-* and --shutdown-timeout for the process, the others for the "
                    + "file's first pool. The file is "
                    + "reloaded on SIGHUP and when it changes.")
    Path configFile;

    @Option(
            names = {"-u", "--user"},
            paramLabel = "UID",
            description = "magent: run as this user. The JVM cannot drop privileges; run jmagent under the user "
                    + "instead (see packaging/jmagent.service). Accepted and logged.")
    String user;

    @Option(
            names = {"-g", "--group"},
            paramLabel = "GID",
            description = "magent: run as this group. Accepted and logged, as -u.")
    String group;

    @Option(
            names = {"-p", "--port"},
            paramLabel = "PORT",
            description = "TCP port to listen on; 0 disables TCP (default: 11211).")
    int port = ProxyConfig.DEFAULT_PORT;

    @Option(
            names = {"-s", "--server"},
            paramLabel = "HOST:PORT[:WEIGHT]",
            converter = AddressConverter.class,
            description = "A memcached server (repeat for each). Keys are placed with ketama.")
    List<ServerAddress> servers = new ArrayList<>();

    @Option(
            names = {"-b", "--backup"},
            paramLabel = "HOST:PORT[:WEIGHT]",
            converter = AddressConverter.class,
            description = "A backup memcached server (repeat for each).")
    List<ServerAddress> backups = new ArrayList<>();

    @Option(
            names = {"-l", "--listen"},
            paramLabel = "ADDRESS",
            description = "Address to listen on (default: 0.0.0.0).")
    String listen = "0.0.0.0";

    @Option(
            names = {"-n", "--max-connections"},
            paramLabel = "N",
            description = "Most client connections open at once (default: 4096).")
    int maxConnections = ProxyConfig.DEFAULT_MAX_CONNECTIONS;

    @Option(
            names = {"-D", "--foreground"},
            description = "magent: do not daemonize. jmagent always runs in the foreground.")
    boolean foreground;

    @Option(
            names = {"-k", "--ketama"},
            description = "magent: use ketama. jmagent always does.")
    boolean ketama;

    @Option(
            names = {"-f", "--unix-socket"},
            paramLabel = "PATH",
            description = "Also listen on this unix domain socket.")
    Path unixSocket;

    @Option(
            names = {"-i", "--max-keep-alive"},
            paramLabel = "N",
            description = "Most connections kept to each server, over all event loops (default: 20).")
    int maxKeepAlive = ProxyConfig.DEFAULT_MAX_KEEP_ALIVE;

    @Option(
            names = {"-v", "--verbose"},
            description = "Log more: -v for debug, -vv for trace.")
    boolean[] verbose = new boolean[0];

    @Option(
            names = {"-t", "--threads"},
            paramLabel = "N",
            description = "Event loops (default: one for every two cores, at least one).")
    int threads = ProxyConfig.defaultThreads();

    @Option(
            names = "--transport",
            paramLabel = "NAME",
            description = "Socket transport of the event loops: auto (io_uring where the kernel allows it, else "
                    + "epoll, else nio), io_uring, epoll or nio (default: auto). Command line only.")
    String transport = "auto";

    @Option(
            names = {"-I", "--max-item-size"},
            paramLabel = "SIZE",
            converter = SizeConverter.class,
            description = "Largest value accepted, as memcached's -I: bytes, or with k/m (default: 1m).")
    int maxItemSize = ProxyConfig.DEFAULT_MAX_ITEM_SIZE;

    @Option(
            names = "--timeout",
            paramLabel = "MILLIS",
            description = "Deadline of one server request in ms (default: 1000).")
    long timeoutMillis = ProxyConfig.DEFAULT_TIMEOUT.toMillis();

    @Option(
            names = "--backend-connections",
            paramLabel = "N",
            description = "Connections from each event loop to each server, within -i (default: 1).")
    int connectionsPerLoop = ProxyConfig.DEFAULT_CONNECTIONS_PER_LOOP;

    @Option(
            names = "--max-pending",
            paramLabel = "N",
            description =
                    "Unanswered requests one client may pipeline before the proxy stops reading it (default: 4096).")
    int maxPending = ProxyConfig.DEFAULT_MAX_PENDING_PER_CLIENT;

    @Option(
            names = "--max-line-length",
            paramLabel = "BYTES",
            converter = SizeConverter.class,
            description =
                    "Longest get/gets/gat/gats command line (default: 1m); other commands: 2048 bytes, as memcached.")
    int maxRetrievalLine = ProxyConfig.DEFAULT_MAX_RETRIEVAL_LINE;

    @Option(
            names = "--failure-limit",
            paramLabel = "N",
            description = "Consecutive failures that mark a server down (default: 2).")
    int failureLimit = ProxyConfig.Failover.DEFAULTS.failureLimit();

    @Option(
            names = "--probe-interval",
            paramLabel = "MILLIS",
            description = "How often servers are probed in the background, in ms (default: 1000).")
    long probeIntervalMillis = ProxyConfig.Failover.DEFAULTS.probeInterval().toMillis();

    @Option(
            names = "--auto-eject",
            description = "Without backups: rehash a down server's keys over the live ones "
                    + "until it returns (twemproxy's auto_eject_hosts).")
    boolean autoEject;

    @Option(
            names = "--max-stale-keys",
            paramLabel = "N",
            description = "Keys remembered per server whose write did not reach it (not read from it until deleted "
                    + "there); past this no key is read from it until it is flushed, and a returning server is "
                    + "flushed instead of cleaned key by key (default: 100000).")
    int maxStaleKeys = ProxyConfig.Failover.DEFAULTS.maxStaleKeys();

    @Option(
            names = "--write-back-ttl",
            paramLabel = "SECONDS",
            description = "TTL of a backup hit written back to its primary when the backup cannot tell the remaining "
                    + "TTL (memcached before 1.6, no meta commands) (default: 3600).")
    int writeBackTtl = ProxyConfig.Failover.DEFAULTS.writeBackTtl();

    @Option(
            names = "--shared-farm",
            description =
                    "Other proxies write to the same servers (give them all the "
                            + "same probe interval and timeout): writes are answered once both copies took them; a server that "
                            + "returns is flushed and read again only after two probe intervals and a timeout, as this proxy cannot "
                            + "know what the others wrote elsewhere meanwhile; after any failure a server is not read for that time. "
                            + "Alone (the default), a returning server is cleaned of this proxy's stale keys and keeps the rest.")
    boolean sharedFarm;

    @Option(
            names = "--http-port",
            paramLabel = "PORT",
            description = "Serve /metrics (Prometheus) and /health over HTTP on this port of the -l address "
                    + "(with -c: of the first pool's listen address) (default: off).")
    int httpPort = ProxyConfig.Operations.DEFAULTS.httpPort();

    @Option(
            names = "--http-listen",
            paramLabel = "ADDRESS",
            description = "Address of the HTTP endpoint, for example 127.0.0.1 to keep /metrics off the network "
                    + "(default: the -l address).")
    String httpListen;

    @Option(
            names = "--http-tls-cert",
            paramLabel = "FILE",
            description = "PEM file: the HTTP endpoint's certificate, then its chain; with --http-tls-key, /metrics "
                    + "and /health are served over HTTPS only. Reloaded when it changes.")
    Path httpTlsCert;

    @Option(
            names = "--http-tls-key",
            paramLabel = "FILE",
            description = "PEM file: that certificate's private key (PKCS#8, unencrypted). Reloaded when it changes.")
    Path httpTlsKey;

    @Option(
            names = "--http-tls-ca",
            paramLabel = "FILE",
            description = "PEM file of CA certificates: HTTPS clients (scrapers) must present a certificate they "
                    + "signed (mutual TLS) (default: no client certificate asked for).")
    Path httpTlsCa;

    @Option(
            names = "--shutdown-timeout",
            paramLabel = "SECONDS",
            description = "On SIGTERM, how long in-flight requests may take before the last clients are closed "
                    + "(default: 5).")
    long shutdownTimeoutSeconds =
            ProxyConfig.Operations.DEFAULTS.shutdownTimeout().toSeconds();

    @Option(
            names = "--idle-timeout",
            paramLabel = "SECONDS",
            description = "Close a client that has sent nothing for this long; 0 = never (default: 0).")
    long idleTimeoutSeconds = ProxyConfig.Operations.DEFAULTS.idleTimeout().toSeconds();

    @Option(
            names = "--tls-port",
            paramLabel = "PORT",
            description = "Also listen for TLS clients on this port of the -l address, beside the plain port "
                    + "(needs --tls-cert and --tls-key; default: off).")
    int tlsPort = ClientTls.NONE.port();

    @Option(
            names = "--tls-cert",
            paramLabel = "FILE",
            description = "PEM file: the proxy's certificate, then its chain. Reloaded when it changes.")
    Path tlsCert;

    @Option(
            names = "--tls-key",
            paramLabel = "FILE",
            description = "PEM file: the certificate's private key (PKCS#8, unencrypted). Reloaded when it changes.")
    Path tlsKey;

    @Option(
            names = "--tls-ca",
            paramLabel = "FILE",
            description = "PEM file of CA certificates: TLS clients must present a certificate they signed "
                    + "(mutual TLS) (default: no client certificate asked for).")
    Path tlsCa;

    @Option(
            names = "--tls-protocols",
            paramLabel = "LIST",
            split = ",",
            description = "TLS versions offered: TLSv1.3, TLSv1.2 or both (default: TLSv1.3,TLSv1.2).")
    List<String> tlsProtocols = ClientTls.DEFAULT_PROTOCOLS;

    @Option(
            names = "--tls-ciphers",
            paramLabel = "LIST",
            split = ",",
            description = "TLS cipher suites offered, standard names, like TLS_AES_128_GCM_SHA256,"
                    + "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (default: the TLS engine's: AEAD with forward secrecy).")
    List<String> tlsCiphers = List.of();

    @Option(
            names = "--tls-handshake-timeout",
            paramLabel = "MILLIS",
            description = "Close a TLS client that has not finished its handshake by then, in ms (default: 10000).")
    long tlsHandshakeTimeoutMillis = ClientTls.DEFAULT_HANDSHAKE_TIMEOUT.toMillis();

    @Option(
            names = "--server-tls",
            description = "Talk TLS to the servers and backups (memcached -Z); each "
                    + "server's certificate must chain to a trusted CA and name its host as written in -s/-b.")
    boolean serverTls;

    @Option(
            names = "--server-tls-ca",
            paramLabel = "FILE",
            description =
                    "PEM file of the CA certificates the servers' must chain to (default: the JDK's trusted " + "CAs).")
    Path serverTlsCa;

    @Option(
            names = "--server-tls-cert",
            paramLabel = "FILE",
            description = "PEM file: a client certificate (and chain) for servers that ask for one.")
    Path serverTlsCert;

    @Option(names = "--server-tls-key", paramLabel = "FILE", description = "PEM file: its PKCS#8 key.")
    Path serverTlsKey;

    @Option(
            names = {"-Y", "--auth-file"},
            paramLabel = "FILE",
            description = "As memcached's -Y: text clients must first authenticate with a user and password "
                    + "from this file (user:password a line; the password may be a pbkdf2-sha256 hash, see "
                    + "--hash-password). Reloaded when it changes.")
    Path authFile;

    @Option(
            names = "--server-auth",
            paramLabel = "FILE",
            description = "Log in to servers started with memcached's -Y as the user:password on this file's first "
                    + "line, on every connection.")
    Path serverAuthFile;

    @Option(
            names = "--hash-password",
            description = "Read a password from standard input, print its "
                    + "pbkdf2-sha256 hash for an auth file (user:HASH), and exit.")
    boolean hashPassword;

    public boolean hashPasswordRequested() {
        return hashPassword;
    }

    /** The TLS to the servers the flags give, given or not. */
    ServerTls serverTls() {
        return new ServerTls(serverTls, serverTlsCa, serverTlsCert, serverTlsKey);
    }

    /** The HTTP endpoint's TLS the flags give, given or not. */
    HttpTls httpTls() {
        return new HttpTls(httpTlsCert, httpTlsKey, httpTlsCa);
    }

    /** The TLS settings the flags give, given or not. */
    ClientTls tls() {
        return new ClientTls(
                tlsPort,
                tlsCert,
                tlsKey,
                tlsCa,
                tlsProtocols,
                Duration.ofMillis(tlsHandshakeTimeoutMillis),
                tlsCiphers);
    }

    public ProxyConfig toConfig() {
        ProxyConfig c = new ProxyConfig(
                listen,
                port,
                unixSocket,
                servers,
                backups,
                maxConnections,
                maxKeepAlive,
                threads,
                connectionsPerLoop,
                Duration.ofMillis(timeoutMillis),
                maxItemSize,
                maxRetrievalLine,
                maxPending,
                verbose.length,
                new ProxyConfig.Failover(
                        failureLimit,
                        Duration.ofMillis(probeIntervalMillis),
                        autoEject,
                        maxStaleKeys,
                        writeBackTtl,
                        sharedFarm),
                new ProxyConfig.Operations(
                        httpPort,
                        Duration.ofSeconds(shutdownTimeoutSeconds),
                        Duration.ofSeconds(idleTimeoutSeconds),
                        httpListen,
                        httpTls()),
                tls(),
                serverTls(),
                authFile,
                serverAuthFile,
                null, // discovery, tenants, routes and shadow: config file only
                List.of(),
                List.of(),
                null);
        if (!c.listens()) {
            throw new IllegalArgumentException("nothing to listen on: -p 0 needs -f <unix socket> or --tls-port");
        }
        return c;
    }

    /**
     * Checks what the flags tell by themselves, as the config file checks its keys: a server given
     * twice, a backup that is also a server, a host ({@code -l}, {@code -s}, {@code -b}) that does not
     * resolve. Each is one {@link ConfigException} naming the flag. Resolves names.
     */
    public void check() throws ConfigException {
        Set<String> given = new HashSet<>();
        for (ServerAddress s : servers) {
            if (!given.add(s.toString())) {
                throw new ConfigException("-s " + s, null, "given twice");
            }
        }
        Set<String> backupsGiven = new HashSet<>();
        for (ServerAddress b : backups) {
            if (given.contains(b.toString())) {
                throw new ConfigException("-b " + b, null, "also a server (-s)");
            }
            if (!backupsGiven.add(b.toString())) {
                throw new ConfigException("-b " + b, null, "given twice");
            }
        }
        resolvable("-l " + listen, listen);
        for (ServerAddress s : servers) {
            resolvable("-s " + s, s.host());
        }
        for (ServerAddress b : backups) {
            resolvable("-b " + b, b.host());
        }
    }

    private static void resolvable(String flag, String host) throws ConfigException {
        try {
            InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new ConfigException(flag, null, "cannot resolve host '" + host + "'");
        }
    }

    /**
     * The setup of a command line without {@code -c}: one pool, {@link #toConfig()}. A server that
     * is the proxy's own listen address is a {@link ConfigException} naming the flag.
     */
    public ProxySetup toSetup() throws ConfigException {
        ProxySetup setup = ProxySetup.single(toConfig());
        SelfForwarding.Loop loop = SelfForwarding.find(setup);
        if (loop != null) {
            throw new ConfigException(
                    (loop.farm().equals("servers") ? "-s " : "-b ") + loop.server(),
                    null,
                    "jmagent itself listens there (-l " + listen + " -p " + port + "): it would send every request "
                            + "to itself");
        }
        return setup;
    }

    /** The transport {@code --transport} names; IllegalArgumentException when unknown or missing here. */
    public NettyTransport transport() {
        return NettyTransport.named(transport);
    }

    /** The config file ({@code -c}), or null. */
    public Path configFile() {
        return configFile;
    }

    public boolean userOrGroupGiven() {
        return user != null || group != null;
    }

    public static String versionLine() {
        return "jmagent " + StatsReport.VERSION;
    }

    static final class AddressConverter implements ITypeConverter<ServerAddress> {
        @Override
        public ServerAddress convert(String value) {
            try {
                return ServerAddress.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** Bytes, or a number with k or m (memcached's -I syntax). */
    static final class SizeConverter implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            try {
                return ByteSize.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
