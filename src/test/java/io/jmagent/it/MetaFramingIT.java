package io.jmagent.it;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;

import io.jmagent.backend.ServerAddress;
import io.jmagent.backend.ServerHealth;
import io.jmagent.config.ProxyConfig;
import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.RunningProxy;
import io.jmagent.testing.TestTransport;
import io.jmagent.testing.TextClient;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * memcached reads a meta flag by its first character only ({@code q1} and {@code qX} are the quiet
 * flag, {@code bX} the base64 flag). Many clients pipeline meta gets of their own keys while one
 * client sends every meta command with such flags, over one connection per server that they all
 * share: no client ever sees a key or value it did not ask for, every client's replies are what one
 * memcached answers for the same bytes, and no server is marked down. A server that answers one
 * meta command twice fails that command and loses that connection; nothing is shifted.
 */
class MetaFramingIT {

    private static final int VICTIMS = 6;
    private static final int ROUNDS = 15;
    private static final int KEYS = 40;
    private static final Pattern VICTIM_DATA = Pattern.compile("(?:vic|sec)(\\d+)[:.]");

    @Test
    void flagsReadByTheirFirstCharacterNeverHandOneClientsReplyToAnother() throws Exception {
        String attack = attackScript();
        List<String> expectedAttack = new ArrayList<>();
        List<String> expectedVictim = new ArrayList<>();
        try (MemcachedProcess single = MemcachedProcess.start()) {
            preload(single.port());
            try (TextClient oracle = new TextClient(single.port())) {
                for (int r = 0; r < ROUNDS; r++) {
                    expectedAttack.add(oracle.exchange(attack));
                }
                for (int c = 0; c < VICTIMS; c++) {
                    expectedVictim.add(oracle.exchange(victimBurst(c)));
                }
            }
        }
        assertThat(String.join("", expectedAttack))
                .as("the attack makes memcached speak and stay silent")
                .contains(
                        "VA 1 katk:a",
                        "NF\r\n",
                        "CLIENT_ERROR duplicate flag",
                        "MN\r\n",
                        "CLIENT_ERROR options flags too long\r\nERROR\r\n")
                .doesNotContain("vic", "sec");
        assertThat(expectedVictim.get(0)).contains("VA 6 kvic0:0\r\nsec0.0\r\n").endsWith("MN\r\n");

        try (ProxiedFarm farm = ProxiedFarm.start(3, MetaFramingIT::oneSharedConnectionPerServer)) {
            preload(farm.port());
            ExecutorService pool = Executors.newFixedThreadPool(VICTIMS + 1);
            try {
                CountDownLatch go = new CountDownLatch(1);
                CompletableFuture<List<String>> attacker =
                        CompletableFuture.supplyAsync(() -> rounds(farm.port(), attack, go), pool);
                List<CompletableFuture<List<String>>> victims = new ArrayList<>();
                for (int c = 0; c < VICTIMS; c++) {
                    String burst = victimBurst(c);
                    victims.add(CompletableFuture.supplyAsync(() -> rounds(farm.port(), burst, go), pool));
                }
                go.countDown();

                List<String> attacked = attacker.get(60, TimeUnit.SECONDS);
                List<List<String>> victimReplies = new ArrayList<>();
                for (CompletableFuture<List<String>> v : victims) {
                    victimReplies.add(v.get(60, TimeUnit.SECONDS));
                }
                assertThat(String.join("", attacked))
                        .as("victims' keys and values seen by the attacker")
                        .doesNotContain("vic", "sec");
                for (int c = 0; c < VICTIMS; c++) {
                    assertThat(foreignVictims(String.join("", victimReplies.get(c)), c))
                            .as("other clients' keys and values seen by client %d", c)
                            .isEmpty();
                }
                for (int r = 0; r < ROUNDS; r++) {
                    assertThat(attacked.get(r)).as("the attacker's round %d", r).isEqualTo(expectedAttack.get(r));
                    for (int c = 0; c < VICTIMS; c++) {
                        assertThat(victimReplies.get(c).get(r))
                                .as("client %d, round %d", c, r)
                                .isEqualTo(expectedVictim.get(c));
                    }
                }
            } finally {
                pool.shutdownNow();
            }
            for (int s = 0; s < 3; s++) {
                ServerHealth health = farm.proxy().server().primaries().health(s);
                assertThat(health.state()).as("server %d", s).isEqualTo(ServerHealth.State.UP);
                assertThat(health.downTransitions())
                        .as("server %d marked down", s)
                        .isZero();
                assertThat(health.lastFailure())
                        .as("server %d's last failure", s)
                        .isEmpty();
            }
        }
    }

    @Test
    void aSecondReplyToOneMetaCommandFailsItAndClosesThatConnectionWithoutMarkingTheServerDown() throws Exception {
        try (TwiceAnsweringServer server = new TwiceAnsweringServer();
                RunningProxy proxy = RunningProxy.overAddresses(
                        List.of(new ServerAddress("127.0.0.1", server.port(), 1)),
                        List.of(),
                        c -> c,
                        TestTransport.chosen());
                TextClient client = new TextClient(proxy.port())) {
            assertThat(client.exchange("mg twice v\r\n"))
                    .isEqualTo("SERVER_ERROR backend 127.0.0.1:" + server.port() + " reply out of frame\r\n");

            assertThat(client.exchange("mg other v\r\nmg more v\r\n")).isEqualTo("EN\r\nEN\r\n");
            ServerHealth health = proxy.server().primaries().health(0);
            assertThat(health.connectionsOpened())
                    .as("connections: the first closed, a second opened")
                    .isEqualTo(2);
            assertThat(health.state()).isEqualTo(ServerHealth.State.UP);
            assertThat(health.downTransitions()).isZero();
            assertThat(health.lastFailure()).isEmpty();
        }
    }

    /** Every meta command, with flags followed by characters memcached ignores. */
    private static String attackScript() {
        String b1 = base64("atk:b1");
        String b2 = base64("atk:b2");
        return "ms atk:a 1 q1\r\nx\r\n" // quiet: its HD is silent
                + "ms atk:a2 2 qX T0\r\nyy\r\n"
                + "mg atk:a v kZ s1 f9\r\n"
                + "mg atk:nokey qX v\r\n" // a quiet miss: nothing
                + "mg atk:a qq v9 k1\r\n" // a quiet hit is shown
                + "mn\r\n"
                + "ms " + b1 + " 2 bX\r\nhi\r\n" // routed by the key it decodes to
                + "mg atk:b1 v k\r\n"
                + "mg " + b1 + " b1 v9 kk\r\n"
                + "ms " + b2 + " 1 b? q!\r\nz\r\n"
                + "mg atk:b2 v qq\r\n"
                + "md " + b2 + " bb qq\r\n"
                + "mg atk:b2 v kZ\r\n"
                + "md atk:a q1\r\n" // HD, silent
                + "md atk:a qX\r\n" // NF, shown
                + "mg atk:a s1 v qZ\r\n"
                + "mg atk:viv N30 v k\r\n"
                + "mg atk:a2 Tx v\r\n"
                + "ma atk:n N0 J5 q1\r\n"
                + "ma atk:n v1 M+\r\n"
                + "ma atk:n vv MD D2 qq\r\n"
                + "ma atk:n MIx v\r\n"
                + "ma atk:none q1\r\n"
                + "ms atk:c 1 MEx\r\nx\r\n"
                + "ms atk:c 1 ME q1\r\nx\r\n"
                + "ms atk:c 1 MAx q\r\nx\r\n"
                + "ms atk:c 1 C99999999 q9\r\nx\r\n"
                + "ms atk:e 1 E5\r\nx\r\n"
                + "md atk:c I1 T30 q\r\n"
                + "mg atk:c v k\r\n"
                + "mg atk:c v kq q1\r\n"
                + "md atk:c qz\r\n"
                + "mg atk:a q q1 v\r\n"
                + "me atk:none q1\r\n"
                + "ms atk:d 2" + " v".repeat(17) + "\r\nhi\r\n" // memcached reads no value: "hi" is a command
                + "mg atk:a v k O1 qZ\r\n"
                + "mn\r\n";
    }

    /** Client {@code c}'s own keys: hits, quiet misses, a quiet hit, closed by mn. */
    private static String victimBurst(int c) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < KEYS; i++) {
            b.append("mg vic").append(c).append(':').append(i).append(" v k\r\n");
            b.append("mg vic").append(c).append(":gone").append(i).append(" v k q\r\n");
            if (i % 5 == 0) {
                b.append("mg vic").append(c).append(':').append(i).append(" k qX v\r\n");
            }
        }
        return b.append("mn\r\n").toString();
    }

    private static void preload(int port) {
        StringBuilder sets = new StringBuilder();
        StringBuilder expected = new StringBuilder();
        for (int c = 0; c < VICTIMS; c++) {
            for (int i = 0; i < KEYS; i++) {
                String value = "sec" + c + "." + i;
                sets.append("set vic")
                        .append(c)
                        .append(':')
                        .append(i)
                        .append(" 0 0 ")
                        .append(value.length())
                        .append("\r\n")
                        .append(value)
                        .append("\r\n");
                expected.append("STORED\r\n");
            }
        }
        try (TextClient client = new TextClient(port)) {
            assertThat(client.exchange(sets.toString())).isEqualTo(expected.toString());
        }
    }

    /** Plays {@code script} {@link #ROUNDS} times on a connection of its own, once {@code go} opens. */
    private static List<String> rounds(int port, String script, CountDownLatch go) {
        List<String> replies = new ArrayList<>();
        try (TextClient client = new TextClient(port)) {
            go.await();
            for (int r = 0; r < ROUNDS; r++) {
                replies.add(client.exchange(script));
            }
        } catch (AssertionError e) {
            replies.add(e.getMessage()); // no complete reply: what came is compared like a reply
            while (replies.size() < ROUNDS) {
                replies.add("<not played>");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        return replies;
    }

    /** The keys and values of clients other than {@code own} that {@code reply} names. */
    private static List<String> foreignVictims(String reply, int own) {
        List<String> foreign = new ArrayList<>();
        Matcher m = VICTIM_DATA.matcher(reply);
        while (m.find()) {
            if (Integer.parseInt(m.group(1)) != own) {
                foreign.add(m.group());
            }
        }
        return foreign;
    }

    /** One event loop and one connection per server: every client's requests share each connection. */
    private static ProxyConfig oneSharedConnectionPerServer(ProxyConfig c) {
        return ConfigCopy.oneLoopOneConnection(c.maxPendingPerClient()).apply(c);
    }

    private static String base64(String key) {
        return Base64.getEncoder().encodeToString(key.getBytes(ISO_8859_1));
    }
}
