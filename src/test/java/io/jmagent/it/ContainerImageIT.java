package io.jmagent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.TestTransport;
import io.jmagent.testing.TextClient;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The container image of packaging/container/Containerfile, built by {@code scripts/image} from the
 * jar this build made, run by podman on the host network in front of a real memcached. The JDK
 * stage and the base are made from this machine's JDK ({@code --host-jdk}): no registry is needed.
 *
 * <p>Skipped, with the reason, where podman is missing or cannot start a container here, and in
 * the build's second run (epoll): the proxy in the image picks its transport itself, so one run
 * tests it. The runs' images are removed; the bases and the jlink stage stay in podman's cache.
 */
class ContainerImageIT {

    private static final String IMAGE = "localhost/jmagent:it";
    private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(3);
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);

    /** What podman run and build need on this machine besides the defaults (see {@link #runOptions}). */
    private static List<String> runOptions;
    /**
     * Why the image cannot be tested here, or null. Each test skips with it: JUnit's report shows the
     * reason of a skipped test, not of a skipped {@code @BeforeAll}.
     */
    private static String notTestedBecause;

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @BeforeAll
    static void buildImage() {
        if (!"auto".equals(TestTransport.name())) {
            notTestedBecause = "the image is tested once, in the run where the proxy picks its transport itself";
            return;
        }
        if (Command.run(List.of("podman", "--version"), COMMAND_TIMEOUT).exitCode() != 0) {
            notTestedBecause = "podman is not installed (apt-get install podman): the container image is not tested";
            return;
        }
        Command bases = Command.run(List.of("scripts/image", "--host-jdk", "--bases-only"), BUILD_TIMEOUT);
        if (bases.exitCode() == 2) {
            notTestedBecause = "cannot build the image here: " + bases.output().strip();
            return;
        }
        assertThat(bases.exitCode()).as(bases.output()).isZero();
        String[] lines = bases.output().strip().split("\n");
        String jdkImage = lines[lines.length - 1].split(" ")[0];

        runOptions = runOptions(jdkImage);
        if (runOptions == null) {
            return;
        }
        List<String> build =
                new ArrayList<>(List.of("scripts/image", "--no-maven", "--host-jdk", "--tag", IMAGE, "--"));
        build.addAll(runOptions);
        Command built = Command.run(build, BUILD_TIMEOUT);
        assertThat(built.exitCode()).as(built.output()).isZero();
    }

    @BeforeEach
    void skipWhereTheImageCannotBeTested() {
        assumeTrue(notTestedBecause == null, notTestedBecause);
    }

    @AfterAll
    static void removeImage() {
        if (runOptions != null) {
            Command.run(List.of("podman", "rmi", "--force", IMAGE), COMMAND_TIMEOUT);
        }
    }

    /**
     * The first set of podman options that starts a container of {@code image}, or null (and
     * {@link #notTestedBecause} says why). Where podman runs as root without CAP_SYS_RESOURCE, its
     * default limits (a million open files) cannot be set: the container gets lower ones. crun
     * refuses cgroups v1 and v2 mounted together; runc takes them.
     */
    private static List<String> runOptions(String image) {
        List<String> lowerLimits = List.of("--ulimit", "nofile=16384:16384", "--ulimit", "nproc=4096:4096");
        List<List<String>> candidates = new ArrayList<>(List.of(List.of(), lowerLimits));
        if (Command.run(List.of("runc", "--version"), COMMAND_TIMEOUT).exitCode() == 0) {
            candidates.add(List.of("--runtime", "runc"));
            List<String> runcWithLowerLimits = new ArrayList<>(List.of("--runtime", "runc"));
            runcWithLowerLimits.addAll(lowerLimits);
            candidates.add(runcWithLowerLimits);
        }
        String lastError = "";
        for (List<String> options : candidates) {
            List<String> probe = new ArrayList<>(List.of("podman", "run", "--rm", "--network=host"));
            probe.addAll(options);
            probe.addAll(List.of(image, "/opt/java/openjdk/bin/java", "-version"));
            Command ran = Command.run(probe, COMMAND_TIMEOUT);
            if (ran.exitCode() == 0) {
                return options;
            }
            lastError = ran.output().strip();
        }
        notTestedBecause = "podman cannot start a container here: " + lastError;
        return null;
    }

    @Test
    void imageRunsAsUser65532WithJmagentAsEntrypointAndTheMountedConfigAsArguments() {
        Command inspected = Command.run(
                List.of(
                        "podman",
                        "image",
                        "inspect",
                        "--format",
                        "{{.Config.User}} {{json .Config.Entrypoint}} {{json .Config.Cmd}} {{json .Config.ExposedPorts}}",
                        IMAGE),
                COMMAND_TIMEOUT);

        assertThat(inspected.output().strip())
                .isEqualTo("65532:65532 "
                        + "[\"/opt/java/bin/java\",\"-XX:MaxRAMPercentage=40\",\"-XX:+ExitOnOutOfMemoryError\","
                        + "\"-jar\",\"/opt/jmagent/jmagent.jar\"] "
                        + "[\"-c\",\"/etc/jmagent/jmagent.yaml\"] "
                        + "{\"11211/tcp\":{},\"9150/tcp\":{}}");
    }

    @Test
    void containerServesMemcachedAndHealthFromTheMountedConfigAndStopsCleanlyOnSigterm(@TempDir Path dir)
            throws Exception {
        try (MemcachedProcess memcached = MemcachedProcess.start()) {
            int port = MemcachedProcess.freePort();
            int httpPort = MemcachedProcess.freePort();
            Path config = dir.resolve("jmagent.yaml");
            Files.writeString(
                    config,
                    "http-port: " + httpPort + "\nthreads: 2\npools:\n  web:\n" + "    listen: 127.0.0.1:" + port
                            + "\n    servers: [ \"" + memcached.address() + "\" ]\n");
            String name = "jmagent-it-" + ProcessHandle.current().pid();
            List<String> run = new ArrayList<>(List.of("podman", "run", "--detach", "--name", name, "--network=host"));
            run.addAll(runOptions);
            run.addAll(List.of("--volume", config + ":/etc/jmagent/jmagent.yaml:ro", IMAGE));
            try {
                Command started = Command.run(run, COMMAND_TIMEOUT);
                assertThat(started.exitCode()).as(started.output()).isZero();

                await().atMost(Duration.ofSeconds(30))
                        .ignoreExceptions()
                        .until(() -> get(httpPort, "/health").statusCode() == 200);

                try (TextClient client = new TextClient(port)) {
                    assertThat(client.exchange("set k 0 0 5\r\nhello\r\n")).isEqualTo("STORED\r\n");
                    assertThat(client.exchange("get k\r\n")).isEqualTo("VALUE k 0 5\r\nhello\r\nEND\r\n");
                }
                try (TextClient direct = new TextClient(memcached.port())) {
                    assertThat(direct.exchange("get k\r\n")).isEqualTo("VALUE k 0 5\r\nhello\r\nEND\r\n");
                }
                assertThat(get(httpPort, "/health").body())
                        .isEqualTo("{\"healthy\":true,\"pools\":[{\"pool\":\"web\","
                                + "\"healthy\":true,\"servers\":[{\"server\":\"" + memcached.address()
                                + "\",\"role\":\"primary\",\"state\":\"UP\"}]}]}\n");
                assertThat(get(httpPort, "/metrics").body()).contains("\njmagent_cmd_set_total{pool=\"web\"} 1.0\n");
                assertThat(Command.run(List.of("podman", "top", name, "huser"), COMMAND_TIMEOUT)
                                .output())
                        .isEqualTo("HUSER\n65532\n");

                Command stopped = Command.run(List.of("podman", "stop", "--time", "10", name), COMMAND_TIMEOUT);
                assertThat(stopped.exitCode()).as(stopped.output()).isZero();
                assertThat(Command.run(
                                        List.of("podman", "inspect", "--format", "{{.State.ExitCode}}", name),
                                        COMMAND_TIMEOUT)
                                .output())
                        .isEqualTo("0\n");
                assertThat(Command.run(List.of("podman", "logs", name), COMMAND_TIMEOUT)
                                .output())
                        .contains("pool web: listening on /127.0.0.1:" + port, "Main - stopped");
            } finally {
                Command.run(List.of("podman", "rm", "--force", name), COMMAND_TIMEOUT);
            }
        }
    }

    private HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
        return http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                        .timeout(Duration.ofSeconds(2))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /**
     * A command run to its end: its exit code, and stdout and stderr together; exit code -1 where it
     * could not start or was killed at its timeout.
     */
    private record Command(int exitCode, String output) {

        static Command run(List<String> command, Duration timeout) {
            Path output;
            Process process;
            try {
                output = Files.createTempFile("jmagent-it-command", ".out");
                process = new ProcessBuilder(command)
                        .redirectErrorStream(true)
                        .redirectOutput(output.toFile())
                        .start();
            } catch (IOException e) {
                return new Command(-1, e.getMessage());
            }
            try {
                if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly();
                    return new Command(-1, command + " did not end within " + timeout);
                }
                return new Command(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
            } catch (IOException e) {
                return new Command(-1, e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
                return new Command(-1, "interrupted");
            } finally {
                output.toFile().delete();
            }
        }
    }
}
