package io.jmagent.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.jmagent.testing.History.Kind;
import io.jmagent.testing.History.Op;
import io.jmagent.testing.History.Outcome;
import io.jmagent.testing.HistoryChecker.Anomaly;
import io.jmagent.testing.HistoryChecker.Type;
import io.jmagent.testing.HistoryChecker.Verdict;
import org.junit.jupiter.api.Test;

/** Small hand-made histories: times are in milliseconds, each op from its start to its end. */
class HistoryCheckerTest {

    private final History history = new History();

    @Test
    void aReadOlderThanAWriteAcknowledgedBeforeItBeganIsStale() {
        write(0, 1, "k", 1);
        write(2, 3, "k", 2);
        read(4, 5, "k", 1);

        Verdict v = HistoryChecker.check(history);

        assertThat(v.staleReads()).isEqualTo(1);
        assertThat(v.lostWrites() + v.wrongAnswers()).isZero();
        Anomaly a = v.anomalies().get(0);
        assertThat(a.type()).isEqualTo(Type.STALE_READ);
        assertThat(a.why()).isEqualTo("older than write #2, acknowledged before the read began");
        assertThat(a.context()).extracting(Op::number).containsExactly(2L);
    }

    @Test
    void aReadConcurrentWithAWriteMayReturnTheOldValueOrTheNew() {
        write(0, 1, "k", 1);
        write(2, 6, "k", 2);
        read(3, 4, "k", 1);
        read(3, 5, "k", 2);
        read(5, 7, "k", 1); // began before write 2 was acknowledged
        read(7, 8, "k", 2);

        Verdict v = HistoryChecker.check(history);

        assertThat(v.clean()).as(v.report(10)).isTrue();
        assertThat(v.reads()).isEqualTo(4);
        assertThat(v.writes()).isEqualTo(2);
    }

    @Test
    void aDeletedValueReadAfterTheDeleteWasAcknowledgedIsStale() {
        write(0, 1, "k", 1);
        delete(2, 3, "k", 2);
        read(4, 5, "k", 1);

        Verdict v = HistoryChecker.check(history);

        assertThat(v.staleReads()).isEqualTo(1);
        assertThat(v.anomalies().get(0).why()).isEqualTo("older than write #2, acknowledged before the read began");
    }

    @Test
    void aValueNeverWrittenOrWrittenAfterTheReadIsAWrongAnswer() {
        write(0, 1, "k", 1);
        read(2, 3, "k", 7);
        read(2, 3, "k", 2); // written from 4 on
        write(4, 5, "k", 2);
        op(2, 3, "k", Kind.GET, -1, Outcome.OK, "garbage");

        Verdict v = HistoryChecker.check(history);

        assertThat(v.wrongAnswers()).isEqualTo(3);
        assertThat(v.staleReads() + v.lostWrites()).isZero();
    }

    @Test
    void aMissIsAllowedAndCountedUnlessTheKeyIsDeletedOrBeingDeleted() {
        write(0, 1, "k", 1);
        absent(2, 3, "k"); // a miss
        delete(4, 8, "k", 2);
        absent(5, 6, "k"); // the delete under way
        absent(9, 10, "k"); // deleted
        absent(0, 1, "never"); // never written

        Verdict v = HistoryChecker.check(history);

        assertThat(v.clean()).as(v.report(10)).isTrue();
        assertThat(v.misses()).isEqualTo(1);
    }

    @Test
    void aWriteOfUnknownOutcomeMayBeReadAnyTimeLaterButNotBeforeANewerAcknowledgedOne() {
        write(0, 1, "k", 1);
        op(2, 3, "k", Kind.SET, 2, Outcome.ERROR, "SERVER_ERROR timeout");
        read(4, 5, "k", 1);
        read(6, 7, "k", 2);
        read(6, 7, "k", 1);
        write(8, 9, "k", 3);
        read(10, 11, "k", 2); // stale: 3 was acknowledged

        Verdict v = HistoryChecker.check(history);

        assertThat(v.errors()).isEqualTo(1);
        assertThat(v.staleReads()).isEqualTo(1);
        assertThat(v.anomalies().get(0).op().start()).isEqualTo(ms(10));
    }

    @Test
    void theFinalReadMustFindTheLastAcknowledgedWriteOrALaterOneOfUnknownOutcome() {
        write(0, 1, "a", 1);
        write(2, 3, "a", 2);
        write(0, 1, "b", 1);
        op(2, 3, "b", Kind.SET, 2, Outcome.ERROR, "SERVER_ERROR timeout");
        write(0, 1, "c", 1);
        delete(2, 3, "c", 2);
        write(0, 1, "d", 1);
        finalRead("a", 1); // lost
        finalRead("b", 1);
        finalRead("b", 2);
        finalRead("c", 0); // a miss: the delete
        finalRead("d", 1);
        finalRead("a", 0); // lost again
        history.recordFinal(
                "primary 0 down", new Op(0, 0, "a", Kind.GET, 0, ms(30), ms(31), Outcome.ERROR, "SERVER_ERROR"));
        history.recordFinal("primary 0 down", new Op(0, 0, "d", Kind.GET, 0, ms(30), ms(31), Outcome.ABSENT, ""));

        Verdict v = HistoryChecker.check(history);

        assertThat(v.lostWrites()).as("one per key").isEqualTo(2);
        assertThat(v.anomalies())
                .extracting(Anomaly::why)
                .containsExactly(
                        "expected v2, lost at: healed, primary 0 down (3 final reads)",
                        "expected v1, lost at: primary 0 down");
        assertThat(v.anomalies().get(0).op().number())
                .as("the first final read that missed it")
                .isEqualTo(1);
        assertThat(v.staleReads() + v.wrongAnswers()).isZero();
    }

    @Test
    void eachIncrMustAnswerThePreviousResultPlusOne() {
        counterSet(0, 1, "c", 0);
        incr(2, 3, "c", 1);
        incr(4, 5, "c", 2);
        incr(6, 7, "c", 2); // wrong: the primary's old copy
        incr(8, 9, "c", 3);
        op(10, 11, "c", Kind.INCR, 0, Outcome.ABSENT, "NOT_FOUND"); // wrong: the counter exists
        op(12, 13, "c", Kind.INCR, 0, Outcome.ABSENT, "NOT_FOUND"); // the same loss
        incr(14, 15, "c", 4);
        op(16, 17, "c", Kind.INCR, 0, Outcome.ABSENT, "NOT_FOUND"); // lost again

        Verdict v = HistoryChecker.check(history);

        assertThat(v.wrongAnswers()).isEqualTo(3);
        assertThat(v.anomalies())
                .extracting(a -> a.why() + " at " + a.op().start() / 1_000_000)
                .containsExactly(
                        "expected 3 at 6",
                        "NOT_FOUND for a counter that exists at 10",
                        "NOT_FOUND for a counter that exists at 16");
    }

    @Test
    void anIncrOfUnknownOutcomeMayAddOneOnceAtAnyLaterTime() {
        counterSet(0, 1, "c", 0);
        incr(2, 3, "c", 1);
        op(4, 5, "c", Kind.INCR, 0, Outcome.ERROR, "SERVER_ERROR timeout");
        incr(6, 7, "c", 2); // it had not added one yet
        incr(8, 9, "c", 4); // now it has
        incr(10, 11, "c", 6); // but only once: wrong

        Verdict v = HistoryChecker.check(history);

        assertThat(v.wrongAnswers()).isEqualTo(1);
        assertThat(v.anomalies().get(0).op().number()).isEqualTo(6);
        assertThat(v.anomalies().get(0).why()).isEqualTo("expected 5");
    }

    @Test
    void aCounterReadBelowAnAcknowledgedIncrIsStaleAndAboveAnyIncrSentIsWrong() {
        counterSet(0, 1, "c", 0);
        incr(2, 3, "c", 1);
        incr(4, 8, "c", 2);
        counterRead(5, 6, "c", 1); // concurrent with the second incr
        counterRead(5, 9, "c", 2);
        counterRead(9, 10, "c", 1); // stale
        counterRead(9, 10, "c", 3); // never written
        op(9, 10, "c", Kind.COUNTER_GET, 0, Outcome.ABSENT, "miss"); // a miss

        Verdict v = HistoryChecker.check(history);

        assertThat(v.staleReads()).isEqualTo(1);
        assertThat(v.wrongAnswers()).isEqualTo(1);
        assertThat(v.misses()).isEqualTo(1);
    }

    @Test
    void aCounterFinalReadMustFindItsLastValue() {
        counterSet(0, 1, "c", 0);
        incr(2, 3, "c", 1);
        op(4, 5, "c", Kind.INCR, 0, Outcome.ERROR, "SERVER_ERROR timeout");
        counterSet(0, 1, "d", 5);
        counterSet(0, 1, "e", 5);
        history.recordFinal("healed", new Op(0, 0, "c", Kind.COUNTER_GET, 1, ms(20), ms(21), Outcome.OK, ""));
        history.recordFinal("healed", new Op(0, 0, "c", Kind.COUNTER_GET, 2, ms(20), ms(21), Outcome.OK, ""));
        history.recordFinal("healed", new Op(0, 0, "d", Kind.COUNTER_GET, 0, ms(20), ms(21), Outcome.ABSENT, ""));
        history.recordFinal("healed", new Op(0, 0, "e", Kind.COUNTER_GET, 4, ms(20), ms(21), Outcome.OK, ""));

        Verdict v = HistoryChecker.check(history);

        assertThat(v.lostWrites()).isEqualTo(2);
        assertThat(v.anomalies()).extracting(a -> a.op().key()).containsExactly("d", "e");
        assertThat(v.anomalies())
                .extracting(Anomaly::why)
                .containsExactly("expected 5, lost at: healed", "expected 5, lost at: healed");
    }

    @Test
    void theReportShowsTheFirstAnomalyOfEachKeyBeforeMoreOfTheSameKey() {
        write(0, 1, "a", 1);
        write(2, 3, "a", 2);
        read(4, 5, "a", 1);
        read(6, 7, "a", 1);
        read(8, 9, "a", 1);
        write(0, 1, "b", 1);
        read(20, 21, "b", 7);

        String report = HistoryChecker.check(history).report(2);

        assertThat(report)
                .startsWith("stale reads 3, lost writes 0, wrong answers 1; allowed: misses 0, errors 0;")
                .contains("get a -> v1", "WRONG_ANSWER: a value never written", "get b -> v7")
                .endsWith("... and 2 more");
        assertThat(report.indexOf("get a")).isLessThan(report.indexOf("get b"));
    }

    private static long ms(long millis) {
        return millis * 1_000_000;
    }

    private void op(long start, long end, String key, Kind kind, long number, Outcome outcome, String reply) {
        history.record(new Op(0, 0, key, kind, number, ms(start), ms(end), outcome, reply));
    }

    private void write(long start, long end, String key, long n) {
        op(start, end, key, Kind.SET, n, Outcome.OK, "STORED");
    }

    private void delete(long start, long end, String key, long n) {
        op(start, end, key, Kind.DELETE, n, Outcome.OK, "DELETED");
    }

    private void read(long start, long end, String key, long n) {
        op(start, end, key, Kind.GET, n, Outcome.OK, "v" + n);
    }

    private void absent(long start, long end, String key) {
        op(start, end, key, Kind.GET, 0, Outcome.ABSENT, "END");
    }

    private void finalRead(String key, long n) {
        history.recordFinal(
                "healed", new Op(0, 0, key, Kind.GET, n, ms(20), ms(21), n == 0 ? Outcome.ABSENT : Outcome.OK, ""));
    }

    private void counterSet(long start, long end, String key, long value) {
        op(start, end, key, Kind.COUNTER_SET, value, Outcome.OK, "STORED");
    }

    private void incr(long start, long end, String key, long result) {
        op(start, end, key, Kind.INCR, result, Outcome.OK, Long.toString(result));
    }

    private void counterRead(long start, long end, String key, long value) {
        op(start, end, key, Kind.COUNTER_GET, value, Outcome.OK, Long.toString(value));
    }
}
