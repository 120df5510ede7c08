package io.jmagent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.jmagent.backend.BackendConnection;
import io.jmagent.backend.ServerHealth;
import io.jmagent.config.ProxyConfigBuilder;
import io.jmagent.config.ServerTls;
import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.RunningProxy;
import io.jmagent.testing.TestCertificates;
import io.jmagent.testing.TextClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * TLS to the servers (issue 14): memcached started with -Z, as an operator starts it, the proxy
 * checking each server's certificate against a CA and the address written in -s/-b.
 */
class ServerTlsIT {

    @TempDir
    static Path dir;

    private static TestCertificates certs;
    private static TestCertificates.Authority ca;
    private static TestCertificates.Issued serverCert;

    @BeforeAll
    static void certificates() {
        certs = new TestCertificates(dir);
        ca = certs.authority("ca");
        serverCert = ca.issue("memcached", "memcached", 30);
    }

    /** memcached serving TLS only, with {@code cert}; {@code more}: further -o settings. */
    private static MemcachedProcess tlsMemcached(TestCertificates.Issued cert, String more) {
        return MemcachedProcess.start(
                "-Z", "-o", "ssl_chain_cert=" + cert.certificate() + ",ssl_key=" + cert.key() + more);
    }

    private static RunningProxy proxy(List<MemcachedProcess> servers, List<MemcachedProcess> backups, ServerTls tls) {
        // a TLS handshake on a busy machine may take longer than the default 1 s deadline
        return RunningProxy.over(servers, backups, c -> new ProxyConfigBuilder(c)
                .serverTls(tls)
                .timeout(Duration.ofSeconds(5))
                .build());
    }

    @Test
    void clientsAreServedFromServersThatSpeakOnlyTls() {
        List<MemcachedProcess> servers = List.of(tlsMemcached(serverCert, ""), tlsMemcached(serverCert, ""));
        List<MemcachedProcess> backups = List.of(tlsMemcached(serverCert, ""));
        try (RunningProxy proxy = proxy(servers, backups, new ServerTls(true, ca.certificate(), null, null));
                TextClient c = new TextClient(proxy.port())) {
            StringBuilder sets = new StringBuilder();
            StringBuilder get = new StringBuilder("get");
            StringBuilder values = new StringBuilder();
            for (int i = 0; i < 20; i++) {
                sets.append("set stls:")
                        .append(i)
                        .append(" 0 0 2\r\nv")
                        .append(i % 10)
                        .append("\r\n");
                get.append(" stls:").append(i);
                values.append("VALUE stls:")
                        .append(i)
                        .append(" 0 2\r\nv")
                        .append(i % 10)
                        .append("\r\n");
            }
            assertThat(c.exchange(sets.toString())).isEqualTo("STORED\r\n".repeat(20));
            assertThat(c.exchange(get + "\r\n")).isEqualTo(values + "END\r\n");
            assertThat(c.exchange("ms stls:meta 2 T0\r\nmm\r\nmg stls:meta v\r\n"))
                    .isEqualTo("HD\r\nVA 2\r\nmm\r\n");
            assertThat(c.exchange("incr stls:0 1\r\n"))
                    .isEqualTo("CLIENT_ERROR cannot increment or decrement " + "non-numeric value\r\n");
            // the probes speak TLS too: every server stays UP
            await().during(Duration.ofMillis(2500))
                    .atMost(Duration.ofSeconds(5))
                    .untilAsserted(() -> assertThat(allUp(proxy)).isTrue());
            // and the copies are on the servers, which a plain client cannot read
            try (TextClient plain = new TextClient(servers.get(0).port())) {
                assertThat(plain.exchange("get stls:0\r\n"))
                        .doesNotStartWith("VALUE")
                        .doesNotStartWith("END");
            }
        } finally {
            servers.forEach(MemcachedProcess::close);
            backups.forEach(MemcachedProcess::close);
        }
    }

    private static boolean allUp(RunningProxy proxy) {
        List<ServerHealth> all = new ArrayList<>(proxy.server().primaries().health());
        all.addAll(proxy.server().backups().health());
        return all.stream().allMatch(h -> h.state() == ServerHealth.State.UP);
    }

    @Test
    void aServerWhoseCertificateIsNotTrustedOrNamesAnotherHostIsNeverUsed() {
        TestCertificates.Authority other = certs.authority("other-ca");
        TestCertificates.Issued stranger = other.issue("stranger", "memcached", 30);
        TestCertificates.Issued elsewhere = ca.issue("elsewhere", "memcached", 30, "DNS:cache.example.org");
        for (TestCertificates.Issued bad : List.of(stranger, elsewhere)) {
            MemcachedProcess server = tlsMemcached(bad, "");
            try (RunningProxy proxy =
                            proxy(List.of(server), List.of(), new ServerTls(true, ca.certificate(), null, null));
                    TextClient c = new TextClient(proxy.port())) {
                assertThat(c.exchange("set stls:x 0 0 1\r\nx\r\n"))
                        .as("with %s", bad.certificate().getFileName())
                        .startsWith("SERVER_ERROR backend 127.0.0.1:" + server.port());
                await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(
                                proxy.server().primaries().health().get(0).state())
                        .isEqualTo(ServerHealth.State.DOWN));
            } finally {
                server.close();
            }
        }
    }

    /**
     * A handshake that fails is a failed connect: the server is tried again after a growing pause
     * (100 ms, doubling), not at every request. Kept UP (a failure limit never reached), it is sent
     * request after request for two seconds; a reconnect per request would open hundreds, and log a
     * WARN line for each.
     */
    @Test
    void aServerWhoseCertificateIsRefusedIsRetriedAfterABackoffNotAtEveryRequest() throws Exception {
        TestCertificates.Authority other = certs.authority("backoff-ca");
        MemcachedProcess server = tlsMemcached(other.issue("backoff", "memcached", 30), "");
        Logger logger = (Logger) LoggerFactory.getLogger(BackendConnection.class);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        logger.addAppender(logged);
        try (RunningProxy proxy = RunningProxy.over(List.of(server), List.of(), c -> new ProxyConfigBuilder(c)
                        .serverTls(new ServerTls(true, ca.certificate(), null, null))
                        .timeout(Duration.ofSeconds(5))
                        .failureLimit(Integer.MAX_VALUE)
                        .build());
                TextClient c = new TextClient(proxy.port())) {
            ServerHealth health = proxy.server().primaries().health().get(0);

            long requests = BackoffWindow.requestFor(
                    Duration.ofSeconds(2),
                    c,
                    "get stls:backoff\r\n",
                    "SERVER_ERROR backend 127.0.0.1:" + server.port());

            assertThat(health.state()).isEqualTo(ServerHealth.State.UP);
            long connections = health.connectionsOpened();
            assertThat(connections)
                    .as("connections opened for %d requests", requests)
                    .isBetween(2L, BackoffWindow.MOST_ATTEMPTS);
            assertThat(logged.list.stream()
                            .filter(e -> e.getLevel() == Level.WARN)
                            .map(ILoggingEvent::getFormattedMessage))
                    .as("one WARN line per failed connection")
                    .hasSize((int) connections)
                    .allMatch(m -> m.startsWith("connection to 127.0.0.1:" + server.port() + " broke: "));
        } finally {
            logger.detachAppender(logged);
            server.close();
        }
    }

    @Test
    void aServerThatAsksForAClientCertificateGetsTheProxys() {
        TestCertificates.Issued proxyCert = ca.issue("proxy-client", "jmagent", 30);
        MemcachedProcess server = tlsMemcached(serverCert, ",ssl_verify_mode=2,ssl_ca_cert=" + ca.certificate());
        try {
            try (RunningProxy proxy = proxy(
                            List.of(server),
                            List.of(),
                            new ServerTls(true, ca.certificate(), proxyCert.certificate(), proxyCert.key()));
                    TextClient c = new TextClient(proxy.port())) {
                assertThat(c.exchange("set stls:m 0 0 1\r\nm\r\nget stls:m\r\n"))
                        .isEqualTo("STORED\r\nVALUE stls:m 0 1\r\nm\r\nEND\r\n");
            }
            try (RunningProxy proxy =
                            proxy(List.of(server), List.of(), new ServerTls(true, ca.certificate(), null, null));
                    TextClient c = new TextClient(proxy.port())) {
                assertThat(c.exchange("get stls:m\r\n"))
                        .as("without a client certificate")
                        .startsWith("SERVER_ERROR");
            }
        } finally {
            server.close();
        }
    }
}
