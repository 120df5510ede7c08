package io.jmagent.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.jmagent.backend.BackendSettings;
import io.jmagent.backend.Farm;
import io.jmagent.backend.NettyTransport;
import io.jmagent.backend.ServerAddress;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** /health: every key has somewhere to go, or not. */
class FarmHealthTest {

    private static final BackendSettings SETTINGS =
            new BackendSettings(1, Duration.ofSeconds(1), Duration.ofMillis(100), Duration.ofSeconds(1), 1024, 1, 10);

    private final Farm primaries = farm("primary", 11311, 11312);
    private final Farm backups = farm("backup", 11313);

    @Test
    void everyPrimaryUpIsHealthy() {
        assertThat(new FarmHealth(primaries, null, false).everyKeyServed()).isTrue();
        assertThat(new FarmHealth(primaries, null, false).json())
                .isEqualTo("{\"healthy\":true,\"servers\":["
                        + "{\"server\":\"127.0.0.1:11311\",\"role\":\"primary\",\"state\":\"UP\"},"
                        + "{\"server\":\"127.0.0.1:11312\",\"role\":\"primary\",\"state\":\"UP\"}]}\n");
    }

    @Test
    void aDownPrimaryWithoutBackupOrEjectionLeavesKeysNowhere() {
        down(primaries, 0);
        assertThat(new FarmHealth(primaries, null, false).everyKeyServed()).isFalse();
        assertThat(new FarmHealth(primaries, null, false).json())
                .startsWith("{\"healthy\":false,")
                .contains("{\"server\":\"127.0.0.1:11311\",\"role\":\"primary\",\"state\":\"DOWN\"}");
    }

    @Test
    void autoEjectServesADownPrimarysKeysWhileAnotherLives() {
        down(primaries, 0);
        assertThat(new FarmHealth(primaries, null, true).everyKeyServed()).isTrue();
        down(primaries, 1);
        assertThat(new FarmHealth(primaries, null, true).everyKeyServed()).isFalse();
    }

    @Test
    void backupsServeADownPrimarysKeysWhileEveryBackupIsUp() {
        down(primaries, 0);
        assertThat(new FarmHealth(primaries, backups, false).everyKeyServed()).isTrue();
        down(backups, 0);
        assertThat(new FarmHealth(primaries, backups, false).everyKeyServed()).isFalse();
    }

    @Test
    void aBackupWhoseStaleKeysOverflowedServesNoDownPrimarysKeys() {
        down(primaries, 0);
        for (int i = 0; i <= 10; i++) { // the farm remembers 10 stale keys a server
            backups.health(0).markStale(("key" + i).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        }
        assertThat(new FarmHealth(primaries, backups, false).everyKeyServed()).isFalse();
    }

    @Test
    void aDownBackupAloneLeavesEveryKeyWithItsPrimary() {
        down(backups, 0);
        assertThat(new FarmHealth(primaries, backups, false).everyKeyServed()).isTrue();
    }

    private static Farm farm(String role, int... ports) {
        return new Farm(
                role,
                Arrays.stream(ports)
                        .mapToObj(p -> new ServerAddress("127.0.0.1", p, 1))
                        .toList(),
                NettyTransport.NIO,
                SETTINGS);
    }

    /** One failure marks a server down (failure limit 1). */
    private static void down(Farm farm, int server) {
        farm.health(server).recordFailure("test");
    }
}
