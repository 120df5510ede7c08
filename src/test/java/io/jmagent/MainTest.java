package io.jmagent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The command line's exits. A usable command line starts the proxy and blocks, so only the ways
 * out before that are tested here: a bad command line exits 2 with one line on stderr, help and
 * version exit 0 on stdout.
 */
class MainTest {

    /** What one {@link Main#run} printed and returned. */
    private record Run(int exitCode, String out, String err) {}

    private static Run run(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
        ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(outBytes, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(errBytes, true, StandardCharsets.UTF_8));
            code = Main.run(args);
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        return new Run(code, outBytes.toString(StandardCharsets.UTF_8), errBytes.toString(StandardCharsets.UTF_8));
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "-s 10.0.0.1 -p abc|jmagent: Invalid value for option '--port': 'abc' is not an int (try --help)",
                "-s 10.0.0.1 --nosuch|jmagent: Unknown option: '--nosuch' (try --help)",
                "-s 10.0.0.1 -x|jmagent: Unknown option: '-x' (try --help)",
                "-s 10.0.0.1 extra|jmagent: Unmatched argument at index 2: 'extra' (try --help)",
                "-s|jmagent: Missing required parameter for option '--server' (HOST:PORT[:WEIGHT]) (try --help)",
                "-s 10.0.0.1:abc|jmagent: Invalid value for option '--server' (HOST:PORT[:WEIGHT]): "
                        + "bad server address '10.0.0.1:abc': not a number (try --help)",
                "-s 10.0.0.1 -b [::1|jmagent: Invalid value for option '--backup' (HOST:PORT[:WEIGHT]): "
                        + "bad server address '[::1' (try --help)",
                "-s 10.0.0.1 -I 0|jmagent: Invalid value for option '--max-item-size': size out of range: '0' (try --help)",
                "-s 10.0.0.1 -I 1g|jmagent: Invalid value for option '--max-item-size': not a size: '1g' (try --help)",
                "-s 10.0.0.1 -p 70000|jmagent: port out of range: 70000 (try --help)",
                "-s 10.0.0.1 -p 0|jmagent: nothing to listen on: -p 0 needs -f <unix socket> or --tls-port (try --help)",
                "-s 10.0.0.1 --tls-port 11212|jmagent: a TLS port needs a certificate chain (--tls-cert) and its key (--tls-key) (try --help)",
                "-s 10.0.0.1 --server-tls-ca ca.pem|jmagent: --server-tls-ca, --server-tls-cert and --server-tls-key need --server-tls (try --help)",
                "-s 10.0.0.1 --http-port 9150 --http-tls-cert c.pem|jmagent: HTTPS needs both a certificate (--http-tls-cert) "
                        + "and its key (--http-tls-key) (try --help)",
                "-s 10.0.0.1 -t 0|jmagent: threads (-t) must be positive, got 0 (try --help)",
                "-p 11311|jmagent: at least one server (-s host:port) is required (try --help)",
                "-s 10.0.0.1 --transport kqueue|jmagent: --transport: 'kqueue' is not one of auto, io_uring, epoll, nio "
                        + "(try --help)",
            })
    void aBadCommandLineExits2WithOneLineOnStderr(String args, String message) {
        Run run = run(args.split(" "));

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).isEqualTo(message + System.lineSeparator());
        assertThat(run.out()).isEmpty();
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "-s 10.0.0.1 -s 10.0.0.2 -s 10.0.0.1:11211:3|jmagent: -s 10.0.0.1:11211: given twice",
                "-s 10.0.0.1 -b 10.0.0.2 -b 10.0.0.1|jmagent: -b 10.0.0.1:11211: also a server (-s)",
                "-s 10.0.0.1 -l nosuch.invalid|jmagent: -l nosuch.invalid: cannot resolve host 'nosuch.invalid'",
                "-s 10.0.0.1 -l 999.1.1.1|jmagent: -l 999.1.1.1: cannot resolve host '999.1.1.1'",
                "-s nosuchhost.invalid|jmagent: -s nosuchhost.invalid:11211: cannot resolve host 'nosuchhost.invalid'",
                "-s 10.0.0.1 -b nosuchhost.invalid:7|jmagent: -b nosuchhost.invalid:7: cannot resolve host 'nosuchhost.invalid'",
                // the proxy's own address: every request would come back to it
                "-s 127.0.0.1|jmagent: -s 127.0.0.1:11211: jmagent itself listens there (-l 0.0.0.0 -p 11211): "
                        + "it would send every request to itself",
                "-s 10.0.0.1 -b localhost:11211|jmagent: -b localhost:11211: jmagent itself listens there "
                        + "(-l 0.0.0.0 -p 11211): it would send every request to itself",
                "-l 127.0.0.1 -p 11311 -s 10.0.0.1 -s 127.0.0.1:11311|jmagent: -s 127.0.0.1:11311: jmagent itself listens "
                        + "there (-l 127.0.0.1 -p 11311): it would send every request to itself",
                "-l :: -p 11311 -s [::1]:11311|jmagent: -s [::1]:11311: jmagent itself listens there (-l :: -p 11311): "
                        + "it would send every request to itself",
                // NIO has no unix domain sockets
                "--transport nio -p 0 -f /tmp/jmagent-nio.sock -s 10.0.0.1|jmagent: -f /tmp/jmagent-nio.sock: the nio "
                        + "transport (--transport nio) cannot serve a unix socket; use epoll or io_uring",
            })
    void aServerOrAddressThatCannotWorkExits2WithOneLineNamingTheFlag(String args, String message) {
        Run run = run(args.split(" "));

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).isEqualTo(message + System.lineSeparator());
        assertThat(run.out()).isEmpty();
    }

    @Test
    void versionIsAlsoALongOption() {
        Run run = run("--version");

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).matches("jmagent \\d+\\.\\d+\\.\\d+" + System.lineSeparator());
    }

    @Test
    void aFileWhoseServerIsItsOwnListenAddressExits2NamingTheKey(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("jmagent.yml");
        Files.writeString(
                file,
                "pools:\n  web:\n    listen: 127.0.0.1:22121\n"
                        + "    servers: [ \"127.0.0.1:11211\", \"localhost:22121\" ]\n");

        Run run = run("-c", file.toString());

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err())
                .isEqualTo("jmagent: " + file + ": pools.web.servers[1]: localhost:22121 is where "
                        + "pool 'web' listens (127.0.0.1:22121): jmagent would send every request to itself"
                        + System.lineSeparator());
    }

    @Test
    void flagsThatPointAFilesPoolAtItselfExit2(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("jmagent.yml");
        Files.writeString(file, "pools:\n  web:\n    listen: 127.0.0.1:22121\n    servers: [ \"127.0.0.1:11211\" ]\n");

        Run run = run("-c", file.toString(), "-p", "11211");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err())
                .isEqualTo("jmagent: " + file + ": with the command line's flags: pools.web.servers[0]: "
                        + "127.0.0.1:11211 is where pool 'web' listens (127.0.0.1:11211): jmagent would send every request "
                        + "to itself" + System.lineSeparator());
    }

    @Test
    void noArgumentsAtAllExits2AskingForAServer() {
        Run run = run();

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err())
                .isEqualTo("jmagent: at least one server (-s host:port) is required (try --help)"
                        + System.lineSeparator());
    }

    @Test
    void helpExits0WithTheUsageOnStdout() {
        Run run = run("-h");

        assertThat(run.exitCode()).isZero();
        assertThat(run.out())
                .startsWith("Usage: jmagent ")
                .contains("-s, --server=HOST:PORT[:WEIGHT]")
                .contains("-I, --max-item-size=SIZE")
                .contains("Example: jmagent -l 127.0.0.1 -p 10000 -s 127.0.0.1:11211");
        assertThat(run.err()).isEmpty();
    }

    @Test
    void versionExits0WithOneLineOnStdout() {
        Run run = run("-V");

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).matches("jmagent \\d+\\.\\d+\\.\\d+" + System.lineSeparator());
        assertThat(run.err()).isEmpty();
    }

    @Test
    void aConfigFileThatCannotBeReadExits2NamingIt() {
        Run run = run("-c", "no/such/jmagent.yml");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err())
                .isEqualTo("jmagent: no/such/jmagent.yml: cannot read: no such file" + System.lineSeparator());
    }

    @Test
    void anInvalidConfigFileExits2NamingTheFileAndTheKey(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("jmagent.yml");
        Files.writeString(file, "pools:\n  web:\n    listen: 127.0.0.1:22121\n    servers: [ \"127.0.0.1:x\" ]\n");

        Run run = run("-c", file.toString());

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err())
                .isEqualTo("jmagent: " + file + ": pools.web.servers[0]: bad server address "
                        + "'127.0.0.1:x': not a number" + System.lineSeparator());
        assertThat(run.out()).isEmpty();
    }

    @Test
    void flagsThatMakeAValidFileInconsistentExit2(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("jmagent.yml");
        Files.writeString(
                file,
                "pools:\n  web:\n    unix-socket: /tmp/j.sock\n    servers: [ \"127.0.0.1:1\" ]\n"
                        + "  api:\n    listen: 127.0.0.1:22122\n    servers: [ \"127.0.0.1:2\" ]\n");

        Run run = run("-c", file.toString(), "-p", "22122", "-l", "127.0.0.1");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err())
                .isEqualTo("jmagent: " + file + ": with the command line's flags: pools 'web' and "
                        + "'api' both listen on 127.0.0.1:22122" + System.lineSeparator());
    }
}
