package io.jmagent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jmagent.auth.AuthFile;
import io.jmagent.auth.Credentials;
import io.jmagent.config.ProxyConfigBuilder;
import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.RunningProxy;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * memcached's ASCII authentication ({@code -Y}) at the proxy (issue 14): the same scripts played
 * on a memcached started with the same auth file and on jmagent, answers compared; then what
 * memcached does not have: hashed passwords, the file reloaded, guessing rate-limited per address.
 */
class AsciiAuthIT {

    @TempDir
    static Path dir;

    private static Path authFile;
    private static MemcachedProcess withAuth;
    private static List<MemcachedProcess> servers;

    @BeforeAll
    static void start() throws IOException {
        authFile = dir.resolve("auth");
        Files.writeString(authFile, "alice:secret\nbob:hunter2\n");
        withAuth = MemcachedProcess.start("-Y", authFile.toString());
        servers = List.of(MemcachedProcess.start(), MemcachedProcess.start());
    }

    @AfterAll
    static void stop() {
        withAuth.close();
        servers.forEach(MemcachedProcess::close);
    }

    private static RunningProxy proxy(Path file) {
        return RunningProxy.over(servers, List.of(), c -> new ProxyConfigBuilder(c)
                .authFile(file)
                .build());
    }

    @Test
    void anUnauthenticatedClientGetsWhatMemcachedWithAnAuthFileAnswers() throws IOException {
        List<List<String>> scripts = List.of(
                List.of("get a\r\n", "version\r\n", "stats\r\n"),
                List.of("set x 0 0 12\r\nalice secret\r\n", "get x\r\n", "set k 0 0 1\r\nv\r\n", "get k\r\n"),
                List.of("set x 0 0 11\r\nalice wrong\r\n", "get a\r\n"),
                List.of("set x 0 0 13\r\nnobody secret\r\n", "get a\r\n"),
                List.of("set x 0 0 5\r\nalice\r\n", "get a\r\n"),
                List.of("set x 0 0 12\r\nalice:secret\r\n", "version\r\n"),
                List.of("set x 0 0 13\r\nalice secret \r\n", "get x\r\n"),
                List.of("mn\r\n", "mg a v\r\n", "ms a 1\r\nx\r\n"),
                List.of("add x 0 0 5\r\nhello\r\n", "version\r\n"),
                List.of("\r\nversion\r\n"),
                List.of("set x 0 0 12 noreply\r\nalice secret\r\nget x\r\n"),
                List.of("set x 0 0 11\r\nbob hunter2\r\nset y 0 0 1\r\nv\r\nget y\r\n"),
                List.of("set x 0 0 12\r\nalice secret\r\n", "set x 0 0 12\r\nalice secret\r\n", "get x\r\n"),
                List.of("quit\r\n"));
        try (RunningProxy proxy = proxy(authFile)) {
            for (List<String> script : scripts) {
                String name = script.toString().replace("\r", "\\r").replace("\n", "\\n");
                List<String> proxied = play(proxy.port(), script);
                List<String> direct = play(withAuth.port(), script);
                assertThat(normalise(proxied)).as("proxy's answers to %s", name).isEqualTo(normalise(direct));
            }
        }
    }

    /**
     * One difference kept on purpose: memcached 1.6.18 sends no answer at all to a failed attempt
     * that another request follows in the same read (its reply is lost); the proxy answers every
     * attempt, so that a pipelining client's replies stay in step with its requests.
     */
    @Test
    void aFailedAttemptInAPipelineIsAnsweredUnlikeMemcachedWhichLosesItsReply() throws IOException {
        String script = "set x 0 0 11\r\nbob hunter3\r\nset x 0 0 11\r\nbob hunter2\r\nget x\r\n";
        try (RunningProxy proxy = proxy(authFile)) {
            assertThat(play(withAuth.port(), List.of(script))).containsExactly("STORED\r\nEND\r\n");
            assertThat(play(proxy.port(), List.of(script)))
                    .containsExactly("CLIENT_ERROR authentication failure\r\nSTORED\r\nEND\r\n");
        }
    }

    /** A refusal after a failed attempt drops the rest of that read only, never the client's next one. */
    @Test
    void aClientsNextWriteAfterAFailedAttemptIsAnswered() throws IOException {
        try (RunningProxy proxy = proxy(authFile)) {
            assertThat(play(
                            proxy.port(),
                            List.of("set x 0 0 11\r\nalice wrong\r\nget k\r\n", "set x 0 0 12\r\nalice secret\r\n")))
                    .containsExactly(
                            "CLIENT_ERROR authentication failure\r\nCLIENT_ERROR unauthenticated\r\n", "STORED\r\n");
        }
    }

    /** The version line names the program: the only difference allowed. */
    private static List<String> normalise(List<String> answers) {
        return answers.stream()
                .map(a -> a.replaceAll("VERSION [^\r]*", "VERSION x"))
                .toList();
    }

    @Test
    void aHashedPasswordIsAcceptedAndTheFileIsReadAgainWhenItChanges() throws IOException {
        Path file = dir.resolve("hashed");
        Files.writeString(file, "# operators\ncarol:" + Credentials.hash("s3cret") + "\n");
        try (RunningProxy proxy = proxy(file)) {
            assertThat(play(proxy.port(), List.of("set a 0 0 12\r\ncarol s3cret\r\n", "set k 0 0 1\r\nv\r\n")))
                    .containsExactly("STORED\r\n", "STORED\r\n");
            assertThat(play(proxy.port(), List.of("set a 0 0 10\r\ndave pass1\r\n")))
                    .containsExactly("CLIENT_ERROR authentication failure\r\n");
            Path next = dir.resolve("hashed.new");
            Files.writeString(next, "carol:" + Credentials.hash("s3cret") + "\ndave:pass1\n");
            Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            await().atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertThat(play(proxy.port(), List.of("set a 0 0 10\r\ndave pass1\r\n")))
                            .containsExactly("STORED\r\n"));
            Files.writeString(file, "not a credentials line\n");
            Thread.sleep(2 * 2000 + 500); // two checks of the file: the bad one is refused, dave stays
            assertThat(play(proxy.port(), List.of("set a 0 0 10\r\ndave pass1\r\n")))
                    .containsExactly("STORED\r\n");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void anAddressThatKeepsGuessingIsRefusedWithoutACheckWhileOthersGetIn() throws IOException {
        try (RunningProxy proxy = proxy(authFile)) {
            for (int i = 0; i < AuthFile.MAX_FAILURES_PER_WINDOW; i++) {
                assertThat(play(proxy.port(), List.of("set x 0 0 11\r\nalice guess\r\n")))
                        .containsExactly("CLIENT_ERROR authentication failure\r\n");
            }
            assertThat(play(proxy.port(), List.of("set x 0 0 12\r\nalice secret\r\n")))
                    .as("the right one, limited")
                    .containsExactly("CLIENT_ERROR authentication failure\r\n");
            assertThat(playFrom("127.0.0.2", proxy.port(), List.of("set x 0 0 12\r\nalice secret\r\n")))
                    .as("another address")
                    .containsExactly("STORED\r\n");
            assertThat(proxy.server().stats().authErrors()).isEqualTo(AuthFile.MAX_FAILURES_PER_WINDOW + 1);
        }
    }

    /**
     * A difference kept on purpose: memcached -Y refuses the binary protocol ("CLIENT_ERROR
     * unauthenticated" and close); the proxy lets binary clients log in with SASL PLAIN as
     * memcached -S does, with the same file (SaslAuthIT), and refuses anything else as -S does.
     */
    @Test
    void aBinaryClientMustLogInWithSaslWhereMemcachedWithAnAuthFileRefusesIt() throws IOException {
        byte[] noop = new byte[24];
        noop[0] = (byte) 0x80;
        noop[1] = 0x0a;
        try (Socket s = new Socket("127.0.0.1", withAuth.port())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(noop);
            // memcached leaves the connection open
            assertThat(new String(s.getInputStream().readNBytes(30), StandardCharsets.US_ASCII))
                    .isEqualTo("CLIENT_ERROR unauthenticated\r\n");
        }
        try (RunningProxy proxy = proxy(authFile);
                Socket s = new Socket("127.0.0.1", proxy.port())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(noop);
            byte[] authFailure = new byte[24 + 13];
            authFailure[0] = (byte) 0x81;
            authFailure[1] = 0x0a;
            authFailure[7] = 0x20; // status: auth error
            authFailure[11] = 13;
            System.arraycopy("Auth failure.".getBytes(StandardCharsets.US_ASCII), 0, authFailure, 24, 13);
            assertThat(s.getInputStream().readAllBytes()).isEqualTo(authFailure);
        }
    }

    private static List<String> play(int port, List<String> writes) throws IOException {
        return playFrom("127.0.0.1", port, writes);
    }

    /**
     * On a new connection from {@code source}, each write in turn and what came back after it
     * (its first bytes within 15 s, then until 300 ms pass quietly), {@code <closed>} once the other side closed.
     */
    private static List<String> playFrom(String source, int port, List<String> writes) throws IOException {
        List<String> answers = new ArrayList<>();
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(source, 0));
            s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            s.setTcpNoDelay(true);
            InputStream in = s.getInputStream();
            for (String w : writes) {
                s.getOutputStream().write(w.getBytes(StandardCharsets.ISO_8859_1));
                ByteArrayOutputStream got = new ByteArrayOutputStream();
                s.setSoTimeout(
                        15_000); // a hashed password takes a while on a busy machine; every write here is answered
                byte[] buf = new byte[8192];
                try {
                    while (true) {
                        int n = in.read(buf);
                        if (n < 0) {
                            got.writeBytes("<closed>".getBytes(StandardCharsets.US_ASCII));
                            break;
                        }
                        got.write(buf, 0, n);
                        s.setSoTimeout(300);
                    }
                } catch (SocketTimeoutException quiet) {
                    // all that came
                }
                answers.add(got.toString(StandardCharsets.ISO_8859_1));
                if (answers.get(answers.size() - 1).endsWith("<closed>")) {
                    break;
                }
            }
        }
        return answers;
    }
}
