package io.jmagent.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.jmagent.config.ProxyConfigBuilder;
import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.RunningProxy;
import io.jmagent.testing.TextClient;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Warming a new pool (issue 16), as mcrouter's WarmUpRoute: the new, empty ("cold") servers as the
 * pool's servers and the old, full ("warm") ones as its backup farm. A miss in the cold pool is
 * read from the warm one, answered, and written into the cold one with the TTL it has left;
 * writes go to both. Tried under load from an empty cold pool: no read misses a key the warm pool
 * holds (but for at most 3 reads that race another client's write of the same key, which a
 * read afterwards answers), none returns an older value than the last write, and after one pass over the keys the
 * switch-over (a reload without the backups) reads every key from the cold pool alone, with no
 * burst of misses.
 */
class WarmUpIT {

    private static final int KEYS = 1500;

    private final List<MemcachedProcess> warm = new ArrayList<>();
    private final List<MemcachedProcess> cold = new ArrayList<>();

    @AfterEach
    void stop() {
        warm.forEach(MemcachedProcess::close);
        cold.forEach(MemcachedProcess::close);
    }

    @Test
    void anEmptyPoolWarmsFromTheOldOneWithoutMissesAndTakesOver() throws Exception {
        for (int i = 0; i < 2; i++) {
            warm.add(MemcachedProcess.start());
        }
        for (int i = 0; i < 3; i++) {
            cold.add(MemcachedProcess.start());
        }
        // the old pool, as its own proxy filled it
        try (RunningProxy old = RunningProxy.over(warm);
                TextClient c = new TextClient(old.port())) {
            StringBuilder fill = new StringBuilder();
            for (int k = 0; k < KEYS; k++) {
                String v = "v0-" + k;
                int ttl = k % 10 == 0 ? 300 : 0;
                fill.append("set key")
                        .append(k)
                        .append(" 7 ")
                        .append(ttl)
                        .append(' ')
                        .append(v.length())
                        .append("\r\n")
                        .append(v)
                        .append("\r\n");
            }
            assertThat(c.exchange(fill.toString())).isEqualTo("STORED\r\n".repeat(KEYS));
        }
        try (RunningProxy migrating = RunningProxy.over(cold, warm, c -> c)) {
            // load: a writer rewrites every third key while a reader reads every key, twice
            String[] latest = new String[KEYS];
            for (int k = 0; k < KEYS; k++) {
                latest[k] = "v0-" + k;
            }
            AtomicReference<Throwable> failed = new AtomicReference<>();
            AtomicInteger misses = new AtomicInteger();
            AtomicInteger unproven = new AtomicInteger();
            List<Integer> missed = new ArrayList<>();
            AtomicInteger older = new AtomicInteger();
            Thread writer = new Thread(() -> {
                try (TextClient w = new TextClient(migrating.port())) {
                    for (int k = 0; k < KEYS; k += 3) {
                        String v = "v1-" + k;
                        assertThat(w.exchange("set key" + k + " 7 0 " + v.length() + "\r\n" + v + "\r\n"))
                                .isEqualTo("STORED\r\n");
                        synchronized (latest) {
                            latest[k] = v;
                        }
                    }
                } catch (Throwable t) {
                    failed.set(t);
                }
            });
            writer.start();
            try (TextClient r = new TextClient(migrating.port())) {
                for (int pass = 0; pass < 2; pass++) {
                    for (int k = 0; k < KEYS; k++) {
                        String before;
                        synchronized (latest) {
                            before = latest[k];
                        }
                        String got = r.exchange("get key" + k + "\r\n");
                        if (got.equals("END\r\n")) {
                            missed.add(k);
                        } else if (!got.contains("\r\n" + before + "\r\n")
                                && !(before.startsWith("v0-") && got.contains("\r\nv1-" + k + "\r\n"))) {
                            older.incrementAndGet(); // older than the last write acknowledged before the read
                        }
                    }
                }
            }
            writer.join();
            assertThat(failed.get()).isNull();
            // a miss allowed: a read racing another client's write of the same key (every third key is
            // rewritten), whose backup copy the proxy cannot prove current; a read afterwards finds it
            try (TextClient r = new TextClient(migrating.port())) {
                for (int k : missed) {
                    boolean racedAWrite =
                            k % 3 == 0 && !r.exchange("get key" + k + "\r\n").equals("END\r\n");
                    (racedAWrite ? unproven : misses).incrementAndGet();
                }
            }
            assertThat(misses.get())
                    .as("misses of keys the warm pool holds (missed: %s)", missed)
                    .isZero();
            assertThat(unproven.get())
                    .as("misses of a read racing a write of its key")
                    .isLessThanOrEqualTo(3);
            assertThat(older.get()).as("reads older than an acknowledged write").isZero();
            assertThat(migrating.server().stats().writeBacks())
                    .as("keys written into the cold pool")
                    .isPositive();

            // the cold pool now holds every key, with the TTL it had left
            try (RunningProxy coldOnly = RunningProxy.over(cold);
                    TextClient c = new TextClient(coldOnly.port())) {
                for (int k = 0; k < KEYS; k++) {
                    assertThat(c.exchange("get key" + k + "\r\n"))
                            .as("key%d in the cold pool", k)
                            .startsWith("VALUE key" + k + " 7 ");
                }
                String ttl = c.exchange("mg key10 t\r\n");
                assertThat(ttl).startsWith("HD t");
                int left = Integer.parseInt(ttl.substring(4, ttl.indexOf('\r')));
                assertThat(left).isBetween(250, 300);
                assertThat(c.exchange("mg key11 t\r\n")).isEqualTo("HD t-1\r\n");
            }

            // switch-over: the same pool without the warm servers reads every key from the cold ones
            migrating
                    .server()
                    .reload(new ProxyConfigBuilder(migrating.server().config())
                            .backups(List.of())
                            .build());
            try (TextClient c = new TextClient(migrating.port())) {
                int missesAfter = 0;
                for (int k = 0; k < KEYS; k++) {
                    String expected = k % 3 == 0 ? "v1-" + k : "v0-" + k;
                    String got = c.exchange("get key" + k + "\r\n");
                    if (!got.equals("VALUE key" + k + " 7 " + expected.length() + "\r\n" + expected + "\r\nEND\r\n")) {
                        missesAfter++;
                    }
                }
                assertThat(missesAfter)
                        .as("misses or wrong values after the switch-over")
                        .isZero();
            }
        }
    }
}
