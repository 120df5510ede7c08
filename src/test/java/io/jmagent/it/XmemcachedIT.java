package io.jmagent.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.rubyeye.xmemcached.GetsResponse;
import net.rubyeye.xmemcached.MemcachedClient;
import net.rubyeye.xmemcached.XMemcachedClientBuilder;
import net.rubyeye.xmemcached.transcoders.StringTranscoder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * xmemcached (text protocol, plain UTF-8 strings), pointed at jmagent in front of three
 * memcached servers, works as against one memcached, and every key it stores lands on the server
 * libmemcached's ketama assigns it (checked on the servers, spymemcached's ketama as the oracle).
 */
class XmemcachedIT {

    private static ProxiedFarm farm;
    private static FarmView view;
    private static MemcachedClient client;

    @BeforeAll
    static void start() throws Exception {
        farm = ProxiedFarm.start(3);
        view = new FarmView(farm.servers());
        XMemcachedClientBuilder builder =
                new XMemcachedClientBuilder(List.of(new InetSocketAddress("127.0.0.1", farm.port())));
        builder.setOpTimeout(5000);
        builder.setConnectTimeout(2000);
        builder.setTranscoder(new StringTranscoder());
        client = builder.build();
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (client != null) {
                client.shutdown();
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
        Random random = new Random(13);
        for (int i = 0; i < 1200; i++) {
            String key = i % 100 == 9 ? "xm:ключ:" + i : "xm:key:" + i;
            expected.put(key, "value-" + i + "-" + "y".repeat(random.nextInt(3000)));
        }
        for (Map.Entry<String, String> e : expected.entrySet()) {
            assertThat(client.set(e.getKey(), 0, e.getValue())).isTrue();
        }

        Map<String, String> read = new LinkedHashMap<>();
        for (String key : expected.keySet()) {
            read.put(key, client.get(key));
        }

        assertThat(read).isEqualTo(expected);
        assertThat(ownersOf(expected.keySet()))
                .as("keys spread over every server")
                .hasSize(3);
        view.assertPlacement(expected);
    }

    @Test
    void multiGetReturnsEveryHitFromEveryServerAndNoMisses() throws Exception {
        Map<String, String> stored = new LinkedHashMap<>();
        List<String> asked = new ArrayList<>();
        for (int i = 0; i < 600; i++) {
            String key = "xm:bulk:" + i;
            asked.add(key);
            if (i % 3 != 1) {
                stored.put(key, "bulk-" + i);
                assertThat(client.set(key, 0, "bulk-" + i)).isTrue();
            }
        }
        Collections.shuffle(asked, new Random(5));

        Map<String, String> got = client.get(asked);

        assertThat(got).hasSize(400).isEqualTo(stored);
        assertThat(ownersOf(asked)).hasSize(3);
        view.assertPlacement(stored);
    }

    @Test
    void casSucceedsWithTheCurrentUniqueAndFailsWithAStaleOne() throws Exception {
        for (int i = 0; i < 30; i++) {
            String key = "xm:cas:" + i;
            assertThat(client.set(key, 0, "first")).isTrue();
            GetsResponse<String> first = client.gets(key);
            assertThat(first.getValue()).isEqualTo("first");

            assertThat(client.cas(key, 0, "second", first.getCas())).isTrue();
            assertThat(client.cas(key, 0, "third", first.getCas()))
                    .as("cas with a stale unique")
                    .isFalse();
            assertThat(client.cas("xm:cas:missing:" + i, 0, "x", first.getCas()))
                    .as("cas of a missing key")
                    .isFalse();

            GetsResponse<String> second = client.gets(key);
            assertThat(second.getValue()).isEqualTo("second");
            assertThat(second.getCas()).isNotEqualTo(first.getCas());
            view.assertPlacement(Map.of(key, "second"));
        }
    }

    @Test
    void addReplaceAppendPrependFollowMemcachedsRules() throws Exception {
        Map<String, String> expected = new LinkedHashMap<>();
        for (int i = 0; i < 30; i++) {
            String key = "xm:arap:" + i;
            assertThat(client.replace(key, 0, "nothing to replace")).isFalse();
            assertThat(client.append(key, "nothing to append to")).isFalse();
            assertThat(client.prepend(key, "nothing to prepend to")).isFalse();
            assertThat(client.add(key, 0, "added")).isTrue();
            assertThat(client.add(key, 0, "added again")).isFalse();
            assertThat(client.replace(key, 0, "middle")).isTrue();
            assertThat(client.append(key, "-tail")).isTrue();
            assertThat(client.prepend(key, "head-")).isTrue();
            assertThat(client.<String>get(key)).isEqualTo("head-middle-tail");
            expected.put(key, "head-middle-tail");
        }
        view.assertPlacement(expected);
    }

    @Test
    void incrAndDecrCountOnTheOwningServer() throws Exception {
        Map<String, String> expected = new LinkedHashMap<>();
        for (int i = 0; i < 30; i++) {
            String key = "xm:counter:" + i;
            // xmemcached: incr of a missing key adds the initial value
            assertThat(client.incr(key, 5, 10)).isEqualTo(10);
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
            String key = "xm:delete:" + i;
            keys.add(key);
            assertThat(client.set(key, 0, "doomed")).isTrue();
        }
        for (String key : keys) {
            assertThat(client.delete(key)).isTrue();
            assertThat(client.delete(key)).isFalse();
            assertThat(client.<String>get(key)).isNull();
        }
        for (int s = 0; s < 3; s++) {
            assertThat(view.valuesOn(s, keys)).isEmpty();
        }
    }

    @Test
    void touchSetsTheExpiryOnTheOwningServer() throws Exception {
        for (int i = 0; i < 20; i++) {
            String key = "xm:touch:" + i;
            assertThat(client.touch(key, 1000)).as("touch of a missing key").isFalse();
            assertThat(client.set(key, 0, "kept")).isTrue();
            assertThat(view.askDirectly(view.ownerOf(key), "mg " + key + " t\r\n"))
                    .isEqualTo("HD t-1\r\n");

            assertThat(client.touch(key, 1000)).isTrue();

            assertThat(view.askDirectly(view.ownerOf(key), "mg " + key + " t\r\n"))
                    .matches("HD t(1000|999)\r\n");
            assertThat(client.<String>get(key)).isEqualTo("kept");
        }
    }

    @Test
    void flushAllEmptiesEveryServer() throws Exception {
        Map<String, String> stored = new LinkedHashMap<>();
        for (int i = 0; i < 90; i++) {
            stored.put("xm:flush:" + i, "gone soon");
            assertThat(client.set("xm:flush:" + i, 0, "gone soon")).isTrue();
        }
        view.assertPlacement(stored);

        client.flushAll();

        assertThat(client.<String>get(stored.keySet())).isEmpty();
        for (int s = 0; s < 3; s++) {
            assertThat(view.valuesOn(s, stored.keySet()))
                    .as("server %d after flush_all", s)
                    .isEmpty();
        }
    }

    private static HashSet<Integer> ownersOf(Iterable<String> keys) {
        HashSet<Integer> owners = new HashSet<>();
        keys.forEach(k -> owners.add(view.ownerOf(k)));
        return owners;
    }
}
