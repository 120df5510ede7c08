package io.jmagent.backend;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Which memcached versions get the meta commands the proxy itself sends. */
class HealthCheckerTest {

    @Test
    void metaCommandsAreSentFromTheReleaseThatMadeThemStable() {
        assertThat(HealthChecker.speaksStableMeta("1.6.10")).isTrue();
        assertThat(HealthChecker.speaksStableMeta("1.6.18")).isTrue();
        assertThat(HealthChecker.speaksStableMeta("1.7.0")).isTrue();
        assertThat(HealthChecker.speaksStableMeta("2.0")).isTrue();
        // before 1.6.10 meta answered OK, not HD, and ms took its length as a flag
        assertThat(HealthChecker.speaksStableMeta("1.6.9")).isFalse();
        assertThat(HealthChecker.speaksStableMeta("1.6.0")).isFalse();
        assertThat(HealthChecker.speaksStableMeta("1.6")).isFalse();
        assertThat(HealthChecker.speaksStableMeta("1.5.22")).isFalse();
        assertThat(HealthChecker.speaksStableMeta("1.4.15-rc1")).isFalse();
    }

    @Test
    void aVersionNotNumberedAsMemcachedsIsTakenForAModernServer() {
        assertThat(HealthChecker.speaksStableMeta("jmagent")).isTrue();
    }
}
