package io.jmagent.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.jmagent.backend.Farm;
import io.jmagent.backend.ServerHealth;
import io.jmagent.config.ConfigFile;
import io.jmagent.config.ConfigReloader;
import io.jmagent.config.ProxySetup;
import io.jmagent.frontend.ProxyPools;
import io.jmagent.metrics.ProxyStats;
import io.jmagent.routing.KetamaRing;
import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.RunningProxy;
import io.jmagent.testing.TestTransport;
import io.jmagent.testing.TextClient;
import java.io.IOException;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A proxy started from a config file, reloaded while a client reads and writes without pause:
 * servers A and B (backup D) become A and C. The client sees no error and reads every value it
 * wrote, keys written after the reload sit where ketama over A and C puts them, the connections
 * to A are the same ones, those to B are closed. A bad file is refused and the old farm serves on.
 */
class ConfigReloadIT {

    /** Keys each client cycles through; each is read back right after its write and again 250 rounds later. */
    private static final int LOOP_KEYS = 500;

    @TempDir
    Path dir;

    private MemcachedProcess a;
    private MemcachedProcess b;
    private MemcachedProcess c;
    private MemcachedProcess backup;
    private Path file;
    private int port;
    private ProxyPools pools;
    private ConfigReloader reloader;
    private ReadWriteLoop loop;

    @BeforeEach
    void startServers() {
        a = MemcachedProcess.start();
        b = MemcachedProcess.start();
        c = MemcachedProcess.start();
        backup = MemcachedProcess.start();
        file = dir.resolve("jmagent.yml");
        port = MemcachedProcess.freePort();
    }

    @AfterEach
    void stopAll() {
        if (loop != null) {
            loop.close();
        }
        if (reloader != null) {
            reloader.close();
        }
        if (pools != null) {
            pools.close();
        }
        Stream.of(a, b, c, backup).forEach(MemcachedProcess::close);
    }

    private String config(int listenPort, MemcachedProcess... servers) {
        String list = Stream.of(servers).map(m -> "\"" + m.address() + "\"").collect(Collectors.joining(", "));
        return """
                threads: 2
                pools:
                  main:
                    listen: 127.0.0.1:%d
                    servers: [ %s ]
                    backups: [ "%s" ]
                    backend-connections: 1
                    probe-interval: 100
                """.formatted(listenPort, list, backup.address());
    }

    private void write(String text) throws IOException {
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }

    private void startProxy(MemcachedProcess... servers) throws Exception {
        write(config(port, servers));
        ProxySetup setup = ConfigFile.load(file);
        pools = new ProxyPools(setup, TestTransport.chosen()).start();
        reloader = new ConfigReloader(file, setup, () -> ConfigFile.load(file), pools::apply);
    }

    private Farm primaries() {
        return pools.pool("main").primaries();
    }

    @Test
    void aReloadMovesOnlyTheKeysKetamaMovesAndKeepsTheConnectionsToTheServersThatStay() throws Exception {
        int bConnectionsWithoutProxy = currConnections(b);
        startProxy(a, b);
        ServerHealth healthOfA = primaries().health(0);
        openConnectionsToAOnBothEventLoops();
        assertThat(healthOfA.connectionsOpened()).isEqualTo(2);
        loop = ReadWriteLoop.start(port);
        loop.awaitRounds(LOOP_KEYS + 100);

        write(config(port, a, c));
        loop.reloadStarts();
        assertThat(reloader.reload("test")).isEqualTo(ConfigReloader.Outcome.APPLIED);
        loop.reloadEnded();
        loop.awaitRounds(loop.rounds() + LOOP_KEYS + 100);

        assertThat(loop.errors())
                .as("first error: %s (%s)", loop.firstError(), replicaFigures())
                .isZero();
        assertThat(loop.unprovenMisses()).as("misses a second read answered").isLessThanOrEqualTo(MAX_UNPROVEN_MISSES);
        assertThat(loop.ownWritesMissedAcrossTheReload())
                .as("reads of a write sent just before the reload")
                .isLessThanOrEqualTo(ReadWriteLoop.CLIENTS);
        assertThat(primaries().servers()).containsExactlyElementsOf(RunningProxy.addresses(List.of(a, c)));
        assertThat(primaries().health(0)).isSameAs(healthOfA);
        assertThat(placementMismatches(pools.pool("main").router().ring(), List.of(a, c)))
                .isZero();
        assertKeysWrittenNowSitWhereKetamaPutsThem(loop.client(), List.of(a, c), c);
        assertNoRequestFailedOver();
        // keys that moved were read from the backup (and written back) until rewritten
        assertThat(pools.pool("main").stats().backupReads()).isPositive();
        assertThat(healthOfA.connectionsOpened()).as("connections opened to A").isEqualTo(2);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(currConnections(b))
                .as("B's open connections")
                .isEqualTo(bConnectionsWithoutProxy));
        assertThat(loop.errors())
                .as("first error: %s (%s)", loop.firstError(), replicaFigures())
                .isZero();
    }

    @Test
    void aChangedFileIsPickedUpByTheWatcherWhileTheClientGoesOn() throws Exception {
        startProxy(a, b);
        reloader.watch();
        loop = ReadWriteLoop.start(port);
        loop.awaitRounds(LOOP_KEYS + 100);

        loop.reloadStarts();
        write(config(port, a, c));

        await().atMost(Duration.ofSeconds(10))
                .until(() -> primaries().servers().equals(RunningProxy.addresses(List.of(a, c))));
        loop.reloadEnded();
        loop.awaitRounds(loop.rounds() + LOOP_KEYS + 100);
        assertThat(loop.errors())
                .as("first error: %s (%s)", loop.firstError(), replicaFigures())
                .isZero();
        // the one miss a reload allows, as in the test above (seen once here in a clean-clone run)
        assertThat(loop.unprovenMisses()).as("misses a second read answered").isLessThanOrEqualTo(MAX_UNPROVEN_MISSES);
        assertThat(loop.ownWritesMissedAcrossTheReload())
                .as("reads of a write sent just before the reload")
                .isLessThanOrEqualTo(ReadWriteLoop.CLIENTS);
        assertThat(reloader.appliedCount()).isEqualTo(1);
        assertKeysWrittenNowSitWhereKetamaPutsThem(loop.client(), List.of(a, c), c);
        assertNoRequestFailedOver();
    }

    @Test
    void aBadFileIsRefusedAndTheConfigurationInForceKeepsServing() throws Exception {
        startProxy(a, b);
        reloader.watch();
        loop = ReadWriteLoop.start(port);
        loop.awaitRounds(200);

        write(config(port, a, c).replace(c.address(), "127.0.0.1:notaport"));
        await().atMost(Duration.ofSeconds(10)).until(() -> reloader.refusedCount() == 1);
        assertThat(reloader.reload("test")).isEqualTo(ConfigReloader.Outcome.REFUSED);
        write(config(port, a, c) + "    no-such-setting: 1\n");
        await().atMost(Duration.ofSeconds(10)).until(() -> reloader.refusedCount() == 3);
        loop.awaitRounds(loop.rounds() + 300);

        assertThat(loop.errors())
                .as("first error: %s (%s)", loop.firstError(), replicaFigures())
                .isZero();
        assertThat(reloader.appliedCount()).isZero();
        assertThat(primaries().servers()).containsExactlyElementsOf(RunningProxy.addresses(List.of(a, b)));
        assertKeysWrittenNowSitWhereKetamaPutsThem(loop.client(), List.of(a, b), b);
        assertNoRequestFailedOver();
    }

    @Test
    void aNewListenAddressIsBoundAndTheClientsOfTheOldOneStay() throws Exception {
        startProxy(a, b);
        try (TextClient before = new TextClient(port)) {
            assertThat(before.exchange("set k 0 0 1\r\nx\r\n")).isEqualTo("STORED\r\n");
            int newPort = MemcachedProcess.freePort();

            write(config(newPort, a, b));
            assertThat(reloader.reload("test")).isEqualTo(ConfigReloader.Outcome.APPLIED);

            assertThat(before.exchange("get k\r\n")).isEqualTo("VALUE k 0 1\r\nx\r\nEND\r\n");
            try (TextClient after = new TextClient(newPort)) {
                assertThat(after.exchange("get k\r\n")).isEqualTo("VALUE k 0 1\r\nx\r\nEND\r\n");
            }
            assertThat(pools.pool("main").port()).isEqualTo(newPort);
            assertThatThrownBy(() -> new TextClient(port).close()).hasRootCauseInstanceOf(ConnectException.class);
        }
    }

    @Test
    void aPoolAddedByAReloadStartsAndARemovedOneClosesWithItsClients() throws Exception {
        startProxy(a, b);
        int extraPort = MemcachedProcess.freePort();
        String extra = """
                  extra:
                    listen: 127.0.0.1:%d
                    servers: [ "%s" ]
                """.formatted(extraPort, c.address());
        try (TextClient main = new TextClient(port)) {
            assertThat(main.exchange("set k 0 0 4\r\nmain\r\n")).isEqualTo("STORED\r\n");

            write(config(port, a, b) + extra);
            assertThat(reloader.reload("test")).isEqualTo(ConfigReloader.Outcome.APPLIED);
            try (TextClient added = new TextClient(extraPort)) {
                assertThat(added.exchange("set k 0 0 5\r\nextra\r\n")).isEqualTo("STORED\r\n");
            }
            try (TextClient direct = new TextClient(c.port())) {
                assertThat(direct.exchange("get k\r\n")).isEqualTo("VALUE k 0 5\r\nextra\r\nEND\r\n");
            }
            assertThat(main.exchange("get k\r\n")).isEqualTo("VALUE k 0 4\r\nmain\r\nEND\r\n");

            write("threads: 2\npools:\n" + extra);
            assertThat(reloader.reload("test")).isEqualTo(ConfigReloader.Outcome.APPLIED);

            assertThat(main.exchange("get k\r\n")).isEqualTo(TextClient.CLOSED);
            assertThat(pools.pool("main")).isNull();
            assertThatThrownBy(() -> new TextClient(port).close()).hasRootCauseInstanceOf(ConnectException.class);
            try (TextClient added = new TextClient(extraPort)) {
                assertThat(added.exchange("get k\r\n")).isEqualTo("VALUE k 0 5\r\nextra\r\nEND\r\n");
            }
        }
    }

    @Test
    void aRunningJmagentReloadsItsFileOnSighupAndWhenItChanges() throws Exception {
        write(config(port, a, b));
        Path log = dir.resolve("jmagent.log");
        Process jmagent = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-jar",
                        "target/jmagent.jar",
                        "-c",
                        file.toString(),
                        "--transport",
                        TestTransport.name())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        try {
            await().atMost(Duration.ofSeconds(20)).until(() -> logOf(log).contains("watching " + file));
            try (TextClient client = new TextClient(port)) {
                assertThat(client.exchange("set k 0 0 1\r\nx\r\n")).isEqualTo("STORED\r\n");

                signal(jmagent, "HUP");
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> logOf(log).contains("reload (SIGHUP): " + file + " is unchanged"));

                assertThat(jmagent.isAlive()).isTrue();
                assertThat(client.exchange("get k\r\n")).isEqualTo("VALUE k 0 1\r\nx\r\nEND\r\n");

                write(config(port, a, c));
                await().atMost(Duration.ofSeconds(10)).until(() -> logOf(log).contains(file + " applied"));
                assertKeysWrittenNowSitWhereKetamaPutsThem(client, List.of(a, c), c);
            }
        } finally {
            jmagent.destroy();
            if (!jmagent.waitFor(10, TimeUnit.SECONDS)) {
                jmagent.destroyForcibly();
            }
        }
    }

    private static String logOf(Path log) throws IOException {
        return Files.readString(log, StandardCharsets.UTF_8);
    }

    private static void signal(Process p, String name) throws Exception {
        new ProcessBuilder("kill", "-" + name, Long.toString(p.pid())).start().waitFor();
    }

    /** With one connection per loop and server: two clients in a row land on both loops, each reads a key of A. */
    private void openConnectionsToAOnBothEventLoops() {
        KetamaRing ring = new KetamaRing(RunningProxy.addresses(List.of(a, b)));
        String keyOfA = keysOwnedBy(ring, 0, "warm-", 1).get(0);
        for (int i = 0; i < 2; i++) {
            try (TextClient client = new TextClient(port)) {
                assertThat(client.exchange("get " + keyOfA + "\r\n")).isEqualTo("END\r\n");
            }
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> primaries().health(0).connectionsOpened() == 2);
    }

    /**
     * Backup reads of moved keys that the proxy could not prove current and answered as misses
     * (seen about once in ten runs of the watcher test, each making 100-200 backup reads; a write
     * of another client in flight in the same slot is one cause): a bound above that, far below
     * what a lost write would show, since a second read must then still find the value.
     */
    private static final long MAX_UNPROVEN_MISSES = 3;

    /** The pool's backup-farm counters, to tell from a failure's message where a value went. */
    private String replicaFigures() {
        ProxyStats s = pools.pool("main").stats();
        return "backup_reads=" + s.backupReads() + " write_backs=" + s.writeBacks() + " mirror_failures="
                + s.mirrorFailures() + " backup_deletes=" + s.backupDeletes() + " primary_failovers="
                + s.primaryFailovers() + " former_copy_deletes=" + s.formerCopyDeletes();
    }

    /** The reload cost no request its primary: no write or read had to fall back to the backup. */
    private void assertNoRequestFailedOver() {
        assertThat(pools.pool("main").stats().primaryFailovers())
                .as("primary failovers")
                .isZero();
        assertThat(pools.pool("main").stats().mirrorFailures())
                .as("mirror failures")
                .isZero();
    }

    /**
     * Writes fresh keys through {@code client} (connected before the reload: its session must
     * follow the new ring) and reads each directly from the server ketama names.
     */
    private void assertKeysWrittenNowSitWhereKetamaPutsThem(
            TextClient client, List<MemcachedProcess> farm, MemcachedProcess mustGetSome) {
        if (loop != null) {
            loop.stop();
        }
        KetamaRing ring = new KetamaRing(RunningProxy.addresses(farm));
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            String key = "fresh-" + System.nanoTime() + "-" + i;
            assertThat(client.exchange("set " + key + " 0 0 2\r\nok\r\n")).isEqualTo("STORED\r\n");
            keys.add(key);
        }
        int onMustGetSome = 0;
        for (String key : keys) {
            int owner = ring.serverFor(key.getBytes(StandardCharsets.US_ASCII));
            for (int s = 0; s < farm.size(); s++) {
                try (TextClient direct = new TextClient(farm.get(s).port())) {
                    String expected = s == owner ? "VALUE " + key + " 0 2\r\nok\r\nEND\r\n" : "END\r\n";
                    assertThat(direct.exchange("get " + key + "\r\n"))
                            .as("%s on %s", key, farm.get(s).address())
                            .isEqualTo(expected);
                }
            }
            if (farm.get(owner) == mustGetSome) {
                onMustGetSome++;
            }
        }
        assertThat(onMustGetSome).as("keys placed on " + mustGetSome.address()).isPositive();
    }

    /** Keys on which {@code ring} and an independent ring over {@code farm} disagree. */
    private static int placementMismatches(KetamaRing ring, List<MemcachedProcess> farm) {
        KetamaRing expected = new KetamaRing(RunningProxy.addresses(farm));
        int mismatches = 0;
        for (int i = 0; i < 2000; i++) {
            byte[] key = ("key" + i).getBytes(StandardCharsets.US_ASCII);
            if (ring.serverFor(key) != expected.serverFor(key)) {
                mismatches++;
            }
        }
        return mismatches;
    }

    private static List<String> keysOwnedBy(KetamaRing ring, int server, String prefix, int count) {
        List<String> keys = new ArrayList<>();
        for (int i = 0; keys.size() < count; i++) {
            String key = prefix + i;
            if (ring.serverFor(key.getBytes(StandardCharsets.US_ASCII)) == server) {
                keys.add(key);
            }
        }
        return keys;
    }

    /** memcached's own count of its open connections (this one included). */
    private static int currConnections(MemcachedProcess server) {
        try (TextClient direct = new TextClient(server.port())) {
            for (String line : direct.exchange("stats\r\n").split("\r\n")) {
                if (line.startsWith("STAT curr_connections ")) {
                    return Integer.parseInt(line.substring("STAT curr_connections ".length()));
                }
            }
        }
        throw new AssertionError("no curr_connections in stats");
    }

    /**
     * Clients that write and read without pause, each on its own connection and keys: each round
     * sets a key, reads it back and reads the key it wrote {@code LOOP_KEYS / 2} rounds before, all
     * pipelined; every reply that is not exactly what memcached would send counts as an error.
     */
    private static final class ReadWriteLoop implements AutoCloseable {
        static final int CLIENTS = 4;

        private final List<Worker> workers = new ArrayList<>();
        private final AtomicLong errors = new AtomicLong();
        private volatile String firstError;
        /**
         * The one miss the README allows a reload: a session's writes still on their way to the
         * backup are known to the routing context the reload replaces, not to the new one, so the
         * read of a moved key written just before can no longer be proven current and misses
         * (docs/backup-farm.md). Counted, not an error, for a round that overlapped the reload.
         */
        private final AtomicLong ownWritesMissed = new AtomicLong();
        /**
         * Misses of the earlier key that a second read answered with its value: the proxy could
         * not prove the backup's copy current at the first read (for one, another client's write
         * in flight in the same {@code KeyVersions} slot turns a backup read into a miss), so it
         * missed, which the promise allows; the write was not lost. A miss a second read repeats
         * is an error.
         */
        private final AtomicLong unprovenMisses = new AtomicLong();

        private volatile long reloadStart = Long.MAX_VALUE;
        private volatile long reloadEnd = Long.MAX_VALUE;

        void reloadStarts() {
            reloadStart = System.nanoTime();
        }

        void reloadEnded() {
            reloadEnd = System.nanoTime();
        }

        long unprovenMisses() {
            return unprovenMisses.get();
        }

        long ownWritesMissedAcrossTheReload() {
            return ownWritesMissed.get();
        }

        static ReadWriteLoop start(int port) {
            ReadWriteLoop loop = new ReadWriteLoop();
            for (int w = 0; w < CLIENTS; w++) {
                loop.workers.add(loop.new Worker(port, "c" + w + "-"));
            }
            loop.workers.forEach(w -> w.thread.start());
            return loop;
        }

        /** The connection of the first client, open since before the test changed anything. */
        TextClient client() {
            return workers.get(0).client;
        }

        /** Rounds done by the slowest client. */
        long rounds() {
            return workers.stream().mapToLong(w -> w.rounds.get()).min().orElse(0);
        }

        long errors() {
            return errors.get();
        }

        String firstError() {
            return firstError;
        }

        void awaitRounds(long n) {
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> rounds() >= n
                            || errors.get() > 0
                            || workers.stream().anyMatch(w -> !w.thread.isAlive()));
        }

        private void error(String what) {
            if (firstError == null) {
                firstError = what;
            }
            errors.incrementAndGet();
        }

        /** Stops the clients; their connections stay open for the test to go on with. */
        void stop() {
            workers.forEach(w -> w.stop = true);
            for (Worker w : workers) {
                try {
                    w.thread.join(10_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        @Override
        public void close() {
            stop();
            workers.forEach(w -> w.client.close());
        }

        private final class Worker implements Runnable {
            private final TextClient client;
            private final String prefix;
            private final AtomicLong rounds = new AtomicLong();
            private final Thread thread;
            private volatile boolean stop;

            Worker(int port, String prefix) {
                this.client = new TextClient(port);
                this.prefix = prefix;
                this.thread = new Thread(this, "read-write-" + prefix);
                this.thread.setDaemon(true);
            }

            @Override
            public void run() {
                while (!stop) {
                    long i = rounds.get();
                    String key = key(i);
                    String value = "v" + i;
                    StringBuilder request = new StringBuilder()
                            .append("set ")
                            .append(key)
                            .append(" 0 0 ")
                            .append(value.length())
                            .append("\r\n")
                            .append(value)
                            .append("\r\n")
                            .append("get ")
                            .append(key)
                            .append("\r\n");
                    StringBuilder expected = new StringBuilder("STORED\r\n").append(valueReply(key, value));
                    if (i >= LOOP_KEYS / 2) {
                        long earlier = i - LOOP_KEYS / 2;
                        request.append("get ").append(key(earlier)).append("\r\n");
                        expected.append(valueReply(key(earlier), "v" + earlier));
                    }
                    try {
                        long sent = System.nanoTime();
                        String reply = client.exchange(request.toString());
                        long answered = System.nanoTime();
                        String ownWriteMissed =
                                expected.toString().replace("STORED\r\n" + valueReply(key, value), "STORED\r\nEND\r\n");
                        boolean overlappedReload = sent - reloadEnd <= 0 && answered - reloadStart >= 0;
                        String earlierMissed =
                                i >= LOOP_KEYS / 2 ? "STORED\r\n" + valueReply(key, value) + "END\r\n" : null;
                        if (overlappedReload && reply.equals(ownWriteMissed)) {
                            ownWritesMissed.incrementAndGet();
                        } else if (reply.equals(earlierMissed)
                                && client.exchange("get " + key(i - LOOP_KEYS / 2) + "\r\n")
                                        .equals(valueReply(key(i - LOOP_KEYS / 2), "v" + (i - LOOP_KEYS / 2)))) {
                            unprovenMisses.incrementAndGet();
                        } else if (!reply.equals(expected.toString())) {
                            error(prefix + " round " + i + ": expected " + expected + " got " + reply);
                        }
                    } catch (RuntimeException | AssertionError e) {
                        error(prefix + " round " + i + ": " + e);
                        return;
                    }
                    rounds.incrementAndGet();
                }
            }

            private String key(long round) {
                return prefix + "loop-" + (round % LOOP_KEYS);
            }

            private static String valueReply(String key, String value) {
                return "VALUE " + key + " 0 " + value.length() + "\r\n" + value + "\r\nEND\r\n";
            }
        }
    }
}
