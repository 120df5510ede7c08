package io.jmagent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.jmagent.config.ClientTls;
import io.jmagent.config.ConfigFile;
import io.jmagent.config.ProxyConfigBuilder;
import io.jmagent.frontend.ProxyPools;
import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.RunningProxy;
import io.jmagent.testing.TestCertificates;
import io.jmagent.testing.TestTransport;
import io.jmagent.testing.TextClient;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS to clients (issue 14): a TLS listener beside the plain one, over real memcached servers,
 * with certificates made by openssl as an operator makes them; clients are the JDK's TLS sockets
 * and the openssl command line.
 */
class ClientTlsIT {

    @TempDir
    static Path dir;

    private static List<MemcachedProcess> servers;
    private static TestCertificates certs;
    private static TestCertificates.Authority ca;
    private static TestCertificates.Issued proxyCert;

    @BeforeAll
    static void farm() {
        servers = List.of(MemcachedProcess.start(), MemcachedProcess.start());
        certs = new TestCertificates(dir);
        ca = certs.authority("ca");
        proxyCert = ca.issue("proxy", "localhost", 30);
    }

    @AfterAll
    static void stop() {
        servers.forEach(MemcachedProcess::close);
    }

    private static RunningProxy proxy(ClientTls tls) {
        return RunningProxy.over(
                servers, List.of(), c -> new ProxyConfigBuilder(c).tls(tls).build());
    }

    private static ClientTls tls(Path clientCa, List<String> protocols, Duration handshakeTimeout) {
        return new ClientTls(
                MemcachedProcess.freePort(),
                proxyCert.certificate(),
                proxyCert.key(),
                clientCa,
                protocols,
                handshakeTimeout);
    }

    private static ClientTls plainTls() {
        return tls(null, ClientTls.DEFAULT_PROTOCOLS, ClientTls.DEFAULT_HANDSHAKE_TIMEOUT);
    }

    @Test
    void aTlsClientIsServedBesideAPlainOneAndSeesTheSameKeys() throws Exception {
        try (RunningProxy proxy = proxy(plainTls());
                TextClient plain = new TextClient(proxy.port());
                TextClient tls = new TextClient(TestCertificates.connect(
                        TestCertificates.clientContext("TLS", ca.certificate(), null),
                        proxy.server().tlsPort()))) {
            assertThat(tls.exchange("set tls:a 5 0 3\r\nabc\r\n")).isEqualTo("STORED\r\n");
            assertThat(plain.exchange("get tls:a\r\n")).isEqualTo("VALUE tls:a 5 3\r\nabc\r\nEND\r\n");
            assertThat(plain.exchange("set tls:b 0 0 2\r\nhi\r\n")).isEqualTo("STORED\r\n");
            String many = "get" + " tls:a tls:b".repeat(200) + "\r\n";
            assertThat(tls.exchange(many))
                    .isEqualTo("VALUE tls:a 5 3\r\nabc\r\nVALUE tls:b 0 2\r\nhi\r\n".repeat(200) + "END\r\n");
            String big = "v".repeat(500_000);
            assertThat(tls.exchange("set tls:big 0 0 500000\r\n" + big + "\r\n"))
                    .isEqualTo("STORED\r\n");
            assertThat(plain.exchange("get tls:big\r\n")).isEqualTo("VALUE tls:big 0 500000\r\n" + big + "\r\nEND\r\n");
        }
    }

    /** A pool of a config file that listens for TLS clients only: {@code listen} on port 0, as {@code -p 0}. */
    @Test
    void aConfigFilePoolOnPortZeroServesTlsClientsOnly() throws Exception {
        int tlsPort = MemcachedProcess.freePort();
        String yaml = """
                pools:
                  secure:
                    listen: 127.0.0.1:0
                    servers: [ "%s" ]
                    tls: { port: %d, cert: "%s", key: "%s" }
                """.formatted(servers.get(0).address(), tlsPort, proxyCert.certificate(), proxyCert.key());
        try (ProxyPools pools = new ProxyPools(ConfigFile.parse(yaml, "tls-only.yml"), TestTransport.chosen()).start();
                TextClient tls = new TextClient(TestCertificates.connect(
                        TestCertificates.clientContext("TLS", ca.certificate(), null), tlsPort))) {
            assertThat(pools.pool("secure").tlsPort()).isEqualTo(tlsPort);
            assertThat(tls.exchange("set tls:only 0 0 2\r\nok\r\nget tls:only\r\n"))
                    .isEqualTo("STORED\r\nVALUE tls:only 0 2\r\nok\r\nEND\r\n");
        }
    }

    @Test
    void theOpensslCommandLineHoldsASessionAndChecksTheCertificateAgainstTheCa() throws Exception {
        try (RunningProxy proxy = proxy(plainTls())) {
            Process p = new ProcessBuilder(
                            "openssl",
                            "s_client",
                            "-connect",
                            "127.0.0.1:" + proxy.server().tlsPort(),
                            "-CAfile",
                            ca.certificate().toString(),
                            "-verify_return_error",
                            "-verify_hostname",
                            "localhost",
                            "-quiet")
                    .redirectErrorStream(true)
                    .start();
            try {
                p.getOutputStream()
                        .write("set ossl 0 0 2\r\nok\r\nget ossl\r\nquit\r\n".getBytes(StandardCharsets.US_ASCII));
                p.getOutputStream().flush();
                assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                assertThat(out).contains("verify return:1").endsWith("STORED\r\nVALUE ossl 0 2\r\nok\r\nEND\r\n");
            } finally {
                p.destroyForcibly();
            }
        }
    }

    @Test
    void withAClientCaOnlyAClientWithACertificateItSignedIsServed() throws Exception {
        TestCertificates.Issued good = ca.issue("client", "app-1", 30);
        TestCertificates.Authority other = certs.authority("other-ca");
        TestCertificates.Issued stranger = other.issue("stranger", "app-2", 30);
        TestCertificates.Issued expired = ca.issue("expired", "app-3", -1);
        try (RunningProxy proxy =
                proxy(tls(ca.certificate(), ClientTls.DEFAULT_PROTOCOLS, ClientTls.DEFAULT_HANDSHAKE_TIMEOUT))) {
            int port = proxy.server().tlsPort();
            try (TextClient c = new TextClient(
                    TestCertificates.connect(TestCertificates.clientContext("TLS", ca.certificate(), good), port))) {
                assertThat(c.exchange("set mtls 0 0 1\r\nx\r\n")).isEqualTo("STORED\r\n");
            }
            for (TestCertificates.Issued refused : new TestCertificates.Issued[] {null, stranger, expired}) {
                SSLContext context = TestCertificates.clientContext("TLS", ca.certificate(), refused);
                assertThat(servedAnything(context, port))
                        .as(
                                "client presenting %s",
                                refused == null
                                        ? "no certificate"
                                        : refused.certificate().getFileName())
                        .isFalse();
            }
            await().atMost(Duration.ofSeconds(5))
                    .untilAsserted(() -> assertThat(proxy.server().stats().sslHandshakeErrors())
                            .isEqualTo(3));
            try (TextClient plain = new TextClient(proxy.port())) {
                assertThat(plain.exchange("stats\r\n")).contains("STAT ssl_handshake_errors 3\r\n");
            }
        }
    }

    /**
     * True if a request gets an answer. With TLS 1.3 the client's handshake ends before the server
     * has judged its certificate: the refusal arrives as an alert on the first read.
     */
    private static boolean servedAnything(SSLContext context, int port) {
        try (SSLSocket s = TestCertificates.connect(context, port)) {
            s.getOutputStream().write("version\r\n".getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            return s.getInputStream().read() >= 0;
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void onlyTheProtocolsConfiguredAreOffered() throws Exception {
        try (RunningProxy proxy = proxy(tls(null, List.of("TLSv1.3"), ClientTls.DEFAULT_HANDSHAKE_TIMEOUT))) {
            int port = proxy.server().tlsPort();
            try (SSLSocket s =
                    TestCertificates.connect(TestCertificates.clientContext("TLSv1.3", ca.certificate(), null), port)) {
                assertThat(s.getSession().getProtocol()).isEqualTo("TLSv1.3");
            }
            SSLContext onlyTls12 = TestCertificates.clientContext("TLSv1.2", ca.certificate(), null);
            assertThatThrownBy(() -> {
                        try (SSLSocket s =
                                (SSLSocket) onlyTls12.getSocketFactory().createSocket("127.0.0.1", port)) {
                            s.setEnabledProtocols(new String[] {"TLSv1.2"});
                            s.setSoTimeout(5000);
                            s.startHandshake();
                        }
                    })
                    .isInstanceOf(SSLException.class);
        }
    }

    /** Only the cipher suites given are offered: a client that offers none of them is refused. */
    @Test
    void onlyTheCiphersConfiguredAreOffered() throws Exception {
        String only = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256";
        ClientTls tls = new ClientTls(
                MemcachedProcess.freePort(),
                proxyCert.certificate(),
                proxyCert.key(),
                null,
                List.of("TLSv1.2"),
                ClientTls.DEFAULT_HANDSHAKE_TIMEOUT,
                List.of(only));
        try (RunningProxy proxy = proxy(tls)) {
            int port = proxy.server().tlsPort();
            SSLContext client = TestCertificates.clientContext("TLSv1.2", ca.certificate(), null);
            try (SSLSocket s = TestCertificates.connect(client, port)) {
                assertThat(s.getSession().getCipherSuite()).isEqualTo(only);
            }
            assertThatThrownBy(() -> {
                        try (SSLSocket s = (SSLSocket) client.getSocketFactory().createSocket("127.0.0.1", port)) {
                            s.setEnabledCipherSuites(new String[] {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"});
                            s.setSoTimeout(5000);
                            s.startHandshake();
                        }
                    })
                    .isInstanceOf(SSLException.class);
        }
        assertThatThrownBy(() -> RunningProxy.over(servers, List.of(), c -> new ProxyConfigBuilder(c)
                        .tls(new ClientTls(
                                MemcachedProcess.freePort(),
                                proxyCert.certificate(),
                                proxyCert.key(),
                                null,
                                ClientTls.DEFAULT_PROTOCOLS,
                                ClientTls.DEFAULT_HANDSHAKE_TIMEOUT,
                                List.of("TLS_NO_SUCH_SUITE")))
                        .build()))
                .hasMessageContaining("TLS_NO_SUCH_SUITE");
    }

    @Test
    void aRotatedCertificateIsServedToNewClientsWithoutARestart() throws Exception {
        Path cert = dir.resolve("rotating.pem");
        Path key = dir.resolve("rotating.key");
        Files.copy(proxyCert.certificate(), cert, StandardCopyOption.REPLACE_EXISTING);
        Files.copy(proxyCert.key(), key, StandardCopyOption.REPLACE_EXISTING);
        ClientTls tls = new ClientTls(
                MemcachedProcess.freePort(),
                cert,
                key,
                null,
                ClientTls.DEFAULT_PROTOCOLS,
                ClientTls.DEFAULT_HANDSHAKE_TIMEOUT);
        SSLContext client = TestCertificates.clientContext("TLS", ca.certificate(), null);
        try (RunningProxy proxy = proxy(tls)) {
            int port = proxy.server().tlsPort();
            SSLSocket before = TestCertificates.connect(client, port);
            assertThat(subject(before)).contains("CN=localhost");
            TestCertificates.Issued next = ca.issue("next", "127.0.0.1", 30);
            // as a rotation tool does: the key first, then the certificate, each replaced whole
            Files.copy(next.key(), key, StandardCopyOption.REPLACE_EXISTING);
            Files.copy(next.certificate(), cert, StandardCopyOption.REPLACE_EXISTING);
            await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
                try (SSLSocket after = TestCertificates.connect(client, port)) {
                    assertThat(subject(after)).contains("CN=127.0.0.1");
                }
            });
            try (TextClient old = new TextClient(before)) {
                assertThat(old.exchange("set rotated 0 0 1\r\ny\r\n")).isEqualTo("STORED\r\n");
            }
        }
    }

    private static String subject(SSLSocket s) throws SSLException {
        return ((X509Certificate) s.getSession().getPeerCertificates()[0])
                .getSubjectX500Principal()
                .getName();
    }

    /** 1,000 clients that connect and never finish (half of them stop inside a ClientHello). */
    @Test
    void clientsThatNeverFinishTheirHandshakeAreClosedAndDelayNoOne() throws Exception {
        try (RunningProxy proxy = proxy(tls(null, ClientTls.DEFAULT_PROTOCOLS, Duration.ofMillis(800)))) {
            int port = proxy.server().tlsPort();
            List<Socket> stalled = new ArrayList<>();
            try {
                for (int i = 0; i < 1000; i++) {
                    Socket s = new Socket();
                    s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
                    if (i % 2 == 0) {
                        s.getOutputStream()
                                .write(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01}); // a ClientHello begun
                    }
                    stalled.add(s);
                }
                try (TextClient polite = new TextClient(TestCertificates.connect(
                        TestCertificates.clientContext("TLS", ca.certificate(), null), port))) {
                    assertThat(polite.exchange("set polite 0 0 1\r\nz\r\n")).isEqualTo("STORED\r\n");
                }
                for (Socket s : stalled) {
                    s.setSoTimeout(10_000);
                    try (InputStream in = s.getInputStream()) {
                        assertThat(drain(in)).as("the stalled client is closed").isTrue();
                    }
                }
            } finally {
                for (Socket s : stalled) {
                    s.close();
                }
            }
        }
    }

    /** Reads to the end of the stream: true once the other side closed. */
    private static boolean drain(InputStream in) throws IOException {
        byte[] buf = new byte[1024];
        try {
            while (in.read(buf) >= 0) {
                // an alert, maybe
            }
            return true;
        } catch (java.net.SocketException e) {
            return true; // reset: closed too
        }
    }
}
