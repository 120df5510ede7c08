package io.jmagent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The settings of TLS to the servers, from the flags' rules and the config file's {@code server-tls}. */
class ServerTlsTest {

    private static final String POOL = """
            pools:
              web:
                listen: 127.0.0.1:22121
                servers: [ "127.0.0.1:11211" ]
            """;

    @Test
    void aClientCertificateNeedsItsKeyAndEitherNeedsTlsOn() {
        assertThatThrownBy(() -> new ServerTls(true, null, Path.of("c.pem"), null))
                .hasMessageContaining("both");
        assertThatThrownBy(() -> new ServerTls(false, Path.of("ca.pem"), null, null))
                .hasMessageContaining("need --server-tls");
        assertThat(ServerTls.NONE.enabled()).isFalse();
    }

    @Test
    void trueTurnsItOnWithTheJdksTrustedCas() throws ConfigException {
        ProxySetup setup = ConfigFile.parse(POOL + "    server-tls: true\n", "test.yml");
        assertThat(setup.pool("web").config().serverTls()).isEqualTo(new ServerTls(true, null, null, null));
    }

    @Test
    void aMappingNamesTheCaAndTheClientCertificate() throws ConfigException {
        ProxySetup setup =
                ConfigFile.parse(POOL + "    server-tls: { ca: ca.pem, cert: c.pem, key: k.pem }\n", "test.yml");
        assertThat(setup.pool("web").config().serverTls())
                .isEqualTo(new ServerTls(true, Path.of("ca.pem"), Path.of("c.pem"), Path.of("k.pem")));
        assertThatThrownBy(() -> ConfigFile.parse(POOL + "    server-tls: { cert: c.pem }\n", "test.yml"))
                .hasMessage("test.yml: pools.web.server-tls: a client certificate for the servers needs both cert "
                        + "and key");
        assertThatThrownBy(() -> ConfigFile.parse(POOL + "    server-tls: { verify: false }\n", "test.yml"))
                .hasMessage("test.yml: pools.web.server-tls.verify: unknown key");
    }
}
