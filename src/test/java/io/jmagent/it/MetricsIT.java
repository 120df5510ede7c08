package io.jmagent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.jmagent.config.ProxyConfigBuilder;
import io.jmagent.config.ProxySetup;
import io.jmagent.frontend.ProxyPools;
import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.RunningProxy;
import io.jmagent.testing.TestTransport;
import io.jmagent.testing.TextClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The HTTP endpoint: {@code /metrics} is Prometheus text with a series per pool and per server, and
 * {@code /health} says whether every key has somewhere to go. The proxy here has one pool, named
 * {@value ProxySetup#DEFAULT_POOL}, as a command line without {@code -c} makes.
 */
class MetricsIT {

    /** A sample line of the Prometheus text format 0.0.4: name, optional labels, value. */
    private static final Pattern SAMPLE =
            Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\]|\\\\.)*\",?)*\\})? "
                    + "(-?[0-9.]+(?:[eE][-+]?[0-9]+)?|NaN|[-+]Inf)( -?[0-9]+)?");

    private static final Pattern COMMENT = Pattern.compile(
            "# (HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|summary|histogram|untyped))");

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void metricsAreValidPrometheusTextWithASeriesPerServer() throws Exception {
        try (ProxiedFarm farm = ProxiedFarm.start(2, MetricsIT::withHttp);
                TextClient client = new TextClient(farm.port())) {
            assertThat(client.exchange("set k 0 0 1\r\nv\r\n")).isEqualTo("STORED\r\n");
            assertThat(client.exchange("get k nokey\r\n")).isEqualTo("VALUE k 0 1\r\nv\r\nEND\r\n");

            HttpResponse<String> response = get(farm, "/metrics");

            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("content-type"))
                    .hasValue("text/plain; version=0.0.4; charset=utf-8");
            List<String> malformed = new ArrayList<>();
            for (String line : response.body().split("\n")) {
                if (!line.isEmpty()
                        && !SAMPLE.matcher(line).matches()
                        && !COMMENT.matcher(line).matches()) {
                    malformed.add(line);
                }
            }
            assertThat(malformed).isEmpty();
            String body = response.body();
            String pool = "{pool=\"default\"}";
            assertThat(value(body, "jmagent_cmd_get_total" + pool)).isEqualTo(2.0);
            assertThat(value(body, "jmagent_get_hits_total" + pool)).isEqualTo(1.0);
            assertThat(value(body, "jmagent_cmd_set_total" + pool)).isEqualTo(1.0);
            assertThat(value(body, "jmagent_curr_connections" + pool)).isEqualTo(1.0);
            double requests = 0;
            for (MemcachedProcess m : farm.servers()) {
                String labels = "{pool=\"default\",role=\"primary\",server=\"" + m.address() + "\"}";
                requests += value(body, "jmagent_server_requests_total" + labels);
                assertThat(value(body, "jmagent_server_errors_total" + labels)).isEqualTo(0.0);
                assertThat(value(body, "jmagent_server_up" + labels)).isEqualTo(1.0);
                assertThat(value(body, "jmagent_server_inflight" + labels)).isEqualTo(0.0);
                assertThat(value(body, "jmagent_server_mirrors_in_flight" + labels))
                        .isEqualTo(0.0);
                assertThat(body)
                        .contains(
                                "jmagent_server_latency_seconds_count" + labels,
                                "jmagent_server_latency_seconds_sum" + labels,
                                "jmagent_server_latency_percentile_seconds{pool=\"default\",quantile=\"0.99\",role=\"primary\",server=\""
                                        + m.address() + "\"}");
            }
            assertThat(requests)
                    .as("one set, and the get on one or two servers")
                    .isBetween(2.0, 3.0);
            assertThat(body)
                    .contains(
                            "jvm_memory_used_bytes{",
                            "jvm_gc_",
                            "jvm_threads_live_threads ",
                            "system_cpu_count ",
                            "netty_allocator_memory_used_bytes{allocator=");
            assertThat(body)
                    .containsPattern("netty_allocator_memory_used_bytes\\{allocator=\"\\w+\",memory=\"direct\"\\}");

            assertThat(get(farm, "/nothing").statusCode()).isEqualTo(404);
        }
    }

    @Test
    void healthTurns503WhenEveryServerIsDeadAnd200WhenTheyAreBack() throws Exception {
        try (ProxiedFarm farm = ProxiedFarm.start(2, MetricsIT::withHttp)) {
            HttpResponse<String> healthy = get(farm, "/health");
            assertThat(healthy.statusCode()).isEqualTo(200);
            assertThat(healthy.headers().firstValue("content-type")).hasValue("application/json");
            assertThat(healthy.body())
                    .isEqualTo("{\"healthy\":true,\"pools\":[{\"pool\":\"default\",\"healthy\":true,"
                            + "\"servers\":["
                            + "{\"server\":\"" + farm.server(0).address() + "\",\"role\":\"primary\",\"state\":\"UP\"},"
                            + "{\"server\":\"" + farm.server(1).address()
                            + "\",\"role\":\"primary\",\"state\":\"UP\"}]}]}\n");

            farm.server(0).kill();
            farm.server(1).kill();
            await().atMost(Duration.ofSeconds(15))
                    .until(() -> get(farm, "/health").statusCode() == 503);
            assertThat(get(farm, "/health").body())
                    .startsWith("{\"healthy\":false,")
                    .contains("\"state\":\"DOWN\"");

            farm.server(0).restart();
            farm.server(1).restart();
            await().atMost(Duration.ofSeconds(15))
                    .until(() -> get(farm, "/health").statusCode() == 200);
            assertThat(get(farm, "/health").body())
                    .startsWith("{\"healthy\":true,")
                    .doesNotContain("DOWN");
        }
    }

    @Test
    void poolsAreCountedApartAndAReloadKeepsTheirCountersAndTheEndpoint() throws Exception {
        try (MemcachedProcess a = MemcachedProcess.start();
                MemcachedProcess b = MemcachedProcess.start();
                MemcachedProcess c = MemcachedProcess.start()) {
            int httpPort = MemcachedProcess.freePort();
            int webPort = MemcachedProcess.freePort();
            int sessionsPort = MemcachedProcess.freePort();
            ProxySetup before = twoPools(httpPort, webPort, a, sessionsPort, b);
            try (ProxyPools pools = new ProxyPools(before, TestTransport.chosen()).start()) {
                try (StatsClient web = new StatsClient(webPort);
                        TextClient sessions = new TextClient(sessionsPort)) {
                    assertThat(web.exchange("set k 0 0 1\r\nv\r\n", "STORED\r\n"))
                            .isEqualTo("STORED\r\n");
                    assertThat(sessions.exchange("get k\r\n")).isEqualTo("END\r\n");
                    assertThat(web.stats("")).containsEntry("cmd_set", "1").containsEntry("cmd_get", "0");
                    assertThat(web.stats("servers")).containsOnlyKeys(a.address());

                    pools.apply(twoPools(httpPort, webPort, a, sessionsPort, c));

                    assertThat(pools.httpPort()).isEqualTo(httpPort);
                    assertThat(sessions.exchange("get k\r\n")).isEqualTo("END\r\n");
                    await().atMost(Duration.ofSeconds(5)).until(() -> pools.pools().stream()
                            .allMatch(p -> p.stats().requestsInFlight() == 0));
                    String body = get(httpPort, "/metrics").body();
                    assertThat(value(body, "jmagent_cmd_set_total{pool=\"web\"}"))
                            .isEqualTo(1.0);
                    assertThat(value(body, "jmagent_cmd_get_total{pool=\"web\"}"))
                            .isEqualTo(0.0);
                    assertThat(value(body, "jmagent_cmd_get_total{pool=\"sessions\"}"))
                            .as("kept over the reload")
                            .isEqualTo(2.0);
                    assertThat(value(body, "jmagent_get_misses_total{pool=\"sessions\"}"))
                            .isEqualTo(2.0);
                    assertThat(value(
                                    body,
                                    "jmagent_server_up{pool=\"sessions\",role=\"primary\",server=\"" + c.address()
                                            + "\"}"))
                            .isEqualTo(1.0);
                    assertThat(body)
                            .as("the series of a server the reload removed are gone")
                            .doesNotContain("server=\"" + b.address() + "\"");
                }

                c.kill();
                await().atMost(Duration.ofSeconds(15))
                        .until(() -> get(httpPort, "/health").statusCode() == 503);
                assertThat(get(httpPort, "/health").body())
                        .startsWith("{\"healthy\":false,\"pools\":[" + "{\"pool\":\"web\",\"healthy\":true,")
                        .contains("{\"pool\":\"sessions\",\"healthy\":false,");
            }
        }
    }

    /** Pool web on {@code webServer}, pool sessions on {@code sessionsServer}; one HTTP endpoint. */
    private static ProxySetup twoPools(
            int httpPort, int webPort, MemcachedProcess webServer, int sessionsPort, MemcachedProcess sessionsServer) {
        ProxyConfigBuilder web = new ProxyConfigBuilder()
                .listenAddress("127.0.0.1")
                .port(webPort)
                .threads(2)
                .servers(RunningProxy.addresses(List.of(webServer)))
                .httpPort(httpPort)
                .timeout(ProxiedFarm.PATIENT_TIMEOUT);
        ProxyConfigBuilder sessions = new ProxyConfigBuilder()
                .listenAddress("127.0.0.1")
                .port(sessionsPort)
                .threads(2)
                .servers(RunningProxy.addresses(List.of(sessionsServer)))
                .httpPort(httpPort)
                .timeout(ProxiedFarm.PATIENT_TIMEOUT);
        return new ProxySetup(
                List.of(new ProxySetup.Pool("web", web.build()), new ProxySetup.Pool("sessions", sessions.build())));
    }

    private static io.jmagent.config.ProxyConfig withHttp(io.jmagent.config.ProxyConfig c) {
        return c.withOperations(c.operations().withHttpPort(MemcachedProcess.freePort()));
    }

    @Test
    void theEndpointListensWhereHttpListenSaysNotOnTheProxysAddress() throws Exception {
        int httpPort = MemcachedProcess.freePort();
        try (ProxiedFarm farm = ProxiedFarm.start(
                1, c -> c.withOperations(c.operations().withHttpPort(httpPort).withHttpAddress("127.0.0.2")))) {
            HttpRequest health = HttpRequest.newBuilder(URI.create("http://127.0.0.2:" + httpPort + "/health"))
                    .timeout(Duration.ofSeconds(5))
                    .build();
            assertThat(http.send(health, HttpResponse.BodyHandlers.ofString()).statusCode())
                    .isEqualTo(200);
            assertThatThrownBy(() -> get(httpPort, "/health"))
                    .as("on the proxy's own address, 127.0.0.1")
                    .isInstanceOf(java.net.ConnectException.class);
            assertThat(farm.port()).isPositive();
        }
    }

    private HttpResponse<String> get(ProxiedFarm farm, String path) throws Exception {
        return get(farm.proxy().httpPort(), path);
    }

    private HttpResponse<String> get(int port, String path) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(5))
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    /** The value of the sample whose name and labels are exactly {@code series}. */
    private static double value(String body, String series) {
        Matcher m =
                Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(body);
        assertThat(m.find()).as("a sample %s in%n%s", series, body).isTrue();
        return Double.parseDouble(m.group(1));
    }
}
