package io.jmagent.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** memcached's auth file format, and the hashed passwords jmagent accepts in it. */
class CredentialsTest {

    @TempDir
    Path dir;

    private Credentials load(String content) throws IOException {
        Path file = dir.resolve("auth");
        Files.writeString(file, content);
        return Credentials.load(file);
    }

    @Test
    void plainAndHashedPasswordsAreChecked() throws IOException {
        Credentials c = load("# team\nalice:secret\n\nbob:" + Credentials.hash("hunter2") + "\n");
        assertThat(c.users()).isEqualTo(2);
        assertThat(c.check("alice", "secret")).isTrue();
        assertThat(c.check("alice", "Secret")).isFalse();
        assertThat(c.check("bob", "hunter2")).isTrue();
        assertThat(c.check("bob", "hunter3")).isFalse();
        assertThat(c.check("carol", "secret")).isFalse();
        assertThat(c.check("bob", Credentials.hash("hunter2")))
                .as("the hash itself is no password")
                .isFalse();
    }

    @Test
    void twoHashesOfOnePasswordDifferByTheirSalt() {
        assertThat(Credentials.hash("x")).isNotEqualTo(Credentials.hash("x")).startsWith("pbkdf2-sha256$210000$");
    }

    @Test
    void aBadFileIsRefusedNamingTheLine() {
        assertThatThrownBy(() -> load("alice:secret\nbob\n")).hasMessageEndingWith("line 2: expected user:password");
        assertThatThrownBy(() -> load("alice:secret\nalice:other\n"))
                .hasMessageEndingWith("line 2: user 'alice' given twice");
        assertThatThrownBy(() -> load("al ice:secret\n")).hasMessageContaining("no spaces");
        assertThatThrownBy(() -> load("bob:pbkdf2-sha256$10$abc$def\n")).hasMessageContaining("a hash is");
        assertThatThrownBy(() -> load("# nobody\n")).hasMessageEndingWith("no user:password line");
        assertThatThrownBy(() -> Credentials.load(dir.resolve("missing"))).hasMessageEndingWith("no such file");
    }
}
