package io.jmagent.it;

import static io.jmagent.testing.BinaryPacket.FLUSH;
import static io.jmagent.testing.BinaryPacket.STAT;
import static io.jmagent.testing.BinaryPacket.SUCCESS;
import static io.jmagent.testing.BinaryPacket.VERSION;
import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.jmagent.routing.KetamaRing;
import io.jmagent.testing.BinaryClient;
import io.jmagent.testing.BinaryPacket;
import io.jmagent.testing.BinaryResponse;
import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.RunningProxy;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * jmagent against memcached in the binary protocol: every case of {@link BinaryScript} is played
 * on one memcached (the oracle) and on jmagent over three memcached servers, and the responses
 * must agree field by field: magic, opcode, status, datatype, opaque, extras, key and value. The
 * cas must be zero on both sides or non-zero on both (cas uniques differ between servers; cases
 * that reuse a returned cas show it is the item's). Version answers only need to succeed, and of
 * Stat only the closing empty packet is compared (the proxy answers its own statistics). Both
 * sides are flushed before each case.
 */
class BinaryDifferentialIT {

    private static MemcachedProcess oracle;
    private static ProxiedFarm farm;

    @BeforeAll
    static void start() {
        oracle = MemcachedProcess.start();
        farm = ProxiedFarm.start(3);
    }

    @AfterAll
    static void stop() {
        try {
            if (oracle != null) {
                oracle.close();
            }
        } finally {
            if (farm != null) {
                farm.close();
            }
        }
    }

    @TestFactory
    Stream<DynamicTest> proxyAnswersEveryBinaryCaseAsOneMemcachedWould() {
        return BinaryScript.cases().stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> check(c)));
    }

    @Test
    void pipelineKeysSpanEveryServer() {
        KetamaRing ring = new KetamaRing(RunningProxy.addresses(farm.servers()));
        Set<Integer> servers = new HashSet<>();
        for (int i = 0; i < BinaryScript.PIPELINE_KEYS; i++) {
            servers.add(ring.serverFor(BinaryScript.pipelineKey(i).getBytes(ISO_8859_1)));
        }
        assertThat(servers).containsExactlyInAnyOrder(0, 1, 2);
    }

    private static void check(BinaryCase c) {
        String expected = play(c, oracle.port(), "memcached");
        String actual = play(c, farm.port(), "jmagent");
        if (!expected.equals(actual)) {
            fail(c.name() + ": responses differ\n--- memcached:\n" + expected + "--- jmagent:\n" + actual);
        }
    }

    /** Flushes the server (or farm) behind {@code port}, then plays the case and renders its responses. */
    private static String play(BinaryCase c, int port, String side) {
        try (BinaryClient reset = new BinaryClient(port)) {
            List<BinaryResponse> flushed =
                    reset.exchange(BinaryPacket.request(FLUSH).bytes());
            assertThat(flushed).as("flush before the case on " + side).hasSize(1);
            assertThat(flushed.get(0).status()).isEqualTo(SUCCESS);
        }
        StringBuilder transcript = new StringBuilder();
        BinaryClient client = new BinaryClient(port);
        try {
            List<BinaryResponse> previous = List.of();
            int n = 0;
            for (BinaryCase.Step step : c.steps()) {
                if (client.closedByPeer()) {
                    client.close();
                    client = new BinaryClient(port);
                }
                byte[] request = step.request().bytes(previous);
                previous = step.closes() ? client.exchangeUntilClosed(request) : client.exchange(request);
                transcript.append("step ").append(++n).append('\n');
                for (BinaryResponse r : previous) {
                    String line = render(r);
                    if (line != null) {
                        transcript.append("  ").append(line).append('\n');
                    }
                }
                if (client.closedByPeer()) {
                    transcript.append("  <closed>\n");
                }
            }
        } catch (AssertionError e) {
            throw new AssertionError(c.name() + " on " + side + ": " + e.getMessage(), e);
        } finally {
            client.close();
        }
        return transcript.toString();
    }

    /** One response as compared; null for the statistics before Stat's closing packet. */
    static String render(BinaryResponse r) {
        if (r.opcode() == STAT && r.status() == SUCCESS && r.keyLength() > 0) {
            return null;
        }
        String cas = r.cas() == 0 ? "0" : "non-zero";
        String value = r.opcode() == VERSION && r.status() == SUCCESS ? "<version>" : BinaryResponse.escape(r.value());
        return String.format(
                "magic=%02x op=%02x status=%04x datatype=%02x opaque=%08x cas=%s extras=%s key=%s value=%s",
                r.magic(),
                r.opcode(),
                r.status(),
                r.datatype(),
                r.opaque(),
                cas,
                HexFormat.of().formatHex(r.extras()),
                BinaryResponse.escape(r.key()),
                value);
    }
}
