package io.jmagent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.spotify.folsom.AsciiMemcacheClient;
import com.spotify.folsom.BinaryMemcacheClient;
import com.spotify.folsom.ConnectFuture;
import com.spotify.folsom.GetResult;
import com.spotify.folsom.MemcacheClient;
import com.spotify.folsom.MemcacheClientBuilder;
import com.spotify.folsom.MemcacheStatus;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import net.rubyeye.xmemcached.GetsResponse;
import net.rubyeye.xmemcached.XMemcachedClientBuilder;
import net.rubyeye.xmemcached.command.BinaryCommandFactory;
import net.rubyeye.xmemcached.transcoders.StringTranscoder;
import net.spy.memcached.CASResponse;
import net.spy.memcached.CASValue;
import net.spy.memcached.ConnectionFactoryBuilder;
import net.spy.memcached.FailureMode;
import net.spy.memcached.MemcachedClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Real client libraries speaking the binary protocol to jmagent over three memcached servers:
 * spymemcached, xmemcached and folsom, and folsom in its ascii mode too. Each does a bulk get of
 * 600 keys spread over every server (with misses), cas, increments with an initial value, touch,
 * delete, add, replace, append and prepend, as an application would.
 */
class BinaryClientsIT {

    private static final int BULK = 600;
    private static final long TIMEOUT_SECONDS = 10;

    private static ProxiedFarm farm;
    private static MemcachedClient spy;
    private static net.rubyeye.xmemcached.MemcachedClient xmemcached;
    private static BinaryMemcacheClient<String> folsomBinary;
    private static AsciiMemcacheClient<String> folsomAscii;

    @BeforeAll
    static void start() throws Exception {
        farm = ProxiedFarm.start(3);
        InetSocketAddress proxy = new InetSocketAddress("127.0.0.1", farm.port());
        spy = new MemcachedClient(
                new ConnectionFactoryBuilder()
                        .setProtocol(ConnectionFactoryBuilder.Protocol.BINARY)
                        .setOpTimeout(5000)
                        .setFailureMode(FailureMode.Cancel)
                        .setDaemon(true)
                        .build(),
                List.of(proxy));
        // in Cancel mode an operation issued before the connection is up is cancelled, not queued
        await().atMost(Duration.ofSeconds(10))
                .until(() -> !spy.getAvailableServers().isEmpty());

        XMemcachedClientBuilder builder = new XMemcachedClientBuilder(List.of(proxy));
        builder.setCommandFactory(new BinaryCommandFactory());
        builder.setOpTimeout(5000);
        builder.setConnectTimeout(2000);
        builder.setTranscoder(new StringTranscoder());
        xmemcached = builder.build();

        folsomBinary = folsom().connectBinary();
        folsomAscii = folsom().connectAscii();
        for (MemcacheClient<String> c : List.of(folsomBinary, folsomAscii)) {
            ConnectFuture.connectFuture(c).toCompletableFuture().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }
    }

    private static MemcacheClientBuilder<String> folsom() {
        return MemcacheClientBuilder.newStringClient()
                .withAddress("127.0.0.1", farm.port())
                .withRequestTimeoutMillis(5000)
                .withConnectionTimeoutMillis(2000)
                .withRetry(false);
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (spy != null) {
                spy.shutdown(2, TimeUnit.SECONDS);
            }
            if (xmemcached != null) {
                xmemcached.shutdown();
            }
            for (MemcacheClient<String> c : new MemcacheClient[] {folsomBinary, folsomAscii}) {
                if (c != null) {
                    c.shutdown();
                    ConnectFuture.disconnectFuture(c).toCompletableFuture().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                }
            }
        } finally {
            if (farm != null) {
                farm.close();
            }
        }
    }

    /** BULK keys with values, and the same keys plus misses, in an order that mixes them. */
    private static Map<String, String> bulk(String prefix) {
        Map<String, String> values = new LinkedHashMap<>();
        for (int i = 0; i < BULK; i++) {
            values.put(prefix + ":bulk:" + i, "value-" + i + "-" + "z".repeat(i % 50));
        }
        return values;
    }

    private static List<String> withMisses(Map<String, String> values, String prefix) {
        List<String> keys = new ArrayList<>();
        int i = 0;
        for (String key : values.keySet()) {
            keys.add(key);
            if (i++ % 10 == 0) {
                keys.add(prefix + ":missing:" + i);
            }
        }
        return keys;
    }

    // spymemcached

    @Test
    void spymemcachedBinaryBulkGetsSixHundredKeysAcrossTheFarm() throws Exception {
        Map<String, String> values = bulk("spyb");
        List<Future<Boolean>> sets = new ArrayList<>();
        values.forEach((k, v) -> sets.add(spy.set(k, 0, v)));
        for (Future<Boolean> f : sets) {
            assertThat(f.get(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
        }
        Map<String, Object> got = spy.asyncGetBulk(withMisses(values, "spyb")).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        assertThat(got).isEqualTo(values);
    }

    @Test
    void spymemcachedBinaryCasIncrTouchDeleteAndStores() throws Exception {
        assertThat(spy.set("spyb:cas", 0, "v1").get()).isTrue();
        CASValue<Object> gets = spy.gets("spyb:cas");
        assertThat(gets.getValue()).isEqualTo("v1");
        assertThat(spy.cas("spyb:cas", gets.getCas(), "v2")).isEqualTo(CASResponse.OK);
        assertThat(spy.cas("spyb:cas", gets.getCas(), "v3")).isEqualTo(CASResponse.EXISTS);
        assertThat(spy.cas("spyb:cas-none", 12345, "x")).isEqualTo(CASResponse.NOT_FOUND);
        assertThat(spy.get("spyb:cas")).isEqualTo("v2");

        assertThat(spy.incr("spyb:counter", 5, 100, 0)).isEqualTo(100);
        assertThat(spy.incr("spyb:counter", 5, 100, 0)).isEqualTo(105);
        assertThat(spy.decr("spyb:counter", 200, 0, 0)).isEqualTo(0);
        assertThat(spy.decr("spyb:down", 1, 50, 0)).isEqualTo(50);
        assertThat(spy.incr("spyb:none", 1)).isEqualTo(-1); // no initial value: not created
        assertThat(spy.get("spyb:none")).isNull();

        assertThat(spy.touch("spyb:cas", 3600).get()).isTrue();
        assertThat(spy.touch("spyb:none", 3600).get()).isFalse();
        CASValue<Object> touched = spy.getAndTouch("spyb:cas", 3600);
        assertThat(touched.getValue()).isEqualTo("v2");
        assertThat(spy.getAndTouch("spyb:none", 3600)).isNull();

        assertThat(spy.add("spyb:cas", 0, "x").get()).isFalse();
        assertThat(spy.add("spyb:added", 0, "a").get()).isTrue();
        assertThat(spy.replace("spyb:none", 0, "x").get()).isFalse();
        assertThat(spy.replace("spyb:added", 0, "b").get()).isTrue();
        assertThat(spy.append(0, "spyb:added", ">").get()).isTrue();
        assertThat(spy.prepend(0, "spyb:added", "<").get()).isTrue();
        assertThat(spy.append(0, "spyb:none", ">").get()).isFalse();
        assertThat(spy.get("spyb:added")).isEqualTo("<b>");

        assertThat(spy.delete("spyb:added").get()).isTrue();
        assertThat(spy.delete("spyb:added").get()).isFalse();
        assertThat(spy.get("spyb:added")).isNull();
    }

    // xmemcached

    @Test
    void xmemcachedBinaryBulkGetsSixHundredKeysAcrossTheFarm() throws Exception {
        Map<String, String> values = bulk("xmb");
        for (Map.Entry<String, String> e : values.entrySet()) {
            xmemcached.setWithNoReply(e.getKey(), 0, e.getValue());
        }
        Map<String, String> got = xmemcached.get(withMisses(values, "xmb"));
        assertThat(got).isEqualTo(values);
    }

    @Test
    void xmemcachedBinaryCasIncrTouchDeleteAndStores() throws Exception {
        assertThat(xmemcached.set("xmb:cas", 0, "v1")).isTrue();
        GetsResponse<String> gets = xmemcached.gets("xmb:cas");
        assertThat(gets.getValue()).isEqualTo("v1");
        assertThat(xmemcached.cas("xmb:cas", 0, "v2", gets.getCas())).isTrue();
        assertThat(xmemcached.cas("xmb:cas", 0, "v3", gets.getCas())).isFalse();
        assertThat(xmemcached.<String>get("xmb:cas")).isEqualTo("v2");

        assertThat(xmemcached.incr("xmb:counter", 5, 100)).isEqualTo(100);
        assertThat(xmemcached.incr("xmb:counter", 5, 100)).isEqualTo(105);
        assertThat(xmemcached.decr("xmb:counter", 200, 0)).isEqualTo(0);
        assertThat(xmemcached.decr("xmb:down", 1, 50)).isEqualTo(50);

        assertThat(xmemcached.touch("xmb:cas", 3600)).isTrue();
        assertThat(xmemcached.touch("xmb:none", 3600)).isFalse();
        assertThat(xmemcached.<String>getAndTouch("xmb:cas", 3600)).isEqualTo("v2");
        assertThat(xmemcached.<String>getAndTouch("xmb:none", 3600)).isNull();

        assertThat(xmemcached.add("xmb:cas", 0, "x")).isFalse();
        assertThat(xmemcached.add("xmb:added", 0, "a")).isTrue();
        assertThat(xmemcached.replace("xmb:none", 0, "x")).isFalse();
        assertThat(xmemcached.replace("xmb:added", 0, "b")).isTrue();
        assertThat(xmemcached.append("xmb:added", ">")).isTrue();
        assertThat(xmemcached.prepend("xmb:added", "<")).isTrue();
        assertThat(xmemcached.append("xmb:none", ">")).isFalse();
        assertThat(xmemcached.<String>get("xmb:added")).isEqualTo("<b>");

        assertThat(xmemcached.delete("xmb:added")).isTrue();
        assertThat(xmemcached.delete("xmb:added")).isFalse();
        assertThat(xmemcached.<String>get("xmb:added")).isNull();
    }

    // folsom

    @Test
    void xmemcachedBinaryDeleteWithACasDeletesOnlyTheItemOfThatCas() throws Exception {
        assertThat(xmemcached.set("xmb:casdel", 0, "v")).isTrue();
        long cas = xmemcached.gets("xmb:casdel").getCas();

        assertThat(xmemcached.delete("xmb:casdel", cas + 1, 5000)).isFalse();
        assertThat(xmemcached.<String>get("xmb:casdel")).isEqualTo("v");
        assertThat(xmemcached.delete("xmb:casdel", cas, 5000)).isTrue();
        assertThat(xmemcached.<String>get("xmb:casdel")).isNull();
    }

    @Test
    void folsomBinaryBulkGetsSixHundredKeysAcrossTheFarm() throws Exception {
        folsomBulkGet(folsomBinary, "fob");
    }

    @Test
    void folsomAsciiBulkGetsSixHundredKeysAcrossTheFarm() throws Exception {
        folsomBulkGet(folsomAscii, "foa");
    }

    private static void folsomBulkGet(MemcacheClient<String> client, String prefix) throws Exception {
        Map<String, String> values = bulk(prefix);
        List<CompletionStage<MemcacheStatus>> sets = new ArrayList<>();
        values.forEach((k, v) -> sets.add(client.set(k, v, 0)));
        for (CompletionStage<MemcacheStatus> s : sets) {
            assertThat(done(s)).isEqualTo(MemcacheStatus.OK);
        }
        List<String> keys = withMisses(values, prefix);
        List<String> got = done(client.get(keys));
        Map<String, String> hits = new LinkedHashMap<>();
        for (int i = 0; i < keys.size(); i++) {
            if (got.get(i) != null) {
                hits.put(keys.get(i), got.get(i));
            }
        }
        assertThat(hits).isEqualTo(values);
    }

    @Test
    void folsomBinaryCasIncrTouchDeleteAndStores() throws Exception {
        BinaryMemcacheClient<String> c = folsomBinary;
        folsomCasAndStores(c, "fob");
        assertThat(done(c.incr("fob:counter", 5, 100, 0))).isEqualTo(100);
        assertThat(done(c.incr("fob:counter", 5, 100, 0))).isEqualTo(105);
        assertThat(done(c.decr("fob:counter", 200, 0, 0))).isEqualTo(0);
        assertThat(done(c.decr("fob:down", 1, 50, 0))).isEqualTo(50);
        assertThat(done(c.getAndTouch("fob:cas", 3600))).isEqualTo("v2");
        assertThat(done(c.getAndTouch("fob:none", 3600))).isNull();
        assertThat(done(c.casGetAndTouch("fob:cas", 3600)).getValue()).isEqualTo("v2");
        // folsom reports a binary add's "exists" as not stored, like the ascii protocol's
        assertThat(done(c.add("fob:cas", "x", 0))).isEqualTo(MemcacheStatus.ITEM_NOT_STORED);
        assertThat(done(c.replace("fob:none", "x", 0))).isEqualTo(MemcacheStatus.KEY_NOT_FOUND);
        assertThat(done(c.noop())).isNull();
        // the cas of an append is compared, as memcached does
        long cas = done(c.casGet("fob:cas")).getCas();
        assertThat(done(c.append("fob:cas", "?", cas + 1))).isEqualTo(MemcacheStatus.KEY_EXISTS);
        assertThat(done(c.append("fob:cas", "!", cas))).isEqualTo(MemcacheStatus.OK);
        assertThat(done(c.get("fob:cas"))).isEqualTo("v2!");
    }

    @Test
    void folsomAsciiCasIncrTouchDeleteAndStores() throws Exception {
        AsciiMemcacheClient<String> c = folsomAscii;
        folsomCasAndStores(c, "foa");
        assertThat(done(c.set("foa:counter", "100", 0))).isEqualTo(MemcacheStatus.OK);
        assertThat(done(c.incr("foa:counter", 5))).isEqualTo(105);
        assertThat(done(c.decr("foa:counter", 200))).isEqualTo(0);
        assertThat(done(c.incr("foa:none", 1))).isNull();
        assertThat(done(c.add("foa:cas", "x", 0))).isEqualTo(MemcacheStatus.ITEM_NOT_STORED);
        assertThat(done(c.replace("foa:none", "x", 0))).isEqualTo(MemcacheStatus.ITEM_NOT_STORED);
    }

    /** What folsom's binary and ascii clients share: cas, touch, add, replace, append, prepend, delete. */
    private static void folsomCasAndStores(MemcacheClient<String> c, String prefix) throws Exception {
        String key = prefix + ":cas";
        assertThat(done(c.set(key, "v1", 0))).isEqualTo(MemcacheStatus.OK);
        GetResult<String> gets = done(c.casGet(key));
        assertThat(gets.getValue()).isEqualTo("v1");
        assertThat(done(c.set(key, "v2", 0, gets.getCas()))).isEqualTo(MemcacheStatus.OK);
        assertThat(done(c.set(key, "v3", 0, gets.getCas()))).isEqualTo(MemcacheStatus.KEY_EXISTS);
        assertThat(done(c.get(key))).isEqualTo("v2");

        assertThat(done(c.touch(key, 3600))).isEqualTo(MemcacheStatus.OK);
        assertThat(done(c.touch(prefix + ":none", 3600))).isEqualTo(MemcacheStatus.KEY_NOT_FOUND);

        String added = prefix + ":added";
        assertThat(done(c.add(added, "a", 0))).isEqualTo(MemcacheStatus.OK);
        assertThat(done(c.replace(added, "b", 0))).isEqualTo(MemcacheStatus.OK);
        assertThat(done(c.append(added, ">"))).isEqualTo(MemcacheStatus.OK);
        assertThat(done(c.prepend(added, "<"))).isEqualTo(MemcacheStatus.OK);
        assertThat(done(c.append(prefix + ":none", ">"))).isEqualTo(MemcacheStatus.ITEM_NOT_STORED);
        assertThat(done(c.get(added))).isEqualTo("<b>");

        assertThat(done(c.delete(added))).isEqualTo(MemcacheStatus.OK);
        assertThat(done(c.delete(added))).isEqualTo(MemcacheStatus.KEY_NOT_FOUND);
        assertThat(done(c.get(added))).isNull();
    }

    private static <T> T done(CompletionStage<T> stage) throws Exception {
        return stage.toCompletableFuture().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }
}
