package io.jmagent.it;

import static io.jmagent.testing.BinaryPacket.GETK;
import static io.jmagent.testing.BinaryPacket.SASL_AUTH;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jmagent.config.ClientTls;
import io.jmagent.config.ProxyConfigBuilder;
import io.jmagent.config.TenantSpec;
import io.jmagent.testing.BinaryClient;
import io.jmagent.testing.BinaryPacket;
import io.jmagent.testing.BinaryResponse;
import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.RunningProxy;
import io.jmagent.testing.TestCertificates;
import io.jmagent.testing.TextClient;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import net.spy.memcached.ConnectionFactoryBuilder;
import net.spy.memcached.FailureMode;
import net.spy.memcached.MemcachedClient;
import net.spy.memcached.auth.AuthDescriptor;
import net.spy.memcached.auth.PlainCallbackHandler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tenants (issue 14): clients known by their login (text -Y, binary SASL) or their client
 * certificate, each tenant's keys under its own prefix on a shared farm. The promise tried here:
 * no tenant reads or changes another's keys over any protocol; a tenant's client sees its keys as
 * it wrote them (differentially: the meta replies it gets equal those of a memcached of its own);
 * quotas on connections and request rate hold at their edge; the counters say what happened.
 */
class TenantIT {

    @TempDir
    static Path dir;

    private static Path authFile;
    private static List<MemcachedProcess> servers;
    private static MemcachedProcess alone;

    private static final TenantSpec SHOP = new TenantSpec("shop", "shop:", Set.of("shop"), Set.of(), 0, 0);
    private static final TenantSpec BLOG = new TenantSpec("blog", "blog:", Set.of("blog"), Set.of(), 0, 0);
    private static final TenantSpec OPS = new TenantSpec("ops", "", Set.of("ops"), Set.of(), 0, 0);

    @BeforeAll
    static void start() throws IOException {
        authFile = dir.resolve("auth");
        Files.writeString(
                authFile, "shop:shop-pw\nblog:blog-pw\nops:ops-pw\ncarol:carol-pw\nfew:few-pw\nslow:slow-pw\n");
        servers = List.of(MemcachedProcess.start(), MemcachedProcess.start());
        alone = MemcachedProcess.start();
    }

    @AfterAll
    static void stop() {
        servers.forEach(MemcachedProcess::close);
        alone.close();
    }

    private static RunningProxy proxy(List<TenantSpec> tenants) {
        return RunningProxy.over(servers, List.of(), c -> new ProxyConfigBuilder(c)
                .authFile(authFile)
                .tenants(tenants)
                .build());
    }

    private static TextClient login(RunningProxy proxy, String user) {
        TextClient c = new TextClient(proxy.port());
        String pw = user + "-pw";
        assertThat(c.exchange("set auth 0 0 " + (user.length() + 1 + pw.length()) + "\r\n" + user + " " + pw + "\r\n"))
                .isEqualTo("STORED\r\n");
        return c;
    }

    @Test
    void noTenantReadsOrChangesAnothersKeysOverText() {
        try (RunningProxy proxy = proxy(List.of(SHOP, BLOG, OPS));
                TextClient shop = login(proxy, "shop");
                TextClient blog = login(proxy, "blog");
                TextClient ops = login(proxy, "ops")) {
            assertThat(shop.exchange("set k 5 0 4\r\nshop\r\n")).isEqualTo("STORED\r\n");
            assertThat(blog.exchange("get k\r\n")).isEqualTo("END\r\n");
            assertThat(blog.exchange("delete k\r\n")).isEqualTo("NOT_FOUND\r\n");
            assertThat(blog.exchange("incr k 1\r\n")).isEqualTo("NOT_FOUND\r\n");
            assertThat(blog.exchange("append k 0 0 1\r\nx\r\n")).isEqualTo("NOT_STORED\r\n");
            assertThat(blog.exchange("set k 6 0 4\r\nblog\r\n")).isEqualTo("STORED\r\n");
            assertThat(blog.exchange("set only-blog 0 0 1\r\nb\r\n")).isEqualTo("STORED\r\n");
            // each sees its own value under the key it wrote, in a multi-get across both servers too
            assertThat(shop.exchange("get k only-blog k\r\n"))
                    .isEqualTo("VALUE k 5 4\r\nshop\r\nVALUE k 5 4\r\nshop\r\nEND\r\n");
            assertThat(blog.exchange("get k only-blog\r\n"))
                    .isEqualTo("VALUE k 6 4\r\nblog\r\nVALUE only-blog 0 1\r\nb\r\nEND\r\n");
            assertThat(shop.exchange("gets k\r\n")).startsWith("VALUE k 5 4 ").endsWith("\r\nshop\r\nEND\r\n");
            assertThat(shop.exchange("gat 100 k\r\n")).isEqualTo("VALUE k 5 4\r\nshop\r\nEND\r\n");
            assertThat(shop.exchange("touch k 0\r\n")).isEqualTo("TOUCHED\r\n");
            // the tenant without a prefix (the operator's) sees where they are
            assertThat(ops.exchange("get shop:k blog:k k\r\n"))
                    .isEqualTo("VALUE shop:k 5 4\r\nshop\r\nVALUE blog:k 6 4\r\nblog\r\nEND\r\n");
            // flush_all would empty the others' keys too: not for a tenant with a prefix
            assertThat(shop.exchange("flush_all\r\n"))
                    .isEqualTo("CLIENT_ERROR flush_all is not allowed for tenant shop\r\n");
            assertThat(shop.exchange("verbosity 1\r\n"))
                    .isEqualTo("CLIENT_ERROR verbosity is not allowed for tenant shop\r\n");
            assertThat(ops.exchange("verbosity 0\r\n")).isEqualTo("OK\r\n");
            assertThat(blog.exchange("get k\r\n")).isEqualTo("VALUE k 6 4\r\nblog\r\nEND\r\n");
            assertThat(shop.exchange("delete k\r\n")).isEqualTo("DELETED\r\n");
            assertThat(blog.exchange("get k\r\n")).isEqualTo("VALUE k 6 4\r\nblog\r\nEND\r\n");
        }
    }

    @Test
    void aTenantsKeysAreShorterByItsPrefixAsMemcachedRefusesALongKey() {
        try (RunningProxy proxy = proxy(List.of(SHOP, OPS));
                TextClient shop = login(proxy, "shop")) {
            String longest = "k".repeat(250 - "shop:".length());
            String tooLong = longest + "k";
            assertThat(shop.exchange("set " + longest + " 0 0 1\r\nx\r\n")).isEqualTo("STORED\r\n");
            assertThat(shop.exchange("get " + longest + "\r\n")).isEqualTo("VALUE " + longest + " 0 1\r\nx\r\nEND\r\n");
            // past it, what memcached answers a key over 250 bytes, byte for byte
            String over250 = "k".repeat(251);
            try (TextClient direct = new TextClient(alone.port())) {
                for (String[] request : new String[][] {
                    {"set %s 0 0 1\r\nx\r\n"}, {"get a %s\r\n"}, {"get %s\r\n"}, {"mg %s v\r\n"}, {"delete %s\r\n"}
                }) {
                    String got = shop.exchange(request[0].formatted(tooLong));
                    assertThat(got).as(request[0]).isEqualTo(direct.exchange(request[0].formatted(over250)));
                    assertThat(got).as(request[0]).startsWith("CLIENT_ERROR bad command line format\r\n");
                }
            }
            assertThat(shop.exchange("get " + longest + "\r\n")).isEqualTo("VALUE " + longest + " 0 1\r\nx\r\nEND\r\n");
        }
    }

    /**
     * Requests that came in the same read as the login, decoded before the client was a tenant, and
     * a client known by its certificate from its first byte: their keys too are refused past 250
     * bytes with the prefix, never sent to a server (where a key too long would make memcached read
     * the value as commands).
     */
    @Test
    void keysTooLongForThePrefixAreRefusedEvenInTheLoginsRead() {
        try (RunningProxy proxy = proxy(List.of(SHOP, OPS));
                TextClient c = new TextClient(proxy.port())) {
            String tooLong = "k".repeat(250 - "shop:".length() + 1);
            assertThat(c.exchange("set auth 0 0 12\r\nshop shop-pw\r\nset " + tooLong
                            + " 0 0 15\r\nget shop:secret\r\nget " + tooLong + "\r\ndelete " + tooLong + "\r\n"))
                    .isEqualTo("STORED\r\n" + "CLIENT_ERROR bad command line format\r\n".repeat(3));
        }
    }

    /**
     * With a backup farm, what the backup gets is the tenant's key too: an ms that is not a plain
     * set (mode E here) and an mg with T reach the backup as a line of their own.
     */
    @Test
    void theBackupGetsTheTenantsKeysToo() {
        List<MemcachedProcess> backups = List.of(MemcachedProcess.start());
        try (RunningProxy proxy = RunningProxy.over(servers, backups, c -> new ProxyConfigBuilder(c)
                        .authFile(authFile)
                        .tenants(List.of(SHOP, BLOG, OPS))
                        .build());
                TextClient shop = login(proxy, "shop");
                TextClient backup = new TextClient(backups.get(0).port())) {
            assertThat(shop.exchange("ms blog:x 3 ME\r\nabc\r\n")).isEqualTo("HD\r\n");
            assertThat(shop.exchange("mg blog:x T100 v\r\n")).isEqualTo("VA 3\r\nabc\r\n");
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> backup.exchange("get shop:blog:x\r\n").startsWith("VALUE shop:blog:x "));
            assertThat(backup.exchange("get blog:x x\r\n")).isEqualTo("END\r\n");
        } finally {
            backups.forEach(MemcachedProcess::close);
        }
    }

    /** A binary client that logs in again holds one place of its tenant, not two. */
    @Test
    void aSecondSaslLoginGivesBackTheFirstsPlace() throws IOException {
        TenantSpec few = new TenantSpec("few", "few:", Set.of("few"), Set.of(), 1, 0);
        try (RunningProxy proxy = proxy(List.of(few, OPS));
                BinaryClient raw = new BinaryClient(proxy.port())) {
            for (int i = 1; i <= 3; i++) {
                List<BinaryResponse> got = raw.exchange(BinaryPacket.request(SASL_AUTH)
                        .key("PLAIN")
                        .value("\0few\0few-pw")
                        .opaque(i)
                        .bytes());
                assertThat(got.get(0).status()).as("login %d", i).isZero();
            }
            assertThat(proxy.server().tenants().get(0).connections()).isEqualTo(1);
        }
    }

    /**
     * The meta commands of a tenant, keys returned (k, also in base64), get the replies a memcached
     * of the tenant's own gives the same bytes, but for what the proxy cannot make equal (cas).
     */
    @Test
    void aTenantsMetaRepliesAreAMemcachedOfItsOwn() {
        String b64 = Base64.getEncoder().encodeToString("bin key".getBytes(StandardCharsets.UTF_8));
        List<String> script = List.of(
                "ms mk 2 F7 T0\r\nhi\r\n",
                "mg mk v k f\r\n",
                "mg mk k q\r\nmn\r\n",
                "mg missing k\r\n",
                "ms mk 3 MA k\r\nxyz\r\n",
                "mg mk s v k O123\r\n",
                "ma cnt N0 J5 k\r\n",
                "ma cnt k v\r\n",
                "ms " + b64 + " 1 b k\r\nz\r\n",
                "mg " + b64 + " b k v\r\n",
                "md " + b64 + " b k\r\n",
                "mg " + b64 + " b k v\r\n",
                "md mk k\r\n",
                "md mk k\r\n");
        try (RunningProxy proxy = proxy(List.of(SHOP, BLOG, OPS));
                TextClient shop = login(proxy, "shop");
                TextClient blog = login(proxy, "blog");
                TextClient direct = new TextClient(alone.port())) {
            blog.exchange("ms mk 5 T0\r\nblogs\r\n");
            for (String request : script) {
                assertThat(shop.exchange(request)).as(request).isEqualTo(direct.exchange(request));
            }
            assertThat(shop.exchange("me cnt\r\n")).startsWith("ME cnt exp=");
            assertThat(blog.exchange("mg mk v\r\n")).isEqualTo("VA 5\r\nblogs\r\n");
        }
    }

    @Test
    void binaryClientsLogInWithSaslAndKeepToTheirKeys() throws Exception {
        try (RunningProxy proxy = proxy(List.of(SHOP, BLOG, OPS));
                TextClient blog = login(proxy, "blog")) {
            MemcachedClient shop = spymemcached(proxy, "shop", "shop-pw");
            try {
                assertThat(shop.set("bin", 0, "shop's").get(10, TimeUnit.SECONDS))
                        .isTrue();
                assertThat(shop.set("bin2", 0, "also").get(10, TimeUnit.SECONDS))
                        .isTrue();
                assertThat(blog.exchange("get bin\r\n")).isEqualTo("END\r\n");
                assertThat(blog.exchange("set bin 0 0 5\r\nblog!\r\n")).isEqualTo("STORED\r\n");
                assertThat(shop.get("bin")).isEqualTo("shop's");
                // a multi-get answers with the keys (GETKQ): given back as the client wrote them
                assertThat(shop.getBulk("bin", "bin2", "none")).isEqualTo(Map.of("bin", "shop's", "bin2", "also"));
                assertThat(shop.incr("ctr", 1, 10)).isEqualTo(10);
                assertThat(shop.incr("ctr", 1, 10)).isEqualTo(11);
                assertThat(blog.exchange("get ctr\r\n")).isEqualTo("END\r\n");
                assertThat(shop.delete("bin").get(10, TimeUnit.SECONDS)).isTrue();
                assertThat(blog.exchange("get bin\r\n")).isEqualTo("VALUE bin 0 5\r\nblog!\r\nEND\r\n");
                assertThat(shop.flush().get(10, TimeUnit.SECONDS)).isFalse();
                assertThat(shop.get("bin2")).isEqualTo("also");
            } finally {
                shop.shutdown(2, TimeUnit.SECONDS);
            }
            // GETK by hand: the key in the response is the client's
            try (BinaryClient raw = new BinaryClient(proxy.port())) {
                raw.exchange(BinaryPacket.request(SASL_AUTH)
                        .key("PLAIN")
                        .value("\0shop\0shop-pw")
                        .opaque(1)
                        .bytes());
                List<BinaryResponse> got = raw.exchange(
                        BinaryPacket.request(GETK).key("bin2").opaque(2).bytes());
                assertThat(new String(got.get(0).key(), StandardCharsets.US_ASCII))
                        .isEqualTo("bin2");
                assertThat(got.get(0).valueText()).isEqualTo("also");
            }
        }
    }

    private static MemcachedClient spymemcached(RunningProxy proxy, String user, String password) throws IOException {
        return new MemcachedClient(
                new ConnectionFactoryBuilder()
                        .setProtocol(ConnectionFactoryBuilder.Protocol.BINARY)
                        .setAuthDescriptor(
                                new AuthDescriptor(new String[] {"PLAIN"}, new PlainCallbackHandler(user, password)))
                        .setOpTimeout(5000)
                        .setFailureMode(FailureMode.Retry)
                        .setDaemon(true)
                        .build(),
                List.of(new InetSocketAddress("127.0.0.1", proxy.port())));
    }

    @Test
    void aUserNoTenantNamesIsNotLetIn() throws IOException {
        try (RunningProxy proxy = proxy(List.of(SHOP, OPS));
                Socket carol = new Socket("127.0.0.1", proxy.port())) {
            carol.setSoTimeout(5000);
            // one write per read: a refused client's read is dropped whole, as memcached drops it
            carol.getOutputStream().write("set auth 0 0 14\r\ncarol carol-pw\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(new String(carol.getInputStream().readNBytes(37), StandardCharsets.US_ASCII))
                    .isEqualTo("CLIENT_ERROR authentication failure\r\n");
            carol.getOutputStream().write("get shop:k\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(new String(carol.getInputStream().readNBytes(30), StandardCharsets.US_ASCII))
                    .isEqualTo("CLIENT_ERROR unauthenticated\r\n");
            assertThat(proxy.server().stats().authErrors()).isEqualTo(1);
        }
    }

    @Test
    void aTenantAtItsConnectionLimitIsRefusedUntilOneOfItsClientsLeaves() {
        TenantSpec few = new TenantSpec("few", "few:", Set.of("few"), Set.of(), 2, 0);
        try (RunningProxy proxy = proxy(List.of(few, OPS));
                TextClient first = login(proxy, "few");
                TextClient second = login(proxy, "few")) {
            try (TextClient third = new TextClient(proxy.port())) {
                assertThat(third.exchange("set auth 0 0 10\r\nfew few-pw\r\n"))
                        .isEqualTo("SERVER_ERROR too many connections for tenant few\r\n" + TextClient.CLOSED);
            }
            // a client of another tenant is not held back
            try (TextClient ops = login(proxy, "ops")) {
                assertThat(ops.exchange("get x\r\n")).isEqualTo("END\r\n");
            }
            assertThat(proxy.server().tenants().get(0).refusedConnections()).isEqualTo(1);
            first.close();
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> proxy.server().tenants().get(0).connections() == 1);
            try (TextClient again = login(proxy, "few")) {
                assertThat(again.exchange("get x\r\n")).isEqualTo("END\r\n");
            }
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> proxy.server().tenants().get(0).connections() == 1);
            assertThat(second.exchange("stats tenants\r\n"))
                    .isEqualTo("STAT tenant:few connections=1 logins=3 refused_connections=1 requests=1 throttled=0\r\n"
                            + "END\r\n");
        }
    }

    @Test
    void aTenantOverItsRequestRateIsAnsweredAnErrorAndOthersAreNot() {
        TenantSpec slow = new TenantSpec("slow", "slow:", Set.of("slow"), Set.of(), 0, 20);
        try (RunningProxy proxy = proxy(List.of(slow, OPS));
                TextClient client = login(proxy, "slow");
                TextClient ops = login(proxy, "ops")) {
            String reply = client.exchange("get a\r\n".repeat(200));
            int served = count(reply, "END\r\n");
            int refused = count(reply, "SERVER_ERROR tenant slow is over its request rate\r\n");
            assertThat(served + refused).isEqualTo(200);
            // a burst of one second's worth is let through, and little more in the time the burst takes
            assertThat(served).isBetween(20, 30);
            assertThat(ops.exchange("get a\r\n".repeat(200))).isEqualTo("END\r\n".repeat(200));
            assertThat(proxy.server().tenants().stream()
                            .filter(t -> t.name().equals("slow"))
                            .findFirst()
                            .orElseThrow()
                            .throttled())
                    .isEqualTo(refused);
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> client.exchange("get a\r\n").equals("END\r\n"));
        }
    }

    /**
     * A reload changes a tenant's settings by name: new logins get them, its counters go on, and a
     * client already in keeps the prefix it came in with (its keys do not move under it).
     */
    @Test
    void aReloadChangesATenantForNewLoginsAndKeepsItsCounters() {
        TenantSpec renamed = new TenantSpec("shop", "shop2:", Set.of("shop"), Set.of(), 1, 0);
        try (RunningProxy proxy = proxy(List.of(SHOP, OPS));
                TextClient before = login(proxy, "shop");
                TextClient ops = login(proxy, "ops")) {
            assertThat(before.exchange("set r 0 0 3\r\nold\r\n")).isEqualTo("STORED\r\n");
            proxy.server()
                    .reload(new ProxyConfigBuilder(proxy.server().config())
                            .tenants(List.of(renamed, OPS))
                            .build());
            assertThat(before.exchange("get r\r\n")).isEqualTo("VALUE r 0 3\r\nold\r\n" + "END\r\n");
            // the new limit (1) counts the client already in: a second login is refused
            try (TextClient second = new TextClient(proxy.port())) {
                assertThat(second.exchange("set auth 0 0 12\r\nshop shop-pw\r\n"))
                        .isEqualTo("SERVER_ERROR too many connections for tenant shop\r\n" + TextClient.CLOSED);
            }
            before.close();
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> proxy.server().tenants().get(1).connections() == 0);
            try (TextClient after = login(proxy, "shop")) {
                assertThat(after.exchange("get r\r\n")).isEqualTo("END\r\n");
                assertThat(after.exchange("set r 0 0 3\r\nnew\r\n")).isEqualTo("STORED\r\n");
            }
            assertThat(ops.exchange("get shop:r shop2:r\r\n"))
                    .isEqualTo("VALUE shop:r 0 3\r\nold\r\nVALUE shop2:r 0 3\r\nnew\r\nEND\r\n");
            assertThat(proxy.server().tenants().get(1).logins()).isEqualTo(2);
        }
    }

    private static int count(String s, String part) {
        int n = 0;
        for (int i = s.indexOf(part); i >= 0; i = s.indexOf(part, i + part.length())) {
            n++;
        }
        return n;
    }

    /** A client certificate is an identity: its subject names the tenant, and no login is asked. */
    @Test
    void aClientCertificateNamesItsTenant() throws Exception {
        TestCertificates certs = new TestCertificates(Files.createDirectories(dir.resolve("certs")));
        TestCertificates.Authority ca = certs.authority("tenant-ca");
        TestCertificates.Issued proxyCert = ca.issue("proxy", "localhost", 30);
        TestCertificates.Issued shopCert = ca.issue("shop-app", "shop-app", 30);
        TestCertificates.Issued stranger = ca.issue("stranger", "stranger", 30);
        TenantSpec byCertificate = new TenantSpec("shop", "shop:", Set.of(), Set.of("CN=shop-app"), 0, 0);
        ClientTls tls = new ClientTls(
                MemcachedProcess.freePort(),
                proxyCert.certificate(),
                proxyCert.key(),
                ca.certificate(),
                ClientTls.DEFAULT_PROTOCOLS,
                ClientTls.DEFAULT_HANDSHAKE_TIMEOUT);
        try (RunningProxy proxy = RunningProxy.over(servers, List.of(), c -> new ProxyConfigBuilder(c)
                .tls(tls)
                .tenants(List.of(byCertificate, BLOG))
                .authFile(authFile)
                .build())) {
            int port = proxy.server().tlsPort();
            try (TextClient shop = new TextClient(TestCertificates.connect(
                            TestCertificates.clientContext("TLS", ca.certificate(), shopCert), port));
                    TextClient blog = login(proxy, "blog")) {
                assertThat(shop.exchange("set c 0 0 3\r\ncrt\r\n")).isEqualTo("STORED\r\n");
                assertThat(shop.exchange("get c\r\n")).isEqualTo("VALUE c 0 3\r\ncrt\r\nEND\r\n");
                assertThat(blog.exchange("get c\r\n")).isEqualTo("END\r\n");
                // known from its first byte: the decoder refuses a key with no room for the prefix, as memcached
                // refuses one over 250 (then reads the value as a command)
                assertThat(shop.exchange("set " + "k".repeat(246) + " 0 0 1\r\nx\r\n"))
                        .isEqualTo("CLIENT_ERROR bad command line format\r\nERROR\r\n");
            }
            // a good certificate no tenant names: the client must log in like any other
            try (SSLSocket other =
                    TestCertificates.connect(TestCertificates.clientContext("TLS", ca.certificate(), stranger), port)) {
                other.getOutputStream().write("get shop:c\r\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(new String(other.getInputStream().readNBytes(30), StandardCharsets.US_ASCII))
                        .isEqualTo("CLIENT_ERROR unauthenticated\r\n");
            }
        }
    }

    @Test
    void tenantsShowInStatsAndMetrics() throws Exception {
        try (RunningProxy proxy = RunningProxy.over(servers, List.of(), c -> new ProxyConfigBuilder(c)
                        .authFile(authFile)
                        .tenants(List.of(SHOP, OPS))
                        .httpPort(MemcachedProcess.freePort())
                        .build());
                TextClient shop = login(proxy, "shop");
                TextClient ops = login(proxy, "ops")) {
            shop.exchange("get a\r\nget b\r\n");
            assertThat(shop.exchange("stats tenants\r\n"))
                    .isEqualTo(
                            "STAT tenant:shop connections=1 logins=1 refused_connections=0 requests=2 throttled=0\r\n"
                                    + "END\r\n");
            assertThat(ops.exchange("stats tenants\r\n"))
                    .contains("STAT tenant:ops connections=1 ")
                    .contains("STAT tenant:shop connections=1 ");
            String metrics = new String(
                    new java.net.URL("http://127.0.0.1:" + proxy.httpPort() + "/metrics")
                            .openStream()
                            .readAllBytes(),
                    StandardCharsets.UTF_8);
            List<String> lines = new ArrayList<>();
            for (String line : metrics.split("\n")) {
                if (line.startsWith("jmagent_tenant_")) {
                    lines.add(line);
                }
            }
            assertThat(lines)
                    .contains("jmagent_tenant_requests_total{pool=\"default\",tenant=\"shop\"} 2.0")
                    .contains("jmagent_tenant_connections{pool=\"default\",tenant=\"ops\"} 1.0");
        }
    }
}
