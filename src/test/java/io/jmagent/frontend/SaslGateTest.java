package io.jmagent.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SaslGateTest {

    private static String[] plain(String message) {
        return SaslGate.plain(message.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aPlainMessageGivesItsUserAndPasswordWithOrWithoutTheUserAsAuthzid() {
        assertThat(plain("\0alice\0s3cret")).containsExactly("alice", "s3cret");
        assertThat(plain("alice\0alice\0s3cret")).containsExactly("alice", "s3cret");
        assertThat(plain("\0zoë\0pâss word")).containsExactly("zoë", "pâss word");
    }

    @Test
    void aMessageThatIsNotPlainsOrActsAsAnotherUserIsRefusedUnchecked() {
        assertThat(plain("bob\0alice\0s3cret")).as("acting as another").isNull();
        assertThat(plain("alice s3cret")).as("no NUL").isNull();
        assertThat(plain("\0alice\0s3cret\0x")).as("a fourth field").isNull();
        assertThat(plain("\0\0s3cret")).as("no user").isNull();
        assertThat(plain("\0alice\0")).as("no password").isNull();
        assertThat(plain("")).isNull();
    }
}
