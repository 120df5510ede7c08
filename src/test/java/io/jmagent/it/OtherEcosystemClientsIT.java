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
 * Client libraries of another ecosystem through jmagent, as their users run them: Python's
 * pymemcache (text) and pylibmc (libmemcached, text and binary), from the OS packages
 * (python3-pymemcache, python3-pylibmc, which {@code scripts/test} installs), driven by
 * {@code clients/python_clients.py} under the system's python3. Over three servers, and over three
 * with a backup farm of two.
 */
class OtherEcosystemClientsIT {

    /** The system's interpreter, where the OS packages install their modules (not a pyenv shim). */
    private static final String PYTHON = "/usr/bin/python3";

    @Test
    void pythonClientsWorkThroughJmagent() throws Exception {
        try (ProxiedFarm farm = ProxiedFarm.start(3)) {
            assertThat(runPythonClients(farm.port())).endsWith("all ok\n");
        }
    }

    @Test
    void pythonClientsWorkThroughJmagentWithABackupFarm() throws Exception {
        List<MemcachedProcess> primaries = List.of(MemcachedProcess.start(), MemcachedProcess.start(),
                MemcachedProcess.start());
        List<MemcachedProcess> backups = List.of(MemcachedProcess.start(), MemcachedProcess.start());
        try (RunningProxy proxy = RunningProxy.over(primaries, backups, ConfigCopy.timeout(ProxiedFarm.PATIENT_TIMEOUT))) {
            assertThat(runPythonClients(proxy.port())).endsWith("all ok\n");
        } finally {
            primaries.forEach(MemcachedProcess::close);
            backups.forEach(MemcachedProcess::close);
        }
    }

    /** Runs the script against {@code port}; its whole output, or a failure showing it. */
    private static String runPythonClients(int port) throws IOException, InterruptedException {
        Path script = Files.createTempFile("python_clients", ".py");
        try (InputStream in = OtherEcosystemClientsIT.class.getResourceAsStream("/clients/python_clients.py")) {
            Files.write(script, in.readAllBytes());
        }
        try {
            Process p = new ProcessBuilder(PYTHON, script.toString(), Integer.toString(port))
                    .redirectErrorStream(true).start();
            boolean ended = p.waitFor(60, TimeUnit.SECONDS);
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!ended) {
                p.destroyForcibly();
            }
            assertThat(ended).as("python clients ended within 60 s; output so far:%n%s", output).isTrue();
            assertThat(p.exitValue()).as("python clients' exit code (is python3-pymemcache / python3-pylibmc"
                    + " installed? scripts/test installs them); output:%n%s", output).isZero();
            return output;
        } finally {
            Files.deleteIfExists(script);
        }
    }
}
