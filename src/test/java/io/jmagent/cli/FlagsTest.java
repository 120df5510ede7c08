package io.jmagent.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jmagent.backend.ServerAddress;
import io.jmagent.config.HttpTls;
import io.jmagent.config.ProxyConfig;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** magent's flags, and jmagent's own, turned into the one {@link ProxyConfig}. */
class FlagsTest {

    private static Flags parse(String... args) {
        Flags flags = new Flags();
        new CommandLine(flags).parseArgs(args);
        return flags;
    }

    @Test
    void aServerAloneGivesMagentsDefaults() {
        ProxyConfig config = parse("-s", "10.0.0.1").toConfig();

        assertThat(config.listenAddress()).isEqualTo("0.0.0.0");
        assertThat(config.port()).isEqualTo(11211);
        assertThat(config.unixSocket()).isNull();
        assertThat(config.servers()).containsExactly(new ServerAddress("10.0.0.1", 11211, 1));
        assertThat(config.backups()).isEmpty();
        assertThat(config.maxConnections()).isEqualTo(4096);
        assertThat(config.maxKeepAlive()).isEqualTo(20);
        assertThat(config.maxItemSize()).isEqualTo(1024 * 1024);
        assertThat(config.maxRetrievalLine()).isEqualTo(1024 * 1024);
        assertThat(config.timeout()).isEqualTo(Duration.ofSeconds(1));
        assertThat(config.verbosity()).isZero();
    }

    @Test
    void magentsFlagsSetTheirSettings() {
        Flags flags = parse(
                "-l",
                "127.0.0.1",
                "-p",
                "10000",
                "-s",
                "10.0.0.1:11212",
                "-s",
                "10.0.0.2:11213:3",
                "-b",
                "10.0.0.3",
                "-n",
                "100",
                "-i",
                "8",
                "-t",
                "2",
                "-f",
                "/tmp/jmagent.sock",
                "-D",
                "-k",
                "-u",
                "nobody",
                "-v",
                "-v");
        ProxyConfig config = flags.toConfig();

        assertThat(config.listenAddress()).isEqualTo("127.0.0.1");
        assertThat(config.port()).isEqualTo(10000);
        assertThat(config.servers())
                .containsExactly(new ServerAddress("10.0.0.1", 11212, 1), new ServerAddress("10.0.0.2", 11213, 3));
        assertThat(config.backups()).containsExactly(new ServerAddress("10.0.0.3", 11211, 1));
        assertThat(config.maxConnections()).isEqualTo(100);
        assertThat(config.maxKeepAlive()).isEqualTo(8);
        assertThat(config.threads()).isEqualTo(2);
        assertThat(config.unixSocket()).isEqualTo(Path.of("/tmp/jmagent.sock"));
        assertThat(config.verbosity()).isEqualTo(2);
        assertThat(flags.userOrGroupGiven()).isTrue();
    }

    @Test
    void jmagentsLongOptionsSetTheirSettings() {
        ProxyConfig config = parse(
                        "-s",
                        "10.0.0.1",
                        "--timeout",
                        "250",
                        "--backend-connections",
                        "3",
                        "--max-pending",
                        "64",
                        "--max-line-length",
                        "4k")
                .toConfig();

        assertThat(config.timeout()).isEqualTo(Duration.ofMillis(250));
        assertThat(config.connectionsPerLoop()).isEqualTo(3);
        assertThat(config.maxPendingPerClient()).isEqualTo(64);
        assertThat(config.maxRetrievalLine()).isEqualTo(4096);
    }

    @Test
    void operationsOptionsSetTheirSettingsAndAreOffByDefault() {
        ProxyConfig.Operations defaults = parse("-s", "h").toConfig().operations();
        ProxyConfig.Operations set = parse(
                        "-s", "h", "--http-port", "9150", "--shutdown-timeout", "12", "--idle-timeout", "300")
                .toConfig()
                .operations();

        assertThat(defaults).isEqualTo(new ProxyConfig.Operations(0, Duration.ofSeconds(5), Duration.ZERO));
        assertThat(set).isEqualTo(new ProxyConfig.Operations(9150, Duration.ofSeconds(12), Duration.ofSeconds(300)));
    }

    @Test
    void httpTlsFlagsServeTheEndpointOverHttpsAndComeAsAPair() {
        ProxyConfig.Operations https = parse(
                        "-s",
                        "h",
                        "--http-port",
                        "9150",
                        "--http-tls-cert",
                        "http.pem",
                        "--http-tls-key",
                        "http.key",
                        "--http-tls-ca",
                        "scrapers.pem")
                .toConfig()
                .operations();

        assertThat(https.httpTls())
                .isEqualTo(new HttpTls(Path.of("http.pem"), Path.of("http.key"), Path.of("scrapers.pem")));
        assertThat(parse("-s", "h", "--http-port", "9150")
                        .toConfig()
                        .operations()
                        .httpTls())
                .isEqualTo(HttpTls.NONE);
        assertThatThrownBy(() -> parse("-s", "h", "--http-port", "9150", "--http-tls-cert", "http.pem")
                        .toConfig())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("HTTPS needs both a certificate (--http-tls-cert) and its key (--http-tls-key)");
        assertThatThrownBy(() -> parse("-s", "h", "--http-tls-cert", "http.pem", "--http-tls-key", "http.key")
                        .toConfig())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("HTTPS (--http-tls-cert) needs the HTTP endpoint's port (--http-port)");
    }

    @Test
    void theHttpPortMustNotBeTheMemcachedPort() {
        assertThatThrownBy(() ->
                        parse("-s", "h", "-p", "9150", "--http-port", "9150").toConfig())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("the HTTP port must differ from the memcached port (-p)");
    }

    @Test
    void sizesTakeMemcachedsKAndMSuffixes() {
        assertThat(parse("-s", "h", "-I", "1000").toConfig().maxItemSize()).isEqualTo(1000);
        assertThat(parse("-s", "h", "-I", "512k").toConfig().maxItemSize()).isEqualTo(512 * 1024);
        assertThat(parse("-s", "h", "-I", "2M").toConfig().maxItemSize()).isEqualTo(2 * 1024 * 1024);
    }

    @Test
    void aSizeOfTwoGigabytesIsRefused() {
        assertThatThrownBy(() -> parse("-s", "h", "-I", "2048m"))
                .isInstanceOf(CommandLine.ParameterException.class)
                .hasMessage("Invalid value for option '--max-item-size': size out of range: '2048m'");
    }

    @Test
    void noUserOrGroupMeansNothingToWarnAbout() {
        assertThat(parse("-s", "h").userOrGroupGiven()).isFalse();
        assertThat(parse("-s", "h", "-g", "nogroup").userOrGroupGiven()).isTrue();
    }
}
