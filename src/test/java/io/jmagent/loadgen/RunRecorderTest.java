package io.jmagent.loadgen;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Coordinated omission: a stall must count against every request it delayed, from its intended start. */
class RunRecorderTest {

    private static final long MS = 1_000_000L;

    @Test
    void aStallCountsAgainstEveryRequestMeantToStartDuringIt() {
        // given 1000 requests/s, requests 0 to 4 meant at 0 to 4 ms, and a target that stalls until 10 ms
        OpenLoopSchedule schedule = new OpenLoopSchedule(0, 1000);
        RunRecorder recorder = new RunRecorder(0, 1000 * MS);

        // when all five are answered at 10 ms
        for (long n = 0; n < 5; n++) {
            recorder.answered(schedule.intendedStart(n), 10 * MS, Reply.HIT);
        }

        // then each waited from its own intended start: 10, 9, 8, 7 and 6 ms
        RunResult r = recorder.result("t", 1000);
        assertThat(r.latencies().getTotalCount()).isEqualTo(5);
        assertThat(r.latencies().getMinValue()).isBetween(6 * MS - MS / 100, 6 * MS);
        assertThat(r.maxMicros()).isBetween(9_990.0, 10_010.0);
        assertThat(r.micros(50)).isBetween(7_990.0, 8_010.0);
    }

    @Test
    void aRequestSentLateCountsFromWhenItWasMeantToStartNotFromWhenItWentOut() {
        // given the pacer woke at 5 ms and sent request 2 (meant at 2 ms) only then
        OpenLoopSchedule schedule = new OpenLoopSchedule(0, 1000);
        RunRecorder recorder = new RunRecorder(0, 1000 * MS);

        // when the target answers it 100 µs after it went out
        recorder.answered(schedule.intendedStart(2), 5 * MS + 100_000, Reply.STORED);

        // then it waited 3.1 ms, not 0.1 ms
        assertThat(recorder.result("t", 1000).micros(100)).isBetween(3_097.0, 3_103.0);
    }

    @Test
    void theWarmUpIsAnsweredButNotRecordedAndTheRateCountsRepliesInsideTheWindow() {
        // given a window from 1 s to 2 s
        RunRecorder recorder = new RunRecorder(1_000 * MS, 2_000 * MS);

        recorder.answered(900 * MS, 1_001 * MS, Reply.HIT); // warm-up request answered in the window
        recorder.answered(1_500 * MS, 1_501 * MS, Reply.MISS); // measured, answered in the window
        recorder.answered(1_999 * MS, 2_050 * MS, Reply.HIT); // measured, answered after it

        RunResult r = recorder.result("t", 3);
        assertThat(r.latencies().getTotalCount()).isEqualTo(2);
        assertThat(r.completedInWindow()).isEqualTo(2);
        assertThat(r.achievedRate()).isEqualTo(2.0);
        assertThat(r.hits()).isEqualTo(1);
        assertThat(r.misses()).isEqualTo(1);
    }

    @Test
    void aRequestNeverAnsweredCountsWithTheTimeItHadWaitedWhenTheRunGaveUp() {
        RunRecorder recorder = new RunRecorder(0, 1_000 * MS);

        recorder.unanswered(400 * MS, 3_000 * MS);

        RunResult r = recorder.result("t", 1);
        assertThat(r.unanswered()).isEqualTo(1);
        assertThat(r.maxMicros()).isBetween(2_599_000.0, 2_601_000.0);
        assertThat(r.completedInWindow()).isZero();
    }

    @Test
    void roundsAddUpIntoOneHistogramAndOneRate() {
        RunRecorder first = new RunRecorder(0, 1_000 * MS);
        RunRecorder second = new RunRecorder(0, 1_000 * MS);
        first.answered(0, MS, Reply.HIT);
        second.answered(0, 3 * MS, Reply.ERROR);
        second.answered(MS, 2 * MS, Reply.HIT);

        RunResult both = first.result("t", 2).plus(second.result("t", 2));

        assertThat(both.latencies().getTotalCount()).isEqualTo(3);
        assertThat(both.achievedRate()).isEqualTo(1.5);
        assertThat(both.errors()).isEqualTo(1);
        assertThat(both.hits()).isEqualTo(2);
    }
}
