package io.jmagent.backend;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ServerHealthTest {

    private final ServerHealth health = new ServerHealth(new ServerAddress("127.0.0.1", 11211, 1), "backup", 2, 2);

    @Test
    void aKeyMarkedStaleIsStaleUntilTheServerConfirmsItsDeletion() {
        assertThat(health.mayHoldStaleKeys()).isFalse();
        assertThat(health.isStale(key("a"))).isFalse();

        health.markStale(key("a"));
        List<ServerHealth.StaleKey> taken = health.staleKeys(10);

        assertThat(taken).extracting(ServerHealth.StaleKey::key).containsExactly("a");
        assertThat(health.isStale(key("a")))
                .as("taken for deletion, not yet deleted")
                .isTrue();
        assertThat(health.isStale(key("b"))).isFalse();
        health.cleaned(taken.get(0));
        assertThat(health.isStale(key("a"))).isFalse();
        assertThat(health.mayHoldStaleKeys()).isFalse();
    }

    @Test
    void aWriteThatFailsAgainWhileTheKeyIsBeingDeletedKeepsItStale() {
        health.markStale(key("a"));
        ServerHealth.StaleKey taken = health.staleKeys(1).get(0);

        health.markStale(key("a")); // a later mirror failed after the delete was sent
        health.cleaned(taken);

        assertThat(health.isStale(key("a"))).isTrue();
        assertThat(health.staleKeyCount()).isEqualTo(1);
    }

    @Test
    void pastTheBoundEveryKeyIsStaleUntilAFlushIsConfirmed() {
        health.markStale(key("a"));
        health.markStale(key("b"));
        health.markStale(key("a")); // known already: no overflow
        assertThat(health.staleOverflow()).isFalse();

        health.markStale(key("c"));

        assertThat(health.staleOverflow()).isTrue();
        assertThat(health.isStale(key("never-written"))).isTrue();
        long token = health.flushStarting();
        assertThat(health.staleKeyCount()).isZero();
        assertThat(health.isStale(key("never-written")))
                .as("until the server said OK")
                .isTrue();
        health.markStale(key("d")); // fails after the flush was sent: remembered, room again
        health.flushed(token);
        assertThat(health.staleOverflow()).isFalse();
        assertThat(health.isStale(key("never-written"))).isFalse();
        assertThat(health.isStale(key("d"))).isTrue();
    }

    @Test
    void anOverflowDuringTheFlushOutlivesIt() {
        health.markStale(key("a"));
        health.markStale(key("b"));
        health.markStale(key("c"));
        long token = health.flushStarting();

        health.markStale(key("d"));
        health.markStale(key("e"));
        health.markStale(key("f")); // overflows again before the flush is confirmed
        health.flushed(token);

        assertThat(health.staleOverflow()).isTrue();
    }

    @Test
    void aFlushOfAServerWithoutOverflowKeepsItsStaleKeys() {
        health.markStale(key("a"));

        health.flushed(health.flushStarting());

        assertThat(health.isStale(key("a"))).isTrue();
    }

    private static byte[] key(String k) {
        return k.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void whileAFlushIsUnansweredEveryKeyIsStale() {
        byte[] key = "k".getBytes(StandardCharsets.US_ASCII);
        health.flushSent();
        assertThat(health.isStale(key)).isTrue();
        assertThat(health.mayHoldStaleKeys()).isTrue();

        health.flushAnswered(true);
        assertThat(health.isStale(key)).isFalse();
        assertThat(health.staleOverflow()).isFalse();
    }

    @Test
    void aFlushNotConfirmedKeepsEveryKeyStaleUntilAFlushIsConfirmed() {
        byte[] key = "k".getBytes(StandardCharsets.US_ASCII);
        health.flushSent();
        health.flushAnswered(false);
        assertThat(health.staleOverflow()).isTrue();
        assertThat(health.isStale(key)).isTrue();

        long token = health.flushStarting();
        health.flushSent();
        health.flushed(token);
        health.flushAnswered(true);
        assertThat(health.staleOverflow()).isFalse();
        assertThat(health.isStale(key)).isFalse();
    }

    @Test
    void withoutAReadHoldAFailureBelowTheLimitLeavesTheServerReadable() {
        health.recordFailure("timeout");
        assertThat(health.readable()).isTrue();
        assertThat(health.readsHeld()).isFalse();
    }

    @Test
    void overASharedFarmAFailureHoldsReadsButNotWritesUntilTheHoldIsOver() throws InterruptedException {
        health.holdReadsAfterFailures(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(2_000));
        health.recordFailure("timeout");
        assertThat(health.state()).isEqualTo(ServerHealth.State.UP);
        assertThat(health.readable()).isFalse();
        assertThat(health.writable()).isTrue();
        health.releaseExpiredReadHold();
        assertThat(health.readsHeld()).as("released before its time").isTrue();
        Thread.sleep(2_100);
        health.releaseExpiredReadHold();
        assertThat(health.readsHeld()).isFalse();
        assertThat(health.readable()).isTrue();
    }
}
