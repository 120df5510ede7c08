package io.jmagent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reloading the config file: when asked and when it changes; an invalid file keeps the old one. */
class ConfigReloaderTest {

    @TempDir
    Path dir;

    private final List<ProxySetup> applied = new CopyOnWriteArrayList<>();
    private ConfigReloader reloader;

    @AfterEach
    void stop() {
        if (reloader != null) {
            reloader.close();
        }
    }

    private static String config(String servers) {
        return "pools:\n  main:\n    listen: 127.0.0.1:22121\n    servers: [ " + servers + " ]\n";
    }

    private Path write(String text) throws IOException {
        Path file = dir.resolve("jmagent.yml");
        Files.writeString(file, text, StandardCharsets.UTF_8);
        return file;
    }

    private ConfigReloader start(Path file) throws ConfigException {
        reloader = new ConfigReloader(file, ConfigFile.load(file), () -> ConfigFile.load(file), applied::add);
        return reloader;
    }

    @Test
    void aChangedValidFileIsApplied() throws Exception {
        Path file = write(config("\"127.0.0.1:11211\""));
        start(file);
        write(config("\"127.0.0.1:11211\", \"127.0.0.1:11212\""));

        assertThat(reloader.reload("test")).isEqualTo(ConfigReloader.Outcome.APPLIED);

        assertThat(applied).hasSize(1);
        assertThat(applied.get(0).pool("main").config().servers()).hasSize(2);
    }

    @Test
    void aFileWhoseServerIsTheProxysOwnListenAddressIsRefused() throws Exception {
        Path file = write(config("\"127.0.0.1:11211\""));
        start(file);
        write(config("\"127.0.0.1:11211\", \"localhost:22121\""));

        assertThat(reloader.reload("test")).isEqualTo(ConfigReloader.Outcome.REFUSED);

        assertThat(applied).isEmpty();
        assertThat(reloader.refusedCount()).isEqualTo(1);
    }

    @Test
    void anUnchangedFileChangesNothing() throws Exception {
        Path file = write(config("\"127.0.0.1:11211\""));
        start(file);
        write("# a comment\n" + config("\"127.0.0.1:11211\""));

        assertThat(reloader.reload("test")).isEqualTo(ConfigReloader.Outcome.UNCHANGED);
        assertThat(applied).isEmpty();
    }

    @Test
    void anInvalidFileIsRefusedAndTheNextValidOneIsComparedWithWhatIsInForce() throws Exception {
        Path file = write(config("\"127.0.0.1:11211\""));
        start(file);
        write(config("\"127.0.0.1:11211\"") + "    nonsense: 1\n");

        assertThat(reloader.reload("test")).isEqualTo(ConfigReloader.Outcome.REFUSED);
        assertThat(reloader.refusedCount()).isEqualTo(1);
        assertThat(applied).isEmpty();

        write(config("\"127.0.0.1:11211\""));
        assertThat(reloader.reload("test")).isEqualTo(ConfigReloader.Outcome.UNCHANGED);
    }

    @Test
    void aConfigurationTheProxyCannotMoveToIsRefusedAndNotTakenAsInForce() throws Exception {
        Path file = write(config("\"127.0.0.1:11211\""));
        reloader = new ConfigReloader(file, ConfigFile.load(file), () -> ConfigFile.load(file), next -> {
            throw new IllegalStateException("address already in use");
        });
        write(config("\"127.0.0.1:11212\""));

        assertThat(reloader.reload("test")).isEqualTo(ConfigReloader.Outcome.REFUSED);
        assertThat(reloader.reload("test")).isEqualTo(ConfigReloader.Outcome.REFUSED);
    }

    @Test
    void aWatchedFileIsReloadedWhenWrittenOrReplacedByRename() throws Exception {
        Path file = write(config("\"127.0.0.1:11211\""));
        start(file).watch();

        write(config("\"127.0.0.1:11212\""));
        await().atMost(Duration.ofSeconds(10)).until(() -> applied.size() == 1);
        assertThat(applied.get(0).pool("main").config().servers().get(0).port()).isEqualTo(11212);

        // as editors and config managers do: write a temporary file, rename it over the old one
        Path tmp = dir.resolve(".jmagent.yml.tmp");
        Files.writeString(tmp, config("\"127.0.0.1:11213\""), StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        await().atMost(Duration.ofSeconds(10)).until(() -> applied.size() == 2);
        assertThat(applied.get(1).pool("main").config().servers().get(0).port()).isEqualTo(11213);
        assertThat(reloader.appliedCount()).isEqualTo(2);
    }
}
