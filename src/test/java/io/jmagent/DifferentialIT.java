package io.jmagent;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import io.jmagent.config.ProxyConfig;
import io.jmagent.routing.KetamaRing;
import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.RunningProxy;
import io.jmagent.testing.TextClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * jmagent against memcached itself: every case of {@link CommandScript}, {@link ProtocolErrorScript}
 * and {@link MetaScript} is played on a fresh connection to one memcached (the oracle) and on
 * a fresh connection to jmagent over three memcached servers, and the two transcripts must be
 * equal byte for byte once cas uniques are replaced by a placeholder. Before each case both sides
 * are emptied with {@code flush_all} on a connection of its own, which also cancels a delayed
 * flush an earlier case left behind.
 *
 * <p>Left out on purpose: version and stats, which the proxy answers itself, and memcached's
 * administration commands (shutdown, slabs, lru, lru_crawler, watch,
 * cache_memlimit, extstore), which it does not fan out.
 */
class DifferentialIT {

    private static final String CAS_PLACEHOLDER = "<cas>";

    private static MemcachedProcess oracle;
    private static List<MemcachedProcess> farm;
    private static RunningProxy proxy;

    @BeforeAll
    static void start() {
        oracle = MemcachedProcess.start();
        farm = List.of(MemcachedProcess.start(), MemcachedProcess.start(), MemcachedProcess.start());
        proxy = RunningProxy.over(farm, List.of(), DifferentialIT::patient);
    }

    /**
     * The default config with a backend deadline of 10 s: this test compares replies, and on a
     * busy machine a server may take more than the default second to answer.
     */
    private static ProxyConfig patient(ProxyConfig c) {
        return new ProxyConfig(
                c.listenAddress(),
                c.port(),
                c.unixSocket(),
                c.servers(),
                c.backups(),
                c.maxConnections(),
                c.maxKeepAlive(),
                c.threads(),
                c.connectionsPerLoop(),
                Duration.ofSeconds(10),
                c.maxItemSize(),
                c.maxRetrievalLine(),
                c.maxPendingPerClient(),
                c.verbosity());
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (farm != null) {
            farm.forEach(MemcachedProcess::close);
        }
        if (oracle != null) {
            oracle.close();
        }
    }

    @TestFactory
    Stream<DynamicTest> proxyAnswersEveryCaseAsOneMemcachedWould() {
        return Stream.of(CommandScript.cases(), ProtocolErrorScript.cases(), MetaScript.cases())
                .flatMap(List::stream)
                .map(c -> DynamicTest.dynamicTest(c.name(), () -> check(c)));
    }

    @Test
    void multiGetKeysOfTheScriptSpanEveryServer() {
        KetamaRing ring = new KetamaRing(RunningProxy.addresses(farm));
        Set<Integer> servers = new HashSet<>();
        for (String key : CommandScript.multiGetKeys()) {
            servers.add(ring.serverFor(key.getBytes(ISO_8859_1)));
        }
        assertThat(servers).containsExactlyInAnyOrder(0, 1, 2);
    }

    @Test
    void delayedFlushAllEmptiesEveryServerWhenItsTimeComes() {
        List<String> keys = CommandScript.multiGetKeys();
        StringBuilder sets = new StringBuilder();
        for (String key : keys) {
            sets.append(DifferentialCase.store("set", key, 0, 0, "v"));
        }
        String get = "get " + String.join(" ", keys) + "\r\n";
        StringBuilder allHits = new StringBuilder();
        for (String key : keys) {
            allHits.append("VALUE ").append(key).append(" 0 1\r\nv\r\n");
        }
        allHits.append("END\r\n");
        try (TextClient memcached = new TextClient(oracle.port());
                TextClient jmagent = new TextClient(proxy.port())) {
            // memcached's clock ticks once a second: a delay of 3 s cannot pass before the next line
            for (TextClient side : List.of(memcached, jmagent)) {
                assertThat(side.exchange("flush_all\r\n" + sets + "flush_all 3\r\n"))
                        .isEqualTo("OK\r\n" + "STORED\r\n".repeat(keys.size()) + "OK\r\n");
                assertThat(side.exchange(get)).as("before the delay").isEqualTo(allHits.toString());
            }
        }
        for (int port : new int[] {oracle.port(), proxy.port()}) {
            await().atMost(Duration.ofSeconds(5))
                    .pollInterval(Duration.ofMillis(100))
                    .until(() -> retrieve(port, get).equals("END\r\n"));
        }
    }

    /**
     * One retrieval on a new connection, read up to its END. TextClient's sentinel cannot serve
     * here: in the second a delayed flush_all comes due, memcached flushes even the items stored
     * in that second, the sentinel among them.
     */
    private static String retrieve(int port, String request) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(5000);
            socket.getOutputStream().write(request.getBytes(ISO_8859_1));
            ByteArrayOutputStream reply = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            while (!reply.toString(ISO_8859_1).endsWith("END\r\n")) {
                int n = socket.getInputStream().read(buf);
                if (n < 0) {
                    break;
                }
                reply.write(buf, 0, n);
            }
            return reply.toString(ISO_8859_1);
        }
    }

    private static void check(DifferentialCase c) {
        String expected = play(c, oracle.port(), "memcached");
        String actual = play(c, proxy.port(), "jmagent");
        if (c.oracleReplyStart() != null) {
            // guards the case itself: memcached must still answer the way the case was written for
            assertThat(abbreviate(expected, 200)).as("oracle reply").startsWith(c.oracleReplyStart());
        }
        String want = normaliseCas(expected);
        String got = normaliseCas(actual);
        if (!want.equals(got)) {
            fail(c.name() + ": " + describeMismatch(want, got));
        }
    }

    /** Empties the server (or farm) behind {@code port}, then plays the case on a new connection. */
    private static String play(DifferentialCase c, int port, String side) {
        try (TextClient reset = new TextClient(port)) {
            assertThat(reset.exchange("flush_all\r\n"))
                    .as("flush_all before the case")
                    .isEqualTo("OK\r\n");
        }
        StringBuilder transcript = new StringBuilder();
        try (TextClient client = new TextClient(port)) {
            String previous = "";
            for (DifferentialCase.Step step : c.steps()) {
                previous = client.exchange(step.request(previous));
                transcript.append(previous);
            }
        } catch (AssertionError e) {
            throw new AssertionError(c.name() + " on " + side + ": " + e.getMessage(), e);
        }
        return transcript.toString();
    }

    /** Replaces the cas field of every "VALUE key flags bytes cas" line, skipping over value data. */
    static String normaliseCas(String reply) {
        StringBuilder out = new StringBuilder(reply.length());
        int i = 0;
        while (i < reply.length()) {
            int lf = reply.indexOf('\n', i);
            if (lf < 0) {
                out.append(reply, i, reply.length());
                break;
            }
            String line = reply.substring(i, lf + 1);
            i = lf + 1;
            if (line.startsWith("VALUE ") && line.endsWith("\r\n")) {
                String[] t = line.substring(0, line.length() - 2).split(" ", -1);
                Integer bytes = t.length == 4 || t.length == 5 ? parseLength(t[3]) : null;
                if (bytes != null) {
                    if (t.length == 5) {
                        t[4] = CAS_PLACEHOLDER;
                    }
                    out.append(String.join(" ", t)).append("\r\n");
                    int dataEnd = (int) Math.min(reply.length(), (long) i + bytes + 2);
                    out.append(reply, i, dataEnd);
                    i = dataEnd;
                    continue;
                }
            }
            out.append(line);
        }
        return out.toString();
    }

    private static Integer parseLength(String s) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static String describeMismatch(String want, String got) {
        int at = 0;
        while (at < want.length() && at < got.length() && want.charAt(at) == got.charAt(at)) {
            at++;
        }
        int from = Math.max(0, at - 120);
        return "replies differ at byte " + at + " (memcached: " + want.length() + " bytes, jmagent: "
                + got.length() + " bytes)\n  memcached: ..." + escape(want, from, at + 200)
                + "\n  jmagent:   ..." + escape(got, from, at + 200);
    }

    private static String abbreviate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max);
    }

    /** {@code s} from {@code from} to {@code to}, with CR, LF and other control or non-ASCII chars written out. */
    static String escape(String s, int from, int to) {
        StringBuilder b = new StringBuilder();
        for (int i = from; i < Math.min(to, s.length()); i++) {
            char ch = s.charAt(i);
            if (ch == '\r') {
                b.append("\\r");
            } else if (ch == '\n') {
                b.append("\\n");
            } else if (ch < 0x20 || ch >= 0x7f) {
                b.append(String.format("\\x%02x", (int) ch));
            } else {
                b.append(ch);
            }
        }
        return b.toString();
    }
}
