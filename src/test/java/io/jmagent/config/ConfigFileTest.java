package io.jmagent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jmagent.backend.ServerAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.yaml.snakeyaml.Yaml;

/** The config file: what a valid one gives, and the one-line error of each kind of invalid one. */
class ConfigFileTest {

    private static ProxySetup parse(String yaml) throws ConfigException {
        return ConfigFile.parse(yaml, "test.yml");
    }

    /** A YAML document from lines separated by '/' (CSV sources cannot hold newlines). */
    private static String lines(String slashSeparated) {
        return slashSeparated.replace(" / ", "\n");
    }

    @Test
    void theKubernetesExampleFindsItsServersThroughTheDnsOfAHeadlessService() throws Exception {
        Map<?, ?> configMap = new Yaml().load(Files.readString(Path.of("deploy/kubernetes/configmap.yaml")));
        String yaml = (String) ((Map<?, ?>) configMap.get("data")).get("jmagent.yaml");
        ProxyConfig app = ConfigFile.parse(yaml, "configmap.yaml").pool("app").config();
        assertThat(app.servers()).isEmpty();
        assertThat(app.discovery().servers()).hasToString("dns:memcached.cache.svc.cluster.local:11211");
        assertThat(app.discovery().backups()).hasToString("dns:memcached-backup.cache.svc.cluster.local:11211");
        assertThat(app.discovery().interval()).isEqualTo(Duration.ofSeconds(10));
    }

    @Test
    void theExampleInTheRepositoryIsValid() throws ConfigException {
        ProxySetup setup = ConfigFile.load(Path.of("config/jmagent.example.yml"));

        assertThat(setup.pools()).extracting(ProxySetup.Pool::name).containsExactly("web", "sessions");
        assertThat(setup.threads()).isEqualTo(2);
        assertThat(setup.verbosity()).isZero();
        ProxyConfig web = setup.pool("web").config();
        assertThat(web.listenAddress()).isEqualTo("127.0.0.1");
        assertThat(web.port()).isEqualTo(22121);
        assertThat(web.unixSocket()).isEqualTo(Path.of("/tmp/jmagent-web.sock"));
        assertThat(web.servers())
                .containsExactly(new ServerAddress("127.0.0.1", 11211, 1), new ServerAddress("127.0.0.1", 11212, 1));
        assertThat(web.backups()).containsExactly(new ServerAddress("127.0.0.1", 11213, 1));
        assertThat(web.timeout()).isEqualTo(Duration.ofSeconds(1));
        assertThat(web.failover()).isEqualTo(ProxyConfig.Failover.DEFAULTS);
        assertThat(web.maxItemSize()).isEqualTo(1024 * 1024);
        ProxyConfig sessions = setup.pool("sessions").config();
        assertThat(sessions.port()).isEqualTo(22122);
        assertThat(sessions.unixSocket()).isNull();
        assertThat(sessions.backups()).isEmpty();
        assertThat(sessions.failover().autoEject()).isTrue();
        assertThat(sessions.timeout()).isEqualTo(Duration.ofMillis(250));
        assertThat(sessions.threads()).isEqualTo(2);
        assertThat(setup.httpPort()).isEqualTo(9150);
        assertThat(setup.shutdownTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(web.operations().idleTimeout()).isZero();
    }

    @Test
    void httpPortAndShutdownTimeoutAreTheProcesssAndIdleTimeoutIsAPools() throws ConfigException {
        ProxySetup setup = parse("""
                http-port: 9150
                shutdown-timeout: 12
                pools:
                  a:
                    listen: 127.0.0.1:22121
                    servers: [ "127.0.0.1:11211" ]
                    idle-timeout: 300
                  b:
                    listen: 127.0.0.1:22122
                    servers: [ "127.0.0.1:11212" ]
                    idle-timeout: 1500ms
                  c:
                    listen: 127.0.0.1:22123
                    servers: [ "127.0.0.1:11213" ]
                """);

        assertThat(setup.httpPort()).isEqualTo(9150);
        assertThat(setup.shutdownTimeout()).isEqualTo(Duration.ofSeconds(12));
        assertThat(setup.pools())
                .extracting(p -> p.config().operations().httpPort())
                .containsOnly(9150);
        assertThat(setup.pool("a").config().operations().idleTimeout()).isEqualTo(Duration.ofSeconds(300));
        assertThat(setup.pool("b").config().operations().idleTimeout()).isEqualTo(Duration.ofMillis(1500));
        assertThat(setup.pool("c").config().operations())
                .isEqualTo(new ProxyConfig.Operations(9150, Duration.ofSeconds(12), Duration.ZERO));
    }

    @Test
    void httpTlsServesTheEndpointOverHttpsForEveryPool() throws ConfigException {
        ProxySetup setup = parse("""
                http-port: 9150
                http-tls: { cert: /etc/jmagent/http.pem, key: /etc/jmagent/http.key, ca: /etc/jmagent/scrapers.pem }
                pools:
                  a:
                    listen: 127.0.0.1:22121
                    servers: [ "127.0.0.1:11211" ]
                  b:
                    listen: 127.0.0.1:22122
                    servers: [ "127.0.0.1:11212" ]
                """);

        HttpTls expected = new HttpTls(
                Path.of("/etc/jmagent/http.pem"),
                Path.of("/etc/jmagent/http.key"),
                Path.of("/etc/jmagent/scrapers.pem"));
        assertThat(setup.httpTls()).isEqualTo(expected);
        assertThat(setup.pools())
                .extracting(p -> p.config().operations().httpTls())
                .containsOnly(expected);
    }

    @Test
    void aPoolGivesEverySettingItNamesAndTheFlagsDefaultsForTheRest() throws ConfigException {
        ProxySetup setup = parse("""
                threads: 3
                verbose: 1
                pools:
                  main:
                    listen: "[::1]:22121"
                    servers: [ "10.0.0.1:11211:3", "cache-2:11212" ]
                    timeout: 2s
                    failure-limit: 5
                    probe-interval: 250
                    auto-eject: true
                    max-stale-keys: 10
                    write-back-ttl: 0
                    max-connections: 100
                    max-keep-alive: 8
                    backend-connections: 1
                    max-pending: 64
                    max-item-size: 64k
                    max-line-length: 4096
                  quiet:
                    unix-socket: /run/jmagent.sock
                    servers: [ "10.0.0.9" ]
                """.replace("cache-2", "localhost"));

        ProxyConfig main = setup.pool("main").config();
        assertThat(main.listenAddress()).isEqualTo("::1");
        assertThat(main.port()).isEqualTo(22121);
        assertThat(main.servers())
                .containsExactly(new ServerAddress("10.0.0.1", 11211, 3), new ServerAddress("localhost", 11212, 1));
        assertThat(main.timeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(main.failover()).isEqualTo(new ProxyConfig.Failover(5, Duration.ofMillis(250), true, 10, 0));
        assertThat(main.maxConnections()).isEqualTo(100);
        assertThat(main.maxKeepAlive()).isEqualTo(8);
        assertThat(main.connectionsPerLoop()).isEqualTo(1);
        assertThat(main.maxPendingPerClient()).isEqualTo(64);
        assertThat(main.maxItemSize()).isEqualTo(64 * 1024);
        assertThat(main.maxRetrievalLine()).isEqualTo(4096);
        assertThat(main.threads()).isEqualTo(3);
        assertThat(main.verbosity()).isEqualTo(1);

        ProxyConfig quiet = setup.pool("quiet").config();
        assertThat(quiet.port()).isZero();
        assertThat(quiet.unixSocket()).isEqualTo(Path.of("/run/jmagent.sock"));
        assertThat(quiet.servers()).containsExactly(new ServerAddress("10.0.0.9", 11211, 1));
        assertThat(quiet.maxConnections()).isEqualTo(ProxyConfig.DEFAULT_MAX_CONNECTIONS);
        assertThat(quiet.timeout()).isEqualTo(ProxyConfig.DEFAULT_TIMEOUT);
        assertThat(quiet.failover()).isEqualTo(ProxyConfig.Failover.DEFAULTS);
        assertThat(quiet.threads()).isEqualTo(3);
    }

    @Test
    void poolsKeepTheFilesOrderSoTheFirstPoolIsTheFirstWritten() throws ConfigException {
        ProxySetup setup = parse("""
                pools:
                  zeta: { listen: "127.0.0.1:1", servers: [ "127.0.0.1:2" ] }
                  alpha: { listen: "127.0.0.1:3", servers: [ "127.0.0.1:4" ] }
                """);

        assertThat(setup.pools()).extracting(ProxySetup.Pool::name).containsExactly("zeta", "alpha");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                // the structure
                "empty file| |test.yml: pools: required: at least one pool",
                "no pools|threads: 2|test.yml: pools: required: at least one pool",
                "pools not a mapping|pools: [ a, b ]|test.yml: pools: expected a mapping of key: value, got a list",
                "top level not a mapping|- a|test.yml: expected a mapping of key: value, got a list",
                "bad pool name|pools: / 'a b': { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ] }"
                        + "|test.yml: pools: bad pool name 'a b': letters, digits, '_', '-' and '.'",
                // discovery
                "discovery bad source|pools: / a: { listen: '127.0.0.1:1', discovery: { servers: 'dns:x' } }"
                        + "|test.yml: pools.a.discovery.servers: dns:NAME:PORT needs the port",
                "discovery unknown kind|pools: / a: { listen: '127.0.0.1:1', discovery: { servers: 'consul:x' } }"
                        + "|test.yml: pools.a.discovery.servers: bad source 'consul:x': expected dns:NAME:PORT[:WEIGHT], srv:NAME or config:HOST:PORT",
                "discovery of backups only needs servers|pools: / a: { listen: '127.0.0.1:1', discovery: { backups: 'srv:_m._tcp.x' } }"
                        + "|test.yml: pools.a.servers: required: at least one HOST:PORT[:WEIGHT] (or discovery.servers)",
                "discovery unknown key|pools: / a: { listen: '127.0.0.1:1', discovery: { servers: 'srv:_m._tcp.x', ttl: 3 } }"
                        + "|test.yml: pools.a.discovery.ttl: unknown key",
                "discovery interval too short|pools: / a: { listen: '127.0.0.1:1', discovery: { servers: 'srv:_m._tcp.x', interval: 10ms } }"
                        + "|test.yml: pools.a.discovery: discovery interval must be at least 100ms",
                // unknown keys
                "unknown top-level key|treads: 2 / pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ] }"
                        + "|test.yml: treads: unknown key",
                "unknown pool key|pools: / a: { listn: '127.0.0.1:1', servers: [ '127.0.0.1:2' ] }"
                        + "|test.yml: pools.a.listn: unknown key",
                "twemproxy's name|pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ], auto_eject_hosts: true }"
                        + "|test.yml: pools.a.auto_eject_hosts: unknown key (jmagent's is 'auto-eject')",
                "underscores for dashes|pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ], failure_limit: 1 }"
                        + "|test.yml: pools.a.failure_limit: unknown key (jmagent's is 'failure-limit')",
                // addresses
                "listen without port|pools: / a: { listen: '127.0.0.1', servers: [ '127.0.0.1:2' ] }"
                        + "|test.yml: pools.a.listen: bad address '127.0.0.1': expected HOST:PORT",
                "listen port not a number|pools: / a: { listen: '127.0.0.1:x', servers: [ '127.0.0.1:2' ] }"
                        + "|test.yml: pools.a.listen: bad address '127.0.0.1:x': port is not a number",
                "listen port out of range|pools: / a: { listen: '127.0.0.1:70000', servers: [ '127.0.0.1:2' ] }"
                        + "|test.yml: pools.a.listen: bad address '127.0.0.1:70000': port out of range",
                "listen port 0 without tls|pools: / a: { listen: '127.0.0.1:0', servers: [ '127.0.0.1:2' ] }"
                        + "|test.yml: pools.a.listen: port 0 listens for TLS clients only (as -p 0): give tls, or a port",
                "listen IPv6 without brackets|pools: / a: { listen: '::1:22121', servers: [ '127.0.0.1:2' ] }"
                        + "|test.yml: pools.a.listen: bad address '::1:22121': an IPv6 address goes in brackets, [::1]:22121",
                "listen not a string|pools: / a: { listen: 22121, servers: [ '127.0.0.1:2' ] }"
                        + "|test.yml: pools.a.listen: expected a string, got 22121 (quote it)",
                "listen host unresolvable|pools: / a: { listen: 'no-such-host.invalid:1', servers: [ '127.0.0.1:2' ] }"
                        + "|test.yml: pools.a.listen: cannot resolve host 'no-such-host.invalid'",
                "bad server address|pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2', '127.0.0.1:x' ] }"
                        + "|test.yml: pools.a.servers[1]: bad server address '127.0.0.1:x': not a number",
                "server host unresolvable|pools: / a: { listen: '127.0.0.1:1', servers: [ 'no-such-host.invalid:2' ] }"
                        + "|test.yml: pools.a.servers[0]: cannot resolve host 'no-such-host.invalid'",
                "server listed twice|pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2', '127.0.0.1:2:5' ] }"
                        + "|test.yml: pools.a.servers[1]: 127.0.0.1:2 is listed twice",
                "backup also a primary|pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ], backups: [ '127.0.0.1:2' ] }"
                        + "|test.yml: pools.a.backups[0]: 127.0.0.1:2 is also a primary server",
                "servers not a list|pools: / a: { listen: '127.0.0.1:1', servers: '127.0.0.1:2' }"
                        + "|test.yml: pools.a.servers: expected a list of HOST:PORT[:WEIGHT], like [ \"127.0.0.1:11211:1\" ]",
                "no servers|pools: / a: { listen: '127.0.0.1:1' }"
                        + "|test.yml: pools.a.servers: required: at least one HOST:PORT[:WEIGHT] (or discovery.servers)",
                "empty servers|pools: / a: { listen: '127.0.0.1:1', servers: [] }"
                        + "|test.yml: pools.a.servers: required: at least one HOST:PORT[:WEIGHT] (or discovery.servers)",
                "nothing to listen on|pools: / a: { servers: [ '127.0.0.1:2' ] }"
                        + "|test.yml: pools.a: nothing to listen on: give listen (HOST:PORT) or unix-socket (a pool"
                        + " without either is reached only through another pool's routes or shadow)",
                "server on the pool's own address|pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2', '127.0.0.1:1' ] }"
                        + "|test.yml: pools.a.servers[1]: 127.0.0.1:1 is where pool 'a' listens (127.0.0.1:1): jmagent would "
                        + "send every request to itself",
                "backup on the wildcard listen address|pools: / a: { listen: '0.0.0.0:5', servers: [ '127.0.0.1:2' ],"
                        + " backups: [ 'localhost:5' ] }|test.yml: pools.a.backups[0]: localhost:5 is where pool 'a' listens "
                        + "(0.0.0.0:5): jmagent would send every request to itself",
                // two pools on one address
                "same listen address|pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ] }"
                        + " / b: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:3' ] }"
                        + "|test.yml: pools.b.listen: 127.0.0.1:1 is already where pool 'a' listens",
                "same port on the wildcard address|pools: / a: { listen: '0.0.0.0:1', servers: [ '127.0.0.1:2' ] }"
                        + " / b: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:3' ] }"
                        + "|test.yml: pools.b.listen: 127.0.0.1:1 is already where pool 'a' listens",
                "same unix socket|pools: / a: { unix-socket: /tmp/j.sock, servers: [ '127.0.0.1:2' ] }"
                        + " / b: { unix-socket: /tmp/./j.sock, servers: [ '127.0.0.1:3' ] }"
                        + "|test.yml: pools.b.unix-socket: unix socket /tmp/./j.sock is already where pool 'a' listens",
                // values
                "timeout not a duration|pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ], timeout: 1h }"
                        + "|test.yml: pools.a.timeout: not a duration: '1h' (milliseconds, or like 250ms or 2s)",
                "timeout zero|pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ], timeout: 0 }"
                        + "|test.yml: pools.a.timeout: must be positive, got 0",
                "negative failure limit|pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ], failure-limit: -1 }"
                        + "|test.yml: pools.a.failure-limit: must be positive, got -1",
                "number as a string|pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ], max-pending: '10' }"
                        + "|test.yml: pools.a.max-pending: expected a whole number, got '10'",
                "auto-eject not a boolean|pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ], auto-eject: 1 }"
                        + "|test.yml: pools.a.auto-eject: expected true or false, got 1",
                "bad size|pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ], max-item-size: 1g }"
                        + "|test.yml: pools.a.max-item-size: not a size: '1g'",
                "negative write-back TTL|pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ], write-back-ttl: -5 }"
                        + "|test.yml: pools.a.write-back-ttl: must not be negative, got -5",
                "another hash|pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ], hash: fnv1a_64 }"
                        + "|test.yml: pools.a.hash: only md5 (libmemcached's ketama) is supported, not 'fnv1a_64'",
                "another distribution|pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ], distribution: modula }"
                        + "|test.yml: pools.a.distribution: only ketama is supported, not 'modula'",
                "verbose out of range|verbose: 3 / pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ] }"
                        + "|test.yml: verbose: must be 0 (info), 1 (debug) or 2 (trace), not 3",
                "zero threads|threads: 0 / pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ] }"
                        + "|test.yml: threads: must be positive, got 0",
                "http port out of range|http-port: 70000 / pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ] }"
                        + "|test.yml: http-port: must be a port, 1 to 65535 (0: no HTTP endpoint), not 70000",
                "http port of a pool|http-port: 1 / pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ] }"
                        + "|test.yml: pools.a: the HTTP port must differ from the memcached port (-p)",
                "http port in a pool|pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ], http-port: 3 }"
                        + "|test.yml: pools.a.http-port: unknown key",
                "http-tls without a key|http-port: 9150 / http-tls: { cert: /c.pem } / pools: / a: { listen: '127.0.0.1:1',"
                        + " servers: [ '127.0.0.1:2' ] }|test.yml: http-tls: HTTPS needs both a certificate (cert) and its key (key)",
                "http-tls without http-port|http-tls: { cert: /c.pem, key: /c.key } / pools: / a: { listen: '127.0.0.1:1',"
                        + " servers: [ '127.0.0.1:2' ] }|test.yml: http-tls: needs http-port: the port HTTPS is served on",
                "http-tls unknown key|http-port: 9150 / http-tls: { cert: /c.pem, key: /c.key, port: 1 } / pools: / a: {"
                        + " listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ] }|test.yml: http-tls.port: unknown key",
                "negative shutdown timeout|shutdown-timeout: -1 / pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ] }"
                        + "|test.yml: shutdown-timeout: must not be negative, got -1",
                "idle timeout not a duration|pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ], idle-timeout: 5m }"
                        + "|test.yml: pools.a.idle-timeout: not a duration: '5m' (seconds, or like 250ms or 2s)",
                // tenants
                "tenants without a way to know them|pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ],"
                        + " tenants: { shop: { users: [ shop ] } } }|test.yml: pools.a.tenants: a tenant is known by its"
                        + " login or its certificate: give auth-file, or tls with a ca",
                "a user in two tenants|pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ], auth-file: /a,"
                        + " tenants: { shop: { users: [ u ] }, blog: { users: [ u ] } } }"
                        + "|test.yml: pools.a.tenants.blog.users: user 'u' is already tenant shop",
                "a tenant naming nobody|pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ], auth-file: /a,"
                        + " tenants: { shop: { prefix: 's:' } } }"
                        + "|test.yml: pools.a.tenants.shop: names nobody: give users or certificates",
                "a prefix with a space|pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ], auth-file: /a,"
                        + " tenants: { shop: { prefix: 's s', users: [ u ] } } }"
                        + "|test.yml: pools.a.tenants.shop: a key prefix is printable ASCII without spaces, got 's s'",
                "overlapping tenant prefixes|pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ], auth-file: /a,"
                        + " tenants: { shop: { prefix: 'shop', users: [ u ] }, shopx: { prefix: 'shop:x', users: [ v ] } } }"
                        + "|test.yml: pools.a.tenants.shopx.prefix: 'shop:x' starts with tenant shop's prefix 'shop': its"
                        + " keys would be among shop's",
                "a tenant key unknown|pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ], auth-file: /a,"
                        + " tenants: { shop: { users: [ u ], quota: 3 } } }"
                        + "|test.yml: pools.a.tenants.shop.quota: unknown key",
                "a rate of zero|pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ], auth-file: /a,"
                        + " tenants: { shop: { users: [ u ], max-requests-per-second: 0 } } }"
                        + "|test.yml: pools.a.tenants.shop.max-requests-per-second: must be positive, got 0",
                // routes
                "a route to no pool|pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ], routes: { 'u:': b } }"
                        + "|test.yml: pools.a.routes.u:: no pool 'b' in this file",
                "a route to itself|pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ], routes: { 'u:': a } }"
                        + "|test.yml: pools.a.routes.u:: a pool's own keys need no route: leave it out",
                "a route to a routing pool|pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ], routes: { 'u:': b } }"
                        + " / b: { listen: '127.0.0.1:3', servers: [ '127.0.0.1:4' ], routes: { 'v:': a } }"
                        + "|test.yml: pools.a.routes.u:: pool 'b' has routes of its own: a key is routed once",
                "a route prefix with a space|pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ],"
                        + " routes: { 'u x': b } }|test.yml: pools.a.routes.u x: a route's prefix is printable ASCII"
                        + " without spaces, got 'u x'",
                // shadow
                "a shadow of no pool|pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ], shadow: { pool: b } }"
                        + "|test.yml: pools.a.shadow.pool: no pool 'b' in this file",
                "a shadow of itself|pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ], shadow: { pool: a } }"
                        + "|test.yml: pools.a.shadow.pool: a pool cannot shadow itself",
                "a shadow share of 0|pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ],"
                        + " shadow: { pool: a, share: 0 } }|test.yml: pools.a.shadow: a shadow's share is more than 0"
                        + " and at most 1, got 0.0",
                "a shadow without its pool|pools: / a: { listen: '127.0.0.1:1', servers: [ '127.0.0.1:2' ],"
                        + " shadow: { share: 0.1 } }|test.yml: pools.a.shadow.pool: required: the pool that gets the copies",
                // YAML itself
                "a key twice|pools: / a: { listen: '127.0.0.1:1', listen: '127.0.0.1:2', servers: [ '127.0.0.1:2' ] }"
                        + "|test.yml: line 2, column 31: found duplicate key listen",
                "broken YAML|pools: / a: { listen: '127.0.0.1:1'|test.yml: line 2, column 29: expected ',' or '}', but got <stream end>",
            })
    void anInvalidFileIsOneLineNamingTheFileAndTheKey(String what, String yaml, String message) {
        assertThatThrownBy(() -> parse(
                        yaml == null
                                ? ""
                                : lines(yaml.replace("/ a:", "/   a:")
                                        .replace("/ b:", "/   b:")
                                        .replace("/ 'a b'", "/   'a b'"))))
                .isInstanceOf(ConfigException.class)
                .hasMessage(message);
    }

    @Test
    void aPoolMayFindItsServersByDiscovery() throws ConfigException {
        ProxyConfig c = parse("""
                pools:
                  a:
                    listen: 127.0.0.1:22121
                    servers: [ "127.0.0.1:11211" ]
                    discovery:
                      servers: "srv:_memcache._tcp.cache.example"
                      backups: "dns:backup.example:11311:2"
                      interval: 5
                      leave-after: 4
                      dns-servers: [ "127.0.0.1:5353", "10.0.0.2", "[::1]:53" ]
                      flush-on-join: false
                  b:
                    listen: 127.0.0.1:22122
                    discovery: { servers: "config:cfg.example:11211" }
                """).pool("a").config();

        assertThat(c.servers()).containsExactly(new ServerAddress("127.0.0.1", 11211, 1));
        Discovery d = c.discovery();
        assertThat(d.servers()).isEqualTo(new Discovery.Srv("_memcache._tcp.cache.example"));
        assertThat(d.backups()).isEqualTo(new Discovery.Dns("backup.example", 11311, 2));
        assertThat(d.interval()).isEqualTo(Duration.ofSeconds(5));
        assertThat(d.leaveAfter()).isEqualTo(4);
        assertThat(d.nameServers())
                .containsExactly(
                        new InetSocketAddress("127.0.0.1", 5353),
                        new InetSocketAddress("10.0.0.2", 53),
                        new InetSocketAddress("::1", 53));
        assertThat(d.flushOnJoin()).isFalse();
        ProxyConfig b = parse("""
                pools:
                  b:
                    listen: 127.0.0.1:22122
                    discovery: { servers: "config:cfg.example:11211" }
                """).pool("b").config();
        assertThat(b.servers()).isEmpty();
        assertThat(b.discovery())
                .isEqualTo(new Discovery(
                        new Discovery.ConfigEndpoint("cfg.example", 11211),
                        null,
                        Discovery.DEFAULT_INTERVAL,
                        Discovery.DEFAULT_LEAVE_AFTER,
                        List.of(),
                        true));
    }

    @Test
    void aPoolMayHaveTenantsKnownByLoginOrCertificate() throws ConfigException {
        ProxySetup setup = parse(String.join(
                "\n",
                "pools:",
                "  a:",
                "    listen: 127.0.0.1:1",
                "    servers: [ 127.0.0.1:2 ]",
                "    auth-file: /etc/jmagent/users",
                "    tenants:",
                "      shop: { prefix: 'shop:', users: [ shop, shop-batch ], max-connections: 100,"
                        + " max-requests-per-second: 5000 }",
                "      ops: { users: [ admin ], certificates: [ 'CN=ops,O=Example' ] }"));
        List<TenantSpec> tenants = setup.pools().get(0).config().tenants();
        assertThat(tenants)
                .containsExactly(
                        new TenantSpec("shop", "shop:", Set.of("shop", "shop-batch"), Set.of(), 100, 5000),
                        new TenantSpec("ops", "", Set.of("admin"), Set.of("CN=ops,O=Example"), 0, 0));
    }

    @Test
    void aMissingFileSaysSo() {
        assertThatThrownBy(() -> ConfigFile.load(Path.of("no/such/jmagent.yml")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("no/such/jmagent.yml: cannot read: no such file");
    }

    @Test
    void aServerMayMoveBetweenPoolsButNotSitInBothFarmsOfOne() throws ConfigException {
        ProxySetup setup = parse("""
                pools:
                  a: { listen: "127.0.0.1:1", servers: [ "127.0.0.1:2" ], backups: [ "127.0.0.1:3" ] }
                  b: { listen: "127.0.0.1:4", servers: [ "127.0.0.1:2" ] }
                """);

        assertThat(setup.pools())
                .extracting(p -> p.config().servers())
                .containsExactly(
                        List.of(new ServerAddress("127.0.0.1", 2, 1)), List.of(new ServerAddress("127.0.0.1", 2, 1)));
    }
}
