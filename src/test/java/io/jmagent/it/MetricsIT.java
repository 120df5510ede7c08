package io.jmagent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jmagent.testing.MemcachedProcess;
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
 * The HTTP endpoint: {@code /metrics} is Prometheus text with a series per server, and
 * {@code /health} says whether every key has somewhere to go.
 */
class MetricsIT {

    /** A sample line of the Prometheus text format 0.0.4: name, optional labels, value. */
    private static final Pattern SAMPLE = Pattern.compile(
            "([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\]|\\\\.)*\",?)*\\})? "
                    + "(-?[0-9.]+(?:[eE][-+]?[0-9]+)?|NaN|[-+]Inf)( -?[0-9]+)?");
    private static final Pattern COMMENT = Pattern.compile(
            "# (HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|summary|histogram|untyped))");

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void metricsAreValidPrometheusTextWithASeriesPerServer() throws Exception {
        try (ProxiedFarm farm = ProxiedFarm.start(2, MetricsIT::withHttp);
                TextClient client = new TextClient(farm.port())) {
            assertThat(client.exchange("set k 0 0 1\r\nv\r\n")).isEqualTo("STORED\r\n");
            assertThat(client.exchange("get k nokey\r\n")).isEqualTo("VALUE k 0 1\r\nv\r\nEND\r\n");

            HttpResponse<String> response = get(farm, "/metrics");

            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("content-type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
            List<String> malformed = new ArrayList<>();
            for (String line : response.body().split("\n")) {
                if (!line.isEmpty() && !SAMPLE.matcher(line).matches() && !COMMENT.matcher(line).matches()) {
                    malformed.add(line);
                }
            }
            assertThat(malformed).isEmpty();
            String body = response.body();
            assertThat(value(body, "jmagent_cmd_get_total")).isEqualTo(2.0);
            assertThat(value(body, "jmagent_get_hits_total")).isEqualTo(1.0);
            assertThat(value(body, "jmagent_cmd_set_total")).isEqualTo(1.0);
            assertThat(value(body, "jmagent_curr_connections")).isEqualTo(1.0);
            double requests = 0;
            for (MemcachedProcess m : farm.servers()) {
                String labels = "{role=\"primary\",server=\"" + m.address() + "\"}";
                requests += value(body, "jmagent_server_requests_total" + labels);
                assertThat(value(body, "jmagent_server_errors_total" + labels)).isEqualTo(0.0);
                assertThat(value(body, "jmagent_server_up" + labels)).isEqualTo(1.0);
                assertThat(value(body, "jmagent_server_inflight" + labels)).isEqualTo(0.0);
                assertThat(body).contains("jmagent_server_latency_seconds_count" + labels,
                        "jmagent_server_latency_seconds_sum" + labels,
                        "jmagent_server_latency_percentile_seconds{quantile=\"0.99\",role=\"primary\",server=\""
                                + m.address() + "\"}");
            }
            assertThat(requests).as("one set, and the get on one or two servers").isBetween(2.0, 3.0);
            assertThat(body).contains("jvm_memory_used_bytes{", "jvm_gc_", "jvm_threads_live_threads ",
                    "system_cpu_count ", "netty_allocator_memory_used_bytes{allocator=");
            assertThat(body).containsPattern("netty_allocator_memory_used_bytes\\{allocator=\"\\w+\",memory=\"direct\"\\}");

            assertThat(get(farm, "/nothing").statusCode()).isEqualTo(404);
        }
    }

    @Test
    void healthTurns503WhenEveryServerIsDeadAnd200WhenTheyAreBack() throws Exception {
        try (ProxiedFarm farm = ProxiedFarm.start(2, MetricsIT::withHttp)) {
            HttpResponse<String> healthy = get(farm, "/health");
            assertThat(healthy.statusCode()).isEqualTo(200);
            assertThat(healthy.headers().firstValue("content-type")).hasValue("application/json");
            assertThat(healthy.body()).isEqualTo("{\"healthy\":true,\"servers\":["
                    + "{\"server\":\"" + farm.server(0).address() + "\",\"role\":\"primary\",\"state\":\"UP\"},"
                    + "{\"server\":\"" + farm.server(1).address() + "\",\"role\":\"primary\",\"state\":\"UP\"}]}\n");

            farm.server(0).kill();
            farm.server(1).kill();
            await().atMost(Duration.ofSeconds(15)).until(() -> get(farm, "/health").statusCode() == 503);
            assertThat(get(farm, "/health").body()).startsWith("{\"healthy\":false,")
                    .contains("\"state\":\"DOWN\"");

            farm.server(0).restart();
            farm.server(1).restart();
            await().atMost(Duration.ofSeconds(15)).until(() -> get(farm, "/health").statusCode() == 200);
            assertThat(get(farm, "/health").body()).startsWith("{\"healthy\":true,").doesNotContain("DOWN");
        }
    }

    private static io.jmagent.config.ProxyConfig withHttp(io.jmagent.config.ProxyConfig c) {
        return c.withOperations(c.operations().withHttpPort(MemcachedProcess.freePort()));
    }

    private HttpResponse<String> get(ProxiedFarm farm, String path) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + farm.proxy().server().httpPort() + path))
                .timeout(Duration.ofSeconds(5)).build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    /** The value of the sample whose name and labels are exactly {@code series}. */
    private static double value(String body, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(body);
        assertThat(m.find()).as("a sample %s in%n%s", series, body).isTrue();
        return Double.parseDouble(m.group(1));
    }
}
