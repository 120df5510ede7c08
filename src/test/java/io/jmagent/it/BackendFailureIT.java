package io.jmagent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jmagent.backend.ServerAddress;
import io.jmagent.config.ProxyConfig;
import io.jmagent.frontend.ProxyServer;
import io.jmagent.routing.KetamaRing;
import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.TestTransport;
import io.jmagent.testing.TextClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Servers that stop answering, die and come back: the proxy answers {@code SERVER_ERROR} for the
 * keys of the failed server, within its timeout and never later, keeps serving the others, and
 * serves the failed server again once it is back. Also the client connection cap.
 */
class BackendFailureIT {

    private static final Duration TIMEOUT = Duration.ofMillis(300);
    /** Far more than the timeout: a reply later than this means the proxy hung. */
    private static final Duration NEVER_HANGS = Duration.ofSeconds(3);

    @Test
    void aFrozenServerCostsItsOwnKeysATimeoutAndNothingMore() {
        try (ProxiedFarm farm = ProxiedFarm.start(3, ConfigCopy.timeout(TIMEOUT));
                TextClient client = new TextClient(farm.port())) {
            KetamaRing ring = new KetamaRing(farm.proxy().config().servers());
            int victim = serverOtherThanTheSentinels(ring);
            String[] keys = oneKeyPerServer(ring, "frozen");
            storeEach(client, keys);
            String victimError = "SERVER_ERROR backend " + farm.server(victim).address() + " ";

            farm.server(victim).freeze();

            String reply = within(NEVER_HANGS, () -> client.exchange("get " + keys[victim] + "\r\n"));
            assertThat(reply).isEqualTo(victimError + "timeout\r\n");

            StringBuilder manyGets = new StringBuilder();
            for (int i = 0; i < 20; i++) {
                manyGets.append("get ").append(keys[victim]).append("\r\n");
            }
            String replies = within(NEVER_HANGS, () -> client.exchange(manyGets.toString()));
            assertThat(replies.split("\r\n")).hasSize(20).allSatisfy(line -> assertThat(line)
                    .matches(quoted(victimError) + "(timeout|unavailable|down)"));

            for (int s = 0; s < 3; s++) {
                if (s != victim) {
                    assertThat(client.exchange("get " + keys[s] + "\r\n")).isEqualTo(hit(keys[s]));
                    assertThat(client.exchange("set " + keys[s] + " 0 0 5\r\nagain\r\n"))
                            .isEqualTo("STORED\r\n");
                }
            }
            String spanning = within(NEVER_HANGS, () -> client.exchange("get " + String.join(" ", keys) + "\r\n"));
            assertThat(spanning)
                    .as("a multi-get that needs the frozen server")
                    .matches(quoted(victimError) + "(timeout|unavailable|down)\r\n");

            farm.server(victim).thaw();

            await().atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertThat(client.exchange("get " + keys[victim] + "\r\n"))
                            .isEqualTo(hit(keys[victim])));
        }
    }

    @Test
    void aKilledServerFailsFastAndIsServedAgainOnceRestarted() {
        try (ProxiedFarm farm = ProxiedFarm.start(3, ConfigCopy.timeout(TIMEOUT));
                TextClient client = new TextClient(farm.port())) {
            KetamaRing ring = new KetamaRing(farm.proxy().config().servers());
            int victim = serverOtherThanTheSentinels(ring);
            String[] keys = oneKeyPerServer(ring, "killed");
            storeEach(client, keys);

            farm.server(victim).kill();

            // refused or cut off, not left to run into the timeout
            String reply = within(NEVER_HANGS, () -> client.exchange("get " + keys[victim] + "\r\n"));
            assertThat(reply)
                    .matches(quoted("SERVER_ERROR backend "
                                    + farm.server(victim).address() + " ") + "(unavailable|connection lost)\r\n");
            for (int s = 0; s < 3; s++) {
                if (s != victim) {
                    assertThat(client.exchange("get " + keys[s] + "\r\n")).isEqualTo(hit(keys[s]));
                }
            }

            farm.server(victim).restart();

            await().atMost(Duration.ofSeconds(15))
                    .untilAsserted(() -> assertThat(client.exchange("get " + keys[victim] + "\r\n"))
                            .as("the restarted server is reachable again, and empty")
                            .isEqualTo("END\r\n"));
            assertThat(client.exchange("set " + keys[victim] + " 0 0 4\r\nback\r\nget " + keys[victim] + "\r\n"))
                    .isEqualTo("STORED\r\nVALUE " + keys[victim] + " 0 4\r\nback\r\nEND\r\n");
        }
    }

    @Test
    void aSlowButSteadyServerIsNotTakenForAHungOne() throws Exception {
        // answers one request every 250 ms: the eighth of a pipeline comes 2 s after it was sent,
        // but never more than 250 ms after the reply before it
        try (PacedServer paced = new PacedServer(Duration.ofMillis(250))) {
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
                    Duration.ofSeconds(1),
                    ProxyConfig.DEFAULT_MAX_ITEM_SIZE,
                    ProxyConfig.DEFAULT_MAX_RETRIEVAL_LINE,
                    ProxyConfig.DEFAULT_MAX_PENDING_PER_CLIENT,
                    0);
            try (ProxyServer proxy = new ProxyServer(config, TestTransport.chosen()).start();
                    Socket client = new Socket()) {
                client.connect(new InetSocketAddress("127.0.0.1", proxy.port()), 2000);
                client.setSoTimeout(10_000);
                client.getOutputStream().write(ascii("get steady\r\n".repeat(8)));

                byte[] replies = client.getInputStream().readNBytes("END\r\n".length() * 8);

                assertThat(new String(replies, StandardCharsets.ISO_8859_1)).isEqualTo("END\r\n".repeat(8));
            }
        }
    }

    @Test
    void pastTheConnectionCapANewClientIsToldSoAndClosed() throws Exception {
        try (ProxiedFarm farm = ProxiedFarm.start(1, ConfigCopy.maxConnections(2));
                TextClient first = new TextClient(farm.port())) {
            TextClient second = new TextClient(farm.port());
            try {
                assertThat(first.exchange("get cap\r\n")).isEqualTo("END\r\n");
                assertThat(second.exchange("get cap\r\n")).isEqualTo("END\r\n");

                assertThat(answerUntilClosed(farm.port(), "get cap\r\n"))
                        .isEqualTo("SERVER_ERROR too many open connections\r\n");
                assertThat(first.exchange("get cap\r\n")).isEqualTo("END\r\n");
            } finally {
                second.close();
            }

            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                try (TextClient third = new TextClient(farm.port())) {
                    assertThat(third.exchange("get cap\r\n"))
                            .as("a place freed by a closed client")
                            .isEqualTo("END\r\n");
                }
            });
        }
    }

    /** The server for whose keys TextClient's sentinel is not: freezing it leaves the sentinel working. */
    private static int serverOtherThanTheSentinels(KetamaRing ring) {
        return (ring.serverFor(ascii("__sentinel__")) + 1) % 3;
    }

    private static String[] oneKeyPerServer(KetamaRing ring, String prefix) {
        String[] keys = new String[3];
        for (int i = 0; keys[0] == null || keys[1] == null || keys[2] == null; i++) {
            String key = prefix + ":" + i;
            int s = ring.serverFor(ascii(key));
            if (keys[s] == null) {
                keys[s] = key;
            }
        }
        return keys;
    }

    private static void storeEach(TextClient client, String[] keys) {
        for (String key : keys) {
            assertThat(client.exchange("set " + key + " 0 0 " + key.length() + "\r\n" + key + "\r\n"))
                    .isEqualTo("STORED\r\n");
        }
    }

    private static String hit(String key) {
        return "VALUE " + key + " 0 " + key.length() + "\r\n" + key + "\r\nEND\r\n";
    }

    /** Runs {@code exchange} and fails if it has not returned within {@code deadline}. */
    private static String within(Duration deadline, java.util.function.Supplier<String> exchange) {
        CompletableFuture<String> reply = CompletableFuture.supplyAsync(exchange);
        await().atMost(deadline).until(reply::isDone);
        return reply.join();
    }

    private static String answerUntilClosed(int port, String request) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            s.setSoTimeout(5000);
            s.getOutputStream().write(ascii(request));
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[1024];
            try {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    got.write(buf, 0, n);
                }
            } catch (IOException e) {
                // reset after the reply: closed as well
            }
            return got.toString(StandardCharsets.ISO_8859_1);
        }
    }

    private static String quoted(String s) {
        return java.util.regex.Pattern.quote(s);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
