package io.jmagent.it;

import static io.jmagent.testing.BinaryPacket.GET;
import static io.jmagent.testing.BinaryPacket.GETQ;
import static io.jmagent.testing.BinaryPacket.NOOP;
import static io.jmagent.testing.BinaryPacket.QUIT;
import static io.jmagent.testing.BinaryPacket.SASL_AUTH;
import static io.jmagent.testing.BinaryPacket.SASL_LIST_MECHS;
import static io.jmagent.testing.BinaryPacket.SASL_STEP;
import static io.jmagent.testing.BinaryPacket.STAT;
import static io.jmagent.testing.BinaryPacket.VERSION;
import static io.jmagent.testing.BinaryPacket.request;
import static org.assertj.core.api.Assertions.assertThat;

import io.jmagent.auth.AuthFile;
import io.jmagent.auth.Credentials;
import io.jmagent.config.ProxyConfigBuilder;
import io.jmagent.testing.BinaryClient;
import io.jmagent.testing.BinaryResponse;
import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.RunningProxy;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import net.spy.memcached.ConnectionFactoryBuilder;
import net.spy.memcached.FailureMode;
import net.spy.memcached.MemcachedClient;
import net.spy.memcached.auth.AuthDescriptor;
import net.spy.memcached.auth.PlainCallbackHandler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SASL PLAIN for binary clients (issue 14), as memcached's {@code -S}: the same packets sent to a
 * memcached started with {@code -S} (Debian's, built with Cyrus SASL, its users in a sasldb made
 * with saslpasswd2 and only PLAIN offered) and to jmagent with an auth file holding the same
 * users, the responses compared whole (opaque and cas included; the version text aside); the
 * counts of auth_cmds and auth_errors too. Then a Java client (spymemcached) logging in through
 * the proxy, and what memcached does not have: hashed passwords and guessing rate-limited per address.
 */
class SaslAuthIT {

    @TempDir
    static Path dir;

    private static Path authFile;
    private static MemcachedProcess withSasl;
    private static List<MemcachedProcess> servers;
    private static int opaque = 0x100;

    @BeforeAll
    static void start() throws IOException, InterruptedException {
        authFile = dir.resolve("auth");
        Files.writeString(authFile, "alice:s3cret\nbob:hunter2\n");
        Path sasldb = dir.resolve("sasldb");
        saslpasswd2(sasldb, "alice", "s3cret");
        saslpasswd2(sasldb, "bob", "hunter2");
        // Cyrus SASL reads memcached.conf from SASL_CONF_PATH: PLAIN only, the users from the sasldb
        Files.writeString(dir.resolve("memcached.conf"), "mech_list: plain\nsasldb_path: " + sasldb + "\n");
        withSasl = MemcachedProcess.start(Map.of("SASL_CONF_PATH", dir.toString()), "-S");
        servers = List.of(MemcachedProcess.start(), MemcachedProcess.start());
    }

    /** Adds {@code user} to a sasldb as memcached looks it up (application name "memcached"). */
    private static void saslpasswd2(Path sasldb, String user, String password)
            throws IOException, InterruptedException {
        String tool = Files.isExecutable(Path.of("/usr/sbin/saslpasswd2")) ? "/usr/sbin/saslpasswd2" : "saslpasswd2";
        Process p = new ProcessBuilder(tool, "-a", "memcached", "-c", "-p", "-f", sasldb.toString(), user)
                .redirectErrorStream(true)
                .start();
        p.getOutputStream().write(password.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("saslpasswd2 (package sasl2-bin): %s", out).isZero();
    }

    @AfterAll
    static void stop() {
        if (withSasl != null) {
            withSasl.close();
        }
        if (servers != null) {
            servers.forEach(MemcachedProcess::close);
        }
    }

    private static RunningProxy proxy(Path file) {
        return RunningProxy.over(servers, List.of(), c -> new ProxyConfigBuilder(c)
                .authFile(file)
                .build());
    }

    @Test
    void aBinaryClientGetsWhatMemcachedWithSaslAnswers() throws IOException {
        List<List<byte[]>> scripts = List.of(
                List.of(op(SASL_LIST_MECHS), op(NOOP)),
                List.of(op(NOOP), op(NOOP)),
                List.of(op(VERSION), op(GET, "k")),
                List.of(op(GETQ, "k")),
                List.of(op(QUIT)),
                List.of(op(STAT)),
                List.of(op(0x55)),
                List.of(op(GET, "k".repeat(300))),
                List.of(auth("PLAIN", plain("", "alice", "s3cret")), op(NOOP), op(GET, "sasl:missing")),
                List.of(auth("PLAIN", plain("bob", "bob", "hunter2")), op(GET, "sasl:missing")),
                List.of(auth("plain", plain("", "alice", "s3cret")), op(NOOP)),
                List.of(auth("PLAIN", plain("bob", "alice", "s3cret")), op(NOOP)),
                List.of(auth("PLAIN", plain("", "alice", "wrong")), op(NOOP)),
                List.of(auth("PLAIN", plain("", "nobody", "s3cret")), op(NOOP)),
                List.of(
                        auth("PLAIN", plain("", "alice", "wrong")),
                        auth("PLAIN", plain("", "alice", "s3cret")),
                        op(NOOP)),
                List.of(auth("PLAIN", "alice s3cret"), op(VERSION)),
                List.of(auth("PLAIN", "\0alice\0s3cret\0x"), op(VERSION)),
                List.of(auth("PLAIN", plain("", "", "s3cret")), op(VERSION)),
                List.of(auth("CRAM-MD5", ""), op(VERSION)),
                List.of(auth("P".repeat(32), plain("", "alice", "s3cret")), op(VERSION)),
                List.of(auth("P".repeat(33), plain("", "alice", "s3cret")), op(VERSION), op(NOOP)),
                List.of(request(SASL_AUTH)
                        .key("PLAIN")
                        .extras(new byte[4])
                        .opaque(++opaque)
                        .bytes()),
                List.of(request(SASL_AUTH)
                        .value(plain("", "alice", "s3cret"))
                        .opaque(++opaque)
                        .bytes()),
                List.of(request(SASL_LIST_MECHS).key("PLAIN").opaque(++opaque).bytes()),
                List.of(request(VERSION).key("v").opaque(++opaque).bytes()),
                List.of(step(plain("", "alice", "s3cret")), op(NOOP)),
                List.of(auth("PLAIN", ""), step(plain("", "alice", "s3cret")), op(NOOP)),
                List.of(auth("PLAIN", ""), op(NOOP)),
                List.of(
                        auth("PLAIN", ""),
                        step(""),
                        step(plain("", "alice", "wrong")),
                        step(plain("", "alice", "s3cret")),
                        step(plain("", "alice", "s3cret")),
                        op(NOOP)),
                List.of(
                        auth("PLAIN", ""),
                        op(VERSION),
                        op(SASL_LIST_MECHS),
                        step(plain("", "bob", "hunter2")),
                        op(NOOP)),
                List.of(auth("PLAIN", plain("", "alice", "s3cret")), step(plain("", "alice", "s3cret")), op(NOOP)),
                List.of(
                        auth("PLAIN", plain("", "alice", "s3cret")), auth("PLAIN", plain("", "alice", "x")),
                        op(VERSION), op(NOOP)),
                List.of(auth("PLAIN", plain("", "alice", "s3cret")), op(0x55), op(QUIT)),
                List.of(concat(auth("PLAIN", plain("", "alice", "s3cret")), op(NOOP), op(GET, "sasl:missing"))),
                List.of(concat(auth("PLAIN", plain("", "alice", "wrong")), op(NOOP), op(VERSION))),
                List.of(concat(op(NOOP), auth("PLAIN", plain("", "alice", "s3cret")))));
        try (RunningProxy proxy = proxy(authFile)) {
            Map<String, Long> before = memcachedAuthCounts();
            for (List<byte[]> script : scripts) {
                List<String> proxied = play("127.0.0.1", proxy.port(), script);
                List<String> direct = play("127.0.0.1", withSasl.port(), script);
                assertThat(normalise(proxied))
                        .as("proxy's answers to script %d", scripts.indexOf(script))
                        .isEqualTo(normalise(direct));
            }
            Map<String, Long> after = memcachedAuthCounts();
            // the second reading's own login counts once
            assertThat(proxy.server().stats().authCmds())
                    .isEqualTo(after.get("auth_cmds") - before.get("auth_cmds") - 1);
            assertThat(proxy.server().stats().authErrors())
                    .isEqualTo(after.get("auth_errors") - before.get("auth_errors"));
        }
    }

    /**
     * One difference kept on purpose: memcached's List Mechs forgets a login made before it (its
     * SASL connection is set up anew), so the next command is refused and the connection closed;
     * listing the mechanisms changes nothing at the proxy.
     */
    @Test
    void listingTheMechanismsKeepsTheLoginUnlikeMemcachedWhichForgetsIt() throws IOException {
        List<byte[]> script = List.of(auth("PLAIN", plain("", "alice", "s3cret")), op(SASL_LIST_MECHS), op(NOOP));
        try (RunningProxy proxy = proxy(authFile)) {
            List<String> direct = play("127.0.0.1", withSasl.port(), script);
            List<String> proxied = play("127.0.0.1", proxy.port(), script);
            assertThat(direct.get(2))
                    .contains("op=0a status=0020")
                    .contains("value=\"Auth failure.\"")
                    .endsWith("<closed>");
            assertThat(proxied.subList(0, 2)).isEqualTo(direct.subList(0, 2));
            assertThat(proxied.get(2)).isEqualTo(response(NOOP, 0, lastOpaque(script), ""));
        }
    }

    @Test
    void requestsPipelinedBehindAHashedLoginWaitForItAndAreServedInOrder() throws IOException {
        Path file = dir.resolve("hashed");
        Files.writeString(file, "carol:" + Credentials.hash("s3cret") + "\n");
        try (RunningProxy proxy = proxy(file);
                BinaryClient client = new BinaryClient(proxy.port())) {
            byte[] login = auth("PLAIN", plain("", "carol", "s3cret"));
            byte[] set = request(io.jmagent.testing.BinaryPacket.SET)
                    .key("sasl:k")
                    .extras(new byte[8])
                    .value("v")
                    .opaque(0x77)
                    .bytes();
            client.send(concat(login, set, op(GET, "sasl:k"), op(NOOP)));
            List<BinaryResponse> got = client.read(4);
            assertThat(got).extracting(BinaryResponse::opcode).containsExactly(SASL_AUTH, 0x01, GET, NOOP);
            assertThat(got).extracting(BinaryResponse::status).containsExactly(0, 0, 0, 0);
            assertThat(got.get(0).valueText()).isEqualTo("Authenticated");
            assertThat(got.get(2).valueText()).isEqualTo("v");
            assertThat(proxy.server().stats().authCmds()).isEqualTo(1);
            assertThat(proxy.server().stats().authErrors()).isZero();
        }
    }

    @Test
    void anAddressThatKeepsGuessingIsRefusedWithoutACheckWhileOthersGetIn() throws IOException {
        try (RunningProxy proxy = proxy(authFile)) {
            for (int i = 0; i < AuthFile.MAX_FAILURES_PER_WINDOW; i++) {
                assertThat(play("127.0.0.1", proxy.port(), List.of(auth("PLAIN", plain("", "alice", "guess")))))
                        .containsExactly(response(SASL_AUTH, 0x20, opaque, "Auth failure."));
            }
            byte[] right = auth("PLAIN", plain("", "alice", "s3cret"));
            assertThat(play("127.0.0.1", proxy.port(), List.of(right)))
                    .as("the right one, limited")
                    .containsExactly(response(SASL_AUTH, 0x20, opaque, "Auth failure."));
            assertThat(play("127.0.0.2", proxy.port(), List.of(right)))
                    .as("another address")
                    .containsExactly(response(SASL_AUTH, 0, opaque, "Authenticated"));
            assertThat(proxy.server().stats().authErrors()).isEqualTo(AuthFile.MAX_FAILURES_PER_WINDOW + 1);
        }
    }

    @Test
    void spymemcachedLogsInWithSaslPlainOverTheBinaryProtocol() throws Exception {
        try (RunningProxy proxy = proxy(authFile)) {
            MemcachedClient client = new MemcachedClient(
                    new ConnectionFactoryBuilder()
                            .setProtocol(ConnectionFactoryBuilder.Protocol.BINARY)
                            // PLAIN only: AuthDescriptor.typical offers CRAM-MD5 first, which memcached -S with PLAIN
                            // refuses too
                            .setAuthDescriptor(new AuthDescriptor(
                                    new String[] {"PLAIN"}, new PlainCallbackHandler("alice", "s3cret")))
                            .setOpTimeout(5000)
                            .setFailureMode(FailureMode.Retry)
                            .setDaemon(true)
                            .build(),
                    List.of(new InetSocketAddress("127.0.0.1", proxy.port())));
            try {
                assertThat(client.set("sasl:spy", 0, "through the proxy").get(10, TimeUnit.SECONDS))
                        .isTrue();
                assertThat(client.get("sasl:spy")).isEqualTo("through the proxy");
                assertThat(proxy.server().stats().authCmds()).isEqualTo(1);
                assertThat(proxy.server().stats().authErrors()).isZero();
            } finally {
                client.shutdown(2, TimeUnit.SECONDS);
            }
        }
    }

    /** The version text names the program: the only difference allowed. */
    private static List<String> normalise(List<String> answers) {
        return answers.stream()
                .map(a -> a.replaceAll("op=0b status=0000 (.*) value=\"[^\"]*\"", "op=0b status=0000 $1 value=x"))
                .toList();
    }

    private static byte[] op(int opcode) {
        return request(opcode).opaque(++opaque).bytes();
    }

    private static byte[] op(int opcode, String key) {
        return request(opcode).key(key).opaque(++opaque).bytes();
    }

    private static byte[] auth(String mechanism, String data) {
        return request(SASL_AUTH).key(mechanism).value(data).opaque(++opaque).bytes();
    }

    private static byte[] step(String data) {
        return request(SASL_STEP).key("PLAIN").value(data).opaque(++opaque).bytes();
    }

    /** RFC 4616's message. */
    private static String plain(String authzid, String user, String password) {
        return authzid + "\0" + user + "\0" + password;
    }

    private static byte[] concat(byte[]... parts) {
        return BinaryClient.concat(parts);
    }

    private static int lastOpaque(List<byte[]> script) {
        byte[] last = script.get(script.size() - 1);
        return java.nio.ByteBuffer.wrap(last, 12, 4).getInt();
    }

    /** A response as {@link #play} writes it. */
    private static String response(int opcode, int status, int opaque, String value) {
        return new BinaryResponse(
                        0x81,
                        opcode,
                        0,
                        0,
                        0,
                        status,
                        value.length(),
                        opaque,
                        0,
                        new byte[0],
                        new byte[0],
                        value.getBytes(StandardCharsets.US_ASCII))
                .toString();
    }

    /** memcached's auth_cmds and auth_errors, read by a client that logs in for it. */
    private static Map<String, Long> memcachedAuthCounts() throws IOException {
        try (BinaryClient client = new BinaryClient(withSasl.port())) {
            client.send(concat(auth("PLAIN", plain("", "alice", "s3cret")), op(STAT)));
            Map<String, Long> counts = new HashMap<>();
            for (BinaryResponse r : client.read(1)) {
                assertThat(r.status()).isZero();
            }
            while (true) {
                BinaryResponse r = client.read(1).get(0);
                if (r.keyLength() == 0) {
                    return counts;
                }
                String name = new String(r.key(), StandardCharsets.US_ASCII);
                if (name.startsWith("auth_")) {
                    counts.put(name, Long.parseLong(r.valueText()));
                }
            }
        }
    }

    /**
     * On a new connection from {@code source}, each write in turn and the responses that came back
     * after it (the first within 15 s, then until 150 ms pass quietly), one string each, the last
     * followed by {@code <closed>} once the other side closed.
     */
    private static List<String> play(String source, int port, List<byte[]> writes) throws IOException {
        List<String> answers = new ArrayList<>();
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(source, 0));
            s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            s.setTcpNoDelay(true);
            InputStream in = new BufferedInputStream(s.getInputStream());
            for (byte[] w : writes) {
                s.getOutputStream().write(w);
                StringBuilder got = new StringBuilder();
                s.setSoTimeout(15_000); // a hashed password takes a while on a busy machine
                boolean closed = false;
                try {
                    while (true) {
                        BinaryResponse r = BinaryResponse.read(in);
                        if (r == null) {
                            closed = true;
                            break;
                        }
                        got.append(got.length() == 0 ? "" : " | ").append(r);
                        s.setSoTimeout(150);
                    }
                } catch (SocketTimeoutException quiet) {
                    // all that came
                }
                answers.add(got + (closed ? "<closed>" : ""));
                if (closed) {
                    break;
                }
            }
        }
        return answers;
    }
}
