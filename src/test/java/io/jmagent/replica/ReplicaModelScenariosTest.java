package io.jmagent.replica;

import static io.jmagent.replica.Step.Kind.DELIVER;
import static io.jmagent.replica.Step.Kind.EXEC;
import static io.jmagent.replica.Step.Kind.FREEZE;
import static io.jmagent.replica.Step.Kind.KILL;
import static io.jmagent.replica.Step.Kind.PROBE;
import static io.jmagent.replica.Step.Kind.RESTART;
import static io.jmagent.replica.Step.Kind.SETTLE;
import static io.jmagent.replica.Step.Kind.THAW;
import static io.jmagent.replica.Step.Kind.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The known races of issue 11, each as one scripted schedule over the model (one primary P0 =
 * server 0, one backup B0 = server 1, one connection each: connection 0 to P0, 1 to B0), checked
 * against the invariant as the explorer checks its runs. Counter {@code c0} is set to 0 before.
 */
@Tag("model")
class ReplicaModelScenariosTest {

    private static final ModelConfig ONE_AND_ONE = new ModelConfig(1, 1, 1, 3, 1, 0);
    private static final int P0 = 0;
    private static final int B0 = 1;
    private static final int TO_P0 = 0;
    private static final int TO_B0 = 1;

    private static Step op(int client, String text) {
        return Step.op(client, text);
    }

    private static Step on(Step.Kind kind, int target) {
        return Step.on(kind, target);
    }

    private static void assertHolds(List<Step> schedule) {
        Explorer.Result r = Explorer.replay(0, ONE_AND_ONE, schedule);
        assertThat(r.violations()).as("%s", r.failed() ? r.report() : "").isEmpty();
    }

    @Test
    void aDeleteIsNotUndoneByAnotherClientsReadWrittenBackFromTheBackup() {
        assertHolds(List.of(
                op(1, "set k0 0 0 3\r\nw90\r\n"),
                on(SETTLE, 0),
                on(KILL, P0),
                on(RESTART, P0),
                on(PROBE, P0),
                // client 1 reads: the primary, restarted empty, misses; the backup is asked
                op(1, "get k0\r\n"),
                on(EXEC, TO_P0),
                on(DELIVER, TO_P0),
                // client 2 deletes: the primary answers, the mirror queues behind the backup read
                op(2, "delete k0\r\n"),
                on(EXEC, TO_P0),
                on(DELIVER, TO_P0),
                // the backup answers the read (a hit), then the delete
                on(EXEC, TO_B0),
                on(EXEC, TO_B0),
                on(DELIVER, TO_B0),
                on(DELIVER, TO_B0),
                on(SETTLE, 0),
                op(3, "get k0\r\n")));
    }

    @Test
    void aCounterKeptByTheBackupWhileThePrimaryWasDownSurvivesThePrimaryRestartingEmpty() {
        assertHolds(List.of(
                op(1, "incr c0 1\r\n"),
                op(1, "incr c0 1\r\n"),
                op(1, "incr c0 1\r\n"),
                on(SETTLE, 0),
                on(KILL, P0),
                op(1, "incr c0 1\r\n"),
                op(1, "incr c0 1\r\n"),
                op(1, "incr c0 1\r\n"),
                on(SETTLE, 0),
                on(RESTART, P0),
                on(PROBE, P0),
                op(2, "incr c0 1\r\n"),
                on(SETTLE, 0)));
    }

    @Test
    void aCounterGetsItsSecondCopyBackAfterTheBackupRestartedEmpty() {
        assertHolds(List.of(
                op(1, "incr c0 1\r\n"),
                on(SETTLE, 0),
                on(KILL, B0),
                on(RESTART, B0),
                on(PROBE, B0),
                // the backup lacks the counter: this increment must leave it two copies again
                op(1, "incr c0 1\r\n"),
                on(SETTLE, 0),
                on(KILL, P0),
                on(RESTART, P0),
                on(PROBE, P0),
                op(2, "incr c0 1\r\n"),
                on(SETTLE, 0)));
    }

    @Test
    void aMetaIncrementKeepsTheCountersSecondCopy() {
        assertHolds(List.of(
                op(1, "ma c0\r\n"),
                on(SETTLE, 0),
                on(KILL, P0),
                on(RESTART, P0),
                on(PROBE, P0),
                op(2, "ma c0 v\r\n"),
                on(SETTLE, 0)));
    }

    @Test
    void cleaningRefillsTheBackupCopyThatMissedAnIncrementInsteadOfDeletingIt() {
        try (ModelRun run = new ModelRun(ONE_AND_ONE)) {
            for (Step step : List.of(
                    op(1, "incr c0 1\r\n"),
                    on(SETTLE, 0),
                    // the backup is frozen: the next increment's mirror times out, the key goes stale there
                    on(FREEZE, B0),
                    op(1, "incr c0 1\r\n"),
                    on(EXEC, TO_P0),
                    on(DELIVER, TO_P0),
                    on(TIMEOUT, TO_B0),
                    on(THAW, B0),
                    on(PROBE, B0),
                    on(SETTLE, 0))) {
                run.apply(step);
            }
            // one copy lost now must not lose the counter: the backup holds the primary's number again
            assertThat(run.farm.servers.get(B0).item("c0").value()).isEqualTo("2");
            assertThat(run.farm.healths.get(B0).isStale("c0".getBytes(StandardCharsets.US_ASCII)))
                    .isFalse();
        }
    }

    @Test
    void aBackupMirrorOfAnEarlierWriteDoesNotLandAfterALaterDelete() {
        // two connections per server: clients 1 and 2 reach the backup on different connections
        Explorer.Result r = Explorer.replay(
                0,
                new ModelConfig(1, 1, 2, 3, 1, 0),
                List.of(
                        op(1, "add k0 0 0 3\r\nw91\r\n"),
                        on(EXEC, 1),
                        on(DELIVER, 1),
                        op(2, "md k0\r\n"),
                        on(EXEC, 0),
                        on(DELIVER, 0),
                        // the delete's mirror (client 2, connection 2) lands before the add's (client 1, connection 3)
                        on(EXEC, 2),
                        on(DELIVER, 2),
                        on(EXEC, 3),
                        on(DELIVER, 3),
                        op(3, "get k0\r\n")));
        assertThat(r.violations()).as("%s", r.failed() ? r.report() : "").isEmpty();
    }

    @Test
    void twoOverlappingCountersMeetingAFrozenPrimaryLeaveTheCounterOneCopy() {
        // explorer seed 214, shrunk: one primary, two backups (c0 lives on B1 = server 2), two
        // connections per server (P0/0 = 0, P0/1 = 1, B1/1 = 5)
        Explorer.Result r = Explorer.replay(
                0,
                new ModelConfig(1, 2, 2, 3, 1, 0),
                List.of(
                        op(3, "ma c0\r\n"),
                        op(2, "incr c0 2\r\n"),
                        on(EXEC, 0),
                        op(2, "ms k0 3 MA\r\n.a8\r\n"),
                        on(EXEC, 1),
                        on(DELIVER, 0),
                        on(EXEC, 5),
                        on(FREEZE, P0),
                        on(DELIVER, 1),
                        on(TIMEOUT, 0),
                        on(DELIVER, 5),
                        op(1, "incr c0 2\r\n")));
        assertThat(r.violations()).as("%s", r.failed() ? r.report() : "").isEmpty();
    }

    @Test
    void twoMetaIncrementsOverlappingOnTheBackupKeepTheCounterThroughAPrimaryKill() {
        // explorer seed 98, shrunk: one primary, two backups (c0 lives on B1 = server 2, connection 2)
        Explorer.Result r = Explorer.replay(
                0,
                new ModelConfig(1, 2, 1, 3, 1, 0),
                List.of(
                        op(3, "ma c0\r\n"),
                        on(EXEC, 2),
                        op(2, "ma c0 v\r\n"),
                        on(DELIVER, 2),
                        on(EXEC, 0),
                        on(DELIVER, 0),
                        on(EXEC, 0),
                        on(DELIVER, 0),
                        on(EXEC, 0),
                        on(DELIVER, 0),
                        on(KILL, P0)));
        assertThat(r.violations()).as("%s", r.failed() ? r.report() : "").isEmpty();
    }

    @Test
    void aCounterDecrementedOnTheBackupAloneIsRefilledOnThePrimaryThatRestartedEmpty() {
        // explorer seed 552, shrunk
        assertHolds(List.of(
                on(KILL, P0),
                op(1, "ma c1 MD v\r\n"),
                on(EXEC, TO_B0),
                on(RESTART, P0),
                on(DELIVER, TO_B0),
                on(PROBE, P0),
                op(1, "ma c1 MD v\r\n"),
                on(EXEC, TO_B0),
                on(DELIVER, TO_B0),
                on(KILL, B0)));
    }

    @Test
    void anIncrementIsAnsweredOnlyOnceTheBackupThatRestartedEmptyHoldsTheCounter() {
        // explorer seed 1392, shrunk: the primary answered, the backup (restarted empty) had not yet
        // said NOT_FOUND, the client had its number, then the primary died: the counter was gone
        assertHolds(List.of(
                on(KILL, B0),
                on(RESTART, B0),
                on(PROBE, B0),
                op(3, "incr c1 2\r\n"),
                on(EXEC, TO_P0),
                on(DELIVER, TO_P0),
                on(KILL, P0)));
    }

    @Test
    void aPrimaryCopyRebuiltUntrustedAmidAnotherClientsCounterIsKeptWhenTheBackupIsLost() {
        // explorer seed 843, shrunk: the primary restarted empty; the increment's rebuild of it (an
        // add of the backup's item) overlaps another client's ma, so the rebuilt copy is stale.
        // Answered 2 on that; the backup died, and cleaning deleted the stale copy, the only one left
        assertHolds(List.of(
                on(KILL, P0),
                on(RESTART, P0),
                on(PROBE, P0),
                op(1, "incr c0 2\r\n"),
                on(EXEC, TO_B0),
                on(DELIVER, TO_B0),
                on(EXEC, TO_P0),
                on(DELIVER, TO_P0),
                on(EXEC, TO_B0),
                op(3, "ma c0\r\n"),
                on(EXEC, TO_P0),
                on(DELIVER, TO_B0),
                on(EXEC, TO_P0),
                on(DELIVER, TO_P0),
                on(DELIVER, TO_P0),
                on(KILL, B0)));
    }

    @Test
    void anIncrementRebuildsTheBackupCopyThatIsStaleThoughBothCopiesAnsweredAlike() {
        // explorer seed 2230, shrunk: an ma timed out on the frozen backup, which ran it later from
        // its buffer; the backup came back UP, the ma's answer then marked the key stale there, and
        // the next increment, which both copies answered with 2, left that copy stale: the primary's death lost it
        assertHolds(List.of(
                on(FREEZE, B0),
                op(2, "ma c0\r\n"),
                on(TIMEOUT, TO_B0),
                on(EXEC, TO_P0),
                on(THAW, B0),
                on(PROBE, B0),
                op(2, "incr c0 1\r\n"),
                on(EXEC, TO_P0),
                on(DELIVER, TO_P0),
                on(DELIVER, TO_P0),
                on(EXEC, TO_B0),
                on(DELIVER, TO_B0),
                on(KILL, P0)));
    }

    @Test
    void aPrimaryStaysRecoveringUntilTheCounterItMissedIsRefilled() {
        // explorer seed 2305, shrunk: the primary comes back while an increment taken by the backup
        // alone is in flight, so cleaning leaves the counter stale on it (a refill waits for the
        // write); made UP so, the next ma went to the backup alone, and the backup's death lost it
        assertHolds(List.of(
                op(1, "append k0 0 0 3\r\n.a6\r\n"),
                on(FREEZE, P0),
                on(TIMEOUT, TO_P0),
                on(THAW, P0),
                op(1, "incr c0 1\r\n"),
                on(PROBE, P0),
                on(EXEC, TO_B0),
                on(DELIVER, TO_B0),
                on(EXEC, TO_B0),
                on(DELIVER, TO_B0),
                op(3, "ma c0\r\n"),
                on(EXEC, TO_B0),
                on(DELIVER, TO_B0),
                on(KILL, B0)));
    }
}
