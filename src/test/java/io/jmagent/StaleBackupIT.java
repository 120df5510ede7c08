package io.jmagent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jmagent.backend.ServerHealth;
import io.jmagent.config.ProxyConfig;
import io.jmagent.testing.BinaryClient;
import io.jmagent.testing.BinaryPacket;
import io.jmagent.testing.BinaryResponse;
import io.jmagent.testing.MemcachedProcess;
import io.jmagent.testing.RunningProxy;
import io.jmagent.testing.TextClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A backup that stays UP but misses a mirrored write keeps an old value: it must never be served,
 * and the background probe deletes it. One primary, one backup, real memcached processes.
 *
 * <p>How a mirror is really lost: the backup is frozen (SIGSTOP) with its listen backlog full, and
 * the proxy's connection to it broken by a first mirror timing out; the next mirrors fail (reconnect
 * backoff, or a connect the full backlog never answers) without reaching the backup at all. A mirror
 * that merely times out is not lost: the frozen backup applies it once thawed.
 */
class StaleBackupIT {

    private static final Duration TIMEOUT = Duration.ofMillis(300);

    private MemcachedProcess primary;
    private MemcachedProcess backup;
    private RunningProxy proxy;
    private final List<Socket> backlogFillers = new ArrayList<>();

    @BeforeEach
    void startFarm() {
        primary = MemcachedProcess.start();
        backup = MemcachedProcess.start("-b", "1");
    }

    @AfterEach
    void stopFarm() {
        closeFillers();
        if (proxy != null) {
            proxy.close();
        }
        primary.close();
        backup.close();
    }

    /** The failure limit is high: the backup stays UP through the freeze. */
    private void startProxy(Duration probeInterval, int maxStaleKeys) {
        proxy = RunningProxy.over(List.of(primary), List.of(backup), c -> c.withTimeout(TIMEOUT)
                .withFailover(new ProxyConfig.Failover(50, probeInterval, false, maxStaleKeys, 3600)));
    }

    @Test
    void aKeyWhoseMirroredSetWasLostIsNeverReadFromTheBackup() {
        startProxy(Duration.ofHours(1), 100_000); // no cleaning probe: the reads alone must be safe
        try (TextClient client = new TextClient(proxy.port())) {
            setAndAwaitMirror(client, "k", "v1");

            backupMissesWrites(
                    client, () -> assertThat(client.exchange(set("k", "v2"))).isEqualTo("STORED\r\n"));
            assertThat(backupHealth().state()).isEqualTo(ServerHealth.State.UP);
            assertThat(direct(backup, "get k\r\n"))
                    .as("the backup really holds the old value")
                    .isEqualTo(value("k", "v1"));
            assertThat(direct(primary, "delete k\r\n")).isEqualTo("DELETED\r\n"); // a primary miss

            assertThat(client.exchange("get k\r\n")).isEqualTo("END\r\n");
            assertThat(client.exchange("gets k\r\n")).isEqualTo("END\r\n");
            assertThat(client.exchange("mg k v\r\n")).isEqualTo("EN\r\n");
            assertThat(client.exchange("mg k v q\r\nmn\r\n")).isEqualTo("MN\r\n");
            assertThat(binaryGetStatus("k")).isEqualTo(BinaryPacket.KEY_NOT_FOUND);
            assertThat(direct(primary, "get k\r\n")).as("nothing written back").isEqualTo("END\r\n");
            assertThat(proxy.server().stats().backupReads()).isZero();

            primary.kill(); // the primary down: the backup is the only source left, and still not read
            assertThat(client.exchange("get k\r\n")).isEqualTo("END\r\n");
            assertThat(client.exchange("mg k v\r\n")).isEqualTo("EN\r\n");
        }
    }

    @Test
    void aKeyWhoseMirroredDeleteWasLostDoesNotComeBack() {
        startProxy(Duration.ofHours(1), 100_000);
        try (TextClient client = new TextClient(proxy.port())) {
            setAndAwaitMirror(client, "d", "gone");
            setAndAwaitMirror(client, "kept", "here");

            backupMissesWrites(
                    client, () -> assertThat(client.exchange("delete d\r\n")).isEqualTo("DELETED\r\n"));
            assertThat(direct(backup, "get d\r\n")).isEqualTo(value("d", "gone"));

            assertThat(client.exchange("get d kept\r\n")).isEqualTo("VALUE kept 0 4\r\nhere\r\nEND\r\n");
            assertThat(client.exchange("get d\r\n")).isEqualTo("END\r\n");
            assertThat(direct(primary, "get d\r\n"))
                    .as("not resurrected on the primary")
                    .isEqualTo("END\r\n");
            assertThat(serversLine(backup)).contains(" stale_keys=2 stale_overflow=0");

            // a key the backup holds correctly is still read from it (once the proxy's connection
            // to the thawed backup is open again: until its reconnect backoff passes, a read of the
            // backup fails, which after a primary miss is a miss)
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                direct(primary, "delete kept\r\n");
                assertThat(client.exchange("get kept\r\n")).isEqualTo(value("kept", "here"));
            });
        }
    }

    @Test
    void aKeyWhoseMirrorIsStillOnItsWayIsNotReadFromTheBackup() {
        // a long timeout: the mirror waits on the frozen backup instead of failing
        proxy = RunningProxy.over(List.of(primary), List.of(backup), c -> c.withTimeout(Duration.ofSeconds(30))
                .withFailover(new ProxyConfig.Failover(50, Duration.ofHours(1), false, 100_000, 3600)));
        // two event loops, clients assigned in turn: writer and reader use different backup connections
        try (TextClient writer = new TextClient(proxy.port());
                TextClient reader = new TextClient(proxy.port())) {
            setAndAwaitMirror(writer, "f", "old");
            setAndAwaitMirror(writer, "g", "good");
            backup.freeze();
            try {
                assertThat(writer.exchange("delete f\r\n")).isEqualTo("DELETED\r\n");
                await().atMost(Duration.ofSeconds(5)).until(() -> backupHealth().mirrorsInFlight() == 1);

                // the primary misses; the backup still holds the value the client just deleted. Another
                // client's read must neither wait for the frozen backup nor get (or write back) that value
                assertThat(reader.exchange("get f\r\n")).isEqualTo("END\r\n");
                assertThat(reader.exchange("mg f v\r\n")).isEqualTo("EN\r\n");
                assertThat(direct(primary, "get f\r\n")).as("not written back").isEqualTo("END\r\n");
                assertThat(serversLine(backup))
                        .as("in flight, not stale")
                        .contains(" stale_keys=0 stale_overflow=0 mirrors_in_flight=1");
            } finally {
                backup.thaw();
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> backupHealth().mirrorsInFlight() == 0);
            assertThat(direct(backup, "get f\r\n")).isEqualTo("END\r\n");
            assertThat(direct(primary, "get f\r\n"))
                    .as("not resurrected on the primary")
                    .isEqualTo("END\r\n");

            // the mirror landed: the backup is read again
            assertThat(getAfterPrimaryMiss(reader, "g")).isEqualTo(value("g", "good"));
            assertThat(serversLine(backup)).contains(" stale_keys=0 stale_overflow=0");
        }
    }

    @Test
    void aClientReadsItsOwnWriteFromTheBackupRightBehindItsMirror() throws Exception {
        // a long timeout: the mirror waits on the frozen backup instead of failing
        proxy = RunningProxy.over(List.of(primary), List.of(backup), c -> c.withTimeout(Duration.ofSeconds(30))
                .withFailover(new ProxyConfig.Failover(50, Duration.ofHours(1), false, 100_000, 3600)));
        try (TextClient client = new TextClient(proxy.port())) {
            setAndAwaitMirror(client, "p", "one");
            // reads of p go to the backup, writes to both (white box, as in the test above)
            proxy.server().primaries().health(0).markStale("p".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            backup.freeze();
            CompletableFuture<String> replies;
            try {
                // pipelined: the read goes out behind the client's own mirror, on the same backup
                // connection, so the backup answers it after applying the mirror
                replies = CompletableFuture.supplyAsync(() -> client.exchange(set("p", "two") + "get p\r\n"));
                await().atMost(Duration.ofSeconds(5))
                        .until(() -> replies.isDone()
                                || proxy.server().backups().health(0).stats().inflight() == 2);
            } finally {
                backup.thaw();
            }
            assertThat(replies.get(10, TimeUnit.SECONDS)).isEqualTo("STORED\r\n" + value("p", "two"));
            assertThat(client.exchange("delete p\r\nget p\r\nmg p v\r\n")).isEqualTo("DELETED\r\nEND\r\nEN\r\n");
            await().atMost(Duration.ofSeconds(5)).until(() -> backupHealth().mirrorsInFlight() == 0);
        }
    }

    @Test
    void whileTheBackupHasNotAnsweredAFlushNoKeyIsReadFromIt() throws Exception {
        // a long timeout: the flush waits on the frozen backup instead of failing
        proxy = RunningProxy.over(List.of(primary), List.of(backup), c -> c.withTimeout(Duration.ofSeconds(30))
                .withFailover(new ProxyConfig.Failover(50, Duration.ofHours(1), false, 100_000, 3600)));
        try (TextClient client = new TextClient(proxy.port());
                TextClient other = new TextClient(proxy.port())) {
            setAndAwaitMirror(client, "f", "before");
            backup.freeze();
            try {
                assertThat(client.exchange("flush_all\r\n")).isEqualTo("OK\r\n"); // the primary's OK
                // the primary misses; the backup still holds what the client just flushed
                assertThat(other.exchange("get f\r\n")).isEqualTo("END\r\n");
                assertThat(other.exchange("mg f v\r\n")).isEqualTo("EN\r\n");
                assertThat(direct(primary, "get f\r\n")).as("not written back").isEqualTo("END\r\n");
            } finally {
                backup.thaw();
            }
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> direct(backup, "get f\r\n").equals("END\r\n"));
            assertThat(backupHealth().staleOverflow())
                    .as("the backup confirmed the flush")
                    .isFalse();
            setAndAwaitMirror(client, "f", "after");
            assertThat(getAfterPrimaryMiss(other, "f")).isEqualTo(value("f", "after"));
        }
    }

    @Test
    void withBothServersDownAKeyStaleOnTheBackupIsAFailureNotAMiss() {
        startProxy(Duration.ofMillis(100), 1);
        try (TextClient client = new TextClient(proxy.port())) {
            setAndAwaitMirror(client, "k", "v1");
            backupMissesWrites(
                    client, () -> assertThat(client.exchange(set("k", "v2"))).isEqualTo("STORED\r\n"));
            assertThat(backupHealth().staleOverflow()).isTrue();

            primary.kill();
            backup.kill();
            // the failure limit is 50 here: the probes (every 100 ms) take about 5 s to call them DOWN
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> backupHealth().state() == ServerHealth.State.DOWN
                            && proxy.server().primaries().health(0).state() == ServerHealth.State.DOWN);
            assertThat(client.exchange("get k\r\n")).startsWith("SERVER_ERROR ");
            assertThat(client.exchange("mg k v\r\n")).startsWith("SERVER_ERROR ");
        }
    }

    @Test
    void aKeyWhoseMirroredTouchWasLostIsNeverReadFromTheBackup() {
        startProxy(Duration.ofHours(1), 100_000);
        try (TextClient client = new TextClient(proxy.port())) {
            assertThat(client.exchange("set t 0 3600 1\r\nx\r\n")).isEqualTo("STORED\r\n");
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> direct(backup, "get t\r\n").equals(value("t", "x")));

            // the primary's copy now expires in 1 s; the backup's would live on for an hour
            backupMissesWrites(
                    client, () -> assertThat(client.exchange("gat 1 t\r\n")).isEqualTo(value("t", "x")));

            assertThat(backupHealth().isStale("t".getBytes(java.nio.charset.StandardCharsets.US_ASCII)))
                    .isTrue();
            // the primary's copy is deleted, unless it expired already (a slow machine)
            assertThat(direct(primary, "delete t\r\n")).isIn("DELETED\r\n", "NOT_FOUND\r\n");
            assertThat(client.exchange("get t\r\n")).isEqualTo("END\r\n");
        }
    }

    @Test
    void aKeyStaleOnThePrimaryIsReadFromTheBackup() {
        startProxy(Duration.ofHours(1), 100_000);
        try (TextClient client = new TextClient(proxy.port())) {
            setAndAwaitMirror(client, "p", "new");
            setAndAwaitMirror(client, "q", "fine");
            // the primary holds an old value, as after a write to it that failed (white box: the
            // mark is what such a write leaves; producing one for real is the backup tests' job)
            assertThat(direct(primary, set("p", "old"))).isEqualTo("STORED\r\n");
            proxy.server().primaries().health(0).markStale("p".getBytes(java.nio.charset.StandardCharsets.US_ASCII));

            assertThat(client.exchange("get p\r\n")).isEqualTo(value("p", "new"));
            assertThat(client.exchange("gets p\r\n")).startsWith("VALUE p 0 3 ").endsWith("\r\nnew\r\nEND\r\n");
            assertThat(client.exchange("get q p\r\n"))
                    .isEqualTo("VALUE q 0 4\r\nfine\r\nVALUE p 0 3\r\nnew\r\nEND\r\n");
            assertThat(client.exchange("get q\r\n")).isEqualTo(value("q", "fine"));
        }
    }

    @Test
    void aSetTheBackupAloneTookIsReadFromIt() {
        startProxy(Duration.ofHours(1), 100_000);
        try (TextClient client = new TextClient(proxy.port())) {
            setAndAwaitMirror(client, "k", "v1");
            backupMissesWrites(
                    client, () -> assertThat(client.exchange(set("k", "v2"))).isEqualTo("STORED\r\n"));
            assertThat(backupHealth().isStale("k".getBytes(java.nio.charset.StandardCharsets.US_ASCII)))
                    .isTrue();

            primary.kill(); // the write goes to the backup alone, which then holds the key's latest value
            assertThat(client.exchange(set("k", "v3"))).isEqualTo("STORED\r\n");

            assertThat(backupHealth().isStale("k".getBytes(java.nio.charset.StandardCharsets.US_ASCII)))
                    .isFalse();
            assertThat(client.exchange("get k\r\n")).isEqualTo(value("k", "v3"));
            assertThat(client.exchange("mg k v\r\n")).isEqualTo("VA 2\r\nv3\r\n");
        }
    }

    @Test
    void aMirrorTheBackupRefusesWithServerErrorMarksTheKeyStale() {
        backup.close();
        backup = MemcachedProcess.start("-I", "1024", "-o", "slab_chunk_max=1024"); // a smaller item limit
        startProxy(Duration.ofHours(1), 100_000);
        try (TextClient client = new TextClient(proxy.port())) {
            String big = "x".repeat(2000);
            assertThat(client.exchange("ms big 2000\r\n" + big + "\r\n")).isEqualTo("HD\r\n");

            await().atMost(Duration.ofSeconds(5))
                    .until(() -> proxy.server().stats().mirrorFailures() == 1);
            assertThat(backupHealth().isStale("big".getBytes(java.nio.charset.StandardCharsets.US_ASCII)))
                    .isTrue();
        }
    }

    @Test
    void theProbeRefillsStaleKeysOfABackupThatStayedUpFromThePrimary() {
        startProxy(Duration.ofMillis(100), 100_000);
        try (TextClient client = new TextClient(proxy.port())) {
            setAndAwaitMirror(client, "k", "v1");
            backupMissesWrites(
                    client, () -> assertThat(client.exchange(set("k", "v2"))).isEqualTo("STORED\r\n"));

            // the backup gets the primary's copy back, rather than losing its own (one copy left)
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                assertThat(direct(backup, "get k\r\n")).isEqualTo(value("k", "v2"));
                assertThat(backupHealth().staleKeyCount()).isZero();
            });
            assertThat(backupHealth().state()).isEqualTo(ServerHealth.State.UP);
            assertThat(serversLine(backup)).contains(" stale_keys=0 stale_overflow=0");
            assertThat(getAfterPrimaryMiss(client, "k")).isEqualTo(value("k", "v2"));
        }
    }

    @Test
    void anOverflowedBackupServesNoKeyUntilAFlushThroughTheProxy() {
        startProxy(Duration.ofMillis(100), 1);
        try (TextClient client = new TextClient(proxy.port())) {
            setAndAwaitMirror(client, "kept", "here");
            setAndAwaitMirror(client, "k", "v1");
            backupMissesWrites(
                    client, () -> assertThat(client.exchange(set("k", "v2"))).isEqualTo("STORED\r\n"));
            assertThat(backupHealth().staleOverflow()).isTrue();
            assertThat(serversLine(backup)).contains(" stale_overflow=1");

            // any key may be stale there: none is read, and the probe does not flush it by itself
            assertThat(getAfterPrimaryMiss(client, "kept")).isEqualTo("END\r\n");
            await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(() -> backupHealth()
                    .staleOverflow());
            assertThat(direct(backup, "get kept\r\n")).isEqualTo(value("kept", "here"));

            assertThat(client.exchange("flush_all\r\n")).isEqualTo("OK\r\n");
            await().atMost(Duration.ofSeconds(5)).until(() -> !backupHealth().staleOverflow());
            assertThat(direct(backup, "get k\r\n")).isEqualTo("END\r\n");
            setAndAwaitMirror(client, "kept", "again");
            assertThat(getAfterPrimaryMiss(client, "kept")).isEqualTo(value("kept", "again"));
        }
    }

    @Test
    void anOverflowedBackupThatRestartsIsFlushedAndReadAgain() {
        startProxy(Duration.ofMillis(100), 1);
        try (TextClient client = new TextClient(proxy.port())) {
            setAndAwaitMirror(client, "k", "v1");
            backupMissesWrites(
                    client, () -> assertThat(client.exchange(set("k", "v2"))).isEqualTo("STORED\r\n"));
            assertThat(backupHealth().staleOverflow()).isTrue();

            backup.restart();
            await().atMost(Duration.ofSeconds(5)).until(() -> !backupHealth().staleOverflow());
            // the restart broke the proxy's connection: a first mirror may fail (and be cleaned)
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> client.exchange(set("k", "v3")).equals("STORED\r\n")
                            && direct(backup, "get k\r\n").equals(value("k", "v3"))
                            && !backupHealth().mayHoldStaleKeys());
            assertThat(getAfterPrimaryMiss(client, "k")).isEqualTo(value("k", "v3"));
        }
    }

    /**
     * Runs {@code writes} while the backup is frozen and unreachable, so that their mirrors never
     * reach it (and fail), then thaws it. The backup stays UP throughout.
     */
    private void backupMissesWrites(TextClient client, Runnable writes) {
        long failuresBefore = proxy.server().stats().mirrorFailures();
        backup.freeze();
        fillListenBacklog();
        // a first mirror times out: the proxy drops its connection to the backup (this one the
        // backup applies once thawed, so it is for a key of its own)
        assertThat(client.exchange(set("breaker", "x"))).isEqualTo("STORED\r\n");
        await().atMost(Duration.ofSeconds(5))
                .until(() -> proxy.server().stats().mirrorFailures() == failuresBefore + 1);
        long afterBreak = proxy.server().stats().mirrorFailures();
        writes.run();
        await().atMost(Duration.ofSeconds(5))
                .until(() -> proxy.server().stats().mirrorFailures() > afterBreak
                        && proxy.server().backups().health(0).stats().inflight() == 0);
        backup.thaw();
        closeFillers();
        await().atMost(Duration.ofSeconds(5))
                .until(() -> direct(backup, "get breaker\r\n").equals(value("breaker", "x")));
    }

    /** Connections the frozen backup never accepts, until one more is not even answered. */
    private void fillListenBacklog() {
        for (int i = 0; i < 16; i++) {
            Socket s = new Socket();
            try {
                s.connect(new InetSocketAddress("127.0.0.1", backup.port()), 200);
                backlogFillers.add(s);
            } catch (SocketTimeoutException e) {
                closeQuietly(s);
                return;
            } catch (IOException e) {
                closeQuietly(s);
                throw new UncheckedIOException(e);
            }
        }
        throw new AssertionError("the frozen backup's listen backlog never filled up");
    }

    private void closeFillers() {
        backlogFillers.forEach(StaleBackupIT::closeQuietly);
        backlogFillers.clear();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // nothing to do
        }
    }

    private void setAndAwaitMirror(TextClient client, String key, String value) {
        assertThat(client.exchange(set(key, value))).isEqualTo("STORED\r\n");
        await().atMost(Duration.ofSeconds(5))
                .until(() -> direct(backup, "get " + key + "\r\n").equals(value(key, value)));
    }

    /** Deletes {@code key} on the primary, then reads it through the proxy: the backup's copy, if any. */
    private String getAfterPrimaryMiss(TextClient client, String key) {
        assertThat(direct(primary, "delete " + key + "\r\n")).isEqualTo("DELETED\r\n");
        return client.exchange("get " + key + "\r\n");
    }

    private ServerHealth backupHealth() {
        return proxy.server().backups().health(0);
    }

    private String serversLine(MemcachedProcess server) {
        try (TextClient c = new TextClient(proxy.port())) {
            for (String line : c.exchange("stats servers\r\n").split("\r\n")) {
                if (line.startsWith("STAT " + server.address() + " ")) {
                    return line;
                }
            }
        }
        throw new AssertionError("no stats servers line for " + server.address());
    }

    private static String direct(MemcachedProcess server, String request) {
        try (TextClient c = new TextClient(server.port())) {
            return c.exchange(request);
        }
    }

    /** The status of a binary-protocol Get through the proxy. */
    private int binaryGetStatus(String key) {
        try (BinaryClient c = new BinaryClient(proxy.port())) {
            List<BinaryResponse> replies = c.exchange(BinaryPacket.get(BinaryPacket.GET, key, 7));
            assertThat(replies).hasSize(1);
            return replies.get(0).status();
        }
    }

    private static String set(String key, String value) {
        return "set " + key + " 0 0 " + value.length() + "\r\n" + value + "\r\n";
    }

    private static String value(String key, String value) {
        return "VALUE " + key + " 0 " + value.length() + "\r\n" + value + "\r\nEND\r\n";
    }
}
