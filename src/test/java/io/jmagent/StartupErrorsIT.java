package io.jmagent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.TestTransport;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the proxy says when it cannot listen where it is told: exit code 2 and one line naming the
 * flag (or the config file's key) and the address, as for a bad flag. The proxy gets as far as
 * binding here, so its log lines (servers down, listeners bound) may come before that line.
 */
class StartupErrorsIT {

    /** What one {@link Main#run} returned, and the lines it printed that are not log lines. */
    private record Run(int exitCode, List<String> errors) {}

    private static Run run(String... args) {
        PrintStream err = System.err;
        ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
        int code;
        try {
            System.setErr(new PrintStream(errBytes, true, StandardCharsets.UTF_8));
            code = Main.run(args);
        } finally {
            System.setErr(err);
        }
        String printed = errBytes.toString(StandardCharsets.UTF_8);
        err.print(printed);
        return new Run(
                code, printed.lines().filter(l -> l.startsWith("jmagent:")).toList());
    }

    private static String nowhere() {
        return "127.0.0.1:" + MemcachedProcess.freePort();
    }

    private static ServerSocket occupied() throws IOException {
        return new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    }

    @Test
    void aPortInUseNamesTheFlagsAndTheAddress() throws IOException {
        try (ServerSocket taken = occupied()) {
            int port = taken.getLocalPort();

            Run run = run(
                    "-l",
                    "127.0.0.1",
                    "-p",
                    Integer.toString(port),
                    "-s",
                    nowhere(),
                    "--transport",
                    TestTransport.name());

            assertThat(run.exitCode()).isEqualTo(2);
            assertThat(run.errors())
                    .containsExactly("jmagent: -l 127.0.0.1 -p " + port + ": cannot listen on 127.0.0.1:" + port
                            + ": Address already in use");
        }
    }

    @Test
    void anAddressThatIsNotThisMachinesNamesTheFlagsAndTheAddress() throws IOException {
        InetAddress foreign = InetAddress.getByName("10.9.9.9");
        assumeTrue(NetworkInterface.getByInetAddress(foreign) == null, "10.9.9.9 is not an address of this machine");
        int port = MemcachedProcess.freePort();

        Run run = run(
                "-l", "10.9.9.9", "-p", Integer.toString(port), "-s", nowhere(), "--transport", TestTransport.name());

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.errors())
                .containsExactly("jmagent: -l 10.9.9.9 -p " + port + ": cannot listen on 10.9.9.9:" + port
                        + ": Cannot assign requested address (not an address of this machine)");
    }

    @Test
    void aUnixSocketInAMissingDirectoryNamesTheFlagAndThePath(@TempDir Path dir) {
        Path socket = dir.resolve("missing").resolve("jmagent.sock");

        Run run = run("-p", "0", "-f", socket.toString(), "-s", nowhere(), "--transport", TestTransport.name());

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.errors())
                .containsExactly("jmagent: -f " + socket + ": cannot listen on unix socket " + socket
                        + ": No such file or directory");
    }

    @Test
    void aMissingTlsCertificateNamesTheFlagAndTheFile(@TempDir Path dir) {
        Path cert = dir.resolve("missing.pem");
        int port = MemcachedProcess.freePort();

        Run run = run(
                "-l",
                "127.0.0.1",
                "-p",
                Integer.toString(MemcachedProcess.freePort()),
                "--tls-port",
                Integer.toString(port),
                "--tls-cert",
                cert.toString(),
                "--tls-key",
                cert.toString(),
                "-s",
                nowhere(),
                "--transport",
                TestTransport.name());

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.errors())
                .containsExactly("jmagent: --tls-port " + port + ": cannot listen on 127.0.0.1:" + port + ": " + cert
                        + ": no such file");
    }

    @Test
    void aMissingHttpsCertificateNamesTheHttpPortAndTheFile(@TempDir Path dir) {
        Path cert = dir.resolve("missing.pem");
        int http = MemcachedProcess.freePort();

        Run run = run(
                "-l",
                "127.0.0.1",
                "-p",
                Integer.toString(MemcachedProcess.freePort()),
                "-s",
                nowhere(),
                "--http-port",
                Integer.toString(http),
                "--http-tls-cert",
                cert.toString(),
                "--http-tls-key",
                cert.toString(),
                "--transport",
                TestTransport.name());

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.errors())
                .containsExactly("jmagent: --http-port " + http + ": cannot listen on 127.0.0.1:" + http + ": " + cert
                        + ": no such file");
    }

    @Test
    void anHttpPortInUseNamesTheFlagAndTheAddress() throws IOException {
        try (ServerSocket taken = occupied()) {
            int http = taken.getLocalPort();

            Run run = run(
                    "-l",
                    "127.0.0.1",
                    "-p",
                    Integer.toString(MemcachedProcess.freePort()),
                    "-s",
                    nowhere(),
                    "--http-port",
                    Integer.toString(http),
                    "--transport",
                    TestTransport.name());

            assertThat(run.exitCode()).isEqualTo(2);
            assertThat(run.errors())
                    .containsExactly("jmagent: --http-port " + http + ": cannot listen on 127.0.0.1:" + http
                            + ": Address already in use");
        }
    }

    @Test
    void aPoolsPortInUseNamesTheFileAndTheKey(@TempDir Path dir) throws IOException {
        try (ServerSocket taken = occupied()) {
            int port = taken.getLocalPort();
            Path file = dir.resolve("jmagent.yml");
            Files.writeString(
                    file,
                    "pools:\n  web:\n    listen: 127.0.0.1:" + MemcachedProcess.freePort()
                            + "\n    servers: [ \"" + nowhere() + "\" ]\n  api:\n    listen: 127.0.0.1:" + port
                            + "\n    servers: [ \"" + nowhere() + "\" ]\n");

            Run run = run("-c", file.toString(), "--transport", TestTransport.name());

            assertThat(run.exitCode()).isEqualTo(2);
            assertThat(run.errors())
                    .containsExactly("jmagent: " + file + ": pools.api.listen: cannot listen on " + "127.0.0.1:" + port
                            + ": Address already in use");
        }
    }
}
