package io.jmagent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.jmagent.backend.Farm;
import io.jmagent.backend.ServerAddress;
import io.jmagent.config.ConfigFile;
import io.jmagent.frontend.ProxyPools;
import io.jmagent.testing.Dnsmasq;
import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.TestTransport;
import io.jmagent.testing.TextClient;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Servers found, not typed in: a real DNS server (dnsmasq) answering A and SRV records the test
 * rewrites, and a stand-in ElastiCache configuration endpoint (the real one exists only in the
 * cloud). Each proxy asks every 200 ms and lets a server leave after 2 answers without it.
 */
class DiscoveryIT {

    private final List<MemcachedProcess> servers = new ArrayList<>();
    private final List<ProxyPools> proxies = new ArrayList<>();
    private final List<AutoCloseable> others = new ArrayList<>();

    @AfterEach
    void stopEverything() throws Exception {
        proxies.forEach(ProxyPools::close);
        for (AutoCloseable c : others) {
            c.close();
        }
        servers.forEach(MemcachedProcess::close);
    }

    @Test
    void aDnsNameBecomesEveryAddressItResolvesToAndTheRingFollowsItsChanges() throws Exception {
        int port = MemcachedProcess.freePort();
        for (String host : List.of("127.0.0.2", "127.0.0.3", "127.0.0.4")) {
            servers.add(MemcachedProcess.startAt(host, port));
        }
        Dnsmasq dns = dns();
        dns.hosts("127.0.0.2 mc.test", "127.0.0.3 mc.test");
        int proxy = proxy("servers: \"dns:mc.test:" + port + "\"", dns);
        assertThat(serversOf(proxy)).containsExactly("127.0.0.2:" + port, "127.0.0.3:" + port);
        Map<String, String> stats = stats(proxy);
        assertThat(stats.get("ring_fingerprint"))
                .isEqualTo(Farm.fingerprint(
                        List.of(new ServerAddress("127.0.0.3", port, 1), new ServerAddress("127.0.0.2", port, 1))));
        assertThat(stats.get("ring_changes")).isEqualTo("0");
        setKeys(proxy, "v1");

        dns.hosts("127.0.0.2 mc.test", "127.0.0.3 mc.test", "127.0.0.4 mc.test");
        await().atMost(Duration.ofSeconds(10)).until(() -> serversOf(proxy).size() == 3);
        assertThat(stats(proxy).get("ring_changes")).isEqualTo("1");
        assertThat(stats(proxy).get("ring_fingerprint"))
                .isEqualTo(Farm.fingerprint(List.of(
                        new ServerAddress("127.0.0.2", port, 1),
                        new ServerAddress("127.0.0.3", port, 1),
                        new ServerAddress("127.0.0.4", port, 1))));

        dns.stop(); // a source that fails keeps the last good list
        long failures = Long.parseLong(stats(proxy).get("discovery_failures"));
        await().atMost(Duration.ofSeconds(10))
                .until(() -> Long.parseLong(stats(proxy).get("discovery_failures")) >= failures + 3);
        assertThat(serversOf(proxy)).hasSize(3);

        dns.hosts("127.0.0.2 mc.test", "127.0.0.4 mc.test");
        dns.restart();
        await().atMost(Duration.ofSeconds(10)).until(() -> serversOf(proxy).size() == 2);
        assertThat(serversOf(proxy)).containsExactly("127.0.0.2:" + port, "127.0.0.4:" + port);
        assertThat(stats(proxy).get("ring_changes")).isEqualTo("2");
    }

    /**
     * The backup-farm rule for ring changes: a server that left and comes back still holding what
     * it held then is flushed before it joins, so that none of its old values is read once the keys
     * move back to it.
     */
    @Test
    void aServerThatLeftAndReturnsWithItsOldValuesServesNoneOfThem() throws Exception {
        for (int i = 0; i < 3; i++) {
            servers.add(MemcachedProcess.start());
        }
        Dnsmasq dns = dns();
        dns.srv(srvRecords(servers));
        int proxy = proxy("servers: \"srv:_memcache._tcp.mc.test\"", dns);
        assertThat(serversOf(proxy)).hasSize(3);
        setKeys(proxy, "old");

        dns.srv(srvRecords(servers.subList(0, 2)));
        await().atMost(Duration.ofSeconds(10)).until(() -> serversOf(proxy).size() == 2);
        setKeys(proxy, "new"); // the keys of the server that left now live on the other two

        dns.srv(srvRecords(servers));
        await().atMost(Duration.ofSeconds(10)).until(() -> serversOf(proxy).size() == 3);
        try (TextClient c = new TextClient(proxy)) {
            for (int i = 0; i < KEYS; i++) {
                assertThat(c.exchange("get k" + i + "\r\n")).as("k%d", i).doesNotContain("old");
            }
        }
    }

    /**
     * The other half of the rule: keys that moved to a server that joined leave their old values
     * on the servers that stayed; a write of such a key deletes that copy there, so that when the
     * server leaves again and the keys move back, none of those old values is read. With a backup
     * farm the moved-back keys read the newest value, from the backup.
     */
    @Test
    void keysThatMoveBackToAServerThatStayedReadNoneOfTheValuesItKeptMeanwhile() throws Exception {
        for (int i = 0; i < 4; i++) {
            servers.add(MemcachedProcess.start());
        }
        Dnsmasq dns = dns();
        List<MemcachedProcess> primaries = servers.subList(0, 3);
        dns.srv(srvRecords(primaries.subList(0, 2)));
        int proxy = proxy(
                "servers: \"srv:_memcache._tcp.mc.test\"",
                dns,
                "backups: [ \"" + servers.get(3).address() + "\" ]");
        setKeys(proxy, "old");

        dns.srv(srvRecords(primaries));
        await().atMost(Duration.ofSeconds(10)).until(() -> primariesOf(proxy).size() == 3);
        setKeys(proxy, "new"); // a third of the keys now live on the third server

        assertThat(Long.parseLong(stats(proxy).get("former_copy_deletes")))
                .as("old copies deleted")
                .isPositive()
                .isLessThan(KEYS);
        dns.srv(srvRecords(primaries.subList(0, 2)));
        await().atMost(Duration.ofSeconds(10)).until(() -> primariesOf(proxy).size() == 2);
        try (TextClient c = new TextClient(proxy)) {
            for (int i = 0; i < KEYS; i++) {
                assertThat(c.exchange("get k" + i + "\r\n"))
                        .as("k%d", i)
                        .isEqualTo("VALUE k" + i + " 0 " + ("new" + i).length() + "\r\nnew" + i + "\r\nEND\r\n");
            }
        }
    }

    @Test
    void proxiesFedTheSameServersFromDifferentSourcesInAnotherOrderShowTheSameFingerprint() throws Exception {
        for (int i = 0; i < 3; i++) {
            servers.add(MemcachedProcess.start());
        }
        Dnsmasq dns = dns();
        dns.srv(srvRecords(servers));
        int bySrv = proxy("servers: \"srv:_memcache._tcp.mc.test\"", dns);
        StringBuilder nodes = new StringBuilder();
        for (int i = servers.size() - 1; i >= 0; i--) {
            nodes.append("127.0.0.1|127.0.0.1|").append(servers.get(i).port()).append(' ');
        }
        ConfigEndpoint endpoint = new ConfigEndpoint("1\n" + nodes.toString().trim() + "\n");
        others.add(endpoint);
        int byEndpoint = proxy("servers: \"config:127.0.0.1:" + endpoint.port() + "\"", dns);

        assertThat(stats(byEndpoint).get("ring_fingerprint"))
                .isEqualTo(stats(bySrv).get("ring_fingerprint"));
        setKeys(bySrv, "v");
        try (TextClient c = new TextClient(byEndpoint)) {
            for (int i = 0; i < KEYS; i++) {
                assertThat(c.exchange("get k" + i + "\r\n"))
                        .as("k%d placed alike", i)
                        .contains("v" + i);
            }
        }

        endpoint.answer("2\n" + nodes.toString().trim().replaceFirst("^\\S+ ", "") + "\n");
        await().atMost(Duration.ofSeconds(10)).until(() -> serversOf(byEndpoint).size() == 2);
        assertThat(stats(byEndpoint).get("ring_fingerprint"))
                .isNotEqualTo(stats(bySrv).get("ring_fingerprint"));
    }

    /** A record's TTL shorter than the interval brings the next question forward (to 1 s at least). */
    @Test
    void aShortTtlIsFollowedBeforeTheIntervalIsOver() throws Exception {
        int port = MemcachedProcess.freePort();
        for (String host : List.of("127.0.0.2", "127.0.0.3")) {
            servers.add(MemcachedProcess.startAt(host, port));
        }
        Dnsmasq dns = Dnsmasq.start(1);
        others.add(dns);
        dns.hosts("127.0.0.2 mc.test");
        int proxy = proxy("servers: \"dns:mc.test:" + port + "\"", dns, "", "600s");
        assertThat(serversOf(proxy)).containsExactly("127.0.0.2:" + port);

        dns.hosts("127.0.0.2 mc.test", "127.0.0.3 mc.test");
        await().atMost(Duration.ofSeconds(10)).until(() -> serversOf(proxy).size() == 2);
    }

    @Test
    void aPoolWhoseSourceCannotAnswerDoesNotStart() {
        Dnsmasq dns = dns();
        assertThatThrownBy(() -> proxy("servers: \"dns:nothing.test:11211\"", dns))
                .hasMessageContaining("discovery of servers from dns:nothing.test:11211 failed");
    }

    private static final int KEYS = 60;

    private static void setKeys(int proxy, String value) {
        try (TextClient c = new TextClient(proxy)) {
            for (int i = 0; i < KEYS; i++) {
                String v = value + i;
                assertThat(c.exchange("set k" + i + " 0 0 " + v.length() + "\r\n" + v + "\r\n"))
                        .isEqualTo("STORED\r\n");
            }
        }
    }

    private static String[] srvRecords(List<MemcachedProcess> list) {
        return list.stream()
                .map(m -> "_memcache._tcp.mc.test,127.0.0.1," + m.port() + ",0,1")
                .toArray(String[]::new);
    }

    private Dnsmasq dns() {
        Dnsmasq d = Dnsmasq.start();
        others.add(d);
        return d;
    }

    /** Starts a proxy whose one pool has {@code source} under discovery; its port. */
    private int proxy(String source, Dnsmasq dns) throws Exception {
        return proxy(source, dns, "");
    }

    /** As above, with {@code poolLines} (YAML at the pool's indentation) added to the pool. */
    private int proxy(String source, Dnsmasq dns, String poolLines) throws Exception {
        return proxy(source, dns, poolLines, "200ms");
    }

    /** As above, asking every {@code interval}. */
    private int proxy(String source, Dnsmasq dns, String poolLines, String interval) throws Exception {
        int port = MemcachedProcess.freePort();
        String yaml = """
                pools:
                  main:
                    listen: 127.0.0.1:%d
                    timeout: 500ms
                    %s
                    discovery:
                      %s
                      interval: %s
                      leave-after: 2
                      dns-servers: [ "127.0.0.1:%d" ]
                """.formatted(port, poolLines, source, interval, dns.port());
        ProxyPools p = new ProxyPools(ConfigFile.parse(yaml, "test.yml"), TestTransport.chosen()).start();
        proxies.add(p);
        return port;
    }

    private static Map<String, String> stats(int port) {
        return statLines(port, "stats\r\n");
    }

    private static List<String> serversOf(int port) {
        return new ArrayList<>(statLines(port, "stats servers\r\n").keySet());
    }

    private static List<String> primariesOf(int port) {
        return statLines(port, "stats servers\r\n").entrySet().stream()
                .filter(e -> e.getValue().startsWith("role=primary"))
                .map(Map.Entry::getKey)
                .toList();
    }

    private static Map<String, String> statLines(int port, String command) {
        Map<String, String> m = new LinkedHashMap<>();
        try (TextClient c = new TextClient(port)) {
            for (String line : c.exchange(command).split("\r\n")) {
                String[] f = line.split(" ", 3);
                if (f.length == 3 && f[0].equals("STAT")) {
                    m.put(f[1], f[2]);
                }
            }
        }
        return m;
    }

    /** A stand-in ElastiCache configuration endpoint: answers {@code config get cluster} with a body the test sets. */
    private static final class ConfigEndpoint implements AutoCloseable {
        private final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        private volatile String body;

        ConfigEndpoint(String body) throws IOException {
            this.body = body;
            Thread t = new Thread(this::serve, "config-endpoint");
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        void answer(String newBody) {
            body = newBody;
        }

        private void serve() {
            while (!socket.isClosed()) {
                try (Socket s = socket.accept()) {
                    InputStream in = s.getInputStream();
                    StringBuilder line = new StringBuilder();
                    for (int ch = in.read(); ch >= 0 && ch != '\n'; ch = in.read()) {
                        line.append((char) ch);
                    }
                    String b = body;
                    String reply = line.toString().trim().equals("config get cluster")
                            ? "CONFIG cluster 0 " + b.length() + "\r\n" + b + "\r\nEND\r\n"
                            : "ERROR\r\n";
                    s.getOutputStream().write(reply.getBytes(StandardCharsets.US_ASCII));
                } catch (IOException e) {
                    // closed
                }
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
