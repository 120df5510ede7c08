package io.jmagent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jmagent.backend.ServerAddress;
import io.jmagent.config.ProxyConfig;
import io.jmagent.frontend.ProxyServer;
import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.TestTransport;
import io.jmagent.testing.TextClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Graceful shutdown (SIGTERM): the proxy stops accepting, answers every request its clients sent
 * before the shutdown began, closes them, and gives up waiting after {@code --shutdown-timeout}.
 */
class ShutdownIT {

    private static final int CLIENTS = 6;
    private static final int BATCH = 40;

    @Test
    void everyRequestSentBeforeTheShutdownIsAnswered() throws Exception {
        try (ProxiedFarm farm = ProxiedFarm.start(3)) {
            AtomicBoolean closeStarted = new AtomicBoolean();
            AtomicLong batchesBeforeClose = new AtomicLong();
            Queue<String> failures = new ConcurrentLinkedQueue<>();
            List<Thread> clients = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                int id = c;
                Thread t = new Thread(
                        () -> pipeline(farm.port(), id, closeStarted, batchesBeforeClose, failures),
                        "pipelining-client-" + c);
                t.start();
                clients.add(t);
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> batchesBeforeClose.get() >= 3L * CLIENTS);

            closeStarted.set(true);
            farm.proxy().server().close();

            for (Thread t : clients) {
                t.join(10_000);
                assertThat(t.isAlive()).as("%s was closed", t.getName()).isFalse();
            }
            assertThat(failures).isEmpty();
        }
    }

    /**
     * Sends batches of pipelined set/get pairs and reads every reply, until the proxy closes the
     * connection; a batch written before the shutdown began that is not answered in full is a failure.
     */
    private static void pipeline(
            int port, int id, AtomicBoolean closeStarted, AtomicLong batchesBeforeClose, Queue<String> failures) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            for (int round = 0; ; round++) {
                StringBuilder requests = new StringBuilder();
                StringBuilder replies = new StringBuilder();
                for (int i = 0; i < BATCH; i++) {
                    String key = "c" + id + ":" + i;
                    String value = "r" + round + "-" + i;
                    requests.append("set ")
                            .append(key)
                            .append(" 0 0 ")
                            .append(value.length())
                            .append("\r\n")
                            .append(value)
                            .append("\r\n")
                            .append("get ")
                            .append(key)
                            .append("\r\n");
                    replies.append("STORED\r\nVALUE ")
                            .append(key)
                            .append(" 0 ")
                            .append(value.length())
                            .append("\r\n")
                            .append(value)
                            .append("\r\nEND\r\n");
                }
                try {
                    out.write(requests.toString().getBytes(StandardCharsets.US_ASCII));
                } catch (IOException e) {
                    return; // closed by the proxy before this batch: it was sent after the shutdown began
                }
                boolean sentBeforeClose = !closeStarted.get();
                byte[] expected = replies.toString().getBytes(StandardCharsets.US_ASCII);
                byte[] got;
                try {
                    got = in.readNBytes(expected.length);
                } catch (IOException e) {
                    got = new byte[0];
                }
                if (got.length == expected.length) {
                    String text = new String(got, StandardCharsets.US_ASCII);
                    if (!text.equals(replies.toString())) {
                        failures.add("client " + id + " round " + round + ": wrong replies " + text);
                        return;
                    }
                    if (sentBeforeClose) {
                        batchesBeforeClose.incrementAndGet();
                    }
                    continue;
                }
                if (sentBeforeClose) {
                    failures.add("client " + id + " round " + round + ": " + got.length + " of " + expected.length
                            + " reply bytes before the connection closed");
                }
                return;
            }
        } catch (IOException e) {
            failures.add("client " + id + ": " + e);
        }
    }

    @Test
    void aRequestWaitingOnASlowServerIsAnsweredBeforeItsClientIsClosed() throws Exception {
        try (PacedServer paced = new PacedServer(Duration.ofMillis(300))) {
            ProxyServer proxy =
                    new ProxyServer(overOne(paced.port(), Duration.ofSeconds(5)), TestTransport.chosen()).start();
            try (Socket client = new Socket()) {
                client.connect(new InetSocketAddress("127.0.0.1", proxy.port()), 2000);
                client.setSoTimeout(10_000);
                client.getOutputStream().write("get a\r\nget b\r\nget c\r\n".getBytes(StandardCharsets.US_ASCII));
                await().atMost(Duration.ofSeconds(5)).until(() -> proxy.stats().requestsInFlight() == 3);

                long start = System.nanoTime();
                proxy.close();
                long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

                InputStream in = client.getInputStream();
                assertThat(new String(in.readNBytes(15), StandardCharsets.US_ASCII))
                        .isEqualTo("END\r\n".repeat(3));
                assertThat(in.read()).as("closed after the last answer").isEqualTo(-1);
                assertThat(tookMillis).as("waited for the slow answers").isGreaterThanOrEqualTo(300);
            } finally {
                proxy.close();
            }
        }
    }

    @Test
    void theShutdownWaitsNoLongerThanItsTimeout() throws Exception {
        try (MemcachedProcess frozen = MemcachedProcess.start()) {
            ProxyConfig config = overOne(frozen.port(), Duration.ofSeconds(30));
            ProxyServer proxy = new ProxyServer(
                            config.withOperations(config.operations().withShutdownTimeout(Duration.ofSeconds(1))),
                            TestTransport.chosen())
                    .start();
            try (Socket client = new Socket()) {
                client.connect(new InetSocketAddress("127.0.0.1", proxy.port()), 2000);
                client.setSoTimeout(10_000);
                frozen.freeze();
                client.getOutputStream().write("get never\r\n".getBytes(StandardCharsets.US_ASCII));
                await().atMost(Duration.ofSeconds(5)).until(() -> proxy.stats().requestsInFlight() == 1);

                long start = System.nanoTime();
                proxy.close();
                long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

                assertThat(client.getInputStream().read())
                        .as("closed unanswered")
                        .isEqualTo(-1);
                assertThat(tookMillis)
                        .as("bounded by the shutdown timeout, not the 30 s server timeout")
                        .isBetween(1000L, 10_000L);
            } finally {
                proxy.close();
            }
        }
    }

    @Test
    void sigtermStopsTheProxyGracefullyWithExitCodeZero() throws Exception {
        Path jar = Path.of("target", "jmagent.jar");
        assertThat(jar)
                .as("the jar is built in the package phase, before the integration tests")
                .exists();
        Path log = Files.createTempFile("jmagent-sigterm", ".log");
        int port = MemcachedProcess.freePort();
        try (MemcachedProcess server = MemcachedProcess.start()) {
            Process proxy = new ProcessBuilder(
                            Path.of(System.getProperty("java.home"), "bin", "java")
                                    .toString(),
                            "-jar",
                            jar.toString(),
                            "-l",
                            "127.0.0.1",
                            "-p",
                            Integer.toString(port),
                            "-s",
                            server.address(),
                            "--transport",
                            TestTransport.name())
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            try {
                await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> {
                    try (TextClient probe = new TextClient(port)) {
                        return probe.exchange("set k 0 0 1\r\nv\r\n").equals("STORED\r\n");
                    }
                });
                try (TextClient client = new TextClient(port)) {
                    assertThat(client.exchange("get k\r\n")).isEqualTo("VALUE k 0 1\r\nv\r\nEND\r\n");

                    proxy.destroy(); // SIGTERM

                    assertThat(proxy.waitFor(15, TimeUnit.SECONDS)).isTrue();
                    assertThat(proxy.exitValue()).isEqualTo(0);
                    assertThat(client.exchange("get k\r\n")).isEqualTo(TextClient.CLOSED);
                }
                assertThat(Files.readString(log)).contains("shutting down", "stopped");
            } finally {
                proxy.destroyForcibly();
                Files.deleteIfExists(log);
            }
        }
    }

    private static ProxyConfig overOne(int serverPort, Duration serverTimeout) {
        return new ProxyConfig(
                "127.0.0.1",
                MemcachedProcess.freePort(),
                null,
                List.of(new ServerAddress("127.0.0.1", serverPort, 1)),
                List.of(),
                ProxyConfig.DEFAULT_MAX_CONNECTIONS,
                ProxyConfig.DEFAULT_MAX_KEEP_ALIVE,
                1,
                1,
                serverTimeout,
                ProxyConfig.DEFAULT_MAX_ITEM_SIZE,
                ProxyConfig.DEFAULT_MAX_RETRIEVAL_LINE,
                ProxyConfig.DEFAULT_MAX_PENDING_PER_CLIENT,
                0);
    }
}
