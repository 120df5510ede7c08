package io.jmagent.loadgen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TargetTest {

    @Test
    void aHostAndPortIsAPlainTarget() {
        assertThat(Target.parse("jmagent=127.0.0.1:11211")).isEqualTo(new Target("jmagent", "127.0.0.1", 11211, false));
    }

    @Test
    void theTlsSchemeMakesATlsTarget() {
        assertThat(Target.parse("jmagent-tls=tls://127.0.0.1:11212"))
                .isEqualTo(new Target("jmagent-tls", "127.0.0.1", 11212, true));
    }

    @Test
    void aNameMayHoldWhatAnAddressHolds() {
        assertThat(Target.parse("jmagent+b=localhost:20000"))
                .isEqualTo(new Target("jmagent+b", "localhost", 20000, false));
    }

    @Test
    void anotherSchemeIsRefused() {
        assertThatThrownBy(() -> Target.parse("x=http://127.0.0.1:80"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("expected NAME=HOST:PORT or NAME=tls://HOST:PORT, got x=http://127.0.0.1:80");
    }

    @Test
    void aSpecWithoutNameOrPortIsRefused() {
        assertThatThrownBy(() -> Target.parse("127.0.0.1:11211"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("got 127.0.0.1:11211");
        assertThatThrownBy(() -> Target.parse("x=tls://127.0.0.1"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("got x=tls://127.0.0.1");
        assertThatThrownBy(() -> Target.parse("x=127.0.0.1:99999"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("not a port in x=127.0.0.1:99999");
    }
}
