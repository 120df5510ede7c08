package io.jmagent.replica;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The write epoch and the order epoch of {@link KeyVersions}, and a session's view ({@link SessionWrites}). */
class KeyVersionsTest {

    private final KeyVersions versions = new KeyVersions(16);
    private final int slot = versions.slotOf("k".getBytes(StandardCharsets.US_ASCII));

    @Test
    void aReadIsTrustedOnlyIfNoWriteStartedOrSettledSinceItsStampAndNoneIsInFlight() {
        long stamp = versions.stamp(slot);
        assertThat(versions.unchangedSince(slot, stamp)).isTrue();
        versions.writeStarted(slot, false);
        assertThat(versions.unchangedSince(slot, stamp)).as("in flight").isFalse();
        long during = versions.stamp(slot);
        versions.writeSettled(slot, false);
        assertThat(versions.unchangedSince(slot, during)).as("settled since").isFalse();
        assertThat(versions.unchangedSince(slot, versions.stamp(slot))).isTrue();
    }

    @Test
    void incrementsSentToBothCopiesLeaveTheOrderEpochAlone() {
        long order = versions.orderStamp(slot);
        versions.writeStarted(slot, true);
        versions.writeStarted(slot, true);
        versions.writeSettled(slot, true);
        assertThat(versions.noOrderedChangeSince(slot, order)).isTrue();
        // but they are writes: a backup read meanwhile is not trusted
        assertThat(versions.inFlight(slot)).isEqualTo(1);
        versions.writeSettled(slot, true);
        assertThat(versions.noOrderedChangeSince(slot, order)).isTrue();
    }

    @Test
    void anyOtherWriteOrACopyBreaksTheOrderEpochWhileInFlightAndAfter() {
        long order = versions.orderStamp(slot);
        versions.writeStarted(slot, false);
        assertThat(versions.noOrderedChangeSince(slot, order)).isFalse();
        versions.writeSettled(slot, false);
        assertThat(versions.noOrderedChangeSince(slot, order))
                .as("settled since")
                .isFalse();

        long beforeCopy = versions.orderStamp(slot);
        assertThat(versions.noOrderedChangeSince(slot, beforeCopy)).isTrue();
        versions.orderedStarted(slot);
        long duringCopy = versions.orderStamp(slot);
        assertThat(versions.noOrderedChangeSince(slot, duringCopy))
                .as("a copy in flight")
                .isFalse();
        versions.orderedSettled(slot);
        assertThat(versions.noOrderedChangeSince(slot, beforeCopy)).isFalse();
    }

    @Test
    void aSessionCountsItsOwnWritesApartFromOthers() {
        SessionWrites mine = new SessionWrites();
        SessionWrites other = new SessionWrites();
        long own = mine.writeStarted(versions, slot, true);
        long stamp = versions.stamp(slot);
        assertThat(mine.onlyOwnWritesSince(versions, slot, stamp, own)).isTrue();
        assertThat(mine.onlyOwnInFlight(versions, slot)).isTrue();

        other.writeStarted(versions, slot, true);
        assertThat(mine.onlyOwnWritesSince(versions, slot, stamp, own)).isFalse();
        assertThat(mine.onlyOwnInFlight(versions, slot)).isFalse();
        other.writeSettled(versions, slot, false, true);
        assertThat(mine.onlyOwnInFlight(versions, slot)).isTrue();
        assertThat(mine.onlyOwnWritesSince(versions, slot, stamp, own))
                .as("it overlapped")
                .isFalse();
        mine.writeSettled(versions, slot, false, true);
        assertThat(versions.inFlight(slot)).isZero();
    }

    @Test
    void slotsArePowersOfTwo() {
        assertThatThrownBy(() -> new KeyVersions(12)).isInstanceOf(IllegalArgumentException.class);
        assertThat(new KeyVersions(1).slotOf(new byte[] {1, 2, 3})).isZero();
    }
}
