package io.jmagent.cli;

import io.jmagent.backend.ServerAddress;
import io.jmagent.config.ClientTls;
import io.jmagent.config.ConfigException;
import io.jmagent.config.ConfigFile;
import io.jmagent.config.HttpTls;
import io.jmagent.config.ProxyConfig;
import io.jmagent.config.ProxyConfigBuilder;
import io.jmagent.config.ProxySetup;
import io.jmagent.config.SelfForwarding;
import io.jmagent.config.ServerTls;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.ParseResult;

/**
 * The flags given on the command line, laid over a config file ({@code -c}): {@code -t},
 * {@code -v}, {@code --http-port}, {@code --http-listen}, {@code --http-tls-*} and {@code --shutdown-timeout} set
 * the process's event loops, log level, HTTP endpoint and shutdown bound; every other setting flag overrides the file's first pool (for a single-pool file, simply: the flags win). Flags not given leave the file
 * alone. The same flags lie over the file again at every reload.
 */
public final class FlagOverrides {

    private final Flags flags;
    private final ParseResult given;

    public FlagOverrides(Flags flags, ParseResult given) {
        this.flags = flags;
        this.given = given;
    }

    /** Reads {@code file} and lays the flags over it. */
    public ProxySetup load(Path file) throws ConfigException {
        ProxySetup fromFile = ConfigFile.load(file);
        ProxySetup setup;
        try {
            setup = applyTo(fromFile);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(file.toString(), null, "with the command line's flags: " + e.getMessage());
        }
        SelfForwarding.Loop loop = SelfForwarding.find(setup);
        if (loop != null) {
            throw new ConfigException(
                    file.toString(), null, "with the command line's flags: " + loop.key() + ": " + loop.problem());
        }
        return setup;
    }

    /** {@code file} with the flags given laid over it; an IllegalArgumentException if that is inconsistent. */
    public ProxySetup applyTo(ProxySetup file) {
        List<ProxySetup.Pool> pools = new ArrayList<>();
        for (int i = 0; i < file.pools().size(); i++) {
            ProxySetup.Pool p = file.pools().get(i);
            ProxyConfigBuilder b = new ProxyConfigBuilder(p.config());
            if (given("-t")) {
                b.threads(flags.threads);
            }
            if (given("-v")) {
                b.verbosity(flags.verbose.length);
            }
            if (given("--http-port")) {
                b.httpPort(flags.httpPort);
            }
            if (given("--http-listen")) {
                b.httpAddress(flags.httpListen);
            }
            if (HTTP_TLS_FLAGS.stream().anyMatch(this::given)) {
                b.httpTls(httpTlsOver(p.config().operations().httpTls()));
            }
            if (given("--shutdown-timeout")) {
                b.shutdownTimeout(Duration.ofSeconds(flags.shutdownTimeoutSeconds));
            }
            if (i == 0) {
                overridePool(b, p.config().tls(), p.config().serverTls());
            }
            ProxyConfig config = b.build();
            if (i == 0) {
                refuseServerThatIsABackup(p.name(), config);
            }
            pools.add(new ProxySetup.Pool(p.name(), config));
        }
        return new ProxySetup(pools);
    }

    /**
     * A server that is also a backup, once {@code -s} or {@code -b} replaced one list of the file's
     * and not the other (the file and the flags each refuse it on their own).
     */
    private void refuseServerThatIsABackup(String pool, ProxyConfig config) {
        Set<String> servers = new HashSet<>();
        config.servers().forEach(s -> servers.add(s.toString()));
        for (ServerAddress backup : config.backups()) {
            if (servers.contains(backup.toString())) {
                String flag = given("-b") ? "-b " + backup + ": also a server" : "-s " + backup + ": also a backup";
                throw new IllegalArgumentException(flag + " of pool '" + pool + "'");
            }
        }
    }

    private void overridePool(ProxyConfigBuilder b, ClientTls fileTls, ServerTls fileServerTls) {
        if (given("-l")) {
            b.listenAddress(flags.listen);
        }
        if (given("-p")) {
            b.port(flags.port);
        }
        if (given("-f")) {
            b.unixSocket(flags.unixSocket);
        }
        if (given("-s")) {
            b.servers(flags.servers);
        }
        if (given("-b")) {
            b.backups(flags.backups);
        }
        if (given("-n")) {
            b.maxConnections(flags.maxConnections);
        }
        if (given("-i")) {
            b.maxKeepAlive(flags.maxKeepAlive);
        }
        if (given("-I")) {
            b.maxItemSize(flags.maxItemSize);
        }
        if (given("--timeout")) {
            b.timeout(Duration.ofMillis(flags.timeoutMillis));
        }
        if (given("--backend-connections")) {
            b.connectionsPerLoop(flags.connectionsPerLoop);
        }
        if (given("--max-pending")) {
            b.maxPendingPerClient(flags.maxPending);
        }
        if (given("--max-line-length")) {
            b.maxRetrievalLine(flags.maxRetrievalLine);
        }
        if (given("--failure-limit")) {
            b.failureLimit(flags.failureLimit);
        }
        if (given("--probe-interval")) {
            b.probeInterval(Duration.ofMillis(flags.probeIntervalMillis));
        }
        if (given("--auto-eject")) {
            b.autoEject(true);
        }
        if (given("--max-stale-keys")) {
            b.maxStaleKeys(flags.maxStaleKeys);
        }
        if (given("--write-back-ttl")) {
            b.writeBackTtl(flags.writeBackTtl);
        }
        if (given("--shared-farm")) {
            b.sharedFarm(true);
        }
        if (given("--idle-timeout")) {
            b.idleTimeout(Duration.ofSeconds(flags.idleTimeoutSeconds));
        }
        if (given("-Y")) {
            b.authFile(flags.authFile);
        }
        if (given("--server-auth")) {
            b.serverAuthFile(flags.serverAuthFile);
        }
        if (SERVER_TLS_FLAGS.stream().anyMatch(this::given)) {
            b.serverTls(serverTlsOver(fileServerTls));
        }
        if (TLS_FLAGS.stream().anyMatch(this::given)) {
            b.tls(tlsOver(fileTls));
        }
    }

    private static final List<String> TLS_FLAGS = List.of(
            "--tls-port",
            "--tls-cert",
            "--tls-key",
            "--tls-ca",
            "--tls-protocols",
            "--tls-handshake-timeout",
            "--tls-ciphers");

    private static final List<String> HTTP_TLS_FLAGS = List.of("--http-tls-cert", "--http-tls-key", "--http-tls-ca");

    private static final List<String> SERVER_TLS_FLAGS =
            List.of("--server-tls", "--server-tls-ca", "--server-tls-cert", "--server-tls-key");

    /** The pool's TLS to its servers with what the flags give laid over it, setting by setting. */
    private ServerTls serverTlsOver(ServerTls file) {
        ServerTls flag = flags.serverTls();
        return new ServerTls(
                given("--server-tls") || file.enabled(),
                given("--server-tls-ca") ? flag.ca() : file.ca(),
                given("--server-tls-cert") ? flag.certificate() : file.certificate(),
                given("--server-tls-key") ? flag.key() : file.key());
    }

    /** The HTTP endpoint's TLS with what the flags give laid over it, setting by setting. */
    private HttpTls httpTlsOver(HttpTls file) {
        HttpTls flag = flags.httpTls();
        return new HttpTls(
                given("--http-tls-cert") ? flag.certificateChain() : file.certificateChain(),
                given("--http-tls-key") ? flag.privateKey() : file.privateKey(),
                given("--http-tls-ca") ? flag.clientCa() : file.clientCa());
    }

    /** The pool's TLS settings with those the flags give laid over them, one by one. */
    private ClientTls tlsOver(ClientTls file) {
        ClientTls flag = flags.tls();
        return new ClientTls(
                given("--tls-port") ? flag.port() : file.port(),
                given("--tls-cert") ? flag.certificateChain() : file.certificateChain(),
                given("--tls-key") ? flag.privateKey() : file.privateKey(),
                given("--tls-ca") ? flag.clientCa() : file.clientCa(),
                given("--tls-protocols") ? flag.protocols() : file.protocols(),
                given("--tls-handshake-timeout") ? flag.handshakeTimeout() : file.handshakeTimeout(),
                given("--tls-ciphers") ? flag.ciphers() : file.ciphers());
    }

    private boolean given(String option) {
        return given.hasMatchedOption(option);
    }
}
