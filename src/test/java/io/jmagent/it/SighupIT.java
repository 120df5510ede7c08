package io.jmagent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.TestTransport;
import io.jmagent.testing.TextClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGHUP to a jmagent process (the built jar, as systemd or an operator runs it): with {@code -c}
 * it reloads the file; without, magent users send it out of habit, and it is logged and ignored
 * instead of ending the proxy.
 */
class SighupIT {

    @TempDir
    Path dir;

    @Test
    void withoutAConfigFileSighupIsLoggedAndTheProxyServesOn() throws Exception {
        try (MemcachedProcess server = MemcachedProcess.start()) {
            int port = MemcachedProcess.freePort();
            try (Jmagent proxy =
                    Jmagent.start(dir, port, "-l", "127.0.0.1", "-p", Integer.toString(port), "-s", server.address())) {
                proxy.sighup();

                await().atMost(Duration.ofSeconds(10)).until(() -> proxy.log().contains("SIGHUP"));
                assertThat(proxy.log()).contains("WARN", "SIGHUP ignored: nothing to reload without -c");
                assertThat(proxy.process.isAlive()).isTrue();
                try (TextClient client = new TextClient(port)) {
                    assertThat(client.exchange("get k\r\n")).isEqualTo("VALUE k 0 1\r\nv\r\nEND\r\n");
                }
                proxy.stopsWithExitCodeZero();
            }
        }
    }

    @Test
    void withAConfigFileSighupReloadsIt() throws Exception {
        try (MemcachedProcess server = MemcachedProcess.start()) {
            int port = MemcachedProcess.freePort();
            Path file = dir.resolve("jmagent.yml");
            Files.writeString(
                    file,
                    "pools:\n  web:\n    listen: 127.0.0.1:" + port + "\n    servers: [ \"" + server.address()
                            + "\" ]\n");
            try (Jmagent proxy = Jmagent.start(dir, port, "-c", file.toString())) {
                proxy.sighup();

                await().atMost(Duration.ofSeconds(10)).until(() -> proxy.log().contains("reload (SIGHUP)"));
                assertThat(proxy.process.isAlive()).isTrue();
                try (TextClient client = new TextClient(port)) {
                    assertThat(client.exchange("get k\r\n")).isEqualTo("VALUE k 0 1\r\nv\r\nEND\r\n");
                }
                proxy.stopsWithExitCodeZero();
            }
        }
    }

    /** target/jmagent.jar run as a process, its log in a file; stopped forcibly if still running at close. */
    private static final class Jmagent implements AutoCloseable {
        private final Process process;
        private final Path log;

        private Jmagent(Process process, Path log) {
            this.process = process;
            this.log = log;
        }

        /** Starts the jar with {@code args} and waits until it stores a key on {@code port}. */
        static Jmagent start(Path dir, int port, String... args) throws IOException {
            Path jar = Path.of("target", "jmagent.jar");
            assertThat(jar)
                    .as("the jar is built in the package phase, before the integration tests")
                    .exists();
            List<String> command = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar.toString()));
            command.addAll(List.of(args));
            command.addAll(List.of("--transport", TestTransport.name()));
            Path log = dir.resolve("jmagent.log");
            Process process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            Jmagent proxy = new Jmagent(process, log);
            try {
                await().atMost(Duration.ofSeconds(40)).ignoreExceptions().until(() -> {
                    try (TextClient probe = new TextClient(port)) {
                        return probe.exchange("set k 0 0 1\r\nv\r\n").equals("STORED\r\n");
                    }
                });
            } catch (RuntimeException | AssertionError e) {
                proxy.close(); // never leave a proxy running after a failed start
                throw e;
            }
            return proxy;
        }

        void sighup() throws IOException, InterruptedException {
            Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(process.pid()))
                    .inheritIO()
                    .start();
            assertThat(kill.waitFor()).isZero();
        }

        String log() throws IOException {
            return Files.readString(log);
        }

        void stopsWithExitCodeZero() throws InterruptedException {
            process.destroy(); // SIGTERM
            assertThat(process.waitFor(15, TimeUnit.SECONDS)).isTrue();
            assertThat(process.exitValue()).isZero();
        }

        @Override
        public void close() {
            process.destroyForcibly();
        }
    }
}
