package io.jmagent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The TLS settings' own checks, and the config file's {@code tls:} mapping. */
class ClientTlsTest {

    private static final Path CERT = Path.of("cert.pem");
    private static final Path KEY = Path.of("key.pem");

    @Test
    void aTlsPortNeedsACertificateAndAKey() {
        assertThatThrownBy(() -> new ClientTls(
                        11212, CERT, null, null, ClientTls.DEFAULT_PROTOCOLS, ClientTls.DEFAULT_HANDSHAKE_TIMEOUT))
                .hasMessageContaining("--tls-key");
        assertThat(new ClientTls(
                                11212,
                                CERT,
                                KEY,
                                null,
                                ClientTls.DEFAULT_PROTOCOLS,
                                ClientTls.DEFAULT_HANDSHAKE_TIMEOUT)
                        .enabled())
                .isTrue();
        assertThat(ClientTls.NONE.enabled()).isFalse();
    }

    @Test
    void onlyTls12AndTls13AreOffered() {
        assertThatThrownBy(() -> new ClientTls(
                        11212, CERT, KEY, null, List.of("TLSv1.3", "TLSv1.1"), ClientTls.DEFAULT_HANDSHAKE_TIMEOUT))
                .hasMessage("TLS protocol 'TLSv1.1': only TLSv1.2 and TLSv1.3 are offered");
        assertThatThrownBy(() -> new ClientTls(11212, CERT, KEY, null, List.of(), ClientTls.DEFAULT_HANDSHAKE_TIMEOUT))
                .hasMessageContaining("at least one");
    }

    @Test
    void theHandshakeTimeoutIsPositive() {
        assertThatThrownBy(() -> new ClientTls(11212, CERT, KEY, null, ClientTls.DEFAULT_PROTOCOLS, Duration.ZERO))
                .hasMessageContaining("positive");
    }

    @Test
    void aPoolWithATlsPortOnlyListensThere() {
        ClientTls tls =
                new ClientTls(11212, CERT, KEY, null, ClientTls.DEFAULT_PROTOCOLS, ClientTls.DEFAULT_HANDSHAKE_TIMEOUT);
        ProxyConfig c = new ProxyConfigBuilder()
                .port(0)
                .servers(List.of(io.jmagent.backend.ServerAddress.parse("127.0.0.1:11211")))
                .tls(tls)
                .build();
        assertThat(c.tls()).isEqualTo(tls);
        assertThatThrownBy(() -> new ProxyConfigBuilder(c).port(11212).build())
                .hasMessageContaining("the TLS port must differ from the plain one");
    }

    @Test
    void theConfigFilesTlsMappingHasTheFlagsSettings() throws ConfigException {
        ProxySetup setup = ConfigFile.parse("""
                pools:
                  web:
                    listen: 127.0.0.1:22121
                    servers: [ "127.0.0.1:11211" ]
                    tls:
                      port: 22122
                      cert: /etc/jmagent/tls/cert.pem
                      key: /etc/jmagent/tls/key.pem
                      ca: /etc/jmagent/tls/clients-ca.pem
                      protocols: [ TLSv1.3 ]
                      handshake-timeout: 2s
                """, "test.yml");
        assertThat(setup.pool("web").config().tls())
                .isEqualTo(new ClientTls(
                        22122,
                        Path.of("/etc/jmagent/tls/cert.pem"),
                        Path.of("/etc/jmagent/tls/key.pem"),
                        Path.of("/etc/jmagent/tls/clients-ca.pem"),
                        List.of("TLSv1.3"),
                        Duration.ofSeconds(2)));
    }

    @Test
    void theConfigFileNamesTheTlsKeyThatIsWrong() {
        assertThatThrownBy(() -> ConfigFile.parse("""
                pools:
                  web:
                    listen: 127.0.0.1:22121
                    servers: [ "127.0.0.1:11211" ]
                    tls: { port: 22122, cert: c.pem }
                """, "test.yml"))
                .hasMessage("test.yml: pools.web.tls: a TLS port needs a certificate chain (cert) and its key (key)");
        assertThatThrownBy(() -> ConfigFile.parse("""
                pools:
                  web:
                    listen: 127.0.0.1:22121
                    servers: [ "127.0.0.1:11211" ]
                    tls: { port: 22122, cert: c.pem, key: k.pem, certificate: x }
                """, "test.yml"))
                .hasMessage("test.yml: pools.web.tls.certificate: unknown key");
    }
}
