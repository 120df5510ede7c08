package io.jmagent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jmagent.backend.ServerHealth;
import io.jmagent.config.ProxyConfig;
import io.jmagent.routing.KetamaRing;
import io.jmagent.testing.BinaryClient;
import io.jmagent.testing.BinaryPacket;
import io.jmagent.testing.BinaryResponse;
import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.RunningProxy;
import io.jmagent.testing.TextClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The backup farm and failover, with real memcached processes killed, restarted, frozen and
 * thawed: three primaries and one backup behind jmagent.
 */
class FailoverIT {

    private static final int KEYS = 1000;

    private final List<MemcachedProcess> primaries = new ArrayList<>();
    private MemcachedProcess backup;
    private RunningProxy proxy;

    @BeforeEach
    void startFarm() {
        for (int i = 0; i < 3; i++) {
            primaries.add(MemcachedProcess.start());
        }
        backup = MemcachedProcess.start();
    }

    @AfterEach
    void stopFarm() {
        if (proxy != null) {
            proxy.close();
        }
        primaries.forEach(MemcachedProcess::close);
        backup.close();
    }

    private RunningProxy startProxy(List<MemcachedProcess> backups, boolean autoEject) {
        return RunningProxy.over(primaries, backups, c -> c.withTimeout(Duration.ofSeconds(1))
                .withFailover(new ProxyConfig.Failover(2, Duration.ofMillis(100), autoEject, 100_000, 3600)));
    }

    @Test
    void killedPrimaryCostsNoReadsAndRestartedPrimaryIsRefilledByReads() {
        proxy = startProxy(List.of(backup), false);
        try (TextClient client = new TextClient(proxy.port())) {
            writeAll(client, "v1");

            MemcachedProcess victim = primaries.get(1);
            victim.kill();
            assertAllRead(client, "v1");
            assertAllRead(client, "v1");
            assertThat(health(1).state()).isEqualTo(ServerHealth.State.DOWN);
            writeAll(client, "v2");
            assertAllRead(client, "v2");

            victim.restart();
            await().atMost(Duration.ofSeconds(10)).until(() -> health(1).state() == ServerHealth.State.UP);
            assertAllRead(client, "v2");

            List<String> owned = keysOwnedBy(1);
            assertThat(owned).isNotEmpty();
            try (TextClient direct = new TextClient(victim.port())) {
                await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                    for (String key : owned) {
                        assertThat(direct.exchange("get " + key + "\r\n"))
                                .isEqualTo(valueReply(key, "v2" + key.substring(3)));
                    }
                });
            }
            assertThat(stat(client, "write_backs")).isGreaterThanOrEqualTo(owned.size());
        }
    }

    @Test
    void frozenPrimaryNeverServesAnOldValueAfterItThaws() {
        proxy = startProxy(List.of(backup), false);
        try (TextClient client = new TextClient(proxy.port())) {
            writeAll(client, "old");
            MemcachedProcess victim = primaries.get(0);
            victim.freeze();
            writeAll(client, "new");
            assertAllRead(client, "new");
            assertThat(health(0).state()).isEqualTo(ServerHealth.State.DOWN);

            victim.thaw();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (health(0).state() != ServerHealth.State.UP && System.nanoTime() < deadline) {
                assertAllRead(client, "new");
            }
            assertThat(health(0).state()).isEqualTo(ServerHealth.State.UP);
            assertAllRead(client, "new");
            assertAllRead(client, "new");
            // and the thawed server itself holds no old value
            try (TextClient direct = new TextClient(victim.port())) {
                for (String key : keysOwnedBy(0)) {
                    assertThat(direct.exchange("get " + key + "\r\n")).doesNotContain("old");
                }
            }
        }
    }

    @Test
    void steadyLoadSeesNoWrongValueAndNoMissWhileAPrimaryIsKilledAndRestarted() throws Exception {
        proxy = startProxy(List.of(backup), false);
        int threads = 4;
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong wrong = new AtomicLong();
        AtomicLong misses = new AtomicLong();
        // a miss a second read answers: the proxy could not prove the backup's copy current (for one,
        // another client's write in flight in the same KeyVersions slot), which the promise allows;
        // seen once in about ten runs
        AtomicLong unproven = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        AtomicLong operations = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<?>> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            workers.add(pool.submit(() -> {
                try (TextClient c = new TextClient(proxy.port())) {
                    int perThread = 200;
                    int[] version = new int[perThread];
                    for (int k = 0; k < perThread; k++) {
                        set(c, "load" + id + "-" + k, "0");
                    }
                    int round = 0;
                    while (!stop.get()) {
                        int k = round++ % perThread;
                        String key = "load" + id + "-" + k;
                        if (round % 3 == 0) {
                            String reply = c.exchange(setCommand(key, Integer.toString(version[k] + 1)));
                            if (reply.equals("STORED\r\n")) {
                                version[k]++;
                            } else {
                                errors.incrementAndGet();
                            }
                        } else {
                            String reply = c.exchange("get " + key + "\r\n");
                            if (reply.equals("END\r\n")
                                    && c.exchange("get " + key + "\r\n")
                                            .equals(valueReply(key, Integer.toString(version[k])))) {
                                unproven.incrementAndGet(); // the backup's copy not proven current: allowed
                            } else if (reply.equals("END\r\n")) {
                                misses.incrementAndGet();
                            } else if (reply.startsWith("SERVER_ERROR")) {
                                errors.incrementAndGet();
                            } else if (!reply.equals(valueReply(key, Integer.toString(version[k])))) {
                                wrong.incrementAndGet();
                            }
                        }
                        operations.incrementAndGet();
                    }
                }
                return null;
            }));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> operations.get() > 2000);
        MemcachedProcess victim = primaries.get(2);
        victim.kill();
        long afterKill = operations.get();
        await().atMost(Duration.ofSeconds(10)).until(() -> operations.get() > afterKill + 3000);
        victim.restart();
        await().atMost(Duration.ofSeconds(10)).until(() -> health(2).state() == ServerHealth.State.UP);
        long afterRestart = operations.get();
        await().atMost(Duration.ofSeconds(10)).until(() -> operations.get() > afterRestart + 3000);
        stop.set(true);
        for (Future<?> f : workers) {
            f.get(30, TimeUnit.SECONDS);
        }
        pool.shutdown();

        assertThat(wrong.get()).as("wrong values").isZero();
        assertThat(misses.get()).as("misses").isZero();
        assertThat(unproven.get()).as("misses a second read answered").isLessThanOrEqualTo(3);
        assertThat(errors.get()).as("errors").isZero();
    }

    @Test
    void deadBackupGoesUnnoticedAndIsRefilledByLaterWrites() {
        proxy = startProxy(List.of(backup), false);
        try (TextClient client = new TextClient(proxy.port())) {
            writeAll(client, "a");
            backup.kill();
            writeAll(client, "b");
            assertAllRead(client, "b");
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> proxy.server().backups().health(0).state() == ServerHealth.State.DOWN);
            writeAll(client, "c");
            assertAllRead(client, "c");

            backup.restart();
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> proxy.server().backups().health(0).state() == ServerHealth.State.UP);
            writeAll(client, "d");
            try (TextClient direct = new TextClient(backup.port())) {
                for (int i = 0; i < KEYS; i++) {
                    String key = "key" + i;
                    assertThat(direct.exchange("get " + key + "\r\n")).isEqualTo(valueReply(key, "d" + i));
                }
            }
        }
    }

    @Test
    void withoutBackupADownServerFailsFastAndAutoEjectRehashesItsKeys() {
        proxy = startProxy(List.of(), false);
        try (TextClient client = new TextClient(proxy.port())) {
            writeAll(client, "x");
            primaries.get(0).kill();
            String victimKey = keysOwnedBy(0).get(0);
            await().atMost(Duration.ofSeconds(5)).until(() -> {
                client.exchange("get " + victimKey + "\r\n");
                return health(0).state() == ServerHealth.State.DOWN;
            });
            assertThat(client.exchange("get " + victimKey + "\r\n"))
                    .isEqualTo(
                            "SERVER_ERROR backend 127.0.0.1:" + primaries.get(0).port() + " down\r\n");
            String otherKey = keysOwnedBy(1).get(0);
            assertThat(client.exchange("get " + otherKey + "\r\n"))
                    .isEqualTo(valueReply(otherKey, "x" + otherKey.substring(3)));
        }
        proxy.close();

        proxy = startProxy(List.of(), true);
        try (TextClient client = new TextClient(proxy.port())) {
            String victimKey = keysOwnedBy(0).get(0);
            await().atMost(Duration.ofSeconds(5)).until(() -> {
                client.exchange("get " + victimKey + "\r\n");
                return health(0).state() == ServerHealth.State.DOWN;
            });
            assertThat(client.exchange(setCommand(victimKey, "ejected"))).isEqualTo("STORED\r\n");
            assertThat(client.exchange("get " + victimKey + "\r\n")).isEqualTo(valueReply(victimKey, "ejected"));
        }
    }

    /**
     * With auto-eject and no backup, the keys of a frozen server are written on the others; when it
     * thaws it still holds their old values, and none may be read before they are deleted from it.
     * A reader asks for them without pause from the moment the server thaws.
     */
    @Test
    void anEjectedServerThatThawsServesNoneOfTheValuesWrittenElsewhereMeanwhile() throws Exception {
        proxy = startProxy(List.of(), true);
        List<String> victimKeys = keysOwnedBy(0);
        try (TextClient client = new TextClient(proxy.port())) {
            for (String key : victimKeys) {
                assertThat(client.exchange(setCommand(key, "old"))).isEqualTo("STORED\r\n");
            }
            primaries.get(0).freeze();
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                client.exchange("get " + victimKeys.get(0) + "\r\n");
                return health(0).state() == ServerHealth.State.DOWN;
            });
            for (String key : victimKeys) {
                assertThat(client.exchange(setCommand(key, "new"))).isEqualTo("STORED\r\n");
            }
            primaries.get(0).thaw();
            long until = System.nanoTime() + Duration.ofSeconds(3).toNanos();
            List<String> old = new ArrayList<>();
            while (System.nanoTime() < until) {
                for (String key : victimKeys) {
                    String reply = client.exchange("get " + key + "\r\n");
                    if (reply.contains("old")) {
                        old.add(key + " in state " + health(0).state());
                    }
                }
            }
            assertThat(old).as("old values read").isEmpty();
        }
    }

    /**
     * The copy an ejection left on another server must not outlive the ejection: written there
     * while its server was ejected, then written on its own server once back, the key must not
     * read the ejection's value when its server is ejected a second time.
     */
    @Test
    void aSecondEjectionDoesNotReadTheCopyTheFirstLeftElsewhere() throws Exception {
        proxy = startProxy(List.of(), true);
        List<String> victimKeys = keysOwnedBy(0);
        try (TextClient client = new TextClient(proxy.port())) {
            ejectAndAwait(client, victimKeys.get(0));
            for (String key : victimKeys) {
                assertThat(client.exchange(setCommand(key, "ejected"))).isEqualTo("STORED\r\n");
            }
            primaries.get(0).thaw();
            await().atMost(Duration.ofSeconds(10)).until(() -> health(0).state() == ServerHealth.State.UP);
            for (String key : victimKeys) {
                assertThat(client.exchange(setCommand(key, "back"))).isEqualTo("STORED\r\n");
            }
            Thread.sleep(500); // a few probe rounds
            ejectAndAwait(client, victimKeys.get(0));
            List<String> old = new ArrayList<>();
            for (String key : victimKeys) {
                if (client.exchange("get " + key + "\r\n").contains("ejected")) {
                    old.add(key);
                }
            }
            primaries.get(0).thaw();
            assertThat(old)
                    .as("values of the first ejection read in the second")
                    .isEmpty();
        }
    }

    /** Freezes primary 0 and waits until the proxy calls it DOWN (reading {@code key} meanwhile). */
    private void ejectAndAwait(TextClient client, String key) {
        primaries.get(0).freeze();
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            client.exchange("get " + key + "\r\n");
            return health(0).state() == ServerHealth.State.DOWN;
        });
    }

    @Test
    void twoProxiesWithTheSameFlagsPlaceEveryKeyIdentically() {
        proxy = startProxy(List.of(backup), false);
        try (RunningProxy spare = startProxy(List.of(backup), false);
                TextClient first = new TextClient(proxy.port());
                TextClient second = new TextClient(spare.port())) {
            writeAll(first, "same");
            assertAllRead(second, "same");
            for (int p = 0; p < primaries.size(); p++) {
                try (TextClient direct = new TextClient(primaries.get(p).port())) {
                    for (String key : keysOwnedBy(p)) {
                        assertThat(direct.exchange("get " + key + "\r\n"))
                                .isEqualTo(valueReply(key, "same" + key.substring(3)));
                    }
                }
            }
        }
    }

    @Test
    void metaAndBinaryClientsReadThroughTheBackupAsTextClientsDo() throws Exception {
        proxy = startProxy(List.of(backup), false);
        try (TextClient client = new TextClient(proxy.port())) {
            writeAll(client, "m");
            MemcachedProcess victim = primaries.get(1);
            String key = keysOwnedBy(1).get(0);
            String value = "m" + key.substring(3);
            victim.kill();

            assertThat(client.exchange("mg " + key + " v k f\r\nmg " + key + " v q\r\nmn\r\n"))
                    .isEqualTo("VA " + value.length() + " k" + key + " f0\r\n" + value + "\r\n" + "VA " + value.length()
                            + "\r\n" + value + "\r\nMN\r\n");
            assertThat(binaryGet(key)).isEqualTo(value);

            victim.restart();
            await().atMost(Duration.ofSeconds(10)).until(() -> health(1).state() == ServerHealth.State.UP);
            assertThat(client.exchange("mg " + key + " v\r\n"))
                    .isEqualTo("VA " + value.length() + "\r\n" + value + "\r\n");
            try (TextClient direct = new TextClient(victim.port())) {
                await().atMost(Duration.ofSeconds(5))
                        .untilAsserted(() -> assertThat(direct.exchange("get " + key + "\r\n"))
                                .isEqualTo(valueReply(key, value)));
            }
            String other = keysOwnedBy(1).get(1);
            assertThat(binaryGet(other)).isEqualTo("m" + other.substring(3));
        }
    }

    @Test
    void aBinaryDeleteWithACasDeletesTheKeyOnTheBackupToo() {
        proxy = startProxy(List.of(backup), false);
        try (BinaryClient client = new BinaryClient(proxy.port());
                TextClient onBackup = new TextClient(backup.port());
                TextClient text = new TextClient(proxy.port())) {
            List<BinaryResponse> stored = client.exchange(
                    BinaryPacket.store(BinaryPacket.SET, "casdel", 0, 0, "v").bytes());
            long cas = stored.get(0).cas();
            assertThat(cas).isNotZero();
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(onBackup.exchange("get casdel\r\n"))
                    .isEqualTo(valueReply("casdel", "v")));

            List<BinaryResponse> stale = client.exchange(BinaryPacket.request(BinaryPacket.DELETE)
                    .key("casdel")
                    .cas(cas + 1)
                    .bytes());
            assertThat(stale).extracting(BinaryResponse::status).containsExactly(BinaryPacket.KEY_EXISTS);
            List<BinaryResponse> deleted = client.exchange(BinaryPacket.request(BinaryPacket.DELETE)
                    .key("casdel")
                    .cas(cas)
                    .bytes());
            assertThat(deleted).extracting(BinaryResponse::status).containsExactly(BinaryPacket.SUCCESS);

            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(onBackup.exchange("get casdel\r\n"))
                    .isEqualTo("END\r\n"));
            assertThat(stat(text, "backup_deletes")).isEqualTo(1);
        }
    }

    @Test
    void aBinaryCounterSurvivesTheLossOfItsPrimary() {
        proxy = startProxy(List.of(backup), false);
        String key = keysOwnedBy(1).get(0);
        try (BinaryClient client = new BinaryClient(proxy.port());
                TextClient onBackup = new TextClient(backup.port())) {
            List<BinaryResponse> created =
                    client.exchange(BinaryPacket.arithmetic(BinaryPacket.INCREMENT, key, 1, 10, 0)
                            .bytes());
            assertThat(created.get(0).counter()).isEqualTo(10);
            List<BinaryResponse> added = client.exchange(BinaryPacket.arithmetic(BinaryPacket.INCREMENT, key, 5, 0, 0)
                    .bytes());
            assertThat(added.get(0).counter()).isEqualTo(15);
            await().atMost(Duration.ofSeconds(5))
                    .untilAsserted(() ->
                            assertThat(onBackup.exchange("get " + key + "\r\n")).isEqualTo(valueReply(key, "15")));

            primaries.get(1).kill();

            List<BinaryResponse> after = client.exchange(BinaryPacket.arithmetic(BinaryPacket.INCREMENT, key, 1, 0, 0)
                    .bytes());
            assertThat(after).extracting(BinaryResponse::status).containsExactly(BinaryPacket.SUCCESS);
            assertThat(after.get(0).counter())
                    .as("counted on from the backup's copy")
                    .isEqualTo(16);
        }
    }

    /** A binary-protocol Get through the proxy; returns the value, or null on a miss. */
    private String binaryGet(String key) throws java.io.IOException {
        byte[] k = key.getBytes(StandardCharsets.US_ASCII);
        java.nio.ByteBuffer req = java.nio.ByteBuffer.allocate(24 + k.length);
        req.put((byte) 0x80)
                .put((byte) 0x00)
                .putShort((short) k.length)
                .put((byte) 0)
                .put((byte) 0)
                .putShort((short) 0)
                .putInt(k.length)
                .putInt(7)
                .putLong(0)
                .put(k);
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", proxy.port())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(req.array());
            java.io.DataInputStream in = new java.io.DataInputStream(s.getInputStream());
            byte[] header = new byte[24];
            in.readFully(header);
            java.nio.ByteBuffer h = java.nio.ByteBuffer.wrap(header);
            assertThat(h.get(0)).isEqualTo((byte) 0x81);
            int status = h.getShort(6);
            int bodyLength = h.getInt(8);
            int extras = h.get(4);
            byte[] body = new byte[bodyLength];
            in.readFully(body);
            return status == 0 ? new String(body, extras, bodyLength - extras, StandardCharsets.US_ASCII) : null;
        }
    }

    private ServerHealth health(int primary) {
        return proxy.server().primaries().health(primary);
    }

    private List<String> keysOwnedBy(int primary) {
        KetamaRing ring = new KetamaRing(RunningProxy.addresses(primaries));
        List<String> owned = new ArrayList<>();
        for (int i = 0; i < KEYS; i++) {
            String key = "key" + i;
            if (ring.serverFor(key.getBytes(StandardCharsets.US_ASCII)) == primary) {
                owned.add(key);
            }
        }
        return owned;
    }

    private static void writeAll(TextClient client, String prefix) {
        StringBuilder batch = new StringBuilder();
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < KEYS; i++) {
            batch.append(setCommand("key" + i, prefix + i));
            expected.append("STORED\r\n");
        }
        assertThat(client.exchange(batch.toString())).isEqualTo(expected.toString());
    }

    private static void assertAllRead(TextClient client, String prefix) {
        StringBuilder request = new StringBuilder("get");
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < KEYS; i++) {
            request.append(" key").append(i);
            expected.append(valueReply("key" + i, prefix + i).replace("END\r\n", ""));
        }
        assertThat(client.exchange(request.append("\r\n").toString()))
                .isEqualTo(expected.append("END\r\n").toString());
    }

    private static void set(TextClient c, String key, String value) {
        assertThat(c.exchange(setCommand(key, value))).isEqualTo("STORED\r\n");
    }

    private static String setCommand(String key, String value) {
        return "set " + key + " 0 0 " + value.length() + "\r\n" + value + "\r\n";
    }

    private static String valueReply(String key, String value) {
        return "VALUE " + key + " 0 " + value.length() + "\r\n" + value + "\r\nEND\r\n";
    }

    private static long stat(TextClient client, String name) {
        for (String line : client.exchange("stats\r\n").split("\r\n")) {
            if (line.startsWith("STAT " + name + " ")) {
                return Long.parseLong(line.substring(("STAT " + name + " ").length()));
            }
        }
        throw new AssertionError("no stat " + name);
    }
}
