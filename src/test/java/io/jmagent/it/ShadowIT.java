package io.jmagent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jmagent.config.ConfigFile;
import io.jmagent.frontend.ProxyPools;
import io.jmagent.metrics.ShadowCounters;
import io.jmagent.routing.Shadow;
import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.TestTransport;
import io.jmagent.testing.TextClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A pool's shadow (issue 16): a share of the keys, the same keys every time, also sent to another
 * pool; its answers compared and counted, never returned; bounded so that a frozen shadow costs
 * the real traffic nothing (every request answered, from the real pool, while it is frozen).
 */
class ShadowIT {

    private MemcachedProcess real;
    private MemcachedProcess mirror;
    private ProxyPools pools;
    private int port;

    @AfterEach
    void stop() {
        if (pools != null) {
            pools.close();
        }
        if (mirror != null) {
            mirror.thaw();
            mirror.close();
        }
        if (real != null) {
            real.close();
        }
    }

    private void start(double share, int maxInFlight) throws Exception {
        real = MemcachedProcess.start();
        mirror = MemcachedProcess.start();
        port = MemcachedProcess.freePort();
        String yaml = String.join(
                "\n",
                "http-port: " + MemcachedProcess.freePort(),
                "pools:",
                "  main:",
                "    listen: 127.0.0.1:" + port,
                "    servers: [ 127.0.0.1:" + real.port() + " ]",
                "    shadow: { pool: candidate, share: " + share + ", max-in-flight: " + maxInFlight + " }",
                "  candidate:",
                "    listen: 127.0.0.1:" + MemcachedProcess.freePort(),
                "    servers: [ 127.0.0.1:" + mirror.port() + " ]",
                "    timeout: 300ms",
                "");
        pools = new ProxyPools(ConfigFile.parse(yaml, "shadow.yml"), TestTransport.chosen()).start();
    }

    private ShadowCounters counters() {
        return pools.pool("main").shadow().counters();
    }

    @Test
    void theSameShareOfKeysIsShadowedAndComparedNeverReturned() throws Exception {
        start(0.3, 1000);
        Shadow shadow = pools.pool("main").shadow();
        Set<String> sampled = new HashSet<>();
        try (TextClient c = new TextClient(port)) {
            for (int k = 0; k < 400; k++) {
                assertThat(c.exchange("set k" + k + " 0 0 2\r\nv" + (k % 10) + "\r\n"))
                        .isEqualTo("STORED\r\n");
                if (shadow.samples(("k" + k).getBytes(StandardCharsets.US_ASCII))) {
                    sampled.add("k" + k);
                }
            }
            // by key hash: about the share, and exactly the keys the shadow holds
            assertThat(sampled.size()).isBetween(80, 160);
            try (TextClient m = new TextClient(mirror.port())) {
                for (int k = 0; k < 400; k++) {
                    String got = m.exchange("get k" + k + "\r\n");
                    assertThat(got.equals("END\r\n")).as("k%d", k).isEqualTo(!sampled.contains("k" + k));
                }
                // the shadow's copy differs for one key: counted, and the client still gets the real value
                String one = sampled.iterator().next();
                m.exchange("set " + one + " 0 0 5\r\nwrong\r\n");
                await().atMost(Duration.ofSeconds(5))
                        .until(() -> counters().inFlight().getAsLong() == 0);
                long sameBefore = counters().same().getAsLong();
                assertThat(c.exchange("get " + one + "\r\n")).doesNotContain("wrong");
                StringBuilder all = new StringBuilder("get");
                for (int k = 0; k < 400; k++) {
                    all.append(" k").append(k);
                }
                String multi = c.exchange(all + "\r\n");
                assertThat(multi).doesNotContain("wrong").endsWith("END\r\n");
                await().atMost(Duration.ofSeconds(5))
                        .until(() -> counters().inFlight().getAsLong() == 0);
                assertThat(counters().different().getAsLong())
                        .as(
                                "same %d failed %d requests %d sampled %d",
                                counters().same().getAsLong(),
                                counters().failed().getAsLong(),
                                counters().requests().getAsLong(),
                                sampled.size())
                        .isEqualTo(2); // the single get and the multi-get
                assertThat(counters().same().getAsLong()).isEqualTo(sameBefore);
                assertThat(counters().requests().getAsLong()).isEqualTo(sampled.size() + 2L);
                assertThat(counters().failed().getAsLong()).isZero();
                assertThat(c.exchange("stats shadow\r\n"))
                        .contains("STAT shadow_pool candidate\r\n")
                        .contains("STAT shadow_different 2\r\n");
                String metrics = new String(
                        new java.net.URL("http://127.0.0.1:" + pools.httpPort() + "/metrics")
                                .openStream()
                                .readAllBytes(),
                        StandardCharsets.UTF_8);
                assertThat(metrics)
                        .contains("jmagent_shadow_different_total{pool=\"main\",target=\"candidate\"} 2.0")
                        .contains("jmagent_shadow_requests_total{pool=\"main\",target=\"candidate\"} "
                                + (sampled.size() + 2) + ".0");
            }
        }
    }

    @Test
    void aFrozenShadowCostsTheRealTrafficNothing() throws Exception {
        start(1.0, 8);
        mirror.freeze();
        try (TextClient c = new TextClient(port)) {
            StringBuilder pipeline = new StringBuilder();
            for (int k = 0; k < 200; k++) {
                pipeline.append("set f")
                        .append(k)
                        .append(" 0 0 1\r\nx\r\nget f")
                        .append(k)
                        .append("\r\n");
            }
            String expected = "";
            for (int k = 0; k < 200; k++) {
                expected += "STORED\r\nVALUE f" + k + " 0 1\r\nx\r\nEND\r\n";
            }
            assertThat(c.exchange(pipeline.toString())).isEqualTo(expected);
            // no more than max-in-flight shadow requests waited on the frozen pool; the rest were
            // skipped (or failed at once, once the shadow pool called its server down)
            assertThat(counters().inFlight().getAsLong()).isLessThanOrEqualTo(8);
            assertThat(counters().skipped().getAsLong()).isPositive();
        }
        mirror.thaw();
        await().atMost(Duration.ofSeconds(10)).until(() -> counters().inFlight().getAsLong() == 0);
        ShadowCounters c = counters();
        assertThat(c.requests().getAsLong() + c.skipped().getAsLong()).isEqualTo(400);
        assertThat(c.same().getAsLong() + c.different().getAsLong() + c.failed().getAsLong())
                .isEqualTo(c.requests().getAsLong());
    }
}
