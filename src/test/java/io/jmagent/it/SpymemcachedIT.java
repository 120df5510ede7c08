package io.jmagent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import net.spy.memcached.CASResponse;
import net.spy.memcached.CASValue;
import net.spy.memcached.ConnectionFactoryBuilder;
import net.spy.memcached.FailureMode;
import net.spy.memcached.MemcachedClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * spymemcached (text protocol), pointed at jmagent in front of three memcached servers, works as
 * against one memcached, and every key it stores lands on the server libmemcached's ketama
 * assigns it (checked on the servers themselves, with spymemcached's own ketama as the oracle).
 */
class SpymemcachedIT {

    private static ProxiedFarm farm;
    private static FarmView view;
    private static MemcachedClient client;

    @BeforeAll
    static void start() throws Exception {
        farm = ProxiedFarm.start(3);
        view = new FarmView(farm.servers());
        client = new MemcachedClient(
                new ConnectionFactoryBuilder()
                        .setProtocol(ConnectionFactoryBuilder.Protocol.TEXT)
                        .setOpTimeout(5000)
                        .setFailureMode(FailureMode.Cancel)
                        .setDaemon(true)
                        .build(),
                List.of(new InetSocketAddress("127.0.0.1", farm.port())));
        // in Cancel mode an operation issued before the connection is up is cancelled, not queued
        await().atMost(Duration.ofSeconds(10))
                .until(() -> !client.getAvailableServers().isEmpty());
    }

    @AfterAll
    static void stop() {
        try {
            if (client != null) {
                client.shutdown(2, TimeUnit.SECONDS);
            }
            if (view != null) {
                view.close();
            }
        } finally {
            if (farm != null) {
                farm.close();
            }
        }
    }

    @Test
    void keysSetThroughTheProxyAreReadBackAndLiveWhereKetamaPutsThem() throws Exception {
        Map<String, String> expected = new LinkedHashMap<>();
        Random random = new Random(11);
        for (int i = 0; i < 1200; i++) {
            String key = i % 100 == 7 ? "spy:ünïcode:" + i : "spy:key:" + i;
            expected.put(key, "value-" + i + "-" + "x".repeat(random.nextInt(3000)));
        }
        List<Future<Boolean>> stores = new ArrayList<>();
        expected.forEach((k, v) -> stores.add(client.set(k, 0, v)));
        for (Future<Boolean> f : stores) {
            assertThat(f.get(10, TimeUnit.SECONDS)).isTrue();
        }

        Map<String, Future<Object>> reads = new LinkedHashMap<>();
        expected.keySet().forEach(k -> reads.put(k, client.asyncGet(k)));
        Map<String, Object> read = new LinkedHashMap<>();
        for (Map.Entry<String, Future<Object>> e : reads.entrySet()) {
            read.put(e.getKey(), e.getValue().get(10, TimeUnit.SECONDS));
        }

        assertThat(read).containsExactlyEntriesOf(expected);
        assertThat(ownersOf(expected.keySet()))
                .as("keys spread over every server")
                .hasSize(3);
        view.assertPlacement(expected);
    }

    @Test
    void bulkGetReturnsEveryHitFromEveryServerAndNoMisses() throws Exception {
        Map<String, String> stored = new LinkedHashMap<>();
        List<String> asked = new ArrayList<>();
        for (int i = 0; i < 600; i++) {
            String key = "spy:bulk:" + i;
            asked.add(key);
            if (i % 3 != 0) {
                stored.put(key, "bulk-" + i);
                assertThat(client.set(key, 0, "bulk-" + i).get(10, TimeUnit.SECONDS))
                        .isTrue();
            }
        }
        Collections.shuffle(asked, new Random(3));

        Map<String, Object> got = client.getBulk(asked);

        assertThat(got).hasSize(400).containsExactlyInAnyOrderEntriesOf(stored);
        assertThat(ownersOf(asked)).hasSize(3);
        view.assertPlacement(stored);
    }

    @Test
    void casSucceedsWithTheCurrentUniqueAndFailsWithAStaleOne() throws Exception {
        for (int i = 0; i < 30; i++) {
            String key = "spy:cas:" + i;
            assertThat(client.set(key, 0, "first").get(10, TimeUnit.SECONDS)).isTrue();
            CASValue<Object> first = client.gets(key);
            assertThat(first.getValue()).isEqualTo("first");

            assertThat(client.cas(key, first.getCas(), "second")).isEqualTo(CASResponse.OK);
            assertThat(client.cas(key, first.getCas(), "third")).isEqualTo(CASResponse.EXISTS);
            assertThat(client.cas("spy:cas:missing:" + i, first.getCas(), "x")).isEqualTo(CASResponse.NOT_FOUND);

            CASValue<Object> second = client.gets(key);
            assertThat(second.getValue()).isEqualTo("second");
            assertThat(second.getCas()).isNotEqualTo(first.getCas());
            view.assertPlacement(Map.of(key, "second"));
        }
    }

    @Test
    void addReplaceAppendPrependFollowMemcachedsRules() throws Exception {
        Map<String, String> expected = new LinkedHashMap<>();
        for (int i = 0; i < 30; i++) {
            String key = "spy:arap:" + i;
            assertThat(client.replace(key, 0, "nothing to replace").get(10, TimeUnit.SECONDS))
                    .isFalse();
            assertThat(client.append(key, "nothing to append to").get(10, TimeUnit.SECONDS))
                    .isFalse();
            assertThat(client.prepend(key, "nothing to prepend to").get(10, TimeUnit.SECONDS))
                    .isFalse();
            assertThat(client.add(key, 0, "added").get(10, TimeUnit.SECONDS)).isTrue();
            assertThat(client.add(key, 0, "added again").get(10, TimeUnit.SECONDS))
                    .isFalse();
            assertThat(client.replace(key, 0, "middle").get(10, TimeUnit.SECONDS))
                    .isTrue();
            assertThat(client.append(key, "-tail").get(10, TimeUnit.SECONDS)).isTrue();
            assertThat(client.prepend(key, "head-").get(10, TimeUnit.SECONDS)).isTrue();
            assertThat(client.get(key)).isEqualTo("head-middle-tail");
            expected.put(key, "head-middle-tail");
        }
        view.assertPlacement(expected);
    }

    @Test
    void incrAndDecrCountOnTheOwningServer() throws Exception {
        Map<String, String> expected = new LinkedHashMap<>();
        for (int i = 0; i < 30; i++) {
            String key = "spy:counter:" + i;
            assertThat(client.incr(key, 1)).as("incr of a missing key").isEqualTo(-1);
            assertThat(client.set(key, 0, "10").get(10, TimeUnit.SECONDS)).isTrue();
            assertThat(client.incr(key, 5)).isEqualTo(15);
            assertThat(client.decr(key, 3)).isEqualTo(12);
            assertThat(client.decr(key, 100)).as("decr stops at zero").isEqualTo(0);
            assertThat(client.incr(key, i)).isEqualTo(i);
            expected.put(key, Integer.toString(i));
        }
        // protocol.txt: a decremented number that loses length may be space-padded on the server
        Map<String, String> onServers = new LinkedHashMap<>();
        view.valuesWhereKetamaPutsThem(expected.keySet()).forEach((k, v) -> onServers.put(k, v.stripTrailing()));
        assertThat(onServers).isEqualTo(expected);
    }

    @Test
    void deleteRemovesTheKeyFromItsServer() throws Exception {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            String key = "spy:delete:" + i;
            keys.add(key);
            assertThat(client.set(key, 0, "doomed").get(10, TimeUnit.SECONDS)).isTrue();
        }
        for (String key : keys) {
            assertThat(client.delete(key).get(10, TimeUnit.SECONDS)).isTrue();
            assertThat(client.delete(key).get(10, TimeUnit.SECONDS)).isFalse();
            assertThat(client.get(key)).isNull();
        }
        for (int s = 0; s < 3; s++) {
            assertThat(view.valuesOn(s, keys)).isEmpty();
        }
    }

    @Test
    void touchSetsTheExpiryOnTheOwningServer() throws Exception {
        for (int i = 0; i < 20; i++) {
            String key = "spy:touch:" + i;
            assertThat(client.touch(key, 1000).get(10, TimeUnit.SECONDS))
                    .as("touch of a missing key")
                    .isFalse();
            assertThat(client.set(key, 0, "kept").get(10, TimeUnit.SECONDS)).isTrue();
            assertThat(view.askDirectly(view.ownerOf(key), "mg " + key + " t\r\n"))
                    .isEqualTo("HD t-1\r\n");

            assertThat(client.touch(key, 1000).get(10, TimeUnit.SECONDS)).isTrue();

            assertThat(view.askDirectly(view.ownerOf(key), "mg " + key + " t\r\n"))
                    .matches("HD t(1000|999)\r\n");
            assertThat(client.get(key)).isEqualTo("kept");
        }
    }

    @Test
    void flushEmptiesEveryServer() throws Exception {
        Map<String, String> stored = new LinkedHashMap<>();
        for (int i = 0; i < 90; i++) {
            stored.put("spy:flush:" + i, "gone soon");
            assertThat(client.set("spy:flush:" + i, 0, "gone soon").get(10, TimeUnit.SECONDS))
                    .isTrue();
        }
        view.assertPlacement(stored);

        assertThat(client.flush().get(10, TimeUnit.SECONDS)).isTrue();

        assertThat(client.getBulk(stored.keySet())).isEmpty();
        for (int s = 0; s < 3; s++) {
            assertThat(view.valuesOn(s, stored.keySet()))
                    .as("server %d after flush", s)
                    .isEmpty();
        }
    }

    private static HashSet<Integer> ownersOf(Iterable<String> keys) {
        HashSet<Integer> owners = new HashSet<>();
        keys.forEach(k -> owners.add(view.ownerOf(k)));
        return owners;
    }
}
