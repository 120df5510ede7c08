package io.jmagent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jmagent.backend.ServerHealth;
import io.jmagent.config.ProxyConfigBuilder;
import io.jmagent.testing.BinaryClient;
import io.jmagent.testing.BinaryPacket;
import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.RunningProxy;
import io.jmagent.testing.TextClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The proxy logs in to servers started with memcached's -Y (issue 14): every connection, the
 * probes' too, authenticates before it carries a request.
 */
class ServerAuthIT {

    @TempDir
    static Path dir;

    private static List<MemcachedProcess> servers;
    private static List<MemcachedProcess> backups;

    @BeforeAll
    static void start() throws IOException {
        Path auth = dir.resolve("memcached-auth");
        Files.writeString(auth, "jmagent:pr0xy\n");
        servers = List.of(MemcachedProcess.start("-Y", auth.toString()), MemcachedProcess.start("-Y", auth.toString()));
        backups = List.of(MemcachedProcess.start("-Y", auth.toString()));
    }

    @AfterAll
    static void stop() {
        servers.forEach(MemcachedProcess::close);
        backups.forEach(MemcachedProcess::close);
    }

    private static RunningProxy proxy(String login) throws IOException {
        Path file = Files.createTempFile(dir, "login", "");
        Files.writeString(file, "# the proxy's login\n" + login + "\n");
        return RunningProxy.over(servers, backups, c -> new ProxyConfigBuilder(c)
                .serverAuthFile(file)
                .build());
    }

    @Test
    void everyConnectionLogsInBeforeItCarriesARequest() throws IOException {
        try (RunningProxy proxy = proxy("jmagent:pr0xy");
                TextClient c = new TextClient(proxy.port())) {
            StringBuilder sets = new StringBuilder();
            StringBuilder get = new StringBuilder("get");
            for (int i = 0; i < 30; i++) {
                sets.append("set sauth:")
                        .append(i)
                        .append(" 0 0 1\r\n")
                        .append(i % 10)
                        .append("\r\n");
                get.append(" sauth:").append(i);
            }
            assertThat(c.exchange(sets.toString())).isEqualTo("STORED\r\n".repeat(30));
            assertThat(c.exchange(get + "\r\n"))
                    .startsWith("VALUE sauth:0 0 1\r\n0\r\n")
                    .endsWith("END\r\n");
            assertThat(c.exchange("ms sauth:m 1 T0\r\nm\r\nmg sauth:m v\r\nincr sauth:5 2\r\n"))
                    .isEqualTo("HD\r\nVA 1\r\nm\r\n7\r\n");
            try (BinaryClient binary = new BinaryClient(proxy.port())) {
                assertThat(binary.exchange(BinaryPacket.get(BinaryPacket.GET, "sauth:7", 1))
                                .get(0)
                                .valueText())
                        .isEqualTo("7");
            }
            // the probes log in too: every server stays UP, and the backup holds the copies
            await().during(Duration.ofMillis(2500))
                    .atMost(Duration.ofSeconds(5))
                    .untilAsserted(() -> assertThat(states(proxy)).containsOnly(ServerHealth.State.UP));
            try (TextClient direct = new TextClient(backups.get(0).port())) {
                assertThat(direct.exchange("set a 0 0 13\r\njmagent pr0xy\r\nget sauth:3\r\n"))
                        .isEqualTo("STORED\r\nVALUE sauth:3 0 1\r\n3\r\nEND\r\n");
            }
        }
    }

    @Test
    void aRefusedLoginFailsTheRequestsAndMarksTheServerDown() throws IOException {
        try (RunningProxy proxy = proxy("jmagent:wrong");
                TextClient c = new TextClient(proxy.port())) {
            assertThat(c.exchange("get sauth:x\r\n")).startsWith("SERVER_ERROR backend 127.0.0.1:");
            await().atMost(Duration.ofSeconds(5))
                    .untilAsserted(() -> assertThat(states(proxy)).containsOnly(ServerHealth.State.DOWN));
        }
    }

    /** A refused login is a failed connect: retried after a growing pause, not at every request. */
    @Test
    void aServerThatRefusesTheLoginIsRetriedAfterABackoffNotAtEveryRequest() throws Exception {
        Path file = Files.createTempFile(dir, "login", "");
        Files.writeString(file, "jmagent:wrong\n");
        MemcachedProcess server = servers.get(0);
        try (RunningProxy proxy = RunningProxy.over(List.of(server), List.of(), c -> new ProxyConfigBuilder(c)
                        .serverAuthFile(file)
                        .failureLimit(Integer.MAX_VALUE)
                        .build());
                TextClient c = new TextClient(proxy.port())) {
            ServerHealth health = proxy.server().primaries().health().get(0);

            long requests = BackoffWindow.requestFor(
                    Duration.ofSeconds(2),
                    c,
                    "get sauth:backoff\r\n",
                    "SERVER_ERROR backend 127.0.0.1:" + server.port());

            assertThat(health.state()).isEqualTo(ServerHealth.State.UP);
            assertThat(health.connectionsOpened())
                    .as("connections opened for %d requests", requests)
                    .isBetween(2L, BackoffWindow.MOST_ATTEMPTS);
        }
    }

    @Test
    void aServerThatWantsNoLoginIsNeverSentTheCredentials() throws IOException {
        MemcachedProcess open = MemcachedProcess.start();
        Path file = Files.createTempFile(dir, "login", "");
        Files.writeString(file, "jmagent:pr0xy\n");
        try (RunningProxy proxy = RunningProxy.over(List.of(open), List.of(), c -> new ProxyConfigBuilder(c)
                        .serverAuthFile(file)
                        .build());
                TextClient c = new TextClient(proxy.port())) {
            assertThat(c.exchange("set sauth:o 0 0 1\r\no\r\nget sauth:o\r\n"))
                    .isEqualTo("STORED\r\nVALUE sauth:o 0 1\r\no\r\nEND\r\n");
            await().during(Duration.ofMillis(1500))
                    .atMost(Duration.ofSeconds(4))
                    .untilAsserted(() -> assertThat(
                                    proxy.server().primaries().health().get(0).state())
                            .isEqualTo(ServerHealth.State.UP));
            try (TextClient direct = new TextClient(open.port())) {
                assertThat(direct.exchange("get auth\r\n"))
                        .as("no login stored as an item")
                        .isEqualTo("END\r\n");
            }
        } finally {
            open.close();
        }
    }

    private static List<ServerHealth.State> states(RunningProxy proxy) {
        List<ServerHealth.State> states = new ArrayList<>();
        proxy.server().primaries().health().forEach(h -> states.add(h.state()));
        proxy.server().backups().health().forEach(h -> states.add(h.state()));
        return states;
    }
}
