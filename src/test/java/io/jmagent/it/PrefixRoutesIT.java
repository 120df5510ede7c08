package io.jmagent.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.jmagent.config.ConfigFile;
import io.jmagent.frontend.ProxyPools;
import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.TestTransport;
import io.jmagent.testing.TextClient;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import net.spy.memcached.ConnectionFactoryBuilder;
import net.spy.memcached.MemcachedClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Routes by key prefix (issue 16): one listener whose keys go, by their longest matching prefix,
 * to other pools of the file, each with its own servers, and the rest to its own. Checked where
 * the keys land (on the memcached processes themselves), that a multi-get over several pools
 * answers as one memcached holding every key would (same bytes, same order, duplicates too), and
 * that meta, binary clients, flush_all and the counters follow the table.
 */
class PrefixRoutesIT {

    private MemcachedProcess own;
    private MemcachedProcess users;
    private MemcachedProcess vip;
    private MemcachedProcess sessions;
    private MemcachedProcess alone;
    private ProxyPools pools;
    private int port;
    private String yaml;

    @BeforeEach
    void start() throws Exception {
        own = MemcachedProcess.start();
        users = MemcachedProcess.start();
        vip = MemcachedProcess.start();
        sessions = MemcachedProcess.start();
        alone = MemcachedProcess.start();
        port = MemcachedProcess.freePort();
        yaml = String.join(
                "\n",
                "http-port: " + MemcachedProcess.freePort(),
                "pools:",
                "  front:",
                "    listen: 127.0.0.1:" + port,
                "    servers: [ 127.0.0.1:" + own.port() + " ]",
                "    routes:",
                "      'user:': users",
                "      'user:vip:': vip",
                "      'sess:': sessions",
                "  users:                     # reached only through front's routes",
                "    servers: [ 127.0.0.1:" + users.port() + " ]",
                "  vip:",
                "    listen: 127.0.0.1:" + MemcachedProcess.freePort(),
                "    servers: [ 127.0.0.1:" + vip.port() + " ]",
                "  sessions:",
                "    listen: 127.0.0.1:" + MemcachedProcess.freePort(),
                "    servers: [ 127.0.0.1:" + sessions.port() + " ]",
                "");
        pools = new ProxyPools(ConfigFile.parse(yaml, "routes.yml"), TestTransport.chosen()).start();
    }

    @AfterEach
    void stop() {
        if (pools != null) {
            pools.close();
        }
        for (MemcachedProcess m : new MemcachedProcess[] {own, users, vip, sessions, alone}) {
            if (m != null) {
                m.close();
            }
        }
    }

    private static String get(MemcachedProcess m, String key) {
        try (TextClient c = new TextClient(m.port())) {
            return c.exchange("get " + key + "\r\n");
        }
    }

    @Test
    void aKeyGoesToThePoolItsLongestPrefixNames() {
        try (TextClient front = new TextClient(port)) {
            for (String key : new String[] {"user:1", "user:vip:1", "sess:1", "other", "use"}) {
                assertThat(front.exchange("set " + key + " 0 0 1\r\nx\r\n")).isEqualTo("STORED\r\n");
            }
        }
        assertThat(get(users, "user:1")).startsWith("VALUE user:1 ");
        assertThat(get(vip, "user:vip:1")).startsWith("VALUE user:vip:1 ");
        assertThat(get(sessions, "sess:1")).startsWith("VALUE sess:1 ");
        assertThat(get(own, "other")).startsWith("VALUE other ");
        assertThat(get(own, "use")).startsWith("VALUE use ");
        for (MemcachedProcess m : new MemcachedProcess[] {own, vip, sessions}) {
            assertThat(get(m, "user:1")).isEqualTo("END\r\n");
        }
        assertThat(get(users, "user:vip:1")).isEqualTo("END\r\n");
        assertThat(get(own, "sess:1")).isEqualTo("END\r\n");
    }

    /** The same script to the front pool and to one memcached: the same replies, byte for byte. */
    @Test
    void aMultiGetOverSeveralPoolsAnswersAsOneMemcached() {
        List<String> script = List.of(
                "set user:1 1 0 2\r\nu1\r\n",
                "set sess:9 2 0 2\r\ns9\r\n",
                "set other 3 0 5\r\nother\r\n",
                "set user:vip:7 4 0 1\r\nv\r\n",
                "get other user:1 missing sess:9 user:vip:7 user:1 nope:1 sess:9\r\n",
                "get missing user:none\r\n",
                "gat 100 user:1 other\r\n",
                "incr user:n 1\r\n",
                "set user:n 0 0 1\r\n5\r\n",
                "incr user:n 2\r\n",
                "append sess:9 0 0 1\r\n!\r\n",
                "get sess:9 user:n\r\n",
                "delete user:1\r\n",
                "get user:1 other\r\n",
                "mg user:vip:7 v f k\r\n",
                "ms sess:m 2 T0\r\nhi\r\n",
                "mg sess:m v\r\n",
                "md sess:m q\r\nmn\r\n");
        try (TextClient front = new TextClient(port);
                TextClient direct = new TextClient(alone.port())) {
            for (String request : script) {
                assertThat(front.exchange(request)).as(request).isEqualTo(direct.exchange(request));
            }
        }
        assertThat(get(sessions, "sess:9")).isEqualTo("VALUE sess:9 2 3\r\ns9!\r\nEND\r\n");
    }

    @Test
    void binaryClientsAndFlushAllFollowTheTable() throws Exception {
        MemcachedClient spy = new MemcachedClient(
                new ConnectionFactoryBuilder()
                        .setProtocol(ConnectionFactoryBuilder.Protocol.BINARY)
                        .setOpTimeout(5000)
                        .setDaemon(true)
                        .build(),
                List.of(new InetSocketAddress("127.0.0.1", port)));
        try {
            assertThat(spy.set("user:b", 0, "bin").get(10, TimeUnit.SECONDS)).isTrue();
            assertThat(spy.set("sess:b", 0, "bin2").get(10, TimeUnit.SECONDS)).isTrue();
            assertThat(spy.set("b", 0, "bin3").get(10, TimeUnit.SECONDS)).isTrue();
            assertThat(spy.getBulk("user:b", "sess:b", "b", "none"))
                    .isEqualTo(Map.of("user:b", "bin", "sess:b", "bin2", "b", "bin3"));
            assertThat(spy.incr("user:c", 1, 7)).isEqualTo(7);
            assertThat(spy.incr("user:c", 1, 7)).isEqualTo(8);
            assertThat(get(users, "user:b")).startsWith("VALUE user:b ");
            assertThat(get(users, "user:c")).isEqualTo("VALUE user:c 0 1\r\n8\r\nEND\r\n");
            assertThat(get(sessions, "sess:b")).startsWith("VALUE sess:b ");
        } finally {
            spy.shutdown(2, TimeUnit.SECONDS);
        }
        try (TextClient front = new TextClient(port)) {
            assertThat(front.exchange("flush_all\r\n")).isEqualTo("OK\r\n");
            assertThat(front.exchange("get user:b sess:b b\r\n")).isEqualTo("END\r\n");
        }
        assertThat(get(users, "user:b")).isEqualTo("END\r\n");
        assertThat(get(sessions, "sess:b")).isEqualTo("END\r\n");
        assertThat(get(own, "b")).isEqualTo("END\r\n");
    }

    @Test
    void eachRouteCountsItsRequests() throws Exception {
        try (TextClient front = new TextClient(port)) {
            front.exchange("get user:1\r\nget user:vip:1 sess:1 x\r\nset x 0 0 1\r\nx\r\n");
            assertThat(front.exchange("stats routes\r\n"))
                    .isEqualTo("STAT route:user:vip: pool=vip requests=1\r\n"
                            + "STAT route:user: pool=users requests=1\r\n"
                            + "STAT route:sess: pool=sessions requests=1\r\n"
                            + "STAT route:default pool=front requests=2\r\n"
                            + "END\r\n");
        }
        String metrics = new String(
                new java.net.URL("http://127.0.0.1:" + pools.httpPort() + "/metrics")
                        .openStream()
                        .readAllBytes(),
                java.nio.charset.StandardCharsets.UTF_8);
        assertThat(metrics)
                .contains("jmagent_route_requests_total{pool=\"front\",route=\"user:vip:\",target=\"vip\"} 1.0")
                .contains("jmagent_route_requests_total{pool=\"front\",route=\"\",target=\"front\"} 2.0");
    }

    /** A reload that changes the table moves the keys of clients already connected too. */
    @Test
    void aReloadedTableIsFollowedByClientsAlreadyIn() throws Exception {
        try (TextClient front = new TextClient(port)) {
            assertThat(front.exchange("set user:1 0 0 1\r\nx\r\n")).isEqualTo("STORED\r\n");
            // user: and sess: swap pools (users, which listens nowhere, must stay some route's target)
            pools.apply(ConfigFile.parse(
                    yaml.replace("'user:': users", "'user:': sessions").replace("'sess:': sessions", "'sess:': users"),
                    "routes.yml"));
            assertThat(front.exchange("set user:2 0 0 1\r\ny\r\n")).isEqualTo("STORED\r\n");
            assertThat(front.exchange("stats routes\r\n")).contains("STAT route:user: pool=sessions requests=1\r\n");
        }
        assertThat(get(users, "user:1")).startsWith("VALUE user:1 ");
        assertThat(get(sessions, "user:2")).startsWith("VALUE user:2 ");
        assertThat(get(users, "user:2")).isEqualTo("END\r\n");
    }

    /** With tenants, the route is chosen by the key as the servers see it: the tenant's prefix first. */
    @Test
    void aTenantsPrefixChoosesItsRoute() throws Exception {
        pools.close();
        java.nio.file.Path auth = java.nio.file.Files.createTempFile("routes-auth", "");
        java.nio.file.Files.writeString(auth, "u:u-pw\nops:ops-pw\n");
        String withTenants = yaml.replace(
                "    routes:\n",
                "    auth-file: " + auth + "\n"
                        + "    tenants: { users-app: { prefix: 'user:', users: [ u ] }, ops: { users: [ ops ] } }\n"
                        + "    routes:\n");
        pools = new ProxyPools(ConfigFile.parse(withTenants, "routes.yml"), TestTransport.chosen()).start();
        try (TextClient app = new TextClient(port)) {
            assertThat(app.exchange("set auth 0 0 6\r\nu u-pw\r\n")).isEqualTo("STORED\r\n");
            assertThat(app.exchange("set 7 0 0 1\r\nx\r\nset vip:8 0 0 1\r\ny\r\n"))
                    .isEqualTo("STORED\r\nSTORED\r\n");
            assertThat(app.exchange("get 7 vip:8\r\n"))
                    .isEqualTo("VALUE 7 0 1\r\nx\r\nVALUE vip:8 0 1\r\ny\r\nEND\r\n");
        } finally {
            java.nio.file.Files.delete(auth);
        }
        assertThat(get(users, "user:7")).startsWith("VALUE user:7 ");
        assertThat(get(vip, "user:vip:8")).startsWith("VALUE user:vip:8 ");
        assertThat(get(own, "7")).isEqualTo("END\r\n");
    }

    @Test
    void aTargetPoolStoppedAnswersAnErrorForItsKeysOnly() {
        users.close();
        try (TextClient front = new TextClient(port)) {
            assertThat(front.exchange("set other 0 0 1\r\nx\r\n")).isEqualTo("STORED\r\n");
            assertThat(front.exchange("set user:1 0 0 1\r\nx\r\n")).startsWith("SERVER_ERROR ");
            assertThat(front.exchange("get user:1 other\r\n")).startsWith("SERVER_ERROR ");
            assertThat(front.exchange("get other\r\n")).isEqualTo("VALUE other 0 1\r\nx\r\nEND\r\n");
        }
        users = null;
    }
}
