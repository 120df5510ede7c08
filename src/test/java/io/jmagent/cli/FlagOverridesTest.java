package io.jmagent.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jmagent.backend.ServerAddress;
import io.jmagent.config.ClientTls;
import io.jmagent.config.ConfigException;
import io.jmagent.config.ConfigFile;
import io.jmagent.config.HttpTls;
import io.jmagent.config.ProxyConfig;
import io.jmagent.config.ProxySetup;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Flags given with {@code -c}: -t, -v, --http-* and --shutdown-timeout for the process, the rest
 * for the file's first pool.
 */
class FlagOverridesTest {

    private static final String FILE = """
            threads: 4
            pools:
              first:
                listen: 127.0.0.1:22121
                servers: [ "127.0.0.1:11211", "127.0.0.1:11212" ]
                timeout: 500
              second:
                listen: 127.0.0.1:22122
                servers: [ "127.0.0.1:11311" ]
                timeout: 700
            """;

    private static ProxySetup overlay(String... args) throws ConfigException {
        Flags flags = new Flags();
        CommandLine.ParseResult given = new CommandLine(flags).parseArgs(args);
        return new FlagOverrides(flags, given).applyTo(ConfigFile.parse(FILE, "test.yml"));
    }

    @Test
    void withoutFlagsTheFileStandsAsWritten() throws ConfigException {
        assertThat(overlay("-c", "test.yml")).isEqualTo(ConfigFile.parse(FILE, "test.yml"));
    }

    @Test
    void flagsGivenOverrideTheFirstPoolOnly() throws ConfigException {
        ProxySetup setup = overlay(
                "-c",
                "test.yml",
                "-p",
                "33333",
                "-s",
                "127.0.0.1:11411",
                "-b",
                "127.0.0.1:11511",
                "--timeout",
                "900",
                "--failure-limit",
                "7",
                "--auto-eject",
                "-n",
                "10",
                "-I",
                "2m");

        ProxyConfig first = setup.pool("first").config();
        assertThat(first.listenAddress()).isEqualTo("127.0.0.1");
        assertThat(first.port()).isEqualTo(33333);
        assertThat(first.servers()).containsExactly(new ServerAddress("127.0.0.1", 11411, 1));
        assertThat(first.backups()).containsExactly(new ServerAddress("127.0.0.1", 11511, 1));
        assertThat(first.timeout()).isEqualTo(Duration.ofMillis(900));
        assertThat(first.failover().failureLimit()).isEqualTo(7);
        assertThat(first.failover().autoEject()).isTrue();
        assertThat(first.maxConnections()).isEqualTo(10);
        assertThat(first.maxItemSize()).isEqualTo(2 * 1024 * 1024);
        assertThat(setup.pool("second").config())
                .isEqualTo(ConfigFile.parse(FILE, "test.yml").pool("second").config());
    }

    @Test
    void tlsFlagsGivenOverrideTheFirstPoolsTlsOneByOne() throws ConfigException {
        ProxySetup setup =
                overlay("-c", "test.yml", "--tls-port", "33334", "--tls-cert", "c.pem", "--tls-key", "k.pem");

        assertThat(setup.pool("first").config().tls())
                .isEqualTo(new ClientTls(
                        33334,
                        Path.of("c.pem"),
                        Path.of("k.pem"),
                        null,
                        ClientTls.DEFAULT_PROTOCOLS,
                        ClientTls.DEFAULT_HANDSHAKE_TIMEOUT));
        assertThat(setup.pool("second").config().tls().enabled()).isFalse();
    }

    @Test
    void aBackupFlagThatIsOneOfTheFilesServersIsRefused() {
        assertThatThrownBy(() -> overlay("-c", "test.yml", "-b", "127.0.0.1:11212"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("-b 127.0.0.1:11212: also a server of pool 'first'");
    }

    @Test
    void aServerFlagThatIsOneOfTheFilesBackupsIsRefused() {
        String withBackup = FILE.replace("timeout: 500", "timeout: 500\n    backups: [ \"127.0.0.1:11213\" ]");
        Flags flags = new Flags();
        CommandLine.ParseResult given = new CommandLine(flags).parseArgs("-c", "test.yml", "-s", "127.0.0.1:11213");
        assertThatThrownBy(() -> new FlagOverrides(flags, given).applyTo(ConfigFile.parse(withBackup, "test.yml")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("-s 127.0.0.1:11213: also a backup of pool 'first'");
    }

    @Test
    void threadsAndVerbosityAreTheProcesssAndSoEveryPools() throws ConfigException {
        ProxySetup setup = overlay("-c", "test.yml", "-t", "2", "-v");

        assertThat(setup.threads()).isEqualTo(2);
        assertThat(setup.verbosity()).isEqualTo(1);
        assertThat(setup.pool("second").config().threads()).isEqualTo(2);
        assertThat(setup.pool("second").config().timeout()).isEqualTo(Duration.ofMillis(700));
    }

    @Test
    void httpPortAndShutdownTimeoutAreTheProcesssAndIdleTimeoutTheFirstPools() throws ConfigException {
        ProxySetup setup =
                overlay("-c", "test.yml", "--http-port", "9150", "--shutdown-timeout", "12", "--idle-timeout", "300");

        assertThat(setup.httpPort()).isEqualTo(9150);
        assertThat(setup.shutdownTimeout()).isEqualTo(Duration.ofSeconds(12));
        assertThat(setup.pool("first").config().operations())
                .isEqualTo(new ProxyConfig.Operations(9150, Duration.ofSeconds(12), Duration.ofSeconds(300)));
        assertThat(setup.pool("second").config().operations())
                .isEqualTo(new ProxyConfig.Operations(9150, Duration.ofSeconds(12), Duration.ZERO));
    }

    @Test
    void httpTlsFlagsAreTheProcesssLaidOverTheFilesOneByOne() throws ConfigException {
        String withHttps = FILE.replace(
                "threads: 4\n",
                "threads: 4\nhttp-port: 9150\n" + "http-tls: { cert: file.pem, key: file.key, ca: file-ca.pem }\n");
        Flags flags = new Flags();
        CommandLine.ParseResult given = new CommandLine(flags)
                .parseArgs("-c", "test.yml", "--http-tls-cert", "flag.pem", "--http-tls-key", "flag.key");

        ProxySetup setup = new FlagOverrides(flags, given).applyTo(ConfigFile.parse(withHttps, "test.yml"));

        HttpTls expected = new HttpTls(Path.of("flag.pem"), Path.of("flag.key"), Path.of("file-ca.pem"));
        assertThat(setup.httpTls()).isEqualTo(expected);
        assertThat(setup.pool("second").config().operations().httpTls()).isEqualTo(expected);
    }

    @Test
    void aFlagThatPutsTheFirstPoolOnAnotherPoolsAddressIsRefused() {
        assertThatThrownBy(() -> overlay("-c", "test.yml", "-p", "22122"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("pools 'first' and 'second' both listen on 127.0.0.1:22122");
    }
}
