package io.jmagent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jmagent.config.HttpTls;
import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.TestCertificates;
import io.jmagent.testing.TextClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP endpoint over TLS (issue 14): {@code /metrics} and {@code /health} served as HTTPS with
 * certificates made by openssl, fetched by the JDK's HttpClient; with a client CA, only a scraper
 * presenting a certificate it signed is answered.
 */
class MetricsTlsIT {

    @TempDir
    static Path dir;

    private static TestCertificates certs;
    private static TestCertificates.Authority ca;
    private static TestCertificates.Issued endpointCert;

    @BeforeAll
    static void certificates() {
        certs = new TestCertificates(dir);
        ca = certs.authority("ca");
        endpointCert = ca.issue("http", "localhost", 30);
    }

    private static ProxiedFarm farm(Path clientCa) {
        return ProxiedFarm.start(
                1,
                c -> c.withOperations(c.operations()
                        .withHttpPort(MemcachedProcess.freePort())
                        .withHttpTls(new HttpTls(endpointCert.certificate(), endpointCert.key(), clientCa))));
    }

    @Test
    void metricsAndHealthAreServedOverHttpsToAClientTrustingTheCa() throws Exception {
        try (ProxiedFarm farm = farm(null);
                TextClient client = new TextClient(farm.port())) {
            assertThat(client.exchange("set k 0 0 1\r\nv\r\n")).isEqualTo("STORED\r\n");
            HttpClient trusting = client(TestCertificates.clientContext("TLS", ca.certificate(), null));

            HttpResponse<String> metrics = get(trusting, farm, "/metrics");
            HttpResponse<String> health = get(trusting, farm, "/health");

            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.body()).containsPattern("(?m)^jmagent_cmd_set_total\\{pool=\"default\"\\} 1(\\.0)?$");
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(health.body())
                    .isEqualTo("{\"healthy\":true,\"pools\":[{\"pool\":\"default\",\"healthy\":true,"
                            + "\"servers\":[{\"server\":\"" + farm.server(0).address()
                            + "\",\"role\":\"primary\",\"state\":\"UP\"}]}]}\n");
        }
    }

    @Test
    void aClientThatDoesNotTrustTheCaIsRefused() throws Exception {
        try (ProxiedFarm farm = farm(null)) {
            HttpClient jdkDefaults = client(SSLContext.getDefault());

            assertThatThrownBy(() -> get(jdkDefaults, farm, "/metrics")).isInstanceOf(SSLHandshakeException.class);
        }
    }

    @Test
    void plainHttpOnTheTlsPortIsClosedUnansweredAndHttpsGoesOn() throws Exception {
        try (ProxiedFarm farm = farm(null)) {
            String answer;
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", farm.proxy().httpPort()), 2000);
                s.setSoTimeout(5000);
                s.getOutputStream()
                        .write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                answer = readUntilClosed(s.getInputStream());
            }

            assertThat(answer).doesNotContain("HTTP/1.1");
            HttpClient trusting = client(TestCertificates.clientContext("TLS", ca.certificate(), null));
            assertThat(get(trusting, farm, "/health").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void withAClientCaOnlyAScraperPresentingACertificateItSignedIsAnswered() throws Exception {
        TestCertificates.Issued scraper = ca.issue("scraper", "prometheus", 30);
        TestCertificates.Authority other = certs.authority("other-ca");
        TestCertificates.Issued stranger = other.issue("stranger", "prometheus", 30);
        try (ProxiedFarm farm = farm(ca.certificate())) {
            HttpClient withCertificate = client(TestCertificates.clientContext("TLS", ca.certificate(), scraper));
            assertThat(get(withCertificate, farm, "/metrics").statusCode()).isEqualTo(200);
            assertThat(get(withCertificate, farm, "/health").statusCode()).isEqualTo(200);

            for (TestCertificates.Issued refused : new TestCertificates.Issued[] {null, stranger}) {
                HttpClient c = client(TestCertificates.clientContext("TLS", ca.certificate(), refused));
                // with TLS 1.3 the refusal may come as an alert on the first read rather than in the handshake
                assertThatThrownBy(() -> get(c, farm, "/metrics"))
                        .as(
                                "a client presenting %s",
                                refused == null
                                        ? "no certificate"
                                        : refused.certificate().getFileName())
                        .isInstanceOf(IOException.class);
            }
        }
    }

    private static HttpClient client(SSLContext context) {
        return HttpClient.newBuilder()
                .sslContext(context)
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5))
                .build();
    }

    private static HttpResponse<String> get(HttpClient client, ProxiedFarm farm, String path) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(
                        URI.create("https://127.0.0.1:" + farm.proxy().httpPort() + path))
                .timeout(Duration.ofSeconds(10))
                .build();
        return client.send(request, HttpResponse.BodyHandlers.ofString());
    }

    /** What the peer sends until it closes (a reset counts as closing). */
    private static String readUntilClosed(InputStream in) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[1024];
        try {
            for (int n; (n = in.read(buf)) >= 0; ) {
                got.write(buf, 0, n);
            }
        } catch (SocketException reset) {
            // closed with unread bytes on its side: a reset, as good as a close here
        }
        return got.toString(StandardCharsets.ISO_8859_1);
    }
}
