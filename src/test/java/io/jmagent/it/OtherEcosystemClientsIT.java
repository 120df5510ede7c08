package io.jmagent.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.RunningProxy;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Client libraries of other ecosystems through jmagent, as their users run them, from the OS
 * packages that {@code scripts/test} installs, each driven by a script under {@code clients/}:
 * Python's pymemcache (text) and pylibmc (libmemcached, text and binary); PHP's memcached extension
 * (libmemcached, text and binary); Ruby's Dalli (binary). Over three servers, and over three with a
 * backup farm of two.
 */
class OtherEcosystemClientsIT {

    /** A client script and the system interpreter that runs it, where the OS packages install their libraries. */
    private record ClientScript(String interpreter, String resource, String packages) {}

    private static final ClientScript PYTHON =
            new ClientScript("/usr/bin/python3", "python_clients.py", "python3-pymemcache / python3-pylibmc");
    private static final ClientScript PHP =
            new ClientScript("/usr/bin/php", "php_clients.php", "php-cli / php-memcached");
    private static final ClientScript RUBY = new ClientScript("/usr/bin/ruby", "ruby_clients.rb", "ruby / ruby-dalli");

    @Test
    void pythonClientsWorkThroughJmagent() throws Exception {
        assertThat(runOverThreeServers(PYTHON)).endsWith("all ok\n");
    }

    @Test
    void pythonClientsWorkThroughJmagentWithABackupFarm() throws Exception {
        assertThat(runOverABackupFarm(PYTHON)).endsWith("all ok\n");
    }

    @Test
    void phpMemcachedWorksThroughJmagent() throws Exception {
        assertThat(runOverThreeServers(PHP)).endsWith("all ok\n");
    }

    @Test
    void phpMemcachedWorksThroughJmagentWithABackupFarm() throws Exception {
        assertThat(runOverABackupFarm(PHP)).endsWith("all ok\n");
    }

    @Test
    void dalliWorksThroughJmagent() throws Exception {
        assertThat(runOverThreeServers(RUBY)).endsWith("all ok\n");
    }

    @Test
    void dalliWorksThroughJmagentWithABackupFarm() throws Exception {
        assertThat(runOverABackupFarm(RUBY)).endsWith("all ok\n");
    }

    private static String runOverThreeServers(ClientScript script) throws IOException, InterruptedException {
        try (ProxiedFarm farm = ProxiedFarm.start(3)) {
            return run(script, farm.port());
        }
    }

    private static String runOverABackupFarm(ClientScript script) throws IOException, InterruptedException {
        List<MemcachedProcess> primaries =
                List.of(MemcachedProcess.start(), MemcachedProcess.start(), MemcachedProcess.start());
        List<MemcachedProcess> backups = List.of(MemcachedProcess.start(), MemcachedProcess.start());
        try (RunningProxy proxy =
                RunningProxy.over(primaries, backups, ConfigCopy.timeout(ProxiedFarm.PATIENT_TIMEOUT))) {
            return run(script, proxy.port());
        } finally {
            primaries.forEach(MemcachedProcess::close);
            backups.forEach(MemcachedProcess::close);
        }
    }

    /** Runs the script against {@code port}; its whole output, or a failure showing it. */
    private static String run(ClientScript script, int port) throws IOException, InterruptedException {
        Path file = Files.createTempFile("clients", script.resource());
        try (InputStream in = OtherEcosystemClientsIT.class.getResourceAsStream("/clients/" + script.resource())) {
            Files.write(file, in.readAllBytes());
        }
        try {
            Process p = new ProcessBuilder(script.interpreter(), file.toString(), Integer.toString(port))
                    .redirectErrorStream(true)
                    .start();
            boolean ended = p.waitFor(60, TimeUnit.SECONDS);
            if (!ended) {
                p.destroyForcibly().waitFor(); // else reading its output below would wait for it forever
            }
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(ended)
                    .as("%s ended within 60 s; output so far:%n%s", script.resource(), output)
                    .isTrue();
            assertThat(p.exitValue())
                    .as(
                            "%s's exit code (is %s installed? scripts/test installs them); output:%n%s",
                            script.resource(), script.packages(), output)
                    .isZero();
            return output;
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
