package io.jmagent.config;

import io.jmagent.backend.ServerAddress;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Reads a YAML config file ({@code -c FILE}) into a {@link ProxySetup}, strictly: an unknown key, a
 * value of the wrong type, a bad or unresolvable address, a server listed twice, two pools on one
 * listen address, a server that is the proxy's own listen address ({@link SelfForwarding}) are each
 * a {@link ConfigException} naming the file and the key. The layout, after twemproxy's
 * nutcracker.yml, with the long flags' names as keys:
 *
 * <pre>
 * threads: 4                 # process-wide: event loops (-t), log level (-v), the HTTP endpoint
 * verbose: 0                 # and the graceful shutdown's bound
 * http-port: 9150
 * http-tls: { cert: /etc/jmagent/http.pem, key: /etc/jmagent/http.key }   # HTTPS for /metrics
 * shutdown-timeout: 5        # s, or "500ms"
 * pools:
 *   web:                     # a pool: its own listeners, servers and failover settings
 *     listen: 127.0.0.1:22121
 *     unix-socket: /run/jmagent/web.sock
 *     servers: [ "10.0.0.1:11211:1", "10.0.0.2:11211:1" ]
 *     backups: [ "10.0.0.3:11211" ]
 *     timeout: 1000          # ms, or "250ms", "2s"
 *     failure-limit: 2
 *     idle-timeout: 300      # s, or "500ms"; 0 = never
 * </pre>
 *
 * See {@code config/jmagent.example.yml} for every key.
 */
public final class ConfigFile {

    private static final Set<String> TOP_KEYS =
            Set.of("threads", "verbose", "http-port", "http-listen", "http-tls", "shutdown-timeout", "pools");
    private static final List<String> POOL_KEYS = List.of(
            "listen",
            "unix-socket",
            "servers",
            "backups",
            "hash",
            "distribution",
            "timeout",
            "failure-limit",
            "probe-interval",
            "auto-eject",
            "max-stale-keys",
            "write-back-ttl",
            "shared-farm",
            "max-connections",
            "max-keep-alive",
            "backend-connections",
            "max-pending",
            "max-item-size",
            "max-line-length",
            "idle-timeout",
            "tls",
            "server-tls",
            "auth-file",
            "server-auth",
            "discovery",
            "tenants",
            "routes",
            "shadow");
    private static final List<String> SHADOW_KEYS = List.of("pool", "share", "max-in-flight");
    private static final List<String> TENANT_KEYS =
            List.of("prefix", "users", "certificates", "max-connections", "max-requests-per-second");
    private static final List<String> DISCOVERY_KEYS =
            List.of("servers", "backups", "interval", "leave-after", "dns-servers", "flush-on-join");
    private static final List<String> SERVER_TLS_KEYS = List.of("ca", "cert", "key");
    private static final List<String> HTTP_TLS_KEYS = List.of("cert", "key", "ca");
    private static final List<String> TLS_KEYS =
            List.of("port", "cert", "key", "ca", "protocols", "handshake-timeout", "ciphers");
    /** twemproxy's names for jmagent's keys, to point a migrating user at ours. */
    private static final Map<String, String> TWEMPROXY_NAMES = Map.of(
            "auto_eject_hosts", "auto-eject",
            "server_failure_limit", "failure-limit",
            "server_retry_timeout", "probe-interval",
            "server_connections", "backend-connections",
            "client_connections", "max-connections");

    private static final Pattern POOL_NAME = Pattern.compile("[A-Za-z0-9_.-]+");

    private final String source;
    private final ConfigValues values;

    private ConfigFile(String source) {
        this.source = source;
        this.values = new ConfigValues(source);
    }

    /** Reads and checks {@code file}. */
    public static ProxySetup load(Path file) throws ConfigException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file.toString(), null, "cannot read: no such file");
        } catch (IOException e) {
            throw new ConfigException(file.toString(), null, "cannot read: " + e.getMessage());
        }
        return parse(text, file.toString());
    }

    /** Checks {@code yaml}, read from {@code source} (named in errors). */
    public static ProxySetup parse(String yaml, String source) throws ConfigException {
        return new ConfigFile(source).read(yaml);
    }

    private ProxySetup read(String text) throws ConfigException {
        Object root = loadYaml(text);
        if (root == null) {
            throw error("pools", "required: at least one pool");
        }
        Map<?, ?> top = values.mapping(root, "");
        checkKeys(top, "", TOP_KEYS);
        int threads = top.containsKey("threads")
                ? values.positiveInt(top.get("threads"), "threads")
                : ProxyConfig.defaultThreads();
        int verbosity = 0;
        if (top.containsKey("verbose")) {
            verbosity = values.integer(top.get("verbose"), "verbose");
            if (verbosity < 0 || verbosity > 2) {
                throw error("verbose", "must be 0 (info), 1 (debug) or 2 (trace), not " + verbosity);
            }
        }
        ProxyConfig.Operations operations = ProxyConfig.Operations.DEFAULTS;
        if (top.containsKey("http-port")) {
            int port = values.integer(top.get("http-port"), "http-port");
            if (port < 0 || port > 65535) {
                throw error("http-port", "must be a port, 1 to 65535 (0: no HTTP endpoint), not " + port);
            }
            operations = operations.withHttpPort(port);
        }
        if (top.containsKey("http-listen")) {
            String address = values.string(top.get("http-listen"), "http-listen");
            values.resolvable(address, "http-listen");
            operations = operations.withHttpAddress(address);
        }
        if (top.containsKey("http-tls")) {
            HttpTls tls = httpTls(values.mapping(top.get("http-tls"), "http-tls"), "http-tls");
            if (operations.httpPort() == 0) {
                throw error("http-tls", "needs http-port: the port HTTPS is served on");
            }
            operations = operations.withHttpTls(tls);
        }
        if (top.containsKey("shutdown-timeout")) {
            operations =
                    operations.withShutdownTimeout(values.seconds(top.get("shutdown-timeout"), "shutdown-timeout"));
        }
        Object poolsNode = top.get("pools");
        if (poolsNode == null) {
            throw error("pools", "required: at least one pool");
        }
        Map<?, ?> pools = values.mapping(poolsNode, "pools");
        if (pools.isEmpty()) {
            throw error("pools", "required: at least one pool");
        }
        List<ProxySetup.Pool> result = new ArrayList<>();
        for (Map.Entry<?, ?> e : pools.entrySet()) {
            if (!(e.getKey() instanceof String name) || !POOL_NAME.matcher(name).matches()) {
                throw error("pools", "bad pool name '" + e.getKey() + "': letters, digits, '_', '-' and '.'");
            }
            String path = "pools." + name;
            ProxyConfigBuilder b = new ProxyConfigBuilder()
                    .threads(threads)
                    .verbosity(verbosity)
                    .httpPort(operations.httpPort())
                    .httpAddress(operations.httpAddress())
                    .httpTls(operations.httpTls())
                    .shutdownTimeout(operations.shutdownTimeout());
            pool(values.mapping(e.getValue(), path), path, b);
            ProxyConfig config;
            try {
                config = b.build();
            } catch (IllegalArgumentException ex) {
                throw error(path, ex.getMessage());
            }
            for (ProxySetup.Pool earlier : result) {
                String clash = ProxySetup.listenerClash(earlier.config(), config);
                if (clash != null) {
                    String key = clash.startsWith("unix socket") ? ".unix-socket" : ".listen";
                    throw error(path + key, clash + " is already where pool '" + earlier.name() + "' listens");
                }
            }
            result.add(new ProxySetup.Pool(name, config));
        }
        ProxySetup setup;
        try {
            setup = new ProxySetup(result);
        } catch (IllegalArgumentException ex) {
            throw error("pools", ex.getMessage());
        }
        checkRoutes(setup);
        SelfForwarding.Loop loop = SelfForwarding.find(setup);
        if (loop != null) {
            throw error(loop.key(), loop.problem());
        }
        return setup;
    }

    private void pool(Map<?, ?> m, String path, ProxyConfigBuilder b) throws ConfigException {
        checkKeys(m, path, POOL_KEYS);
        String at = path + ".";
        int plainPort = -1;
        if (m.containsKey("listen")) {
            plainPort = listen(values.string(m.get("listen"), at + "listen"), at + "listen", b);
        } else {
            b.port(0);
        }
        if (m.containsKey("unix-socket")) {
            String socket = values.string(m.get("unix-socket"), at + "unix-socket");
            if (socket.isBlank()) {
                throw error(at + "unix-socket", "empty path");
            }
            b.unixSocket(Path.of(socket));
        }
        Discovery discovery = m.containsKey("discovery")
                ? discovery(values.mapping(m.get("discovery"), at + "discovery"), at + "discovery")
                : null;
        b.discovery(discovery);
        boolean discovered = discovery != null && discovery.servers() != null;
        if (!m.containsKey("servers") && !discovered) {
            throw error(at + "servers", "required: at least one HOST:PORT[:WEIGHT] (or discovery.servers)");
        }
        List<ServerAddress> servers =
                m.containsKey("servers") ? servers(m.get("servers"), at + "servers", List.of()) : List.of();
        if (servers.isEmpty() && !discovered) {
            throw error(at + "servers", "required: at least one HOST:PORT[:WEIGHT] (or discovery.servers)");
        }
        b.servers(servers);
        if (m.containsKey("backups")) {
            b.backups(servers(m.get("backups"), at + "backups", servers));
        }
        if (m.containsKey("hash") && !"md5".equals(m.get("hash"))) {
            throw error(at + "hash", "only md5 (libmemcached's ketama) is supported, not '" + m.get("hash") + "'");
        }
        if (m.containsKey("distribution") && !"ketama".equals(m.get("distribution"))) {
            throw error(at + "distribution", "only ketama is supported, not '" + m.get("distribution") + "'");
        }
        if (m.containsKey("timeout")) {
            b.timeout(values.duration(m.get("timeout"), at + "timeout"));
        }
        if (m.containsKey("failure-limit")) {
            b.failureLimit(values.positiveInt(m.get("failure-limit"), at + "failure-limit"));
        }
        if (m.containsKey("probe-interval")) {
            b.probeInterval(values.duration(m.get("probe-interval"), at + "probe-interval"));
        }
        if (m.containsKey("auto-eject")) {
            b.autoEject(values.bool(m.get("auto-eject"), at + "auto-eject"));
        }
        if (m.containsKey("max-stale-keys")) {
            b.maxStaleKeys(values.positiveInt(m.get("max-stale-keys"), at + "max-stale-keys"));
        }
        if (m.containsKey("write-back-ttl")) {
            int ttl = values.integer(m.get("write-back-ttl"), at + "write-back-ttl");
            if (ttl < 0) {
                throw error(at + "write-back-ttl", "must not be negative, got " + ttl);
            }
            b.writeBackTtl(ttl);
        }
        if (m.containsKey("shared-farm")) {
            b.sharedFarm(values.bool(m.get("shared-farm"), at + "shared-farm"));
        }
        if (m.containsKey("max-connections")) {
            b.maxConnections(values.positiveInt(m.get("max-connections"), at + "max-connections"));
        }
        if (m.containsKey("max-keep-alive")) {
            b.maxKeepAlive(values.positiveInt(m.get("max-keep-alive"), at + "max-keep-alive"));
        }
        if (m.containsKey("backend-connections")) {
            b.connectionsPerLoop(values.positiveInt(m.get("backend-connections"), at + "backend-connections"));
        }
        if (m.containsKey("max-pending")) {
            b.maxPendingPerClient(values.positiveInt(m.get("max-pending"), at + "max-pending"));
        }
        if (m.containsKey("max-item-size")) {
            b.maxItemSize(values.size(m.get("max-item-size"), at + "max-item-size"));
        }
        if (m.containsKey("max-line-length")) {
            b.maxRetrievalLine(values.size(m.get("max-line-length"), at + "max-line-length"));
        }
        if (m.containsKey("idle-timeout")) {
            b.idleTimeout(values.seconds(m.get("idle-timeout"), at + "idle-timeout"));
        }
        if (m.containsKey("tls")) {
            b.tls(tls(values.mapping(m.get("tls"), at + "tls"), at + "tls"));
        }
        if (m.containsKey("server-tls")) {
            b.serverTls(serverTls(m.get("server-tls"), at + "server-tls"));
        }
        if (m.containsKey("auth-file")) {
            b.authFile(file(m.get("auth-file"), at + "auth-file"));
        }
        if (m.containsKey("server-auth")) {
            b.serverAuthFile(file(m.get("server-auth"), at + "server-auth"));
        }
        if (m.containsKey("shadow")) {
            b.shadow(shadow(values.mapping(m.get("shadow"), at + "shadow"), at + "shadow"));
        }
        if (m.containsKey("routes")) {
            b.routes(routes(values.mapping(m.get("routes"), at + "routes"), at + "routes"));
        }
        if (m.containsKey("tenants")) {
            b.tenants(tenants(values.mapping(m.get("tenants"), at + "tenants"), at + "tenants"));
            boolean clientCertificates = m.containsKey("tls")
                    && values.mapping(m.get("tls"), at + "tls").containsKey("ca");
            if (!m.containsKey("auth-file") && !clientCertificates) {
                throw error(
                        at + "tenants",
                        "a tenant is known by its login or its certificate: give auth-file, or tls with a ca");
            }
        }
        if (plainPort == 0 && !m.containsKey("tls") && !m.containsKey("unix-socket")) {
            throw error(at + "listen", "port 0 listens for TLS clients only (as -p 0): give tls, or a port");
        }
    }

    /** A pool's {@code routes:}: key prefix to pool name, as written (the pools are checked once all are read). */
    private List<RouteSpec> routes(Map<?, ?> m, String path) throws ConfigException {
        List<RouteSpec> result = new ArrayList<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            String prefix = String.valueOf(e.getKey());
            String at = path + "." + prefix;
            String pool = values.string(e.getValue(), at);
            try {
                result.add(new RouteSpec(prefix, pool));
            } catch (IllegalArgumentException ex) {
                throw error(at, ex.getMessage());
            }
        }
        if (result.isEmpty()) {
            throw error(path, "no route: give at least one PREFIX: POOL, or leave routes out");
        }
        return List.copyOf(result);
    }

    /** A pool's {@code shadow:}: the pool, the share of keys (default all) and the bound in flight. */
    private ShadowSpec shadow(Map<?, ?> m, String path) throws ConfigException {
        checkKeys(m, path, SHADOW_KEYS);
        if (!m.containsKey("pool")) {
            throw error(path + ".pool", "required: the pool that gets the copies");
        }
        String pool = values.string(m.get("pool"), path + ".pool");
        double share = 1;
        if (m.containsKey("share")) {
            Object v = m.get("share");
            if (!(v instanceof Number n)) {
                throw error(path + ".share", "expected a number from 0 to 1, like 0.05");
            }
            share = n.doubleValue();
        }
        int max = m.containsKey("max-in-flight")
                ? values.positiveInt(m.get("max-in-flight"), path + ".max-in-flight")
                : ShadowSpec.DEFAULT_MAX_IN_FLIGHT;
        try {
            return new ShadowSpec(pool, share, max);
        } catch (IllegalArgumentException e) {
            throw error(path, e.getMessage());
        }
    }

    /**
     * Every route names another pool of the file, one without routes of its own (a key is routed
     * once), so a route table cannot loop; a pool that listens nowhere is a route's or a shadow's target.
     */
    private void checkRoutes(ProxySetup setup) throws ConfigException {
        for (ProxySetup.Pool p : setup.pools()) {
            boolean reached = setup.pools().stream()
                    .anyMatch(q ->
                            q.config().routes().stream().anyMatch(r -> r.pool().equals(p.name()))
                                    || (q.config().shadow() != null
                                            && q.config().shadow().pool().equals(p.name())));
            if (!p.config().listens() && !reached) {
                throw error(
                        "pools." + p.name(),
                        "nothing to listen on: give listen (HOST:PORT) or unix-socket (a pool without either"
                                + " is reached only through another pool's routes or shadow)");
            }
            for (RouteSpec r : p.config().routes()) {
                String at = "pools." + p.name() + ".routes." + r.prefix();
                ProxySetup.Pool target = setup.pools().stream()
                        .filter(q -> q.name().equals(r.pool()))
                        .findFirst()
                        .orElse(null);
                if (target == null) {
                    throw error(at, "no pool '" + r.pool() + "' in this file");
                }
                if (target == p) {
                    throw error(at, "a pool's own keys need no route: leave it out");
                }
                if (!target.config().routes().isEmpty()) {
                    throw error(at, "pool '" + r.pool() + "' has routes of its own: a key is routed once");
                }
            }
            ShadowSpec shadow = p.config().shadow();
            if (shadow != null) {
                String at = "pools." + p.name() + ".shadow.pool";
                if (setup.pools().stream().noneMatch(q -> q.name().equals(shadow.pool()))) {
                    throw error(at, "no pool '" + shadow.pool() + "' in this file");
                }
                if (shadow.pool().equals(p.name())) {
                    throw error(at, "a pool cannot shadow itself");
                }
            }
        }
    }

    /** A pool's {@code tenants:}: each tenant's identities, key prefix and quotas; no identity in two. */
    private List<TenantSpec> tenants(Map<?, ?> m, String path) throws ConfigException {
        List<TenantSpec> result = new ArrayList<>();
        Map<String, String> owners = new HashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            String name = String.valueOf(e.getKey());
            String at = path + "." + name;
            if (!POOL_NAME.matcher(name).matches()) {
                throw error(at, "a tenant's name is letters, digits, '_', '.' and '-'");
            }
            Map<?, ?> t = values.mapping(e.getValue(), at);
            checkKeys(t, at, TENANT_KEYS);
            String prefix = t.containsKey("prefix") ? values.string(t.get("prefix"), at + ".prefix") : "";
            Set<String> users = new LinkedHashSet<>(strings(t.get("users"), at + ".users"));
            Set<String> certificates = new LinkedHashSet<>(strings(t.get("certificates"), at + ".certificates"));
            for (String who : users) {
                String before = owners.put("user " + who, name);
                if (before != null) {
                    throw error(at + ".users", "user '" + who + "' is already tenant " + before);
                }
            }
            for (String who : certificates) {
                String before = owners.put("certificate " + who, name);
                if (before != null) {
                    throw error(at + ".certificates", "'" + who + "' is already tenant " + before);
                }
            }
            int connections = t.containsKey("max-connections")
                    ? values.positiveInt(t.get("max-connections"), at + ".max-connections")
                    : 0;
            int rate = t.containsKey("max-requests-per-second")
                    ? values.positiveInt(t.get("max-requests-per-second"), at + ".max-requests-per-second")
                    : 0;
            try {
                result.add(new TenantSpec(name, prefix, users, certificates, connections, rate));
            } catch (IllegalArgumentException ex) {
                throw error(at, ex.getMessage());
            }
        }
        if (result.isEmpty()) {
            throw error(path, "no tenant: name at least one, or leave tenants out");
        }
        for (TenantSpec a : result) {
            for (TenantSpec b : result) {
                if (a != b && !a.prefix().isEmpty() && b.prefix().startsWith(a.prefix())) {
                    throw error(
                            path + "." + b.name() + ".prefix",
                            "'" + b.prefix() + "' starts with tenant " + a.name() + "'s prefix '" + a.prefix()
                                    + "': its keys would be among " + a.name() + "'s");
                }
            }
        }
        return List.copyOf(result);
    }

    /** A list of strings, or nothing (null): empty. */
    private List<String> strings(Object node, String key) throws ConfigException {
        if (node == null) {
            return List.of();
        }
        if (!(node instanceof List<?> list)) {
            throw error(key, "expected a list, got " + node);
        }
        List<String> result = new ArrayList<>();
        for (Object o : list) {
            String v = values.string(o, key);
            if (v.isBlank()) {
                throw error(key, "an empty name");
            }
            result.add(v);
        }
        return result;
    }

    /** A pool's {@code discovery:}: its sources and how their answers are damped. */
    private Discovery discovery(Map<?, ?> m, String path) throws ConfigException {
        checkKeys(m, path, DISCOVERY_KEYS);
        String at = path + ".";
        Discovery.Source servers = m.containsKey("servers") ? source(m.get("servers"), at + "servers") : null;
        Discovery.Source backups = m.containsKey("backups") ? source(m.get("backups"), at + "backups") : null;
        Duration interval = m.containsKey("interval")
                ? values.seconds(m.get("interval"), at + "interval")
                : Discovery.DEFAULT_INTERVAL;
        int leaveAfter = m.containsKey("leave-after")
                ? values.positiveInt(m.get("leave-after"), at + "leave-after")
                : Discovery.DEFAULT_LEAVE_AFTER;
        List<InetSocketAddress> nameServers = new ArrayList<>();
        if (m.containsKey("dns-servers")) {
            if (!(m.get("dns-servers") instanceof List<?> list)) {
                throw error(at + "dns-servers", "expected a list, like [ \"10.0.0.2:53\" ]");
            }
            for (int i = 0; i < list.size(); i++) {
                String key = at + "dns-servers[" + i + "]";
                try {
                    nameServers.add(nameServer(values.string(list.get(i), key)));
                } catch (IllegalArgumentException e) {
                    throw error(key, e.getMessage());
                }
            }
        }
        boolean flush = !m.containsKey("flush-on-join") || values.bool(m.get("flush-on-join"), at + "flush-on-join");
        try {
            return new Discovery(servers, backups, interval, leaveAfter, nameServers, flush);
        } catch (IllegalArgumentException e) {
            throw error(path, e.getMessage());
        }
    }

    /** {@code HOST[:PORT]} of a DNS server, port 53 by default; an IPv6 host in brackets. */
    private static InetSocketAddress nameServer(String spec) {
        boolean withPort = spec.matches("\\[.*\\]:\\d+") || spec.matches("[^:\\[\\]]+:\\d+");
        ServerAddress a = ServerAddress.parse(
                withPort ? spec : spec.startsWith("[") ? spec : spec.indexOf(':') >= 0 ? "[" + spec + "]" : spec);
        return new InetSocketAddress(a.host(), withPort ? a.port() : 53);
    }

    private Discovery.Source source(Object node, String key) throws ConfigException {
        try {
            return Discovery.Source.parse(values.string(node, key));
        } catch (IllegalArgumentException e) {
            throw error(key, e.getMessage());
        }
    }

    /** A pool's {@code server-tls:}: {@code true}, or a mapping of the --server-tls-* settings. */
    private ServerTls serverTls(Object node, String path) throws ConfigException {
        if (node instanceof Boolean on) {
            return on ? new ServerTls(true, null, null, null) : ServerTls.NONE;
        }
        Map<?, ?> m = values.mapping(node, path);
        checkKeys(m, path, SERVER_TLS_KEYS);
        String at = path + ".";
        try {
            return new ServerTls(
                    true,
                    m.containsKey("ca") ? file(m.get("ca"), at + "ca") : null,
                    m.containsKey("cert") ? file(m.get("cert"), at + "cert") : null,
                    m.containsKey("key") ? file(m.get("key"), at + "key") : null);
        } catch (IllegalArgumentException e) {
            throw error(
                    path, e.getMessage().replace("--server-tls-cert", "cert").replace("--server-tls-key", "key"));
        }
    }

    /** The top-level {@code http-tls:} mapping: the flags' --http-tls-* settings, under their names without the prefix. */
    private HttpTls httpTls(Map<?, ?> m, String path) throws ConfigException {
        checkKeys(m, path, HTTP_TLS_KEYS);
        String at = path + ".";
        try {
            return new HttpTls(
                    m.containsKey("cert") ? file(m.get("cert"), at + "cert") : null,
                    m.containsKey("key") ? file(m.get("key"), at + "key") : null,
                    m.containsKey("ca") ? file(m.get("ca"), at + "ca") : null);
        } catch (IllegalArgumentException e) {
            throw error(
                    path,
                    e.getMessage()
                            .replace("--http-tls-cert", "cert")
                            .replace("--http-tls-key", "key")
                            .replace("--http-tls-ca", "ca"));
        }
    }

    /** A pool's {@code tls:} mapping: the flags' --tls-* settings, under their names without the prefix. */
    private ClientTls tls(Map<?, ?> m, String path) throws ConfigException {
        checkKeys(m, path, TLS_KEYS);
        String at = path + ".";
        if (!m.containsKey("port")) {
            throw error(at + "port", "required: the port TLS clients connect to, on the pool's listen address");
        }
        int port = values.integer(m.get("port"), at + "port");
        if (port < 1 || port > 65535) {
            throw error(at + "port", "must be a port, 1 to 65535, not " + port);
        }
        Path cert = m.containsKey("cert") ? file(m.get("cert"), at + "cert") : null;
        Path key = m.containsKey("key") ? file(m.get("key"), at + "key") : null;
        Path ca = m.containsKey("ca") ? file(m.get("ca"), at + "ca") : null;
        List<String> protocols = ClientTls.DEFAULT_PROTOCOLS;
        if (m.containsKey("protocols")) {
            if (!(m.get("protocols") instanceof List<?> list)) {
                throw error(at + "protocols", "expected a list, like [ TLSv1.3, TLSv1.2 ]");
            }
            protocols = new ArrayList<>();
            for (int i = 0; i < list.size(); i++) {
                protocols.add(values.string(list.get(i), at + "protocols[" + i + "]"));
            }
        }
        Duration handshake = m.containsKey("handshake-timeout")
                ? values.duration(m.get("handshake-timeout"), at + "handshake-timeout")
                : ClientTls.DEFAULT_HANDSHAKE_TIMEOUT;
        List<String> ciphers = m.containsKey("ciphers") ? strings(m.get("ciphers"), at + "ciphers") : List.of();
        try {
            return new ClientTls(port, cert, key, ca, protocols, handshake, ciphers);
        } catch (IllegalArgumentException e) {
            throw error(path, e.getMessage().replace("(--tls-cert)", "(cert)").replace("(--tls-key)", "(key)"));
        }
    }

    private Path file(Object node, String key) throws ConfigException {
        String name = values.string(node, key);
        if (name.isBlank()) {
            throw error(key, "empty path");
        }
        return Path.of(name);
    }

    /** {@code HOST:PORT}, an IPv6 host in brackets; the host must resolve. Returns the port (0: TLS clients only). */
    private int listen(String spec, String key, ProxyConfigBuilder b) throws ConfigException {
        String s = spec.trim();
        String host;
        String port;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0 || close + 1 >= s.length() || s.charAt(close + 1) != ':') {
                throw error(key, "bad address '" + spec + "': expected HOST:PORT");
            }
            host = s.substring(1, close);
            port = s.substring(close + 2);
        } else {
            int colon = s.lastIndexOf(':');
            if (colon < 0) {
                throw error(key, "bad address '" + spec + "': expected HOST:PORT");
            }
            host = s.substring(0, colon);
            port = s.substring(colon + 1);
            if (host.indexOf(':') >= 0) {
                throw error(key, "bad address '" + spec + "': an IPv6 address goes in brackets, [::1]:22121");
            }
        }
        if (host.isEmpty()) {
            throw error(key, "bad address '" + spec + "': no host");
        }
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw error(key, "bad address '" + spec + "': port is not a number");
        }
        if (p < 0 || p > 65535) {
            throw error(key, "bad address '" + spec + "': port out of range");
        }
        values.resolvable(host, key);
        b.listenAddress(host).port(p);
        return p;
    }

    /** A list of {@code HOST:PORT[:WEIGHT]}, none twice, none in {@code others}. */
    private List<ServerAddress> servers(Object node, String key, List<ServerAddress> others) throws ConfigException {
        if (!(node instanceof List<?> list)) {
            throw error(key, "expected a list of HOST:PORT[:WEIGHT], like [ \"127.0.0.1:11211:1\" ]");
        }
        List<ServerAddress> result = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        for (int i = 0; i < list.size(); i++) {
            String at = key + "[" + i + "]";
            ServerAddress a;
            try {
                a = ServerAddress.parse(values.string(list.get(i), at));
            } catch (IllegalArgumentException e) {
                throw error(at, e.getMessage());
            }
            if (!seen.add(a.toString())) {
                throw error(at, a + " is listed twice");
            }
            for (ServerAddress o : others) {
                if (o.host().equals(a.host()) && o.port() == a.port()) {
                    throw error(at, a + " is also a primary server");
                }
            }
            values.resolvable(a.host(), at);
            result.add(a);
        }
        return result;
    }

    private Object loadYaml(String text) throws ConfigException {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setAllowRecursiveKeys(false);
        options.setMaxAliasesForCollections(20);
        try {
            return new Yaml(new SafeConstructor(options)).load(text);
        } catch (MarkedYAMLException e) {
            String where = e.getProblemMark() == null
                    ? ""
                    : "line " + (e.getProblemMark().getLine() + 1) + ", column "
                            + (e.getProblemMark().getColumn() + 1) + ": ";
            throw error(null, where + e.getProblem());
        } catch (YAMLException e) {
            throw error(null, e.getMessage());
        }
    }

    private void checkKeys(Map<?, ?> m, String path, Collection<String> known) throws ConfigException {
        for (Object k : m.keySet()) {
            String key = String.valueOf(k);
            if (known.contains(key)) {
                continue;
            }
            String ours = TWEMPROXY_NAMES.get(key);
            if (ours == null && known.contains(key.replace('_', '-'))) {
                ours = key.replace('_', '-');
            }
            String full = path.isEmpty() ? key : path + "." + key;
            throw error(full, "unknown key" + (ours == null ? "" : " (jmagent's is '" + ours + "')"));
        }
    }

    private ConfigException error(String key, String problem) {
        return new ConfigException(source, key, problem);
    }
}
