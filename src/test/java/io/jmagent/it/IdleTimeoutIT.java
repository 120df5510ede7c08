package io.jmagent.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.jmagent.backend.ServerAddress;
import io.jmagent.config.ProxyConfig;
import io.jmagent.frontend.ProxyServer;
import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.TestTransport;
import io.jmagent.testing.TextClient;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@code --idle-timeout}: a client that sends nothing for that long is closed, unless it awaits an answer. */
class IdleTimeoutIT {

    private static final Duration IDLE = Duration.ofSeconds(1);

    @Test
    void aClientThatSendsNothingIsClosedAndCountedInIdleKicks() throws Exception {
        try (ProxiedFarm farm = ProxiedFarm.start(
                        1, c -> c.withOperations(c.operations().withIdleTimeout(IDLE)));
                Socket idle = new Socket()) {
            idle.connect(new InetSocketAddress("127.0.0.1", farm.port()), 2000);
            idle.setSoTimeout(10_000);
            idle.getOutputStream().write("version\r\n".getBytes(StandardCharsets.US_ASCII));
            long start = System.nanoTime();

            String everything = new String(idle.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            long idleMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

            assertThat(everything).startsWith("VERSION ").endsWith("\r\n");
            assertThat(idleMillis)
                    .as("closed by the proxy after a second of silence")
                    .isBetween(900L, 8000L);
            try (TextClient other = new TextClient(farm.port())) {
                assertThat(other.exchange("stats\r\n")).contains("STAT idle_kicks 1\r\n");
            }
        }
    }

    @Test
    void aClientWaitingForASlowAnswerIsNotIdle() throws Exception {
        try (PacedServer paced = new PacedServer(Duration.ofMillis(1300))) {
            ProxyConfig config = new ProxyConfig(
                    "127.0.0.1",
                    MemcachedProcess.freePort(),
                    null,
                    List.of(new ServerAddress("127.0.0.1", paced.port(), 1)),
                    List.of(),
                    ProxyConfig.DEFAULT_MAX_CONNECTIONS,
                    ProxyConfig.DEFAULT_MAX_KEEP_ALIVE,
                    1,
                    1,
                    Duration.ofSeconds(5),
                    ProxyConfig.DEFAULT_MAX_ITEM_SIZE,
                    ProxyConfig.DEFAULT_MAX_RETRIEVAL_LINE,
                    ProxyConfig.DEFAULT_MAX_PENDING_PER_CLIENT,
                    0);
            try (ProxyServer proxy = new ProxyServer(
                                    config.withOperations(config.operations().withIdleTimeout(IDLE)),
                                    TestTransport.chosen())
                            .start();
                    TextClient client = new TextClient(proxy.port())) {
                assertThat(client.exchange("get slow\r\n")).isEqualTo("END\r\n");
                assertThat(proxy.stats().idleKicks()).isZero();
            }
        }
    }
}
